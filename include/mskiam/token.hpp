// The MSK IAM authentication token: a SigV4 query-string presign of `GET /` with
// `Action=kafka-cluster:Connect`, base64url-encoded without padding.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "mskiam/credentials.hpp"
#include "mskiam/error.hpp"
#include "mskiam/sigv4.hpp"

MSKIAM_BEGIN_NAMESPACE

inline constexpr std::string_view token_source = "token";
inline constexpr std::string_view msk_signing_service = "kafka-cluster";
inline constexpr std::string_view msk_action = "kafka-cluster:Connect";
inline constexpr std::chrono::seconds max_token_lifetime{900};
inline constexpr std::string_view default_user_agent = "mskiam-cpp/" MSKIAM_VERSION_STRING;

struct TokenOptions {
  std::string region;                  // required: us-east-1, cn-north-1, us-gov-west-1...
  std::chrono::seconds lifetime{900};  // X-Amz-Expires, 1..900, capped by credential expiration
  std::string host;                    // empty: derived from the region (see msk_host)
  std::string user_agent;              // empty: mskiam-cpp/<version>
};

struct AuthToken {
  std::string value;  // base64url, no padding
  std::chrono::system_clock::time_point expires_at;
  std::string principal;
  // When the issuer wants to be asked again, if earlier than the expiry: TokenProvider sets its
  // credential refresh point, or its retry time after a failed refresh. Adapters hand librdkafka
  // a lifetime that makes it ask then (it asks at 80% of the lifetime it was given).
  std::optional<std::chrono::system_clock::time_point> refresh_at;
};

// `kafka.<region>.amazonaws.com`, or `.amazonaws.com.cn` for the China regions (`cn-*`).
inline std::string msk_host(std::string_view region) {
  std::string host = "kafka.";
  host.append(region).append(".amazonaws.com");
  if (region.substr(0, 3) == "cn-") host.append(".cn");
  return host;
}

// A region id is lower-case letters, digits and inner hyphens: `us-east-1`, `eu-isoe-west-1`.
inline void validate_region(std::string_view region, std::string_view source) {
  if (region.empty())
    throw Error(ErrorKind::invalid_argument, std::string(source),
                "region is empty; set TokenOptions::region (for example \"us-east-1\")");
  bool ok = region.size() <= 64 && region.front() != '-' && region.back() != '-';
  for (char c : region)
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
  if (!ok)
    throw Error(ErrorKind::invalid_argument, std::string(source),
                "region \"" + std::string(region) +
                    "\" is malformed: expected lower-case letters, digits and hyphens such as "
                    "\"us-east-1\"");
}

namespace detail {

inline void validate_host(std::string_view host) {
  bool ok = !host.empty() && host.size() <= 253;
  for (char c : host)
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '.' || c == ':');
  if (!ok)
    throw Error(ErrorKind::invalid_argument, std::string(token_source),
                "host \"" + std::string(host) + "\" is not a host name");
}

inline void append_param(std::string& query, std::string_view name, std::string_view value) {
  if (!query.empty()) query += '&';
  query.append(name);
  query += '=';
  append_uri_encoded(query, value);
}

}  // namespace detail

// Signs a token at `now`. X-Amz-Expires is the whole number of seconds of
// min(options.lifetime, expiration - signing second), so the token never outlives its credentials,
// and AuthToken::expires_at = signing second + X-Amz-Expires. Throws mskiam::Error (source `token`)
// for empty keys, a bad region or host, a lifetime outside 1..900 s, and credentials that are
// expired or expire within the signing second. `cache`, when given, keeps the derived signing key.
inline AuthToken sign_token(const Credentials& credentials, const TokenOptions& options,
                            std::chrono::system_clock::time_point now,
                            sigv4::SigningKeyCache* cache = nullptr) {
  using std::chrono::seconds;
  const std::string source(token_source);
  if (credentials.access_key_id.empty())
    throw Error(ErrorKind::invalid_argument, source, "access key id is empty");
  if (credentials.secret_access_key.empty())
    throw Error(ErrorKind::invalid_argument, source,
                "secret access key is empty (access key id " + credentials.access_key_id + ")");
  validate_region(options.region, token_source);
  if (options.lifetime < seconds(1) || options.lifetime > max_token_lifetime)
    throw Error(ErrorKind::invalid_argument, source,
                "token lifetime " + std::to_string(options.lifetime.count()) +
                    " s is outside 1..900 s");

  const auto signed_at = std::chrono::floor<seconds>(now);
  seconds lifetime = options.lifetime;
  if (credentials.expiration) {
    if (*credentials.expiration <= now)
      throw Error(ErrorKind::expired, source,
                  "credentials of access key id " + credentials.access_key_id + " expired at " +
                      detail::iso8601(*credentials.expiration) + " (now " + detail::iso8601(now) +
                      ")");
    const auto remaining = std::chrono::floor<seconds>(*credentials.expiration - signed_at);
    if (remaining < seconds(1))
      throw Error(ErrorKind::expired, source,
                  "credentials of access key id " + credentials.access_key_id +
                      " expire within a second, at " + detail::iso8601(*credentials.expiration));
    if (remaining < lifetime) lifetime = remaining;
  }

  std::string host = options.host.empty() ? msk_host(options.region) : options.host;
  detail::validate_host(host);

  const std::string amz_date = detail::amz_date(signed_at);
  const std::string_view date = std::string_view(amz_date).substr(0, 8);
  const std::string scope = sigv4::credential_scope(date, options.region, msk_signing_service);

  // The parameters in canonical (sorted, encoded-name) order; the session token is signed.
  std::string query;
  query.reserve(512 + credentials.session_token.size() * 3);
  detail::append_param(query, "Action", msk_action);
  detail::append_param(query, "X-Amz-Algorithm", sigv4::algorithm);
  detail::append_param(query, "X-Amz-Credential", credentials.access_key_id + "/" + scope);
  detail::append_param(query, "X-Amz-Date", amz_date);
  detail::append_param(query, "X-Amz-Expires", std::to_string(lifetime.count()));
  if (!credentials.session_token.empty())
    detail::append_param(query, "X-Amz-Security-Token", credentials.session_token.reveal());
  detail::append_param(query, "X-Amz-SignedHeaders", "host");

  const std::string canonical = sigv4::presign_canonical_request("/", query, host);
  const std::string to_sign = sigv4::string_to_sign(amz_date, scope, canonical);
  std::string sig;
  if (cache) {
    sig = sigv4::signature(cache->get(credentials, date, options.region, msk_signing_service),
                           to_sign);
  } else {
    detail::Digest key =
        sigv4::derive_signing_key(credentials.secret_access_key, date, options.region,
                                  msk_signing_service);
    sig = sigv4::signature(key, to_sign);
    detail::cleanse(key.data(), key.size());
  }

  // Signature, then the unsigned User-Agent: the broker ignores it, operators see it in logs.
  detail::append_param(query, "X-Amz-Signature", sig);
  detail::append_param(query, "User-Agent",
                       options.user_agent.empty() ? default_user_agent : options.user_agent);
  std::string url;
  url.reserve(host.size() + query.size() + 10);
  url.append("https://").append(host).append("/?").append(query);

  AuthToken token;
  token.value = detail::base64url_encode(url);
  detail::cleanse(url);
  detail::cleanse(query);
  token.expires_at = signed_at + lifetime;
  token.principal = credentials.principal.empty() ? credentials.access_key_id : credentials.principal;
  return token;
}

