// AWS Signature Version 4: the string to sign and the signing key, with a one-entry cache for
// that key (a token's presigned URL is built in mskiam/token.hpp), and header signing for STS.
#pragma once

#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mskiam/credentials.hpp"

MSKIAM_BEGIN_NAMESPACE

namespace detail {
// A SHA-256 digest, as mskiam/detail/crypto.hpp computes it (the same alias, declared again so
// that the declarations below need no OpenSSL header).
using Digest = std::array<unsigned char, 32>;
class HmacKey;  // mskiam/detail/crypto.hpp
}  // namespace detail

namespace sigv4 {

inline constexpr std::string_view algorithm = "AWS4-HMAC-SHA256";
// SHA-256 of the empty string: the payload hash of a GET presign.
inline constexpr std::string_view empty_payload_hash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// `<YYYYMMDD>/<region>/<service>/aws4_request`
std::string credential_scope(std::string_view date, std::string_view region,
                             std::string_view service);

// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")
detail::Digest derive_signing_key(const Secret& secret, std::string_view date,
                                  std::string_view region, std::string_view service);

// Remembers the last derived signing key, prepared for HMAC (its padded blocks absorbed once, see
// detail::HmacKey). The key depends on the secret, the day, the region and the service; a new day
// or new credentials derive it again. The cache holds a copy of the secret only to compare it,
// and wipes both when reset or destroyed: whoever owns the credentials owns the cache and resets
// it when it drops them. Not thread-safe: one caller at a time.
class SigningKeyCache {
 public:
  SigningKeyCache() noexcept;
  SigningKeyCache(const SigningKeyCache&) = delete;
  SigningKeyCache& operator=(const SigningKeyCache&) = delete;
  ~SigningKeyCache();

  const detail::HmacKey& prepared(const Credentials& credentials, std::string_view date,
                                  std::string_view region, std::string_view service);

  void reset() noexcept;

  // How many keys were derived: the cache works when this grows once per day and credentials.
  unsigned long derivations() const noexcept { return derivations_; }

 private:
  bool valid_ = false;
  std::unique_ptr<detail::HmacKey> prepared_;
  std::string date_, region_, service_, access_key_id_;
  Secret secret_;
  unsigned long derivations_ = 0;
};

// String to sign: algorithm, timestamp, scope, hex SHA-256 of the canonical request.
std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request);

std::string signature(const detail::Digest& signing_key, std::string_view string_to_sign);

// ---------------------------------------------------------------------------------------------
// Header signing: a request that carries its signature in an `Authorization` header, with the
// payload hash of its body (STS AssumeRole and GetCallerIdentity are POSTs signed this way).
// botocore's SigV4Auth is the reference: it signs `host`, `x-amz-date`, the session token as
// `x-amz-security-token` and every header the request already has (here `content-type`), and
// does not add `x-amz-content-sha256`.

struct HeaderSigningRequest {
  std::string method = "POST";
  std::string host;                 // the Host header exactly as sent (with `:port` if not default)
  std::string canonical_uri = "/";  // already URI-encoded
  std::string canonical_query;      // already encoded and sorted; usually empty
  std::vector<std::pair<std::string, std::string>> headers;  // signed too, e.g. Content-Type
  std::string body;
};

// The headers to add to the request, in this order: `X-Amz-Date`, `X-Amz-Security-Token` (only
// with a session token) and `Authorization`. `region` is the signing region (`us-east-1` for
// the global STS endpoint).
std::vector<std::pair<std::string, std::string>> sign_headers(
    const HeaderSigningRequest& request, const Credentials& credentials, std::string_view region,
    std::string_view service, std::chrono::system_clock::time_point now);

// Hex SHA-256 of a body: the last line of the canonical request.
std::string payload_hash(std::string_view body);

// Canonical headers: names lower-cased, values trimmed with inner runs of spaces collapsed,
// sorted by name, repeated names joined with `,`. `block` is the `name:value\n` lines,
// `signed_headers` the `;`-joined names.
struct CanonicalHeaders {
  std::string block;
  std::string signed_headers;
};

CanonicalHeaders canonical_headers(std::vector<std::pair<std::string, std::string>> headers);

