// The MSK IAM authentication token: a SigV4 query-string presign of `GET /` with
// `Action=kafka-cluster:Connect`, base64url-encoded without padding.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "mskiam/credentials.hpp"
#include "mskiam/error.hpp"
#include "mskiam/sigv4.hpp"
#include "mskiam/validation.hpp"

MSKIAM_BEGIN_NAMESPACE

inline constexpr std::string_view token_source = "token";
inline constexpr std::string_view msk_signing_service = "kafka-cluster";
inline constexpr std::string_view msk_action = "kafka-cluster:Connect";
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

// `kafka.<region>.amazonaws.com`, in every partition, China's included: what all the official
// signers sign (docs/comparison.md). `TokenOptions::host` signs another host.
std::string msk_host(std::string_view region);

namespace detail {
struct PresignMemo;  // with the definitions
}  // namespace detail

// What sign_token keeps between tokens: the derived signing key (per day), and the parts of the
// presigned URL that change only with the credentials, the day and the token options, the
// encoded session token among them. Wiped by reset() and on destruction: whoever owns the
// credentials owns the cache and resets it when it drops them. Not thread-safe: one caller at a
// time (TokenProvider holds its mutex).
class TokenCache {
 public:
  TokenCache() noexcept;
  TokenCache(const TokenCache&) = delete;
  TokenCache& operator=(const TokenCache&) = delete;
  ~TokenCache();

  void reset() noexcept;

  sigv4::SigningKeyCache& signing_keys() noexcept { return keys_; }
  // Created on first use; emptied (and wiped) by reset().
  detail::PresignMemo& presign_memo();

 private:
  sigv4::SigningKeyCache keys_;
  std::unique_ptr<detail::PresignMemo> memo_;
};

// Signs a token at `now`. X-Amz-Expires is the whole number of seconds of
// min(options.lifetime, expiration - signing second), so the token never outlives its credentials,
// and AuthToken::expires_at = signing second + X-Amz-Expires. Throws mskiam::Error (source `token`)
// for empty keys, a bad region or host, a lifetime outside 1..900 s, and credentials that are
// expired or expire within the signing second. `cache`, when given, keeps what the next token of
// the same credentials reuses.
AuthToken sign_token(const Credentials& credentials, const TokenOptions& options,
                     std::chrono::system_clock::time_point now, TokenCache* cache = nullptr);

// A token taken apart again: for `mskiam-token --decode`, tests and debugging.
struct DecodedToken {
  std::string host;
  std::multimap<std::string, std::string> params;  // percent-decoded names and values
  std::chrono::system_clock::time_point signed_at;
  std::chrono::seconds lifetime{0};

  std::optional<std::string> param(const std::string& name) const;
  std::chrono::system_clock::time_point expires_at() const { return signed_at + lifetime; }

  // The URL with X-Amz-Signature and X-Amz-Security-Token replaced by `<redacted>`.
  std::string redacted_url() const;
};

// Parses a token. Throws mskiam::Error (source `token`, kind bad_document) when it is not a
// base64url presigned URL with X-Amz-Date and X-Amz-Expires; does not verify the signature.
DecodedToken decode_token(std::string_view token);

MSKIAM_END_NAMESPACE

#if MSKIAM_DEFINITIONS
#include <algorithm>

#include "mskiam/detail/crypto.hpp"
#include "mskiam/detail/encoding.hpp"
#include "mskiam/detail/text.hpp"
#include "mskiam/detail/time.hpp"
#include "mskiam/detail/wipe.hpp"

MSKIAM_BEGIN_NAMESPACE

