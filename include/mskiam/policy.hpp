// Small policy types with safe defaults: the STS role session name, what to do when refreshed
// credentials carry another principal, and when to refresh credentials.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mskiam/error.hpp"
#include "mskiam/validation.hpp"

MSKIAM_BEGIN_NAMESPACE

inline constexpr std::string_view role_session_name_env = "AWS_ROLE_SESSION_NAME";
inline constexpr std::string_view default_session_prefix = "mskiam-";

// `mskiam-<host name>` with every character STS refuses replaced by `-`, cut to 64 characters.
std::string default_session_name();

// The STS RoleSessionName, hence the end of the IAM principal. Precedence:
//   SessionName::fixed("...")  >  AWS_ROLE_SESSION_NAME / profile role_session_name
//   >  a default derived from the host name.
// The name is resolved once, when the source is built, and reused at every refresh: the principal
// never changes while the process lives.
class SessionName {
 public:
  SessionName() = default;  // automatic: configured value, else the host-derived default

  static SessionName fixed(std::string name);

  bool is_fixed() const noexcept { return fixed_.has_value(); }

  // `configured` is what the environment or the profile says for this source, if anything.
  std::string resolve(const std::optional<std::string>& configured, std::string_view source) const;

 private:
  std::optional<std::string> fixed_;
};

// What TokenProvider does when refreshed credentials carry another principal than before.
enum class PrincipalChange {
  // Principal-tolerant: take the new credentials and report a principal_changed event. A broker
  // refuses the next re-authentication on open connections; librdkafka reconnects and
  // authenticates afresh (rdkafka::is_principal_change classifies that error as expected).
  allow,
  // Strict: keep serving the old credentials while they are valid, report an error, and fail with
  // ErrorKind::principal_changed once they are no longer usable.
  reject,
};

// When TokenProvider refreshes credentials that expire. Everything is proportional to the
// credentials' lifetime (expiration - time fetched), so that the same policy is right for
// one-hour STS credentials and for twenty-second credentials in a test.
struct RefreshPolicy {
  // Refresh once this fraction of the lifetime or less remains: 1/3 of one hour is 20 minutes, so
  // a token signed just before a refresh still gets its full 15 minutes.
  double refresh_ahead = 1.0 / 3.0;
  // Each provider draws its refresh points within this fraction of the lifetime before the
  // refresh_ahead point (1/6 of one hour: between 30 and 40 minutes after a fetch), so that a
  // fleet started together, as a deploy starts it, does not refresh in one wave forever. The first
  // refresh after start is drawn from the first fetch on, weighted so that such a fleet already
  // asks STS at an even rate in its first hour. 0: every refresh at the refresh_ahead point.
  double refresh_jitter = 1.0 / 6.0;
  // Tokens end this fraction of the lifetime before the credentials do (at most `max_margin`),
  // so a broker never sees a session outlive its credentials because of clock skew.
  double expiry_margin = 1.0 / 60.0;
  std::chrono::milliseconds max_margin{std::chrono::seconds(60)};
  // After a failed refresh, try again after a jittered delay that starts at this fraction of the
  // lifetime and doubles up to `backoff_max` fraction (and never more than `max_backoff`).
  double backoff_initial = 1.0 / 120.0;
  double backoff_max = 1.0 / 12.0;
  std::chrono::milliseconds max_backoff{std::chrono::minutes(5)};
  // A cached token is handed out again only during the first tenth of its life; later callers
  // get a newly signed one, so librdkafka always schedules from a nearly full lifetime.
  double token_reuse = 0.1;
};

namespace detail {

// splitmix64: jitter for backoff without <random> in a public header.
constexpr std::uint64_t next_jitter(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// A draw in [0, 1) from the next jitter value.
constexpr double next_unit(std::uint64_t& state) noexcept {
  return static_cast<double>(next_jitter(state) >> 11) * 0x1.0p-53;
}

// The one backoff of the library (refresh retries of TokenProvider, HTTP retries): `first`,
// doubled for every failure before failure number `failures` (1, 2...) while below `cap`, kept
// within [floor, max(cap, floor)], then a uniform draw in [delay/2, delay] from `state`, so that
// clients that failed together do not retry together.
template <class Duration>
Duration jittered_backoff(Duration first, Duration cap, unsigned failures, std::uint64_t& state,
                          Duration floor = Duration::zero()) noexcept {
  Duration delay = first;
  for (unsigned i = 1; i < failures && delay < cap; ++i) delay *= 2;
  delay = std::min(std::max(delay, floor), std::max(cap, floor));
  const auto half = delay / 2;
  const auto span = static_cast<std::uint64_t>(half.count()) + 1;
  return half + Duration(static_cast<typename Duration::rep>(next_jitter(state) % span));
}

}  // namespace detail

MSKIAM_END_NAMESPACE

#if MSKIAM_DEFINITIONS
#include <unistd.h>

MSKIAM_BEGIN_NAMESPACE

MSKIAM_INLINE std::string default_session_name() {
  char host[256] = {};
  std::string name(default_session_prefix);
  if (gethostname(host, sizeof host - 1) == 0 && host[0] != '\0')
    name += host;
  else
    name += "client";
  for (char& c : name)
    if (!detail::is_session_name_char(c)) c = '-';
  if (name.size() > max_session_name) name.resize(max_session_name);
  return name;
}

MSKIAM_INLINE SessionName SessionName::fixed(std::string name) {
  validate_session_name(name, "session_name");
  SessionName s;
  s.fixed_ = std::move(name);
  return s;
}

MSKIAM_INLINE std::string SessionName::resolve(const std::optional<std::string>& configured,
                                              std::string_view source) const {
  if (fixed_) return *fixed_;
  if (configured) {
    validate_session_name(*configured, source);
    return *configured;
  }
  return default_session_name();
}

MSKIAM_END_NAMESPACE
#endif  // MSKIAM_DEFINITIONS
