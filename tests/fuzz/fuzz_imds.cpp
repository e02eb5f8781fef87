// The instance metadata answers, all of arbitrary content: the token PUT's body and its TTL header,
// the role list, and the role's credential document. Input: token, NUL, TTL header value, NUL,
// role list, NUL, document. Two fetches (the second reuses the cached token, or not, by the TTL).
// Either Credentials or an mskiam::Error of a kind these answers may cause, whose message holds
// neither the token nor a secret of the document.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_checks.hpp"
#include "mskiam/sources/imds.hpp"

namespace {
std::string_view next_part(std::string_view& rest) {
  const std::size_t cut = rest.find('\0');
  const std::string_view part = rest.substr(0, cut);
  rest = cut == std::string_view::npos ? std::string_view() : rest.substr(cut + 1);
  return part;
}

constexpr std::string_view kListPath = "/latest/meta-data/iam/security-credentials/";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view rest = input;
  const std::string token(next_part(rest)), ttl(next_part(rest)), roles(next_part(rest)),
      document(next_part(rest));
  fuzz::Secrets secrets = fuzz::secrets_of_document(document);
  secrets.push_back(token);
  mskiam::InstanceMetadataOptions options;
  options.endpoint = "http://169.254.169.254";
  options.retry.max_attempts = 1;
  options.transport = [&](const mskiam::HttpRequest& request) {
    mskiam::HttpResponse r;
    r.status = 200;
    if (request.method == "PUT") {
      r.body = token;
      r.headers.emplace_back(std::string(mskiam::imds_token_ttl_header), ttl);
    } else if (request.url.size() >= kListPath.size() &&
               request.url.compare(request.url.size() - kListPath.size(), kListPath.size(), kListPath) == 0) {
      r.body = roles;
    } else {
      r.body = document;
    }
    return r;
  };
  mskiam::InstanceMetadata imds(options);
  // Messages name the URL they asked (endpoint and path as one text: a run across the two is chance).
  const std::string list_url = options.endpoint + std::string(kListPath);
  for (int fetch = 0; fetch < 2; ++fetch) {
    try {
      const mskiam::Credentials c = imds.fetch();
      if (c.access_key_id.empty() || c.secret_access_key.reveal().empty())
        fuzz::finding("credentials without a key or secret", c.access_key_id);
    } catch (const mskiam::Error& e) {
      fuzz::check_error(e,
                        {mskiam::ErrorKind::bad_document, mskiam::ErrorKind::service_error,
                         mskiam::ErrorKind::not_configured},
                        secrets, {list_url}, input);
    }
  }
  return 0;
}