namespace detail {

// What sign_token keeps in a TokenCache between tokens, so that a token
// of the same credentials, day and options only formats its time, hashes and encodes: the
// canonical request and the URL are the concatenations
//   canonical request = head + <X-Amz-Date>&X-Amz-Expires=<N> + tail
//   URL = url_prefix + head[6..] + <X-Amz-Date>&X-Amz-Expires=<N>
//         + tail[..query_tail_size] + &X-Amz-Signature=<hex> + user_agent_param
// The URL's base64url is mostly made beforehand too: base64url works on 3-byte groups, so the
// encoding of the constant start of the URL, and of the query tail from a given position in its
// group, never change (tail_base64[k]: query tail from byte k, whole groups, made on first use).
// The key fields are what the parts were built from, compared at every token; sign_token
// validated the region and the host before it built them. `tail`, `tail_base64` hold the encoded
// session token and `session_token` a copy: all wiped by clear(), on a change and on destruction.
struct PresignMemo {
  PresignMemo() = default;
  PresignMemo(const PresignMemo&) = delete;
  PresignMemo& operator=(const PresignMemo&) = delete;
  ~PresignMemo() { clear(); }

  void clear() noexcept {
    valid = false;
    cleanse(tail);
    for (std::string& encoded : tail_base64) cleanse(encoded);
    session_token.clear();
  }

  // Key.
  bool valid = false;
  std::string date, region, host_option, user_agent_option, access_key_id;
  Secret session_token;
  // Parts.
  std::string head;  // GET\n/\n Action=...&X-Amz-Credential=<encoded>&X-Amz-Date=
  std::string tail;  // [&X-Amz-Security-Token=<encoded>]&X-Amz-SignedHeaders=host\nhost:<host>...
  std::size_t query_tail_size = 0;
  std::string url_prefix;        // https://<host>/?
  std::string user_agent_param;  // &User-Agent=<encoded>
  std::string url_head_base64;   // base64url of url_prefix + head[6..], whole groups
  std::string url_head_rest;     // the 0 to 2 bytes after them
  std::string tail_base64[3];    // base64url of tail[k..query_tail_size), whole groups; or empty
  std::string scope;             // <date>/<region>/kafka-cluster/aws4_request
  // One context for the hash and the HMAC of every token (OpenSSL allocates at EVP_MD_CTX_new).
  Sha256Context context;
};


// Appends `name=value` to a query, after an `&` unless it is empty; only the value is encoded.
MSKIAM_INLINE void append_param(std::string& query, std::string_view name, std::string_view value) {
  if (!query.empty()) query += '&';
  query.append(name);
  query += '=';
  append_uri_encoded(query, value);
}

}  // namespace detail

MSKIAM_INLINE TokenCache::TokenCache() noexcept = default;

MSKIAM_INLINE TokenCache::~TokenCache() { reset(); }

MSKIAM_INLINE void TokenCache::reset() noexcept {
  keys_.reset();
  if (memo_) memo_->clear();
}

MSKIAM_INLINE detail::PresignMemo& TokenCache::presign_memo() {
  if (!memo_) memo_ = std::make_unique<detail::PresignMemo>();
  return *memo_;
}

MSKIAM_INLINE std::string msk_host(std::string_view region) {
  std::string host = "kafka.";
  host.append(region).append(".amazonaws.com");
  return host;
}

