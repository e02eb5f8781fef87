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

}  // namespace sigv4
MSKIAM_END_NAMESPACE
