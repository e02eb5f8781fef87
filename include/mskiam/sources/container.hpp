// ContainerCredentials: the container credential endpoint of ECS task roles and EKS Pod Identity
// (credentials.md §2.7, sample documents §6.6).
//
//   AWS_CONTAINER_CREDENTIALS_RELATIVE_URI  wins: http://169.254.170.2 + the value (leading '/')
//   AWS_CONTAINER_CREDENTIALS_FULL_URI      otherwise, as given; over plain http only to a host of
//                                           the allowed list below (https: any host)
//   AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE  re-read at every fetch, wins over the variable
//   AWS_CONTAINER_AUTHORIZATION_TOKEN       sent verbatim as `Authorization`
//
// The allowed hosts for http are IP literals compared as addresses (no name resolution, so DNS
// cannot redirect the request): 127.0.0.0/8, ::1, 169.254.170.2 (ECS), 169.254.170.23 and
// fd00:ec2::23 (EKS Pod Identity agent), plus the name `localhost` as botocore and the JS SDK
// allow it (libcurl >= 7.78 answers `localhost` with loopback addresses without asking DNS).
//
// Note for EKS Pod Identity: the agent picks a new role session name at every renewal, so the
// principal of these credentials changes (credentials.md §5.1). Chain AssumeRole with a fixed
// session name on top of this source when the principal must stay stable.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "mskiam/credentials.hpp"
#include "mskiam/error.hpp"
#include "mskiam/http.hpp"

MSKIAM_BEGIN_NAMESPACE

inline constexpr std::string_view container_relative_uri_env = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
inline constexpr std::string_view container_full_uri_env = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
inline constexpr std::string_view container_authorization_token_env =
    "AWS_CONTAINER_AUTHORIZATION_TOKEN";
inline constexpr std::string_view container_authorization_token_file_env =
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";
// The ECS agent's endpoint, prefix of a relative URI.
inline constexpr std::string_view container_ecs_endpoint = "http://169.254.170.2";
// A credential document is ~2 KiB; the service-account token of Pod Identity ~1-2 KiB.
inline constexpr std::size_t container_max_response_bytes = 64 * 1024;
inline constexpr std::size_t container_max_token_file_bytes = 64 * 1024;

class ContainerCredentials {
 public:
  static constexpr std::string_view source = "container";

  struct Options {
    std::string full_uri;      // used when relative_uri is empty
    std::string relative_uri;  // wins: http://169.254.170.2 + relative_uri
    Secret authorization_token;
    std::string authorization_token_file;  // wins over authorization_token; read at every fetch
    HttpTransport transport = curl_transport;
    std::chrono::milliseconds connect_timeout{1000}, timeout{2000};
    RetryPolicy retry;  // for timeouts and HTTP 5xx only
  };

  // Validates the URI (scheme, allowed host) and the fixed token here: a bad configuration fails
  // when the source is built, not an hour later. Throws not_configured when both URIs are empty.
  explicit ContainerCredentials(Options options);

  // From the AWS_CONTAINER_* variables; not_configured when neither URI variable is set.
  static ContainerCredentials from_environment(HttpTransport transport = curl_transport);

  Credentials fetch();
  std::string_view name() const noexcept { return source; }
  const std::string& url() const noexcept { return url_; }

 private:
  Secret authorization() const;

  Options options_;
  std::string url_;
};

MSKIAM_END_NAMESPACE

#if MSKIAM_DEFINITIONS
#include <arpa/inet.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <utility>

#include "mskiam/detail/credential_document.hpp"
#include "mskiam/detail/environment.hpp"
#include "mskiam/detail/json.hpp"
#include "mskiam/detail/small_file.hpp"
#include "mskiam/detail/text.hpp"
#include "mskiam/detail/url.hpp"
#include "mskiam/policy.hpp"

MSKIAM_BEGIN_NAMESPACE

