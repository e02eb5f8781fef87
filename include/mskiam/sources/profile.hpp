// ProfileCredentials: a profile of the shared files (~/.aws/config, ~/.aws/credentials) with
// everything it may name: static keys, AssumeRole over a source_profile chain or a
// credential_source, web identity, credential_process (rules: detail/profile_plan.hpp).
//
// The profile name and file paths are read from the environment when the source is constructed;
// the files are read and the chain of sources is built at the first fetch(), then reused at
// every refresh: the role session names are chosen once, so the principal never changes while
// the process lives. (If the first build fails, the next fetch() tries again.) To pick up an
// edited file, build a new ProfileCredentials.
//
// Errors name the profile: the files' own (not_configured for a profile in neither file, with
// the paths searched; bad_document with file:line; io), invalid_argument for an unusable profile,
// and those of the sources inside with their kind and code kept. Not thread-safe on its own:
// TokenProvider serializes fetch().
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "mskiam/credentials.hpp"
#include "mskiam/error.hpp"
#include "mskiam/http.hpp"
#include "mskiam/policy.hpp"
#include "mskiam/shared_files.hpp"
#include "mskiam/sources/any.hpp"
#include "mskiam/sts.hpp"

MSKIAM_BEGIN_NAMESPACE

class ProfileCredentials {
 public:
  static constexpr std::string_view source = "profile";

  struct Options {
    std::string profile;  // empty: AWS_PROFILE, AWS_DEFAULT_PROFILE, else `default`
    std::string config_file,
        credentials_file;  // empty: AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE / ~/.aws/...
    // Fixed: the session name of the profile's role (the end of the principal), over its
    // role_session_name. Automatic: role_session_name, else the host-derived default.
    SessionName session_name;
    StsOptions
        sts;  // region empty: AWS_REGION, AWS_DEFAULT_REGION, the profile's `region`, us-east-1
    HttpTransport transport = curl_transport;  // container and IMDS credential_source
  };

  // (Two constructors rather than `Options options = {}`: a nested struct with member
  // initializers cannot be a default argument inside its own class, CWG 1397.)
  ProfileCredentials();
  explicit ProfileCredentials(Options options);

  // Reads the files and builds the profile's chain of sources at the first call, then fetches
  // through it.
  Credentials fetch();

  std::string_view name() const noexcept { return source; }

  // The profile this source reads, and what chose it (`options`, `AWS_PROFILE`,
  // `AWS_DEFAULT_PROFILE` or `default`).
  const std::string& profile_name() const noexcept { return profile_name_; }
  const std::string& profile_origin() const noexcept { return profile_origin_; }
  // "assume_role <arn> (profile a) <- static keys (profile b)" once built, else empty.
  const std::string& description() const noexcept { return description_; }

 private:
  // Reads the shared files and builds graph_ (the profile's chain of sources).
  void build();
  // Errors of the sources inside keep their kind and code, gain the profile's name. A source
  // that reports not_configured here was named by the profile (credential_source Environment
  // without the variables): for this profile that is a configuration error, not "nothing here".
  Error wrap(const Error& e, const std::string& part) const;

  Options options_;
  std::string profile_name_;
  std::string profile_origin_;  // what chose the profile (profile_origin())
  std::string config_path_;
  std::string credentials_path_;
  std::optional<AnySource> graph_;
  std::string description_;
};

MSKIAM_END_NAMESPACE

#if MSKIAM_DEFINITIONS
#include <utility>

#include "mskiam/detail/environment.hpp"
#include "mskiam/detail/ini.hpp"
#include "mskiam/detail/profile_plan.hpp"
#include "mskiam/sources/assume_role.hpp"
#include "mskiam/sources/container.hpp"
#include "mskiam/sources/environment.hpp"
#include "mskiam/sources/imds.hpp"
#include "mskiam/sources/process.hpp"
#include "mskiam/sources/static.hpp"
#include "mskiam/sources/web_identity.hpp"

