// InstanceMetadata: the instance profile credentials of EC2, through IMDSv2 with the IMDSv1
// fallback the SDKs apply (credentials.md §2.8, sample document §6.5).
//
//   1. PUT /latest/api/token, `x-aws-ec2-metadata-token-ttl-seconds: 21600` -> a token, cached
//      here until shortly before its TTL ends (the answer's own TTL header wins when present).
//   2. GET /latest/meta-data/iam/security-credentials/        -> role names; the first line is used
//   3. GET /latest/meta-data/iam/security-credentials/<role>  -> the JSON credential document,
//      `Code` must be "Success".
//
// Fallbacks (credentials.md §2.8; SDK guide feature-imds-credentials):
//   - token PUT answered 403, 404 or 405, or timed out: continue without a token (IMDSv1), unless
//     the fallback is off (Options::allow_v1_fallback, AWS_EC2_METADATA_V1_DISABLED=true);
//   - token PUT answered 400: terminal error, no fallback;
//   - token PUT answered 5xx: retried, then an error. botocore and the C++ SDK fall back to v1
//     after other statuses too; mskiam does not widen the v1 fallback beyond what the SDK guide
//     documents;
//   - a data GET answered 401 while a token was sent: the token expired; one new token, one retry.
//   - the role list answered 404: no role is attached to the instance, which is not_configured.
//
// Environment: AWS_EC2_METADATA_DISABLED=true (case-insensitive) -> fetch() throws
// not_configured; AWS_EC2_METADATA_SERVICE_ENDPOINT overrides the endpoint;
// AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6 selects http://[fd00:ec2::254].
//
// Not thread-safe on its own (it caches the token): TokenProvider serializes fetch().
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "mskiam/credentials.hpp"
#include "mskiam/error.hpp"
#include "mskiam/http.hpp"

MSKIAM_BEGIN_NAMESPACE

inline constexpr std::string_view imds_disabled_env = "AWS_EC2_METADATA_DISABLED";
inline constexpr std::string_view imds_v1_disabled_env = "AWS_EC2_METADATA_V1_DISABLED";
inline constexpr std::string_view imds_endpoint_env = "AWS_EC2_METADATA_SERVICE_ENDPOINT";
inline constexpr std::string_view imds_endpoint_mode_env = "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE";
inline constexpr std::string_view imds_default_endpoint = "http://169.254.169.254";
inline constexpr std::string_view imds_default_ipv6_endpoint = "http://[fd00:ec2::254]";
inline constexpr std::string_view imds_token_path = "/latest/api/token";
inline constexpr std::string_view imds_credentials_path = "/latest/meta-data/iam/security-credentials/";
inline constexpr std::string_view imds_token_ttl_header = "x-aws-ec2-metadata-token-ttl-seconds";
inline constexpr std::string_view imds_token_header = "x-aws-ec2-metadata-token";
// 6 hours, what botocore, the JS SDK and the C++ SDK ask for (Go v2 asks for 300 s).
inline constexpr std::chrono::seconds imds_token_ttl{21600};
// A cached token is replaced this long before its TTL ends (at most half the TTL), so that it
// never expires between the check and the request.
inline constexpr std::chrono::seconds imds_token_renew_margin{60};
// Credential documents are ~2 KiB, tokens ~60 bytes, role lists one line.
inline constexpr std::size_t imds_max_response_bytes = 64 * 1024;
inline constexpr std::size_t imds_max_token_bytes = 4096;

struct InstanceMetadataOptions {
  std::string endpoint;  // empty: AWS_EC2_METADATA_SERVICE_ENDPOINT or http://169.254.169.254
  bool disabled = false;  // also AWS_EC2_METADATA_DISABLED=true
  bool allow_v1_fallback = true;  // also off with AWS_EC2_METADATA_V1_DISABLED=true
  HttpTransport transport = curl_transport;
  std::chrono::milliseconds connect_timeout{1000}, timeout{1000};
  // Timeouts and 5xx of the data GETs. Two attempts, as the C++ SDK (botocore makes one): off
  // EC2 every attempt costs a timeout.
  RetryPolicy retry{2, std::chrono::milliseconds(100), std::chrono::seconds(1)};
  std::chrono::seconds token_ttl = imds_token_ttl;  // requested TTL of the IMDSv2 token
};

class InstanceMetadata {
 public:
  static constexpr std::string_view source = "imds";

  // Defined outside the class so that `Options = {}` can be a default argument.
  using Options = InstanceMetadataOptions;