namespace detail {

// Strict dotted quad: four decimal octets 0-255 without leading zeros (`0177.0.0.1` is octal to
// some resolvers, so it is refused rather than guessed).
MSKIAM_INLINE std::optional<std::uint32_t> parse_ipv4(std::string_view s) {
  std::uint32_t address = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (s.empty() || s.front() != '.') return std::nullopt;
      s.remove_prefix(1);
    }
    std::size_t n = 0;
    unsigned octet = 0;
    while (n < s.size() && n < 4 && s[n] >= '0' && s[n] <= '9')
      octet = octet * 10 + static_cast<unsigned>(s[n++] - '0');
    if (n == 0 || n > 3 || octet > 255 || (n > 1 && s[0] == '0')) return std::nullopt;
    s.remove_prefix(n);
    address = (address << 8) | octet;
  }
  if (!s.empty()) return std::nullopt;
  return address;
}

MSKIAM_INLINE bool is_allowed_container_host(const UrlParts& url) {
  if (url.ipv6_literal) {
    if (url.host.find('%') != std::string::npos) return false;  // zone ids
    unsigned char a[16];
    if (inet_pton(AF_INET6, url.host.c_str(), a) != 1) return false;
    static constexpr unsigned char loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static constexpr unsigned char eks[16] = {0xfd, 0, 0x0e, 0xc2, 0, 0, 0, 0,
                                              0,    0, 0,    0,    0, 0, 0, 0x23};
    return std::memcmp(a, loopback, 16) == 0 || std::memcmp(a, eks, 16) == 0;
  }
  if (ascii_lower(url.host) == "localhost") return true;
  const auto v4 = parse_ipv4(url.host);
  if (!v4) return false;
  return (*v4 >> 24) == 127 || *v4 == 0xA9FEAA02u /* 169.254.170.2 */ ||
         *v4 == 0xA9FEAA17u /* 169.254.170.23 */;
}

MSKIAM_INLINE bool has_cr_or_lf(std::string_view s) noexcept {
  return s.find_first_of("\r\n") != std::string_view::npos;
}

// "HTTP 404 (Code \"X\")": the container endpoint's JSON error `Code` (or Go's lower-case
// `code`) when it is a plain identifier; the body is never quoted otherwise.
MSKIAM_INLINE std::string describe_error_body(std::string_view body) {
  try {
    const json::Value doc = json::parse(body, "", json::Limits{container_max_response_bytes, 4});
    const json::Value* code = doc.find("Code");
    if (code == nullptr) code = doc.find("code");
    if (code != nullptr && code->is_string() && is_printable_code(code->text()))
      return " (Code \"" + code->text() + "\")";
  } catch (const Error&) {
  }
  return {};
}

}  // namespace detail

MSKIAM_INLINE ContainerCredentials::ContainerCredentials(Options options)
    : options_(std::move(options)) {
  const std::string src(source);
  if (!options_.relative_uri.empty()) {
    // C++ SDK rule: the relative URI is a path; anything else could change the host.
    if (options_.relative_uri.front() != '/')
      throw Error(ErrorKind::invalid_argument, src,
                  std::string(container_relative_uri_env) + " must start with '/'");
    url_ = std::string(container_ecs_endpoint) + options_.relative_uri;
  } else if (!options_.full_uri.empty()) {
    url_ = options_.full_uri;
  } else {
    throw Error(ErrorKind::not_configured, src,
                std::string(container_relative_uri_env) + " and " +
                    std::string(container_full_uri_env) + " are not set");
  }
  if (detail::has_cr_or_lf(url_) || url_.find_first_of(" \t") != std::string::npos)
    throw Error(ErrorKind::invalid_argument, src, "the container credentials URI contains whitespace");
  const auto parts = detail::split_url(url_);
  if (!parts)
    throw Error(ErrorKind::invalid_argument, src,
                "the container credentials URI " + url_ + " is not an http or https URL");
  if (parts->scheme == "http") {
    if (!detail::is_allowed_container_host(*parts))
      throw Error(ErrorKind::invalid_argument, src,
                  "host \"" + parts->host +
                      "\" is not allowed for a plain http container credentials URI: use https, or "
                      "a loopback address, 169.254.170.2, 169.254.170.23 or fd00:ec2::23");
  } else if (parts->scheme != "https") {
    throw Error(ErrorKind::invalid_argument, src,
                "the container credentials URI must use http or https, not \"" + parts->scheme + "\"");
  }
  if (options_.authorization_token_file.empty() &&
      detail::has_cr_or_lf(options_.authorization_token.reveal()))
    throw Error(ErrorKind::invalid_argument, src,
                std::string(container_authorization_token_env) + " contains a CR or LF character");
}

