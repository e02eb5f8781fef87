// AWS STS over the Query protocol: AssumeRole (SigV4-signed), AssumeRoleWithWebIdentity
// (unsigned) and GetCallerIdentity (signed), against the regional endpoint of the region's
// partition. Responses are read by element name in any order; errors keep STS's own code.
//
// Only the calls the credential sources need, and only the parameters that decide the principal
// and the session: role ARN, session name, external id, duration. Inputs are checked before any
// call, so that a bad session name is reported as such, not as an STS ValidationError an hour
// into a deployment.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mskiam/credentials.hpp"
#include "mskiam/error.hpp"
#include "mskiam/http.hpp"
#include "mskiam/validation.hpp"

MSKIAM_BEGIN_NAMESPACE

inline constexpr std::string_view sts_source = "sts";
inline constexpr std::string_view sts_service = "sts";
inline constexpr std::string_view sts_api_version = "2011-06-15";
inline constexpr std::string_view sts_content_type = "application/x-www-form-urlencoded; charset=utf-8";
inline constexpr std::string_view default_sts_region = "us-east-1";
// STS answers are about 2 KiB; anything far larger is not STS.
inline constexpr std::size_t sts_max_response_bytes = 64 * 1024;

struct StsOptions {
  std::string region;    // empty: AWS_REGION, AWS_DEFAULT_REGION, else us-east-1
  std::string endpoint;  // override, e.g. http://127.0.0.1:PORT (not with fips)
  bool fips = false;     // sts-fips.<region>.<suffix> (GovCloud: its regular endpoint)
  RetryPolicy retry;
  HttpTransport transport = curl_transport;
  std::chrono::milliseconds connect_timeout{2000}, timeout{5000};
};

struct AssumeRoleRequest {
  std::string role_arn, session_name, external_id;  // external_id: empty for none
  std::chrono::seconds duration{3600};
};

struct WebIdentityRequest {
  std::string role_arn, session_name;
  Secret web_identity_token;
  std::chrono::seconds duration{3600};
};

// `https://sts.<region>.<partition suffix>` (`.amazonaws.com.cn` for cn-*), or
// `https://sts-fips.<region>.<suffix>` with `fips`; GovCloud's regular endpoints are FIPS
// already. `aws-global` is `https://sts.amazonaws.com`. Throws invalid_argument on a region that
// is neither a region id (validate_region) nor `aws-global`.
std::string sts_endpoint(std::string_view region, bool fips);

// The region STS calls go to: `configured` if not empty, else AWS_REGION, AWS_DEFAULT_REGION
// (region_from_environment), else us-east-1.
std::string resolve_sts_region(std::string_view configured);

// Retries (StsOptions::retry) only what may pass: throttling codes, IDPCommunicationError,
// 5xx answers, timeouts and transport errors. Never AccessDenied, ValidationError,
// InvalidIdentityToken, ExpiredTokenException and other answers about the request itself.
class StsClient {
 public:
  explicit StsClient(StsOptions options);

  // Signed with `base` (its session token as X-Amz-Security-Token), service sts.
  Credentials assume_role(const Credentials& base, const AssumeRoleRequest& request);
  // Unsigned: the web identity token is the authentication.
  Credentials assume_role_with_web_identity(const WebIdentityRequest& request);
  // The ARN of the principal `credentials` belong to.
  std::string get_caller_identity(const Credentials& credentials);

  const std::string& endpoint() const noexcept { return endpoint_; }
  const std::string& region() const noexcept { return region_; }
  const std::string& signing_region() const noexcept { return signing_region_; }

 private:
  struct Call {
    std::string action;
    std::string subject;  // what errors name: the role ARN, or empty
    std::vector<std::pair<std::string, std::string>> params;  // after Action and Version
    const Credentials* signer = nullptr;                      // null: unsigned
  };
  std::string perform(const Call& call);
  // perform(), then the credentials of the answer's <Action>Result.
  Credentials credentials_call(const Call& call);
  HttpRequest build_request(const Call& call, const std::string& body) const;

  StsOptions options_;
  std::string region_;
  std::string signing_region_;
  std::string endpoint_;  // scheme://authority, no trailing slash
  std::string host_;      // authority: signed as `host` and sent as Host
  std::string path_ = "/";
};

MSKIAM_END_NAMESPACE

#if MSKIAM_DEFINITIONS
#include <optional>

#include "mskiam/detail/crypto.hpp"
#include "mskiam/detail/encoding.hpp"
#include "mskiam/detail/text.hpp"
#include "mskiam/detail/time.hpp"
#include "mskiam/detail/url.hpp"
#include "mskiam/detail/wipe.hpp"
#include "mskiam/detail/xml.hpp"
#include "mskiam/policy.hpp"
#include "mskiam/sigv4.hpp"