namespace detail {

// Whether `memo` was built from these credentials, options and day (X-Amz-Date's first 8
// characters). The session token is compared with memcmp, not in constant time: both sides are
// the caller's own, and nothing outside the process chooses either.
MSKIAM_INLINE bool presign_memo_matches(const PresignMemo& memo, const Credentials& credentials,
                                        const TokenOptions& options, std::string_view date) {
  return memo.valid && memo.date == date && memo.access_key_id == credentials.access_key_id &&
         memo.region == options.region && memo.host_option == options.host &&
         memo.user_agent_option == options.user_agent &&
         memo.session_token.reveal() == credentials.session_token.reveal();
}

// Builds the parts of `memo` (see PresignMemo) for `host`, already validated, wiping the old
// ones; and, when `remember` (a memo kept in a cache), what they were built from.
MSKIAM_INLINE void build_presign_memo(PresignMemo& memo, const Credentials& credentials,
                                      const TokenOptions& options, std::string_view date,
                                      const std::string& host, bool remember) {
  memo.clear();
  memo.scope = sigv4::credential_scope(date, options.region, msk_signing_service);
  // The parameters in canonical (sorted, encoded-name) order; the session token is signed.
  // X-Amz-Credential is `<key id>/<scope>` encoded: the key id and the scope encoded, `/` as %2F.
  auto param = [](std::string& out, std::string_view name_and_equals, std::string_view value) {
    out.append(name_and_equals);
    append_uri_encoded(out, value);
  };
  memo.head.assign("GET\n/\n");
  param(memo.head, "Action=", msk_action);
  param(memo.head, "&X-Amz-Algorithm=", sigv4::algorithm);
  param(memo.head, "&X-Amz-Credential=", credentials.access_key_id);
  memo.head.append("%2F");
  append_uri_encoded(memo.head, memo.scope);
  memo.head.append("&X-Amz-Date=");
  memo.tail.reserve(credentials.session_token.size() * 3 + host.size() + 160);  // never grows
  if (!credentials.session_token.empty())
    param(memo.tail, "&X-Amz-Security-Token=", credentials.session_token.reveal());
  memo.tail.append("&X-Amz-SignedHeaders=host");
  memo.query_tail_size = memo.tail.size();
  memo.tail.append("\nhost:").append(host).append("\n\nhost\n").append(sigv4::empty_payload_hash);
  memo.url_prefix.assign("https://").append(host).append("/?");
  memo.user_agent_param.clear();
  // Unsigned, after the signature: the broker ignores it, operators see it in logs.
  param(memo.user_agent_param, "&User-Agent=",
        options.user_agent.empty() ? default_user_agent : options.user_agent);
  // The URL's constant start, encoded once: whole 3-byte groups, and the bytes after them.
  std::string url_head = memo.url_prefix;
  url_head.append(memo.head, 6);  // after GET\n/\n
  const std::size_t whole = url_head.size() / 3 * 3;
  memo.url_head_base64.resize(base64url_size(whole));
  Base64urlWriter head_writer(&memo.url_head_base64[0]);
  head_writer.append(std::string_view(url_head).substr(0, whole));
  head_writer.finish();
  memo.url_head_rest.assign(url_head, whole);
  if (remember) {
    memo.date.assign(date);
    memo.access_key_id = credentials.access_key_id;
    memo.region = options.region;
    memo.host_option = options.host;
    memo.user_agent_option = options.user_agent;
    memo.session_token = credentials.session_token;
    memo.valid = true;
  }
}

}  // namespace detail

