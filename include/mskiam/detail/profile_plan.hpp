// What a profile of the shared files means, decided once: which profile, which files, and the
// chain of sources it describes (static keys, credential_source, process, web identity, then
// zero or more AssumeRole steps with their session names resolved). ProfileCredentials turns a
// plan into sources; keeping the decision separate makes every rule testable without a network.
//
// Rules (credentials.md §2.2-§2.4; botocore credentials.py, JS credential-provider-ini):
// - profile: explicit > AWS_PROFILE > AWS_DEFAULT_PROFILE > `default`. AWS_PROFILE first as in
//   Go v2 and JS (the SDK guide documents AWS_PROFILE; botocore and the C++ SDK check the
//   legacy AWS_DEFAULT_PROFILE first).
// - files: AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/config and
//   ~/.aws/credentials; a leading `~/` is expanded with HOME.
// - the requested profile: `role_arn` + `web_identity_token_file` is web identity; `role_arn`
//   is AssumeRole over exactly one of `source_profile` / `credential_source`; then static keys;
//   then `credential_process`.
// - a source profile with static keys ends the chain even if it has a role_arn; a profile may
//   name itself as source_profile to use its own keys; any other cycle is an error that lists it.
// - session names: the application's fixed name (outermost role only: that is the principal) >
//   `role_session_name` > the host-derived default; resolved here, once.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mskiam/credentials.hpp"
#include "mskiam/detail/environment.hpp"
#include "mskiam/detail/ini.hpp"
#include "mskiam/detail/text.hpp"
#include "mskiam/error.hpp"
#include "mskiam/policy.hpp"
#include "mskiam/shared_files.hpp"
#include "mskiam/validation.hpp"

MSKIAM_BEGIN_NAMESPACE

namespace detail {

enum class ProfileBase { static_keys, environment, imds, container, process, web_identity };

inline std::string_view to_string(ProfileBase b) noexcept {
  switch (b) {
    case ProfileBase::static_keys:
      return "static keys";
    case ProfileBase::environment:
      return "credential_source Environment";
    case ProfileBase::imds:
      return "credential_source Ec2InstanceMetadata";
    case ProfileBase::container:
      return "credential_source EcsContainer";
    case ProfileBase::process:
      return "credential_process";
    case ProfileBase::web_identity:
      return "web identity";
  }
  return "unknown";
}

struct ProfileRoleStep {
  std::string profile;  // the profile that says role_arn
  std::string role_arn;
  std::string session_name;  // resolved once
  std::string external_id;
  std::chrono::seconds duration{3600};
};

struct ProfilePlan {
  std::string profile;  // the requested profile
  std::string region;   // its `region`, empty when none

  ProfileBase base = ProfileBase::static_keys;
  std::string base_profile;        // the profile that supplies the base credentials
  Credentials static_credentials;  // static_keys
  std::string process_command;     // process
  ProfileRoleStep web_identity;    // web_identity: role_arn, session_name, duration
  std::string web_identity_token_file;

  std::vector<ProfileRoleStep> roles;  // outermost (the requested profile) first