// METHOD, URI, query, canonical headers, a blank line, signed headers, payload hash.
std::string header_canonical_request(std::string_view method, std::string_view canonical_uri,
                                     std::string_view canonical_query,
                                     const CanonicalHeaders& headers,
                                     std::string_view payload_hash_hex);

}  // namespace sigv4
MSKIAM_END_NAMESPACE

#if MSKIAM_DEFINITIONS
#include <algorithm>
#include <initializer_list>

#include "mskiam/detail/crypto.hpp"
#include "mskiam/detail/encoding.hpp"
#include "mskiam/detail/text.hpp"
#include "mskiam/detail/time.hpp"

MSKIAM_BEGIN_NAMESPACE
namespace detail {

// The size of a string to sign with these time stamp and scope.
constexpr std::size_t string_to_sign_size(std::size_t date_size, std::size_t scope_size) {
  return sigv4::algorithm.size() + 1 + date_size + 1 + scope_size + 1 + 2 * Digest{}.size();
}

// Writes the string to sign (algorithm, timestamp, scope, hex SHA-256 of the canonical request,
// one per line) at `out`, string_to_sign_size() bytes; returns that size.
MSKIAM_INLINE std::size_t write_string_to_sign(char* out, std::string_view amz_date,
                                               std::string_view scope, const Digest& request_hash) {
  char* end = out;
  for (std::string_view line : {sigv4::algorithm, amz_date, scope}) {
    end = std::copy(line.begin(), line.end(), end);
    *end++ = '\n';
  }
  write_hex(end, request_hash.data(), request_hash.size());
  return static_cast<std::size_t>(end - out) + 2 * request_hash.size();
}

}  // namespace detail

namespace sigv4 {

MSKIAM_INLINE std::string credential_scope(std::string_view date, std::string_view region,
                                           std::string_view service) {
  std::string scope;
  scope.reserve(date.size() + region.size() + service.size() + 16);
  scope.append(date).append("/").append(region).append("/").append(service).append("/aws4_request");
  return scope;
}

MSKIAM_INLINE detail::Digest derive_signing_key(const Secret& secret, std::string_view date,
                                                std::string_view region, std::string_view service) {
  std::string k_secret;
  k_secret.reserve(4 + secret.size());
  k_secret.append("AWS4").append(secret.reveal());
  detail::Digest key = detail::hmac_sha256(
      reinterpret_cast<const unsigned char*>(k_secret.data()), k_secret.size(), date);
  detail::cleanse(k_secret);
  key = detail::hmac_sha256(key, region);
  key = detail::hmac_sha256(key, service);
  key = detail::hmac_sha256(key, "aws4_request");
  return key;
}

MSKIAM_INLINE SigningKeyCache::SigningKeyCache() noexcept = default;

MSKIAM_INLINE SigningKeyCache::~SigningKeyCache() { reset(); }

MSKIAM_INLINE const detail::HmacKey& SigningKeyCache::prepared(const Credentials& credentials,
                                                               std::string_view date,
                                                               std::string_view region,
                                                               std::string_view service) {
  if (!valid_ || date_ != date || region_ != region || service_ != service ||
      access_key_id_ != credentials.access_key_id || secret_ != credentials.secret_access_key) {
    valid_ = false;
    detail::Digest key = derive_signing_key(credentials.secret_access_key, date, region, service);
    const detail::WipeOnExit wipe_key{key};
    if (prepared_)
      *prepared_ = detail::HmacKey(key);
    else
      prepared_ = std::make_unique<detail::HmacKey>(key);
    date_.assign(date);
    region_.assign(region);
    service_.assign(service);
    access_key_id_ = credentials.access_key_id;
    secret_ = credentials.secret_access_key;
    valid_ = true;
    ++derivations_;
  }
  return *prepared_;
}

MSKIAM_INLINE void SigningKeyCache::reset() noexcept {
  if (prepared_) prepared_->reset();
  secret_.clear();
  valid_ = false;
}

MSKIAM_INLINE std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                                         std::string_view canonical_request) {
  std::string out(detail::string_to_sign_size(amz_date.size(), scope.size()), '\0');
  detail::write_string_to_sign(&out[0], amz_date, scope, detail::sha256(canonical_request));
  return out;
}