namespace detail {
// The steps of sign_token.

MSKIAM_INLINE void check_keys(const Credentials& credentials) {
  if (credentials.access_key_id.empty())
    throw Error(ErrorKind::invalid_argument, std::string(token_source), "access key id is empty");
  if (credentials.secret_access_key.empty())
    throw Error(ErrorKind::invalid_argument, std::string(token_source),
                "secret access key is empty (access key id " + credentials.access_key_id + ")");
}

// `lifetime`, cut to the whole seconds the credentials have left after `signed_at`.
MSKIAM_INLINE std::chrono::seconds capped_lifetime(const Credentials& credentials,
                                                   std::chrono::seconds lifetime,
                                                   std::chrono::system_clock::time_point now,
                                                   std::chrono::system_clock::time_point signed_at) {
  using std::chrono::seconds;
  if (!credentials.expiration) return lifetime;
  if (*credentials.expiration <= now)
    throw Error(ErrorKind::expired, std::string(token_source),
                "credentials of access key id " + credentials.access_key_id + " expired at " +
                    iso8601(*credentials.expiration) + " (now " + iso8601(now) + ")");
  const auto remaining = std::chrono::floor<seconds>(*credentials.expiration - signed_at);
  if (remaining < seconds(1))
    throw Error(ErrorKind::expired, std::string(token_source),
                "credentials of access key id " + credentials.access_key_id +
                    " expire within a second, at " + iso8601(*credentials.expiration));
  return remaining < lifetime ? remaining : lifetime;
}

inline constexpr std::string_view expires_name = "&X-Amz-Expires=";
inline constexpr std::size_t max_varying_size = amz_date_size + expires_name.size() + 3;

// `<X-Amz-Date>&X-Amz-Expires=<N>`, the part of the query that changes with every token, at
// `out` (max_varying_size bytes); returns its size.
MSKIAM_INLINE std::size_t write_varying(char* out, const char (&amz_date)[amz_date_size],
                                        std::chrono::seconds lifetime) {
  char* end = std::copy(amz_date, amz_date + amz_date_size, out);
  end = std::copy(expires_name.begin(), expires_name.end(), end);
  const auto expires = static_cast<unsigned>(lifetime.count());  // 1..900
  if (expires >= 100) *end++ = static_cast<char>('0' + expires / 100);
  if (expires >= 10) *end++ = static_cast<char>('0' + expires / 10 % 10);
  *end++ = static_cast<char>('0' + expires % 10);
  return static_cast<std::size_t>(end - out);
}

// The hex signature of the canonical request `memo.head + varying + memo.tail` at `out` (64
// bytes), with the cached signing key when there is a cache.
MSKIAM_INLINE void write_signature(char* out, PresignMemo& memo, std::string_view varying,
                                   const char (&amz_date)[amz_date_size],
                                   const Credentials& credentials, const TokenOptions& options,
                                   TokenCache* cache) {
  // String to sign: algorithm, timestamp, scope, hex SHA-256 of the canonical request.
  Sha256Context& ctx = memo.context;
  Digest request_hash{};
  ctx.init()
      .update(memo.head.data(), memo.head.size())
      .update(varying.data(), varying.size())
      .update(memo.tail.data(), memo.tail.size())
      .final(request_hash.data());
  constexpr std::size_t max_scope_size = 128;
  char to_sign[string_to_sign_size(amz_date_size, max_scope_size)];
  if (memo.scope.size() > max_scope_size)  // region at most 64 characters: never
    throw Error(ErrorKind::internal, std::string(token_source), "credential scope too long");
  const std::string_view string_to_sign(
      to_sign, write_string_to_sign(to_sign, std::string_view(amz_date, amz_date_size), memo.scope,
                                    request_hash));

  const std::string_view date(amz_date, 8);
  Digest mac{};
  const WipeOnExit wipe_mac{mac};
  if (cache) {
    mac = hmac_sha256(
        cache->signing_keys().prepared(credentials, date, options.region, msk_signing_service),
        string_to_sign, ctx);
  } else {
    Digest key = sigv4::derive_signing_key(credentials.secret_access_key, date, options.region,
                                           msk_signing_service);
    const WipeOnExit wipe_key{key};
    mac = hmac_sha256(key, string_to_sign);
  }
  write_hex(out, mac.data(), mac.size());
}

// The token: the URL base64url-encoded from its parts, most of them encoded beforehand
// (PresignMemo), so that there is no plain copy of it to wipe afterwards.
MSKIAM_INLINE std::string encode_url(PresignMemo& memo, std::string_view varying,
                                     std::string_view signature) {
  constexpr std::string_view signature_name = "&X-Amz-Signature=";
  const std::string_view query_tail = std::string_view(memo.tail).substr(0, memo.query_tail_size);
  const std::size_t url_size = memo.url_prefix.size() + memo.head.size() - 6 + varying.size() +
                               query_tail.size() + signature_name.size() + signature.size() +
                               memo.user_agent_param.size();
  std::string value(base64url_size(url_size), '\0');
  Base64urlWriter writer(&value[0]);
  writer.append_encoded(memo.url_head_base64);
  writer.append(memo.url_head_rest);
  writer.append(varying);
  // The query tail starts `k` bytes before the end of a 3-byte group (the tail is 25 bytes or
  // more): those bytes complete the group, its whole groups from k on come encoded.
  const std::size_t k = (3 - writer.carried()) % 3;
  const std::size_t whole = (query_tail.size() - k) / 3 * 3;
  std::string& encoded_tail = memo.tail_base64[k];
  if (encoded_tail.empty() && whole != 0) {
    encoded_tail.resize(base64url_size(whole));
    Base64urlWriter tail_writer(&encoded_tail[0]);
    tail_writer.append(query_tail.substr(k, whole));
    tail_writer.finish();
  }
  writer.append(query_tail.substr(0, k));
  writer.append_encoded(encoded_tail);
  writer.append(query_tail.substr(k + whole));
  writer.append(signature_name);
  writer.append(signature);
  writer.append(memo.user_agent_param);
  writer.finish();
  return value;
}

}  // namespace detail