  // "assume_role arn:...:role/A (profile a) <- static keys (profile b)": for logs and errors.
  std::string describe() const {
    std::string text;
    for (const auto& r : roles)
      text += "assume_role " + r.role_arn + " (profile " + r.profile + ") <- ";
    text += std::string(to_string(base));
    if (base == ProfileBase::web_identity) text += " " + web_identity.role_arn;
    text += " (profile " + base_profile + ")";
    return text;
  }
};

// Where the profile name came from, for messages: `AWS_PROFILE`, `options`...
struct ProfileName {
  std::string name;
  std::string origin;
};

inline ProfileName resolve_profile_name(const std::string& explicit_name) {
  if (!explicit_name.empty()) return {explicit_name, "options"};
  if (auto v = getenv_nonempty(profile_env)) return {*v, std::string(profile_env)};
  if (auto v = getenv_nonempty(default_profile_env)) return {*v, std::string(default_profile_env)};
  return {std::string(default_profile_name), "default"};
}

// `~` and `~/...` with HOME; anything else as given. Without HOME the path stays as it is and
// simply is not found, which the "not found" message shows.
inline std::string expand_home(const std::string& path) {
  if (path == "~" || path.compare(0, 2, "~/") == 0) {
    if (auto home = getenv_nonempty("HOME")) {
      std::string h = *home;
      if (h.size() > 1 && h.back() == '/') h.pop_back();
      return h + path.substr(1);
    }
  }
  return path;
}

inline std::string resolve_shared_path(const std::string& explicit_path, std::string_view env,
                                       std::string_view fallback) {
  if (!explicit_path.empty()) return expand_home(explicit_path);
  if (auto v = getenv_nonempty(env)) return expand_home(*v);
  return expand_home(std::string(fallback));
}

inline SharedFiles load_shared_files(const std::string& config_path,
                                     const std::string& credentials_path) {
  SharedFiles files;
  files.config = read_ini_file(config_path, IniFlavor::config);
  files.credentials = read_ini_file(credentials_path, IniFlavor::credentials);
  return files;
}

// The requested profile exists but names no credentials at all (only `region`, say). For
// ProfileCredentials that is invalid_argument; DefaultChain catches this type and moves on, as
// the SDKs' chains do.
class ProfileWithoutCredentials : public Error {
 public:
  using Error::Error;
};

[[noreturn]] inline void profile_fail(ErrorKind kind, const std::string& profile,
                                      const std::string& what) {
  throw Error(kind, std::string(shared_file_source), "profile \"" + profile + "\": " + what);
}

inline std::chrono::seconds parse_duration_seconds(const std::string& profile,
                                                   const std::string& text) {
  // STS's bounds (validation.hpp), checked here so that a typo fails with the profile's name.
  const long value = parse_decimal(text, 6).value_or(0);
  if (value < sts_min_duration.count() || value > sts_max_duration.count())
    profile_fail(ErrorKind::invalid_argument, profile,
                 "duration_seconds \"" + text + "\" is not a number of seconds between " +
                     std::to_string(sts_min_duration.count()) + " and " +
                     std::to_string(sts_max_duration.count()));
  return std::chrono::seconds(value);
}

// The session name of one role step: the application's fixed name applies to the outermost step
// (its session name is the end of the principal), role_session_name to its own profile.
inline std::string profile_session_name(const IniProfile& p, const std::string& profile,
                                        const SessionName& fixed, bool outermost) {
  if (outermost && fixed.is_fixed()) return fixed.resolve(std::nullopt, shared_file_source);
  std::optional<std::string> configured;
  if (const auto* v = p.get("role_session_name")) {
    try {
      validate_session_name(*v, shared_file_source);
    } catch (const Error& e) {
      profile_fail(ErrorKind::invalid_argument, profile, "role_session_name: " + e.message());
    }
    configured = *v;
  }
  return SessionName{}.resolve(configured, shared_file_source);
}

inline bool has_any_static_key(const IniProfile& p) {
  return p.get("aws_access_key_id") || p.get("aws_secret_access_key");
}

inline Credentials profile_static_credentials(const IniProfile& p, const std::string& profile) {
  const auto* key = p.get("aws_access_key_id");
  const auto* secret = p.get("aws_secret_access_key");
  if (!key)
    profile_fail(ErrorKind::invalid_argument, profile,
                 "aws_secret_access_key is set but aws_access_key_id is not");
  if (!secret)
    profile_fail(ErrorKind::invalid_argument, profile,
                 "aws_access_key_id is set but aws_secret_access_key is not");
  Credentials c;
  c.access_key_id = *key;
  c.secret_access_key = *secret;
  // botocore also reads the legacy aws_security_token.
  if (const auto* token = p.get("aws_session_token"))
    c.session_token = *token;
  else if (const auto* legacy = p.get("aws_security_token"))
    c.session_token = *legacy;
  c.source = std::string(shared_file_source);
  return c;
}

inline ProfileRoleStep profile_role_step(const IniProfile& p, const std::string& profile,
                                         const SessionName& fixed, bool outermost) {
  ProfileRoleStep step;
  step.profile = profile;
  step.role_arn = *p.get("role_arn");
  if (p.get("mfa_serial"))
    profile_fail(ErrorKind::invalid_argument, profile,
                 "mfa_serial is set: MFA token prompts are not supported; assume the role with a "
                 "credential_process or configure a role without MFA");
  if (const auto* id = p.get("external_id")) step.external_id = *id;
  if (const auto* d = p.get("duration_seconds"))
    step.duration = parse_duration_seconds(profile, *d);
  step.session_name = profile_session_name(p, profile, fixed, outermost);
  return step;
}

inline std::string chain_text(const std::vector<std::string>& chain, const std::string& last) {
  std::string text;
  for (const auto& name : chain) text += name + " -> ";
  return text + last;
}

// Throws not_configured when `name` is in neither file, invalid_argument for a profile that is
// there but unusable or inconsistent.
// The steps of plan_profile: each profile of the chain either ends it (sets the base) or names
// the next one.

inline void set_static_base(ProfilePlan& plan, const IniProfile& p, const std::string& profile) {
  plan.base = ProfileBase::static_keys;
  plan.base_profile = profile;
  plan.static_credentials = profile_static_credentials(p, profile);
}

inline void set_web_identity_base(ProfilePlan& plan, const IniProfile& p, const std::string& profile,
                                  const SessionName& session_name, bool top) {
  plan.base = ProfileBase::web_identity;
  plan.base_profile = profile;
  plan.web_identity.profile = profile;
  plan.web_identity.role_arn = *p.get("role_arn");
  plan.web_identity.session_name = profile_session_name(p, profile, session_name, top);
  if (const auto* d = p.get("duration_seconds"))
    plan.web_identity.duration = parse_duration_seconds(profile, *d);
  plan.web_identity_token_file = expand_home(*p.get("web_identity_token_file"));
}

// A profile without role_arn: static keys, else credential_process, else an error that says what
// is missing.
inline void set_plain_base(ProfilePlan& plan, const SharedFiles& files, const IniProfile& p,
                           const std::vector<std::string>& chain) {
  const std::string& current = chain.back();
  if (has_any_static_key(p)) return set_static_base(plan, p, current);
  if (p.get("web_identity_token_file"))
    profile_fail(ErrorKind::invalid_argument, current, "web_identity_token_file needs role_arn");
  if (const auto* command = p.get("credential_process")) {
    plan.base = ProfileBase::process;
    plan.base_profile = current;
    plan.process_command = *command;
    return;
  }
  if (p.get("sso_session") || p.get("sso_start_url"))
    profile_fail(ErrorKind::invalid_argument, current,
                 "SSO profiles are not supported; use credential_process (for example "
                 "`aws configure export-credentials --format process`)");
  const std::string nothing =
      "has no credentials: none of aws_access_key_id, role_arn, web_identity_token_file, "
      "credential_process";
  if (chain.size() == 1)  // a profile that only sets `region` is common: the default chain moves on
    throw ProfileWithoutCredentials(
        ErrorKind::invalid_argument, std::string(shared_file_source),
        "profile \"" + current + "\" in " + files.searched() + " " + nothing);
  profile_fail(ErrorKind::invalid_argument, current,
               "(source_profile of \"" + chain.front() + "\") " + nothing);
}

// A role profile names exactly one of source_profile and credential_source.
inline void check_role_source(const IniProfile& p, const std::vector<std::string>& chain) {
  const std::string& current = chain.back();
  const bool source_profile = p.get("source_profile") != nullptr;
  const bool credential_source = p.get("credential_source") != nullptr;
  if (source_profile && credential_source)
    profile_fail(ErrorKind::invalid_argument, current,
                 "role_arn has both source_profile and credential_source; set only one");
  if (!source_profile && !credential_source)
    profile_fail(ErrorKind::invalid_argument, current,
                 "role_arn needs source_profile or credential_source");
  if (chain.size() > max_profile_chain)
    profile_fail(ErrorKind::invalid_argument, chain.front(),
                 "source_profile chain longer than " + std::to_string(max_profile_chain) + " profiles");
}

inline ProfileBase credential_source_base(const std::string& credential_source,
                                          const std::string& profile) {
  if (credential_source == "Environment") return ProfileBase::environment;
  if (credential_source == "Ec2InstanceMetadata") return ProfileBase::imds;
  if (credential_source == "EcsContainer") return ProfileBase::container;
  profile_fail(ErrorKind::invalid_argument, profile,
               "credential_source \"" + credential_source +
                   "\" is not one of Environment, Ec2InstanceMetadata, EcsContainer");
}

// The source_profile `next` of the last profile of `chain`: no cycle, and a profile that exists.
inline void check_source_profile(const SharedFiles& files, const std::vector<std::string>& chain,
                                 const std::string& next) {
  for (const auto& seen : chain)
    if (seen == next)
      profile_fail(ErrorKind::invalid_argument, chain.front(),
                   "source_profile cycle: " + chain_text(chain, next));
  if (!files.has_profile(next))
    profile_fail(ErrorKind::invalid_argument, chain.back(),
                 "source_profile \"" + next + "\" not found in " + files.searched() +
                     files.prefix_hint(next));
}

inline ProfilePlan plan_profile(const SharedFiles& files, const std::string& name,
                                const SessionName& session_name) {
  ProfilePlan plan;
  plan.profile = name;
  if (!files.has_profile(name))
    throw Error(
        ErrorKind::not_configured, std::string(shared_file_source),
        "profile \"" + name + "\" not found in " + files.searched() + files.prefix_hint(name));

  std::vector<std::string> chain{name};
  for (;;) {
    const std::string current = chain.back();
    const IniProfile p = *files.profile(current);
    const bool top = chain.size() == 1;
    if (top)
      if (const auto* region = p.get("region")) plan.region = *region;

    // A source profile with keys ends the chain, whatever else it says (botocore, JS).
    if (!top && has_any_static_key(p)) {
      set_static_base(plan, p, current);
      return plan;
    }
    if (!p.get("role_arn")) {
      set_plain_base(plan, files, p, chain);
      return plan;
    }
    if (p.get("web_identity_token_file")) {
      set_web_identity_base(plan, p, current, session_name, top);
      return plan;
    }

    check_role_source(p, chain);
    plan.roles.push_back(profile_role_step(p, current, session_name, top));
    if (const auto* credential_source = p.get("credential_source")) {
      plan.base = credential_source_base(*credential_source, current);
      plan.base_profile = current;
      return plan;
    }
    const std::string& next = *p.get("source_profile");
    if (next == current) {
      // A profile may name itself to assume the role with its own keys.
      if (!has_any_static_key(p))
        profile_fail(ErrorKind::invalid_argument, name,
                     "source_profile cycle: " + chain_text(chain, next) +
                         " (a profile may name itself only when it has static keys)");
      set_static_base(plan, p, current);
      return plan;
    }
    check_source_profile(files, chain, next);
    chain.push_back(next);
  }
}

}  // namespace detail
MSKIAM_END_NAMESPACE
