// WebIdentity: AssumeRoleWithWebIdentity with a token read from a file, the IRSA case on EKS
// (AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN) and any OIDC federation that drops a token file.
//
// The token file is read again at every fetch: kubelet rotates the projected token (about every
// hour, and before 80% of its life), so a token read once would eventually be refused. The role
// session name, on the other hand, is chosen once when the source is built and sent unchanged at
// every fetch: it is the end of the principal, and a principal that changes at a refresh makes
// MSK refuse the next re-authentication.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "mskiam/credentials.hpp"
#include "mskiam/error.hpp"
#include "mskiam/policy.hpp"
#include "mskiam/sts.hpp"

MSKIAM_BEGIN_NAMESPACE

inline constexpr std::string_view web_identity_token_file_env = "AWS_WEB_IDENTITY_TOKEN_FILE";
inline constexpr std::string_view role_arn_env = "AWS_ROLE_ARN";
// More than STS accepts (20000), so that an oversized token is reported with its size.
inline constexpr std::size_t max_web_identity_token_file = 64 * 1024;

class WebIdentity {
 public:
  static constexpr std::string_view source = "web_identity";

  struct Options {
    std::string role_arn;
    std::string token_file;
    // Fixed > AWS_ROLE_SESSION_NAME > the host-derived default (policy.hpp).
    SessionName session_name;
    std::chrono::seconds duration{3600};
    StsOptions sts;  // region empty: AWS_REGION, AWS_DEFAULT_REGION, else us-east-1
  };

  // Checks the role ARN, duration and session name, and resolves the session name (once).
  // Throws invalid_argument before any call is made.
  explicit WebIdentity(Options options);

  // From AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN and AWS_ROLE_SESSION_NAME. Throws
  // not_configured when AWS_WEB_IDENTITY_TOKEN_FILE is unset, invalid_argument when it is set
  // without AWS_ROLE_ARN.
  static WebIdentity from_environment(SessionName session_name = {}, StsOptions sts = {});

  // Reads the token file, then AssumeRoleWithWebIdentity. Errors name the token file or the
  // role, never the token.
  Credentials fetch();

  std::string_view name() const noexcept { return source; }
  const std::string& session_name() const noexcept { return session_name_; }
  const std::string& role_arn() const noexcept { return options_.role_arn; }
  const std::string& token_file() const noexcept { return options_.token_file; }
  const StsClient& sts() const noexcept { return sts_; }

 private:
  Secret read_token() const;

  Options options_;
  std::string session_name_;
  StsClient sts_;
};

MSKIAM_END_NAMESPACE

#if MSKIAM_DEFINITIONS
#include <utility>

#include "mskiam/detail/environment.hpp"
#include "mskiam/detail/small_file.hpp"
#include "mskiam/detail/text.hpp"
#include "mskiam/detail/wipe.hpp"
#include "mskiam/detail/xml.hpp"

MSKIAM_BEGIN_NAMESPACE

MSKIAM_INLINE WebIdentity::WebIdentity(Options options)
    : options_(std::move(options)),
      session_name_(options_.session_name.resolve(detail::getenv_nonempty(role_session_name_env), source)),
      sts_(options_.sts) {
  validate_role_arn(options_.role_arn, source);
  validate_duration(options_.duration, source);
  if (options_.token_file.empty())
    throw Error(ErrorKind::invalid_argument, std::string(source), "the web identity token file path is empty");
}

MSKIAM_INLINE WebIdentity WebIdentity::from_environment(SessionName session_name, StsOptions sts) {
  const auto token_file = detail::getenv_nonempty(web_identity_token_file_env);
  const auto role_arn = detail::getenv_nonempty(role_arn_env);
  if (!token_file)
    throw Error(ErrorKind::not_configured, std::string(source),
                role_arn ? "AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE is not"
                         : "AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN are not set");
  if (!role_arn)
    throw Error(ErrorKind::invalid_argument, std::string(source),
                "AWS_WEB_IDENTITY_TOKEN_FILE is set (" + *token_file + ") but AWS_ROLE_ARN is not");
  Options o;
  o.role_arn = *role_arn;
  o.token_file = *token_file;
  o.session_name = std::move(session_name);
  o.sts = std::move(sts);
  return WebIdentity(std::move(o));
}

MSKIAM_INLINE Secret WebIdentity::read_token() const {
  const std::string& path = options_.token_file;
  detail::SmallFile file =
      *detail::read_small_file(path, max_web_identity_token_file, source, "the web identity token file");
  const detail::WipeOnExit wipe{file.content};
  const std::string_view token = detail::trim(file.content);
  if (token.empty())
    throw Error(ErrorKind::invalid_argument, std::string(source),
                "the web identity token file " + path + " is empty");
  if (token.size() > max_web_identity_token || file.larger)
    throw Error(ErrorKind::invalid_argument, std::string(source),
                "the web identity token in " + path + " is " +
                    (file.larger ? "more than " + std::to_string(max_web_identity_token_file)
                                 : std::to_string(token.size())) +
                    " bytes; STS accepts at most " + std::to_string(max_web_identity_token));
  return Secret(std::string(token));
}

MSKIAM_INLINE Credentials WebIdentity::fetch() {
  WebIdentityRequest request;
  request.role_arn = options_.role_arn;
  request.session_name = session_name_;
  request.duration = options_.duration;
  request.web_identity_token = read_token();
  try {
    Credentials c = sts_.assume_role_with_web_identity(request);
    c.source = std::string(source);
    return c;
  } catch (const Error& e) {
    // The STS error keeps its kind and code; the message adds the token file (where the
    // identity came from), the role and the session name.
    throw Error(e.kind(), std::string(source),
                "token file " + options_.token_file + ", session " + session_name_ + ": " + e.what(),
                e.code());
  }
}

MSKIAM_END_NAMESPACE
#endif  // MSKIAM_DEFINITIONS