// A token taken apart again: for `mskiam-token --decode`, tests and debugging.
struct DecodedToken {
  std::string host;
  std::multimap<std::string, std::string> params;  // percent-decoded names and values
  std::chrono::system_clock::time_point signed_at;
  std::chrono::seconds lifetime{0};

  std::optional<std::string> param(const std::string& name) const {
    auto it = params.find(name);
    if (it == params.end()) return std::nullopt;
    return it->second;
  }
  std::chrono::system_clock::time_point expires_at() const { return signed_at + lifetime; }

  // The URL with X-Amz-Signature and X-Amz-Security-Token replaced by `<redacted>`.
  std::string redacted_url() const {
    std::string query;
    for (const auto& [name, value] : params) {
      const bool secret = name == "X-Amz-Signature" || name == "X-Amz-Security-Token";
      detail::append_param(query, name, secret ? std::string_view("<redacted>") : value);
    }
    return "https://" + host + "/?" + query;
  }
};

// Parses a token. Throws mskiam::Error (source `token`, kind bad_document) when it is not a
// base64url presigned URL with X-Amz-Date and X-Amz-Expires; does not verify the signature.
inline DecodedToken decode_token(std::string_view token) {
  const std::string source(token_source);
  auto bad = [&](const std::string& why) { return Error(ErrorKind::bad_document, source, why); };
  std::optional<std::string> url = detail::base64url_decode(token);
  if (!url) throw bad("token is not base64url");
  constexpr std::string_view scheme = "https://";
  if (url->compare(0, scheme.size(), scheme) != 0) throw bad("token is not an https URL");
  const std::size_t path = url->find('/', scheme.size());
  if (path == std::string::npos || url->compare(path, 2, "/?") != 0)
    throw bad("token URL has no query after its host");
  DecodedToken decoded;
  decoded.host = url->substr(scheme.size(), path - scheme.size());
  std::string_view query = std::string_view(*url).substr(path + 2);
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const std::size_t eq = pair.find('=');
    auto name = detail::uri_decode(pair.substr(0, eq));
    auto value = detail::uri_decode(eq == std::string_view::npos ? std::string_view()
                                                                 : pair.substr(eq + 1));
    if (!name || !value) throw bad("token URL has a malformed percent-escape");
    decoded.params.emplace(std::move(*name), std::move(*value));
  }
  detail::cleanse(*url);
  const auto date = decoded.param("X-Amz-Date");
  const auto expires = decoded.param("X-Amz-Expires");
  if (!date || date->size() != 16) throw bad("token has no valid X-Amz-Date");
  const std::string iso = date->substr(0, 4) + "-" + date->substr(4, 2) + "-" + date->substr(6, 2) +
                          "T" + date->substr(9, 2) + ":" + date->substr(11, 2) + ":" +
                          date->substr(13, 2) + "Z";
  const auto signed_at = detail::parse_iso8601(iso);
  if (!signed_at || (*date)[8] != 'T') throw bad("token has no valid X-Amz-Date");
  if (!expires || expires->empty() || expires->size() > 6 ||
      expires->find_first_not_of("0123456789") != std::string::npos)
    throw bad("token has no integer X-Amz-Expires");
  decoded.signed_at = *signed_at;
  decoded.lifetime = std::chrono::seconds(std::stol(*expires));
  return decoded;
}

MSKIAM_END_NAMESPACE