  explicit InstanceMetadata(Options options = {});
  static InstanceMetadata from_environment(HttpTransport transport = curl_transport);

  Credentials fetch();
  std::string_view name() const noexcept { return source; }
  const std::string& endpoint() const noexcept { return endpoint_; }

 private:
  struct TokenResult {
    std::optional<Secret> token;  // nullopt: IMDSv1
    bool timed_out = false;       // the PUT timed out: IMDS is probably unreachable
  };

  TokenResult token(bool force_new);
  HttpResponse get(const std::string& path, TokenResult& token);

  Options options_;
  std::string endpoint_;
  bool disabled_ = false;
  bool allow_v1_ = true;
  Secret cached_token_;
  std::chrono::steady_clock::time_point cached_token_renew_at_{};
};

MSKIAM_END_NAMESPACE

#if MSKIAM_DEFINITIONS
#include <algorithm>
#include <utility>

#include "mskiam/detail/credential_document.hpp"
#include "mskiam/detail/environment.hpp"
#include "mskiam/detail/wipe.hpp"
#include "mskiam/detail/text.hpp"
#include "mskiam/detail/url.hpp"
#include "mskiam/policy.hpp"

MSKIAM_BEGIN_NAMESPACE

namespace detail {

// IAM role names: 1-64 characters of [\w+=,.@-]. Checked before the name goes into a URL path.
MSKIAM_INLINE bool is_iam_role_name(std::string_view s) noexcept {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!is_session_name_char(c)) return false;
  return true;
}

}  // namespace detail

MSKIAM_INLINE InstanceMetadata::InstanceMetadata(Options options) : options_(std::move(options)) {
  const std::string src(source);
  disabled_ = options_.disabled || detail::env_is_true(imds_disabled_env);
  allow_v1_ = options_.allow_v1_fallback && !detail::env_is_true(imds_v1_disabled_env);
  endpoint_ = options_.endpoint;
  if (endpoint_.empty()) {
    if (auto v = detail::getenv_nonempty(imds_endpoint_env)) {
      endpoint_ = std::move(*v);
    } else {
      const auto mode = detail::getenv_nonempty(imds_endpoint_mode_env);
      const bool ipv6 = mode && detail::ascii_lower(*mode) == "ipv6";
      endpoint_ = std::string(ipv6 ? imds_default_ipv6_endpoint : imds_default_endpoint);
    }
  }
  while (!endpoint_.empty() && endpoint_.back() == '/') endpoint_.pop_back();
  const auto url = detail::split_url(endpoint_);
  if (!url || (url->scheme != "http" && url->scheme != "https") ||
      endpoint_.find_first_of(" \t\r\n") != std::string::npos)
    throw Error(ErrorKind::invalid_argument, src,
                "the IMDS endpoint \"" + endpoint_ + "\" is not an http or https URL");
  if (options_.token_ttl < std::chrono::seconds(1) || options_.token_ttl > imds_token_ttl)
    throw Error(ErrorKind::invalid_argument, src, "the IMDS token TTL must be 1 to 21600 seconds");
}

MSKIAM_INLINE InstanceMetadata InstanceMetadata::from_environment(HttpTransport transport) {
  Options o;
  o.transport = std::move(transport);
  return InstanceMetadata(std::move(o));
}

MSKIAM_INLINE InstanceMetadata::TokenResult InstanceMetadata::token(bool force_new) {
  const std::string src(source);
  const auto now = std::chrono::steady_clock::now();
  if (!force_new && !cached_token_.empty() && now < cached_token_renew_at_)
    return TokenResult{cached_token_, false};
  cached_token_.clear();

  HttpRequest request;
  request.source = src;
  request.method = "PUT";
  request.url = endpoint_ + std::string(imds_token_path);
  request.headers.emplace_back(std::string(imds_token_ttl_header),
                               std::to_string(options_.token_ttl.count()));
  request.connect_timeout = options_.connect_timeout;
  request.timeout = options_.timeout;
  request.max_response_bytes = imds_max_token_bytes;

  HttpResponse r;
  try {
    r = send_retrying_5xx(options_.transport, request, options_.retry, false);
  } catch (const Error& e) {
    // A timeout is the classic sign of a container behind a hop limit of 1 (the PUT answer is
    // dropped) or of IMDSv2 being unreachable; the SDKs continue with IMDSv1.
    if (e.kind() == ErrorKind::timeout && allow_v1_) return TokenResult{std::nullopt, true};
    throw;
  }

  if (r.status == 403 || r.status == 404 || r.status == 405) {
    if (allow_v1_) return TokenResult{};
    throw Error(ErrorKind::http_status, src,
                "PUT " + request.url + " answered HTTP " + std::to_string(r.status) +
                    " and the IMDSv1 fallback is disabled",
                std::to_string(r.status));
  }
  if (r.status != 200)
    throw Error(ErrorKind::http_status, src,
                "PUT " + request.url + " answered HTTP " + std::to_string(r.status) +
                    (r.status == 400 ? " (the token request was refused; no IMDSv1 fallback)" : ""),
                std::to_string(r.status));
  Secret value(std::move(r.body));
  if (value.empty() || detail::has_control_character(value.reveal()))
    throw Error(ErrorKind::bad_document, src,
                "PUT " + request.url + " answered an empty or malformed token");

  std::chrono::seconds ttl = options_.token_ttl;
  if (const auto header = r.header(imds_token_ttl_header)) {
    // The service may grant less than asked: trust the smaller value when it is a number.
    const auto granted = detail::parse_decimal(*header, 6);
    if (granted && *granted > 0 && *granted < ttl.count()) ttl = std::chrono::seconds(*granted);
  }
  const auto margin = std::min<std::chrono::steady_clock::duration>(imds_token_renew_margin, ttl / 2);
  cached_token_ = value;
  cached_token_renew_at_ = now + ttl - margin;
  return TokenResult{std::move(value), false};
}