MSKIAM_INLINE ContainerCredentials ContainerCredentials::from_environment(HttpTransport transport) {
  Options o;
  if (auto v = detail::getenv_nonempty(container_relative_uri_env)) o.relative_uri = std::move(*v);
  if (auto v = detail::getenv_nonempty(container_full_uri_env)) o.full_uri = std::move(*v);
  if (auto v = detail::getenv_nonempty(container_authorization_token_file_env))
    o.authorization_token_file = std::move(*v);
  if (auto v = detail::getenv_nonempty(container_authorization_token_env))
    o.authorization_token = std::move(*v);
  o.transport = std::move(transport);
  return ContainerCredentials(std::move(o));
}

MSKIAM_INLINE Secret ContainerCredentials::authorization() const {
  if (options_.authorization_token_file.empty()) return options_.authorization_token;
  const std::string& path = options_.authorization_token_file;
  detail::SmallFile file = *detail::read_small_file(path, container_max_token_file_bytes, source,
                                                    container_authorization_token_file_env);
  if (file.larger)
    throw Error(ErrorKind::io, std::string(source),
                std::string(container_authorization_token_file_env) + " " + path +
                    " is larger than " + std::to_string(container_max_token_file_bytes) + " bytes");
  Secret token(std::move(file.content));
  if (token.empty())
    throw Error(ErrorKind::invalid_argument, std::string(source),
                std::string(container_authorization_token_file_env) + " " + path + " is empty");
  if (detail::has_cr_or_lf(token.reveal()))
    throw Error(ErrorKind::invalid_argument, std::string(source),
                std::string(container_authorization_token_file_env) + " " + path +
                    " contains a CR or LF character (a trailing newline counts)");
  return token;
}

MSKIAM_INLINE Credentials ContainerCredentials::fetch() {
  const std::string src(source);
  // Re-read at every fetch: Kubernetes rotates the projected service-account token.
  const Secret token = authorization();

  HttpRequest request;
  request.source = src;
  request.method = "GET";
  request.url = url_;
  request.headers.emplace_back("Accept", "application/json");
  if (!token.empty()) request.headers.emplace_back("Authorization", token.reveal());
  request.connect_timeout = options_.connect_timeout;
  request.timeout = options_.timeout;
  request.max_response_bytes = container_max_response_bytes;
  const detail::WipeOnExit wipe_headers{request.headers};  // the token, in Authorization

  const HttpResponse response = send_retrying_5xx(options_.transport, request, options_.retry,
                                                  true, detail::describe_error_body);
  if (response.status != 200) {
    std::string why = "GET " + url_ + " answered HTTP " + std::to_string(response.status) +
                      detail::describe_error_body(response.body);
    if (response.status == 401 || response.status == 403)
      why += token.empty() ? ": the endpoint wants an authorization token (" +
                                 std::string(container_authorization_token_file_env) + " or " +
                                 std::string(container_authorization_token_env) + ")"
                           : ": the authorization token was refused";
    throw Error(ErrorKind::http_status, src, why, std::to_string(response.status));
  }
  return detail::parse_credential_document(response.body, source, detail::DocumentKind::container);
}

MSKIAM_END_NAMESPACE
#endif  // MSKIAM_DEFINITIONS
