// AWS Signature Version 4, the parts a query-string presign needs: the canonical request, the
// string to sign and the signing key, with a one-entry cache for that key.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mskiam/credentials.hpp"
#include "mskiam/detail/crypto.hpp"
#include "mskiam/detail/encoding.hpp"
#include "mskiam/detail/time.hpp"

MSKIAM_BEGIN_NAMESPACE
namespace sigv4 {

inline constexpr std::string_view algorithm = "AWS4-HMAC-SHA256";
// SHA-256 of the empty string: the payload hash of a GET presign.
inline constexpr std::string_view empty_payload_hash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// `<YYYYMMDD>/<region>/<service>/aws4_request`
inline std::string credential_scope(std::string_view date, std::string_view region,
                                    std::string_view service) {
  std::string scope;
  scope.reserve(date.size() + region.size() + service.size() + 16);
  scope.append(date).append("/").append(region).append("/").append(service).append("/aws4_request");
  return scope;
}

// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")
inline detail::Digest derive_signing_key(const Secret& secret, std::string_view date,
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

// Remembers the last derived signing key. The key depends on the secret, the day, the region and
// the service; a new day or new credentials derive it again. The cache holds a copy of the secret
// only to compare it, and wipes both when reset or destroyed: whoever owns the credentials owns
// the cache and resets it when it drops them.
class SigningKeyCache {
 public:
  SigningKeyCache() = default;
  SigningKeyCache(const SigningKeyCache&) = delete;
  SigningKeyCache& operator=(const SigningKeyCache&) = delete;
  ~SigningKeyCache() { reset(); }

  const detail::Digest& get(const Credentials& credentials, std::string_view date,
                            std::string_view region, std::string_view service) {
    if (!valid_ || date_ != date || region_ != region || service_ != service ||
        access_key_id_ != credentials.access_key_id || secret_ != credentials.secret_access_key) {
      key_ = derive_signing_key(credentials.secret_access_key, date, region, service);
      date_.assign(date);
      region_.assign(region);
      service_.assign(service);
      access_key_id_ = credentials.access_key_id;
      secret_ = credentials.secret_access_key;
      valid_ = true;
      ++derivations_;
    }
    return key_;
  }

  void reset() noexcept {
    detail::cleanse(key_.data(), key_.size());
    secret_.clear();
    valid_ = false;
  }

  // How many keys were derived: the cache works when this grows once per day and credentials.
  unsigned long derivations() const noexcept { return derivations_; }

 private:
  bool valid_ = false;
  detail::Digest key_{};
  std::string date_, region_, service_, access_key_id_;
  Secret secret_;
  unsigned long derivations_ = 0;
};

// String to sign: algorithm, timestamp, scope, hex SHA-256 of the canonical request.
inline std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                                  std::string_view canonical_request) {
  std::string out;
  out.reserve(algorithm.size() + amz_date.size() + scope.size() + 64 + 3);
  out.append(algorithm).append("\n").append(amz_date).append("\n").append(scope).append("\n");
  const detail::Digest hash = detail::sha256(canonical_request);
  detail::append_hex(out, hash.data(), hash.size());
  return out;
}

inline std::string signature(const detail::Digest& signing_key, std::string_view string_to_sign) {
  return detail::hex(detail::hmac_sha256(signing_key, string_to_sign));
}

// Canonical query string: names and values URI-encoded, sorted by encoded name (then value),
// joined with `&`. `params` are raw (not yet encoded) name/value pairs.
inline std::string canonical_query(const std::vector<std::pair<std::string, std::string>>& params) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(params.size());
  for (const auto& [name, value] : params)
    encoded.emplace_back(detail::uri_encode(name), detail::uri_encode(value));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += '&';
    out.append(name).append("=").append(value);
  }
  return out;
}

// Canonical request of a presigned GET whose only signed header is `host`. `canonical_query`
// must already be encoded and sorted; `canonical_uri` already encoded.
inline std::string presign_canonical_request(std::string_view canonical_uri,
                                             std::string_view canonical_query,
                                             std::string_view host) {
  std::string out;
  out.reserve(canonical_uri.size() + canonical_query.size() + host.size() + 96);
  out.append("GET\n")
      .append(canonical_uri)
      .append("\n")
      .append(canonical_query)
      .append("\nhost:")
      .append(host)
      .append("\n\nhost\n")
      .append(empty_payload_hash);
  return out;
}

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
  std::string canonical_query;      // already encoded and sorted (canonical_query()); usually empty
  std::vector<std::pair<std::string, std::string>> headers;  // signed too, e.g. Content-Type
  std::string body;
};

// The headers to add to the request, in this order: `X-Amz-Date`, `X-Amz-Security-Token` (only
// with a session token) and `Authorization`. `region` is the signing region (`us-east-1` for
// the global STS endpoint).
inline std::vector<std::pair<std::string, std::string>> sign_headers(
    const HeaderSigningRequest& request, const Credentials& credentials, std::string_view region,
    std::string_view service, std::chrono::system_clock::time_point now);

// Hex SHA-256 of a body: the last line of the canonical request.
inline std::string payload_hash(std::string_view body) { return detail::hex(detail::sha256(body)); }

// Canonical headers: names lower-cased, values trimmed with inner runs of spaces collapsed,
// sorted by name, repeated names joined with `,`. `block` is the `name:value\n` lines,
// `signed_headers` the `;`-joined names.
struct CanonicalHeaders {
  std::string block;
  std::string signed_headers;
};

inline CanonicalHeaders canonical_headers(std::vector<std::pair<std::string, std::string>> headers) {
  for (auto& [name, value] : headers) {
    for (char& c : name)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
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

// METHOD, URI, query, canonical headers, a blank line, signed headers, payload hash.
inline std::string header_canonical_request(std::string_view method, std::string_view canonical_uri,
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

inline std::vector<std::pair<std::string, std::string>> sign_headers(
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
