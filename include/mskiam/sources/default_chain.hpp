// DefaultChain: the sources an AWS SDK would try, in the documented order (credentials.md §1;
// C++ SDK DefaultAWSCredentialsProviderChain, aws-c-auth default chain), with the profile member
// also covering role, process and web-identity profiles (as Go v2, botocore and JS do):
//
//   1. environment   AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (skipped when Options.profile
//                    names a profile: botocore and Go v2 then go straight to the profile)
//   2. profile       the shared files (ProfileCredentials)
//   3. web_identity  AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN
//   4. container     if AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI is set, else
//      imds          EC2 instance metadata (unless AWS_EC2_METADATA_DISABLED=true)
//
// Choices, and why:
// - A member with nothing configured (not_configured, or a profile that only sets `region`) is
//   skipped. A member that is configured but fails stops the chain with its error, as botocore,
//   Go v2 and JS do: falling through to the next member would silently pick another identity
//   (a failing role profile on EC2 would become the instance role). Exceptions: a profile named
//   explicitly (Options.profile, AWS_PROFILE, AWS_DEFAULT_PROFILE) that does not exist stops the
//   chain (botocore ProfileNotFound, Go v2 SharedConfigProfileNotExistError); IMDS, the last
//   resort, is a probe and its failure (off EC2: a timeout) is just one more reason listed.
// - When nothing answers, ONE error lists every member and why it was skipped (aws-c-auth
//   reports only the last failure); its kind is not_configured if every member was.
// - The member that answered is remembered and asked alone at every later fetch (the C++ SDK
//   does the same), so a refresh never switches identity behind the application's back; its
//   errors are thrown as they are (TokenProvider keeps serving still-valid credentials). Only if
//   that member reports not_configured (its variables vanished) is the chain walked again.
// - Members are built once (the profile's role chain, web identity's session name) and reused.
// Not thread-safe on its own: TokenProvider serializes fetch().
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "mskiam/credentials.hpp"
#include "mskiam/error.hpp"
#include "mskiam/http.hpp"
#include "mskiam/policy.hpp"
#include "mskiam/sources/any.hpp"
#include "mskiam/sources/profile.hpp"
#include "mskiam/sources/web_identity.hpp"
#include "mskiam/sts.hpp"

MSKIAM_BEGIN_NAMESPACE

class DefaultChain {
 public:
  static constexpr std::string_view source = "default_chain";

  struct Options {
    SessionName session_name;  // for the STS members: profile roles and web identity
    StsOptions sts;
    HttpTransport transport = curl_transport;  // container and IMDS
    std::string profile;  // empty: AWS_PROFILE, AWS_DEFAULT_PROFILE, else `default`
  };

  // (Two constructors rather than `Options options = {}`: CWG 1397, see ProfileCredentials.)
  DefaultChain();
  explicit DefaultChain(Options options);
  // Copyable and movable as its members are; defined with the rest so that a unit using
  // DefaultChain does not compile the destruction of every member source.
  DefaultChain(const DefaultChain& other);
  DefaultChain(DefaultChain&& other) noexcept;
  DefaultChain& operator=(const DefaultChain& other);
  DefaultChain& operator=(DefaultChain&& other) noexcept;
  ~DefaultChain();

  // Credentials.source is the answering member: environment, profile, web_identity, container
  // or imds.
  Credentials fetch();

  std::string_view name() const noexcept { return source; }
  // The member that answered last: empty before the first success.
  const std::string& last_source() const noexcept { return last_source_; }

 private:
  enum class Member : int { environment, profile, web_identity, remote };
  static constexpr Member members[] = {Member::environment, Member::profile, Member::web_identity,
                                       Member::remote};

  static ProfileCredentials::Options profile_options(const Options& o);
  static bool container_configured();
  std::string member_name(Member m) const;
  // "imds: timeout: ..." — the member's name, then its error (which names its own source).
  std::string member_text(Member m, const Error& e) const;
  Credentials answer(Member m);
  std::string not_tried(std::size_t from) const;
  Credentials walk();

  Options options_;
  ProfileCredentials profile_;
  std::optional<WebIdentity> web_identity_;
  std::optional<AnySource> remote_;  // ContainerCredentials or InstanceMetadata, decided once
  std::optional<Member> pinned_;
  std::string last_source_;
};

MSKIAM_END_NAMESPACE

#if MSKIAM_DEFINITIONS
#include <iterator>
#include <type_traits>
#include <utility>

#include "mskiam/detail/environment.hpp"
#include "mskiam/detail/profile_plan.hpp"
#include "mskiam/sources/container.hpp"
#include "mskiam/sources/environment.hpp"
#include "mskiam/sources/imds.hpp"

MSKIAM_BEGIN_NAMESPACE

MSKIAM_INLINE DefaultChain::DefaultChain() : DefaultChain(Options()) {}

MSKIAM_INLINE DefaultChain::DefaultChain(Options options)
    : options_(std::move(options)), profile_(profile_options(options_)) {}

// The noexcept above is what the implicit moves would have: every member moves without throwing.
static_assert(std::is_nothrow_move_constructible_v<DefaultChain::Options> &&
                  std::is_nothrow_move_assignable_v<DefaultChain::Options> &&
                  std::is_nothrow_move_constructible_v<ProfileCredentials> &&
                  std::is_nothrow_move_assignable_v<ProfileCredentials> &&
                  std::is_nothrow_move_constructible_v<std::optional<WebIdentity>> &&
                  std::is_nothrow_move_assignable_v<std::optional<WebIdentity>> &&
                  std::is_nothrow_move_constructible_v<std::optional<AnySource>> &&
                  std::is_nothrow_move_assignable_v<std::optional<AnySource>>,
              "DefaultChain's moves are declared noexcept");