MSKIAM_INLINE AuthToken sign_token(const Credentials& credentials, const TokenOptions& options,
                                   std::chrono::system_clock::time_point now, TokenCache* cache) {
  detail::check_keys(credentials);
  const auto signed_at = std::chrono::floor<std::chrono::seconds>(now);
  char amz_date[detail::amz_date_size];
  detail::write_amz_date(amz_date, signed_at);
  const std::string_view date(amz_date, 8);

  // A memo built from the same options was built after their region and host passed validation.
  std::optional<detail::PresignMemo> own_memo;
  detail::PresignMemo& memo = cache ? cache->presign_memo() : own_memo.emplace();
  const bool memo_matches = detail::presign_memo_matches(memo, credentials, options, date);
  if (!memo_matches) validate_region(options.region, token_source, "TokenOptions::region");
  validate_token_lifetime(options.lifetime, token_source);
  const std::chrono::seconds lifetime =
      detail::capped_lifetime(credentials, options.lifetime, now, signed_at);
  if (!memo_matches) {
    const std::string host = options.host.empty() ? msk_host(options.region) : options.host;
    validate_host(host, token_source);
    detail::build_presign_memo(memo, credentials, options, date, host, cache != nullptr);
  }

  char varying_text[detail::max_varying_size];
  const std::string_view varying(varying_text,
                                 detail::write_varying(varying_text, amz_date, lifetime));
  char signature[64];
  const detail::WipeOnExit wipe_signature{signature};
  detail::write_signature(signature, memo, varying, amz_date, credentials, options, cache);

  AuthToken token;
  token.value = detail::encode_url(memo, varying, std::string_view(signature, sizeof signature));
  token.expires_at = signed_at + lifetime;
  token.principal = credentials.principal.empty() ? credentials.access_key_id : credentials.principal;
  return token;
}

MSKIAM_INLINE std::optional<std::string> DecodedToken::param(const std::string& name) const {
  auto it = params.find(name);
  if (it == params.end()) return std::nullopt;
  return it->second;
}

MSKIAM_INLINE std::string DecodedToken::redacted_url() const {
  std::string query;
  for (const auto& [name, value] : params) {
    const bool secret = name == "X-Amz-Signature" || name == "X-Amz-Security-Token";
    detail::append_param(query, name, secret ? std::string_view("<redacted>") : value);
  }
  return "https://" + host + "/?" + query;
}

MSKIAM_INLINE DecodedToken decode_token(std::string_view token) {
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
  const auto seconds = expires ? detail::parse_decimal(*expires, 6) : std::nullopt;
  if (!seconds) throw bad("token has no integer X-Amz-Expires");
  decoded.signed_at = *signed_at;
  decoded.lifetime = std::chrono::seconds(*seconds);
  return decoded;
}

MSKIAM_END_NAMESPACE
#endif  // MSKIAM_DEFINITIONS