MSKIAM_INLINE HttpResponse InstanceMetadata::get(const std::string& path,
                                                TokenResult& token_result) {
  const std::string src(source);
  for (int attempt = 0;; ++attempt) {
    HttpRequest request;
    request.source = src;
    request.method = "GET";
    request.url = endpoint_ + path;
    if (token_result.token)
      request.headers.emplace_back(std::string(imds_token_header), token_result.token->reveal());
    request.connect_timeout = options_.connect_timeout;
    request.timeout = options_.timeout;
    request.max_response_bytes = imds_max_response_bytes;
    const detail::WipeOnExit wipe_headers{request.headers};  // the IMDSv2 token

    // After the token PUT timed out, a timeout here is the answer: IMDS is not reachable.
    const bool retry_timeouts = !token_result.timed_out;
    HttpResponse r = send_retrying_5xx(options_.transport, request, options_.retry, retry_timeouts);

    if (r.status == 401 && token_result.token && attempt == 0) {
      token_result = token(true);  // the token expired (or IMDS restarted): one new one
      continue;
    }
    if (r.status == 401 && !token_result.token)
      throw Error(ErrorKind::http_status, src,
                  "GET " + request.url +
                      " answered HTTP 401 to a request without a token: the instance requires "
                      "IMDSv2 but no token could be obtained" +
                      (token_result.timed_out
                           ? " (the token request timed out; in a container, raise the instance's "
                             "metadata hop limit to 2)"
                           : ""),
                  "401");
    return r;
  }
}

MSKIAM_INLINE Credentials InstanceMetadata::fetch() {
  const std::string src(source);
  if (disabled_)
    throw Error(ErrorKind::not_configured, src,
                "instance metadata is disabled (" + std::string(imds_disabled_env) + "=true)");
  TokenResult t = token(false);

  const std::string list_path(imds_credentials_path);
  const HttpResponse list = get(list_path, t);
  if (list.status == 404)
    throw Error(ErrorKind::not_configured, src,
                "no IAM role is attached to this instance (GET " + endpoint_ + list_path +
                    " answered HTTP 404)",
                "404");
  if (list.status != 200)
    throw Error(ErrorKind::http_status, src,
                "GET " + endpoint_ + list_path + " answered HTTP " + std::to_string(list.status),
                std::to_string(list.status));
  const std::string_view role = detail::trim(std::string_view(list.body).substr(0, list.body.find('\n')));
  if (role.empty())
    throw Error(ErrorKind::not_configured, src,
                "no IAM role is attached to this instance (empty role list)");
  if (!detail::is_iam_role_name(role))
    throw Error(ErrorKind::bad_document, src,
                "GET " + endpoint_ + list_path + " answered something that is not an IAM role name");

  const std::string role_path = list_path + std::string(role);
  const HttpResponse doc = get(role_path, t);
  if (doc.status != 200)
    throw Error(ErrorKind::http_status, src,
                "GET " + endpoint_ + role_path + " answered HTTP " + std::to_string(doc.status),
                std::to_string(doc.status));
  return detail::parse_credential_document(doc.body, source, detail::DocumentKind::imds);
}

MSKIAM_END_NAMESPACE
#endif  // MSKIAM_DEFINITIONS