MSKIAM_BEGIN_NAMESPACE

MSKIAM_INLINE ProfileCredentials::ProfileCredentials() : ProfileCredentials(Options()) {}

MSKIAM_INLINE ProfileCredentials::ProfileCredentials(Options options)
    : options_(std::move(options)),
      config_path_(detail::resolve_shared_path(options_.config_file, config_file_env,
                                               default_config_path)),
      credentials_path_(detail::resolve_shared_path(
          options_.credentials_file, shared_credentials_file_env, default_credentials_path)) {
  detail::ProfileName name = detail::resolve_profile_name(options_.profile);
  profile_name_ = std::move(name.name);
  profile_origin_ = std::move(name.origin);
}

MSKIAM_INLINE Credentials ProfileCredentials::fetch() {
  if (!graph_) build();
  try {
    Credentials c = graph_->fetch();
    c.source = std::string(source);
    return c;
  } catch (const Error& e) {
    throw wrap(e, "");
  }
}

MSKIAM_INLINE void ProfileCredentials::build() {
  const detail::SharedFiles files = detail::load_shared_files(config_path_, credentials_path_);
  const detail::ProfilePlan plan = detail::plan_profile(files, profile_name_, options_.session_name);

  StsOptions sts = options_.sts;
  // botocore takes the region from the environment, then from the profile.
  if (sts.region.empty() && !region_from_environment(source) && !plan.region.empty()) {
    validate_region(plan.region, source, "profile \"" + plan.profile + "\" region");
    sts.region = plan.region;
  }

  const std::string base_text =
      std::string(detail::to_string(plan.base)) + " (profile " + plan.base_profile + ")";
  AnySource graph = [&]() -> AnySource {
    try {
      switch (plan.base) {
        case detail::ProfileBase::static_keys:
          return StaticCredentials(plan.static_credentials);
        case detail::ProfileBase::environment:
          return EnvironmentCredentials{};
        case detail::ProfileBase::imds:
          return InstanceMetadata::from_environment(options_.transport);
        case detail::ProfileBase::container:
          return ContainerCredentials::from_environment(options_.transport);
        case detail::ProfileBase::process: {
          ProcessCredentials::Options o;
          o.command = plan.process_command;
          return ProcessCredentials(std::move(o));
        }
        case detail::ProfileBase::web_identity: {
          WebIdentity::Options o;
          o.role_arn = plan.web_identity.role_arn;
          o.token_file = plan.web_identity_token_file;
          o.session_name = SessionName::fixed(plan.web_identity.session_name);
          o.duration = plan.web_identity.duration;
          o.sts = sts;
          return WebIdentity(std::move(o));
        }
      }
    } catch (const Error& e) {
      throw wrap(e, base_text);
    }
    throw Error(ErrorKind::internal, std::string(source), "unknown profile base");
  }();

  for (auto step = plan.roles.rbegin(); step != plan.roles.rend(); ++step) {
    AssumeRole<AnySource>::Options o;
    o.role_arn = step->role_arn;
    o.session_name = SessionName::fixed(step->session_name);
    o.external_id = step->external_id;
    o.duration = step->duration;
    o.sts = sts;
    graph = AssumeRole<AnySource>(std::move(graph), std::move(o));
  }
  graph_ = std::move(graph);
  description_ = plan.describe();
}

MSKIAM_INLINE Error ProfileCredentials::wrap(const Error& e, const std::string& part) const {
  if (e.source() == source) return e;
  const ErrorKind kind =
      e.kind() == ErrorKind::not_configured ? ErrorKind::invalid_argument : e.kind();
  std::string text = "profile \"" + profile_name_ + "\"";
  if (!part.empty()) text += " " + part;
  text += ": ";
  text += e.what();
  return Error(kind, std::string(source), text, e.code());
}

MSKIAM_END_NAMESPACE
#endif  // MSKIAM_DEFINITIONS