MSKIAM_INLINE std::string signature(const detail::Digest& signing_key,
                                    std::string_view string_to_sign) {
  return detail::hex(detail::hmac_sha256(signing_key, string_to_sign));
}

MSKIAM_INLINE std::string payload_hash(std::string_view body) {
  return detail::hex(detail::sha256(body));
}

MSKIAM_INLINE CanonicalHeaders
canonical_headers(std::vector<std::pair<std::string, std::string>> headers) {
  for (auto& [name, value] : headers) {
    name = detail::ascii_lower(name);
    std::string clean;
    clean.reserve(value.size());
    for (char c : value) {
      const bool space = c == ' ' || c == '\t';
      if (space && (clean.empty() || clean.back() == ' ')) continue;
      clean += space ? ' ' : c;
    }
    while (!clean.empty() && clean.back() == ' ') clean.pop_back();
    value = std::move(clean);
  }
  // Stable: repeated headers keep the order in which they were given.
  std::stable_sort(headers.begin(), headers.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  CanonicalHeaders out;
  for (std::size_t i = 0; i < headers.size(); ++i) {
    if (i > 0 && headers[i].first == headers[i - 1].first) {
      out.block.pop_back();  // the `\n`: append to the previous line
      out.block.append(",").append(headers[i].second).append("\n");
      continue;
    }
    if (!out.signed_headers.empty()) out.signed_headers += ';';
    out.signed_headers += headers[i].first;
    out.block.append(headers[i].first).append(":").append(headers[i].second).append("\n");
  }
  return out;
}

MSKIAM_INLINE std::string header_canonical_request(std::string_view method,
                                                   std::string_view canonical_uri,
                                                   std::string_view canonical_query,
                                                   const CanonicalHeaders& headers,
                                                   std::string_view payload_hash_hex) {
  std::string out;
  out.reserve(method.size() + canonical_uri.size() + canonical_query.size() +
              headers.block.size() + headers.signed_headers.size() + payload_hash_hex.size() + 8);
  out.append(method).append("\n").append(canonical_uri).append("\n").append(canonical_query);
  out.append("\n").append(headers.block).append("\n").append(headers.signed_headers);
  out.append("\n").append(payload_hash_hex);
  return out;
}

MSKIAM_INLINE std::vector<std::pair<std::string, std::string>> sign_headers(
    const HeaderSigningRequest& request, const Credentials& credentials, std::string_view region,
    std::string_view service, std::chrono::system_clock::time_point now) {
  const std::string amz_date = detail::amz_date(now);
  std::vector<std::pair<std::string, std::string>> added;
  added.emplace_back("X-Amz-Date", amz_date);
  if (!credentials.session_token.empty())
    added.emplace_back("X-Amz-Security-Token", credentials.session_token.reveal());

  std::vector<std::pair<std::string, std::string>> to_sign = request.headers;
  to_sign.emplace_back("host", request.host);
  to_sign.insert(to_sign.end(), added.begin(), added.end());
  const CanonicalHeaders headers = canonical_headers(std::move(to_sign));

  const std::string canonical =
      header_canonical_request(request.method, request.canonical_uri, request.canonical_query,
                               headers, payload_hash(request.body));
  const std::string scope = credential_scope(std::string_view(amz_date).substr(0, 8), region, service);
  detail::Digest key = derive_signing_key(credentials.secret_access_key,
                                          std::string_view(amz_date).substr(0, 8), region, service);
  const std::string sig = signature(key, string_to_sign(amz_date, scope, canonical));
  detail::cleanse(key.data(), key.size());
  std::string authorization(algorithm);
  authorization.append(" Credential=").append(credentials.access_key_id).append("/").append(scope);
  authorization.append(", SignedHeaders=").append(headers.signed_headers);
  authorization.append(", Signature=").append(sig);
  added.emplace_back("Authorization", std::move(authorization));
  return added;
}

}  // namespace sigv4
MSKIAM_END_NAMESPACE
#endif  // MSKIAM_DEFINITIONS
