// AssumeRole<Source>: STS AssumeRole signed with the credentials of another source, under a
// role session name chosen once. This is how a principal is pinned when the source below cannot
// pin it: EKS Pod Identity names every session `eks-<cluster>-<pod>-<random UUID>` server side,
// so every renewal of its credentials is a new principal, and MSK refuses a re-authentication
// under a new principal. Chaining into a dedicated MSK role with a fixed session name gives one
// principal for the life of the process:
//
//   AssumeRole<ContainerCredentials>::Options o;
//   o.role_arn = "arn:aws:iam::123456789012:role/MskClient";
//   o.session_name = SessionName::fixed("orders-consumer");
//   TokenProvider p{AssumeRole{ContainerCredentials::from_environment(), o}, token_options};
//
// The target role's trust policy must allow `sts:AssumeRole` for the base role's ARN. STS caps
// role chaining (AssumeRole signed with credentials that are themselves an assumed role, as Pod
// Identity, ECS, IMDS and web identity credentials are) at one hour: a `duration` above 3600 s
// fails with ValidationError there. The default (3600 s) is always accepted.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>

#include "mskiam/credentials.hpp"
#include "mskiam/error.hpp"
#include "mskiam/policy.hpp"
#include "mskiam/sts.hpp"

MSKIAM_BEGIN_NAMESPACE

inline constexpr std::string_view assume_role_source = "assume_role";

namespace detail {
// The part of AssumeRole<Source> that does not depend on Source, compiled once.

// Checks the role ARN, duration and external id; returns the resolved session name.
MSKIAM_INLINE std::string prepare_assume_role(const std::string& role_arn,
                                              const SessionName& session_name,
                                              const std::string& external_id,
                                              std::chrono::seconds duration);
// The error of the base source, renamed to assume_role (kind and code kept).
[[noreturn]] MSKIAM_INLINE void throw_assume_role_base_error(const Error& e,
                                                             const std::string& role_arn,
                                                             const std::string& base_name);
// AssumeRole signed with `base`; errors name the session, the base key id and the base source.
MSKIAM_INLINE Credentials assume_role_with(StsClient& sts, const Credentials& base,
                                           const AssumeRoleRequest& request,
                                           const std::string& base_name);
}  // namespace detail

template <class Source>
class AssumeRole {
  static_assert(is_credential_source_v<Source>, "AssumeRole<Source>: Source needs Credentials fetch()");

 public:
  static constexpr std::string_view source = assume_role_source;

  struct Options {
    std::string role_arn;
    // Fixed > the host-derived default (policy.hpp). AWS_ROLE_SESSION_NAME is for web identity
    // only, as in every AWS SDK; a profile's role_session_name arrives here as fixed.
    SessionName session_name;
    std::string external_id;  // empty: none
    std::chrono::seconds duration{3600};  // 900..43200; at most 3600 when the base is a role
    StsOptions sts;           // region empty: AWS_REGION, AWS_DEFAULT_REGION, else us-east-1
  };

  // Checks the role ARN, duration, external id and session name, and resolves the session name
  // (once). Throws invalid_argument before any call is made.
  AssumeRole(Source base, Options options);

  // Base credentials from the wrapped source (fetched again every time: they may have been
  // renewed), then AssumeRole signed with them.
  Credentials fetch();

  std::string_view name() const noexcept { return source; }
  const std::string& session_name() const noexcept { return session_name_; }
  const std::string& role_arn() const noexcept { return options_.role_arn; }
  const Source& base() const noexcept { return base_; }
  const StsClient& sts() const noexcept { return sts_; }

 private:
  std::string base_name() const {
    if constexpr (detail::has_source_name<Source>::value)
      return std::string(base_.name());
    else
      return "the base source";
  }

  Source base_;
  Options options_;
  std::string session_name_;
  StsClient sts_;
};

template <class Source>
AssumeRole<Source>::AssumeRole(Source base, Options options)
    : base_(std::move(base)),
      options_(std::move(options)),
      session_name_(detail::prepare_assume_role(options_.role_arn, options_.session_name,
                                                options_.external_id, options_.duration)),
      sts_(options_.sts) {}

template <class Source>
Credentials AssumeRole<Source>::fetch() {
  Credentials base;
  try {
    base = base_.fetch();
  } catch (const Error& e) {
    detail::throw_assume_role_base_error(e, options_.role_arn, base_name());
  }
  AssumeRoleRequest request;
  request.role_arn = options_.role_arn;
  request.session_name = session_name_;
  request.external_id = options_.external_id;
  request.duration = options_.duration;
  return detail::assume_role_with(sts_, base, request, base_name());
}

MSKIAM_END_NAMESPACE

#if MSKIAM_DEFINITIONS
#include <optional>

MSKIAM_BEGIN_NAMESPACE
namespace detail {

MSKIAM_INLINE std::string prepare_assume_role(const std::string& role_arn,
                                              const SessionName& session_name,
                                              const std::string& external_id,
                                              std::chrono::seconds duration) {
  constexpr std::string_view source = assume_role_source;
  std::string resolved = session_name.resolve(std::nullopt, source);
  validate_role_arn(role_arn, source);
  validate_duration(duration, source);
  if (!external_id.empty()) validate_external_id(external_id, source);
  return resolved;
}

MSKIAM_INLINE void throw_assume_role_base_error(const Error& e, const std::string& role_arn,
                                                const std::string& base_name) {
  throw Error(e.kind(), std::string(assume_role_source),
              "base credentials for " + role_arn + " from " + base_name + ": " + e.what(), e.code());
}

MSKIAM_INLINE Credentials assume_role_with(StsClient& sts, const Credentials& base,
                                           const AssumeRoleRequest& request,
                                           const std::string& base_name) {
  const std::string source(assume_role_source);
  // Known to be a chained role session: say so before STS answers ValidationError.
  if (request.duration > sts_max_chained_duration &&
      base.principal.find(":assumed-role/") != std::string::npos)
    throw Error(ErrorKind::invalid_argument, source,
                "duration " + std::to_string(request.duration.count()) + " s for " +
                    request.role_arn + ": the base credentials are an assumed role (" +
                    base.principal + ") and STS caps role chaining at 3600 s");
  try {
    Credentials c = sts.assume_role(base, request);
    c.source = source;
    return c;
  } catch (const Error& e) {
    throw Error(e.kind(), source,
                "session " + request.session_name + ", signed by " + base.access_key_id + " from " +
                    base_name + ": " + e.what(),
                e.code());
  }
}

}  // namespace detail
MSKIAM_END_NAMESPACE
#endif  // MSKIAM_DEFINITIONS