MSKIAM_INLINE DefaultChain::DefaultChain(const DefaultChain& other) = default;
MSKIAM_INLINE DefaultChain::DefaultChain(DefaultChain&& other) noexcept = default;
MSKIAM_INLINE DefaultChain& DefaultChain::operator=(const DefaultChain& other) = default;
MSKIAM_INLINE DefaultChain& DefaultChain::operator=(DefaultChain&& other) noexcept = default;
MSKIAM_INLINE DefaultChain::~DefaultChain() = default;

MSKIAM_INLINE Credentials DefaultChain::fetch() {
  if (pinned_) {
    try {
      return answer(*pinned_);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::not_configured) {
        if (e.source() == source) throw;
        throw Error(e.kind(), std::string(source),
                    member_text(*pinned_, e) +
                        " (the member that answered before; the chain "
                        "does not switch to another one)",
                    e.code());
      }
      pinned_.reset();  // its configuration is gone: look again
      last_source_.clear();
    }
  }
  return walk();
}

MSKIAM_INLINE ProfileCredentials::Options DefaultChain::profile_options(const Options& o) {
  ProfileCredentials::Options p;
  p.profile = o.profile;
  p.session_name = o.session_name;
  p.sts = o.sts;
  p.transport = o.transport;
  return p;
}

MSKIAM_INLINE bool DefaultChain::container_configured() {
  // The variables ContainerCredentials reads (container.hpp).
  return detail::getenv_nonempty(container_relative_uri_env) ||
         detail::getenv_nonempty(container_full_uri_env);
}

MSKIAM_INLINE std::string DefaultChain::member_name(Member m) const {
  switch (m) {
    case Member::environment:
      return std::string(EnvironmentCredentials::source);
    case Member::profile:
      return std::string(ProfileCredentials::source);
    case Member::web_identity:
      return std::string(WebIdentity::source);
    case Member::remote:
      if (remote_) return std::string(remote_->name());
      return std::string(container_configured() ? ContainerCredentials::source
                                                : InstanceMetadata::source);
  }
  return "unknown";
}

MSKIAM_INLINE std::string DefaultChain::member_text(Member m, const Error& e) const {
  const std::string name = member_name(m);
  if (e.source() == name) return e.what();
  return name + ": " + e.what();
}

MSKIAM_INLINE Credentials DefaultChain::answer(Member m) {
  Credentials c;
  switch (m) {
    case Member::environment:
      if (!options_.profile.empty())
        throw Error(ErrorKind::not_configured, std::string(EnvironmentCredentials::source),
                    "skipped: a profile was named in DefaultChain::Options");
      c = EnvironmentCredentials{}.fetch();
      break;
    case Member::profile:
      c = profile_.fetch();
      break;
    case Member::web_identity:
      if (!web_identity_)
        web_identity_.emplace(WebIdentity::from_environment(options_.session_name, options_.sts));
      c = web_identity_->fetch();
      break;
    case Member::remote:
      if (!remote_) {
        if (container_configured())
          remote_.emplace(ContainerCredentials::from_environment(options_.transport));
        else
          remote_.emplace(InstanceMetadata::from_environment(options_.transport));
      }
      c = remote_->fetch();
      break;
  }
  pinned_ = m;
  last_source_ = member_name(m);
  c.source = last_source_;
  return c;
}

MSKIAM_INLINE std::string DefaultChain::not_tried(std::size_t from) const {
  std::string text;
  for (std::size_t i = from; i < std::size(members); ++i)
    text += (text.empty() ? "" : ", ") + member_name(members[i]);
  return text.empty() ? "" : "; not tried: " + text;
}

MSKIAM_INLINE Credentials DefaultChain::walk() {
  std::string reasons;
  const auto add = [&](const std::string& text) {
    reasons += (reasons.empty() ? "" : "; ") + text;
  };
  bool all_not_configured = true;
  ErrorKind last_kind = ErrorKind::not_configured;
  std::string last_code;
  for (std::size_t i = 0; i < std::size(members); ++i) {
    const Member m = members[i];
    try {
      return answer(m);
    } catch (const detail::ProfileWithoutCredentials& e) {
      add("profile: not_configured: " + e.message());  // only `region` and such: move on
    } catch (const Error& e) {
      const bool explicit_profile =
          m == Member::profile && profile_.profile_origin() != "default";
      if (e.kind() == ErrorKind::not_configured && !explicit_profile) {
        add(member_text(m, e));
        continue;
      }
      if (m == Member::remote && member_name(m) == "imds") {  // the probe of last resort
        add(member_text(m, e));
        all_not_configured = all_not_configured && e.kind() == ErrorKind::not_configured;
        last_kind = e.kind();
        last_code = e.code();
        continue;
      }
      add(member_text(m, e));
      std::string text =
          (e.kind() == ErrorKind::not_configured ? "no credentials: " : "") + reasons;
      text += e.kind() == ErrorKind::not_configured
                  ? " (the profile was named by " + profile_.profile_origin() +
                        ", so the chain stops here"
                  : " (configured but failed: the chain stops here";
      text += not_tried(i + 1) + ")";
      throw Error(e.kind(), std::string(source), text, e.code());
    }
  }
  throw Error(all_not_configured ? ErrorKind::not_configured : last_kind, std::string(source),
              "no credentials: " + reasons, all_not_configured ? std::string() : last_code);
}

MSKIAM_END_NAMESPACE
#endif  // MSKIAM_DEFINITIONS