MSKIAM_BEGIN_NAMESPACE

namespace detail {

// The DNS suffix of the region's partition (botocore data/partitions.json); `aws` otherwise.
MSKIAM_INLINE std::string_view sts_dns_suffix(std::string_view region) noexcept {
  if (starts_with(region, "cn-")) return "amazonaws.com.cn";
  if (starts_with(region, "us-isob-")) return "sc2s.sgov.gov";
  if (starts_with(region, "us-isof-")) return "csp.hci.ic.gov";
  if (starts_with(region, "us-iso-")) return "c2s.ic.gov";
  if (starts_with(region, "eu-isoe-")) return "cloud.adc-e.uk";
  if (starts_with(region, "eusc-")) return "amazonaws.eu";
  return "amazonaws.com";
}

// STS error codes worth another attempt (botocore retries/standard.py, STS API reference).
MSKIAM_INLINE bool sts_retryable_code(std::string_view code) noexcept {
  static constexpr std::string_view codes[] = {
      "Throttling",          "ThrottlingException",       "ThrottledException",
      "RequestThrottledException", "TooManyRequestsException", "RequestLimitExceeded",
      "LimitExceededException",    "RequestThrottled",         "SlowDown",
      "IDPCommunicationError",     "InternalFailure",          "InternalError",
      "ServiceUnavailable",        "RequestTimeout",           "RequestTimeoutException"};
  for (std::string_view c : codes)
    if (c == code) return true;
  return false;
}

MSKIAM_INLINE void append_form(std::string& body, std::string_view name, std::string_view value) {
  if (!body.empty()) body += '&';
  append_uri_encoded(body, name);
  body += '=';
  append_uri_encoded(body, value);
}

// Credentials values never contain whitespace (base64 and key ids); the AWS documentation
// samples wrap the session token over indented lines, so every whitespace character goes.
MSKIAM_INLINE std::string strip_space(std::string value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value)
    if (!is_space(c)) out += c;
  cleanse(value);
  return out;
}

// Credentials and AssumedRoleUser/Arn from `<Action>Result`. Messages name missing elements,
// never values.
MSKIAM_INLINE Credentials parse_sts_credentials(std::string_view result, const std::string& what) {
  auto fail = [&](const std::string& why) {
    return Error(ErrorKind::bad_document, std::string(sts_source), what + ": " + why);
  };
  const auto creds = xml_element(result, "Credentials");
  if (!creds) throw fail("the response has no <Credentials> element");
  Credentials c;
  auto required = [&](std::string_view parent_doc, std::string_view parent, std::string_view name) {
    auto value = xml_text(parent_doc, name);
    if (!value || value->empty())
      throw fail("the response has no " + std::string(parent) + "/" + std::string(name) + " value");
    return std::move(*value);
  };
  c.access_key_id = strip_space(required(*creds, "Credentials", "AccessKeyId"));
  c.secret_access_key = strip_space(required(*creds, "Credentials", "SecretAccessKey"));
  c.session_token = strip_space(required(*creds, "Credentials", "SessionToken"));
  const std::string expiration = required(*creds, "Credentials", "Expiration");
  const auto when = parse_iso8601(expiration);
  if (!when) throw fail("Credentials/Expiration \"" + printable(expiration, 64) + "\" is not an ISO 8601 time");
  c.expiration = *when;
  const auto user = xml_element(result, "AssumedRoleUser");
  if (!user) throw fail("the response has no <AssumedRoleUser> element");
  c.principal = required(*user, "AssumedRoleUser", "Arn");
  return c;
}

// An STS error document, if `body` is one (ErrorResponse/Error, Response/Errors/Error, or a root
// Error): its Code, Message and RequestId.
struct StsErrorDocument {
  std::string code, message, request_id;
};

MSKIAM_INLINE std::optional<StsErrorDocument> parse_sts_error(std::string_view body) {
  const auto error = xml_element(body, "Error");
  if (!error) return std::nullopt;
  auto code = xml_text(*error, "Code");
  if (!code || code->empty()) return std::nullopt;
  StsErrorDocument doc;
  doc.code = std::move(*code);
  doc.message = xml_text(*error, "Message").value_or("");
  doc.request_id = xml_text(body, "RequestId").value_or("");
  return doc;
}

// The host and path of an endpoint URL (validate_endpoint): `http://127.0.0.1:8080/sts/` ->
// base `http://127.0.0.1:8080`, host `127.0.0.1:8080`, path `/sts`.
MSKIAM_INLINE void split_endpoint(std::string_view url, std::string& base, std::string& host,
                                  std::string& path) {
  validate_endpoint(url, "STS endpoint", sts_source);
  const UrlParts parts = *split_url(url);
  std::string_view p = parts.rest.empty() ? std::string_view("/") : parts.rest;
  while (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
  host.assign(parts.authority);
  path.assign(p);
  base.assign(url.substr(0, url.size() - parts.rest.size()));
}

}  // namespace detail

