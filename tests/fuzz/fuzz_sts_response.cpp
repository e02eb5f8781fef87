// An STS answer of arbitrary content, as a 200, a 400 and a 500, to every STS action mskiam sends
// (AssumeRole, AssumeRoleWithWebIdentity, GetCallerIdentity): error document detection, XML
// element extraction, credentials and identity parsing. Either a result or an mskiam::Error of
// a kind an STS answer may cause, whose message holds neither a secret of the request nor one
// the answer carried.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_checks.hpp"
#include "mskiam/sts.hpp"

namespace {
constexpr std::string_view kBaseSecret = "fuzz/base+secret/0123456789abcdefghijklmnop";
constexpr std::string_view kBaseSessionToken = "fuzz/base+session/token+ZXhhbXBsZQ==";
constexpr std::string_view kWebIdentityToken = "eyJfuzz.web+identity/token.signature";
constexpr std::string_view kEndpoint = "https://sts.us-east-1.amazonaws.com/";
// The document names the messages cite ("not a complete <AssumeRoleResponse> document").
constexpr std::string_view kDocumentNames =
    "<AssumeRoleResponse> <AssumeRoleWithWebIdentityResponse> <GetCallerIdentityResponse>";

void check_credentials(const mskiam::Credentials& c) {
  if (c.access_key_id.empty() || c.secret_access_key.reveal().empty())
    fuzz::finding("credentials without a key or secret", c.access_key_id);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  fuzz::Secrets secrets = fuzz::secrets_of_document(body);
  secrets.insert(secrets.end(), {kBaseSecret, kBaseSessionToken, kWebIdentityToken});
  mskiam::Credentials base;
  base.access_key_id = "ASIAFUZZBASE";
  base.secret_access_key = std::string(kBaseSecret);
  base.session_token = std::string(kBaseSessionToken);
  mskiam::AssumeRoleRequest assume;
  assume.role_arn = "arn:aws:iam::123456789012:role/Fuzz";
  assume.session_name = "fuzz";
  mskiam::WebIdentityRequest web;
  web.role_arn = assume.role_arn;
  web.session_name = "fuzz";
  web.web_identity_token = std::string(kWebIdentityToken);
  for (long status : {200L, 400L, 500L}) {
    mskiam::StsOptions options;
    options.region = "us-east-1";
    options.retry.max_attempts = 1;
    options.transport = [&body, status](const mskiam::HttpRequest&) {
      mskiam::HttpResponse r;
      r.status = status;
      r.body = body;
      return r;
    };
    mskiam::StsClient sts(options);
    for (int action = 0; action < 3; ++action) {
      try {
        if (action == 0) check_credentials(sts.assume_role(base, assume));
        if (action == 1) check_credentials(sts.assume_role_with_web_identity(web));
        if (action == 2) (void)sts.get_caller_identity(base);
      } catch (const mskiam::Error& e) {
        fuzz::check_error(e,
                          {mskiam::ErrorKind::bad_document, mskiam::ErrorKind::service_error,
                           mskiam::ErrorKind::http_status},
                          secrets, {assume.role_arn, kEndpoint, kDocumentNames}, body);
      }
    }
  }
  return 0;
}