namespace detail {
MSKIAM_INLINE void validate_sts_region(std::string_view region) {
  if (region != sts_global_region) validate_region(region, sts_source);
}
}  // namespace detail

MSKIAM_INLINE std::string sts_endpoint(std::string_view region, bool fips) {
  detail::validate_sts_region(region);
  if (region == sts_global_region && !fips) return "https://sts.amazonaws.com";
  const bool gov = detail::starts_with(region, "us-gov-");
  std::string url = fips && !gov ? "https://sts-fips." : "https://sts.";
  url.append(region).append(".").append(detail::sts_dns_suffix(region));
  return url;
}

MSKIAM_INLINE std::string resolve_sts_region(std::string_view configured) {
  if (!configured.empty()) return std::string(configured);
  if (auto setting = region_from_environment(sts_source)) return std::move(setting->region);
  return std::string(default_sts_region);
}

MSKIAM_INLINE StsClient::StsClient(StsOptions options) : options_(std::move(options)) {
  region_ = resolve_sts_region(options_.region);
  detail::validate_sts_region(region_);
  signing_region_ = region_ == sts_global_region ? std::string(default_sts_region) : region_;
  if (!options_.endpoint.empty() && options_.fips)
    throw Error(ErrorKind::invalid_argument, std::string(sts_source),
                "an STS endpoint override cannot be combined with fips: put the FIPS endpoint in "
                "the override");
  if (!options_.transport)
    throw Error(ErrorKind::invalid_argument, std::string(sts_source), "StsOptions::transport is empty");
  const std::string url = options_.endpoint.empty() ? sts_endpoint(region_, options_.fips) : options_.endpoint;
  detail::split_endpoint(url, endpoint_, host_, path_);
  if (path_ != "/") endpoint_ += path_;
}

namespace detail {
MSKIAM_INLINE void validate_role_request(const std::string& role_arn, const std::string& session_name,
                                         std::chrono::seconds duration) {
  validate_role_arn(role_arn, sts_source);
  validate_session_name(session_name, sts_source);
  validate_duration(duration, sts_source);
}
}  // namespace detail

MSKIAM_INLINE Credentials StsClient::credentials_call(const Call& call) {
  const std::string what = call.action + " " + call.subject;
  std::string body = perform(call);
  const detail::WipeOnExit wipe{body};
  const auto result = detail::xml_element(body, call.action + "Result");
  if (!result)
    throw Error(ErrorKind::bad_document, std::string(sts_source),
                what + ": the response has no <" + call.action + "Result> element");
  Credentials c = detail::parse_sts_credentials(*result, what);
  c.source = std::string(sts_source);
  return c;
}

MSKIAM_INLINE Credentials StsClient::assume_role(const Credentials& base,
                                               const AssumeRoleRequest& request) {
  detail::validate_role_request(request.role_arn, request.session_name, request.duration);
  if (!request.external_id.empty()) validate_external_id(request.external_id, sts_source);
  if (base.access_key_id.empty() || base.secret_access_key.empty())
    throw Error(ErrorKind::invalid_argument, std::string(sts_source),
                "AssumeRole " + request.role_arn +
                    ": the base credentials have no access key id or no secret access key");
  Call call;
  call.action = "AssumeRole";
  call.subject = request.role_arn;
  call.params = {{"RoleArn", request.role_arn},
                 {"RoleSessionName", request.session_name},
                 {"DurationSeconds", std::to_string(request.duration.count())}};
  if (!request.external_id.empty()) call.params.emplace_back("ExternalId", request.external_id);
  call.signer = &base;
  return credentials_call(call);
}

MSKIAM_INLINE Credentials StsClient::assume_role_with_web_identity(
    const WebIdentityRequest& request) {
  detail::validate_role_request(request.role_arn, request.session_name, request.duration);
  const std::size_t size = request.web_identity_token.size();
  if (size < min_web_identity_token || size > max_web_identity_token)
    throw Error(ErrorKind::invalid_argument, std::string(sts_source),
                "AssumeRoleWithWebIdentity " + request.role_arn + ": the web identity token is " +
                    std::to_string(size) + " bytes; STS accepts 4 to 20000");
  Call call;
  call.action = "AssumeRoleWithWebIdentity";
  call.subject = request.role_arn;
  call.params = {{"RoleArn", request.role_arn},
                 {"RoleSessionName", request.session_name},
                 {"WebIdentityToken", request.web_identity_token.reveal()},
                 {"DurationSeconds", std::to_string(request.duration.count())}};
  const detail::WipeOnExit wipe_token{call.params[2].second};
  return credentials_call(call);
}

MSKIAM_INLINE std::string StsClient::get_caller_identity(const Credentials& credentials) {
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty())
    throw Error(ErrorKind::invalid_argument, std::string(sts_source),
                "GetCallerIdentity: the credentials have no access key id or no secret access key");
  Call call;
  call.action = "GetCallerIdentity";
  call.signer = &credentials;
  std::string body = perform(call);
  const detail::WipeOnExit wipe{body};
  const auto result = detail::xml_element(body, "GetCallerIdentityResult");
  auto arn = result ? detail::xml_text(*result, "Arn") : std::nullopt;
  if (!arn || arn->empty())
    throw Error(ErrorKind::bad_document, std::string(sts_source),
                "GetCallerIdentity: the response has no GetCallerIdentityResult/Arn value");
  return std::move(*arn);
}

MSKIAM_INLINE HttpRequest StsClient::build_request(const Call& call,
                                                  const std::string& body) const {
  HttpRequest r;
  r.source = std::string(sts_source);
  r.method = "POST";
  r.url = endpoint_ + (path_ == "/" ? "/" : "");
  r.body = body;
  r.connect_timeout = options_.connect_timeout;
  r.timeout = options_.timeout;
  r.max_response_bytes = sts_max_response_bytes;
  r.headers.emplace_back("Host", host_);
  r.headers.emplace_back("Content-Type", std::string(sts_content_type));
  if (call.signer != nullptr) {
    sigv4::HeaderSigningRequest s;
    s.method = r.method;
    s.host = host_;
    s.canonical_uri = path_;
    s.headers = {{"Content-Type", std::string(sts_content_type)}};
    s.body = body;
    auto added = sigv4::sign_headers(s, *call.signer, signing_region_, sts_service,
                                     std::chrono::system_clock::now());
    for (auto& header : added) r.headers.push_back(std::move(header));
  }
  return r;
}

// One call with retries; returns the body of a 200 answer.
MSKIAM_INLINE std::string StsClient::perform(const Call& call) {
  std::string body;
  detail::append_form(body, "Action", call.action);
  detail::append_form(body, "Version", sts_api_version);
  for (const auto& [name, value] : call.params) detail::append_form(body, name, value);
  const std::string what = call.subject.empty() ? call.action : call.action + " " + call.subject;

  // Set by the attempt for the errors it builds itself (an enum: GCC 12 -O2 misreads an
  // optional<bool> here as used uninitialized).
  enum class Verdict { unset, retry, give_up } verdict = Verdict::unset;
  const auto verdict_of = [](bool retry) { return retry ? Verdict::retry : Verdict::give_up; };
  auto attempt = [&]() -> std::string {
    verdict = Verdict::unset;
    // Signed again at every attempt: X-Amz-Date must be current.
    HttpRequest request = build_request(call, body);
    // The body may hold a web identity token, the headers a session token and a signature.
    const detail::WipeOnExit wipe_body{request.body}, wipe_headers{request.headers};
    HttpResponse response = options_.transport(request);
    if (auto error = detail::parse_sts_error(response.body)) {
      verdict = verdict_of(detail::sts_retryable_code(error->code) || response.status >= 500);
      std::string message = what + ": " + detail::printable(error->code, 128);
      if (!error->message.empty()) message += ": " + detail::printable(error->message);
      message += " (HTTP " + std::to_string(response.status);
      if (!error->request_id.empty()) message += ", request id " + detail::printable(error->request_id, 64);
      message += ")";
      throw Error(ErrorKind::service_error, std::string(sts_source), message, error->code);
    }
    if (response.status != 200) {
      verdict = verdict_of(response.status >= 500 || response.status == 429);
      throw Error(ErrorKind::http_status, std::string(sts_source),
                  what + ": HTTP " + std::to_string(response.status) + " from " + request.url +
                      " without an STS error document",
                  std::to_string(response.status));
    }
    if (!detail::xml_element(response.body, call.action + "Response")) {
      verdict = Verdict::give_up;
      detail::cleanse(response.body);
      throw Error(ErrorKind::bad_document, std::string(sts_source),
                  what + ": the response (HTTP 200) is not a complete <" + call.action +
                      "Response> document");
    }
    return std::move(response.body);
  };
  auto retryable = [&](const Error& e) {
    if (verdict != Verdict::unset) return verdict == Verdict::retry;
    return e.kind() == ErrorKind::timeout || e.kind() == ErrorKind::transport;
  };
  const detail::WipeOnExit wipe{body};
  return with_retries(options_.retry, attempt, retryable);
}

MSKIAM_END_NAMESPACE
#endif  // MSKIAM_DEFINITIONS
