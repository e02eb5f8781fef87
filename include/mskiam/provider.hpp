// TokenProvider<Source, Clock>: hands out MSK IAM tokens, caching the credentials of one source
// and refreshing them ahead of expiry. token() is thread-safe; it never blocks while the cache is
// fresh; it runs refresh work in the calling thread (the library starts no thread of its own).
//
//   mskiam::TokenProvider<mskiam::EnvironmentCredentials> provider{
//       mskiam::EnvironmentCredentials{}, mskiam::TokenOptions{"us-east-1"}};
//   mskiam::AuthToken token = provider.token();
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "mskiam/credentials.hpp"
#include "mskiam/error.hpp"
#include "mskiam/events.hpp"
#include "mskiam/policy.hpp"
#include "mskiam/token.hpp"

MSKIAM_BEGIN_NAMESPACE

struct ProviderOptions {
  RefreshPolicy refresh;
  PrincipalChange principal_change = PrincipalChange::allow;
  EventHandler on_event;  // empty: events are not reported
  // Seeds the jitter of refresh points and retries; empty: the provider's address and start time.
  // A fixed seed makes a provider under a test clock repeat itself exactly; providers that share
  // a seed share a schedule, so give each its own.
  std::optional<std::uint64_t> jitter_seed;
};

// How many times a provider's source was asked, failed, and how many tokens were signed.
struct ProviderCounters {
  std::uint64_t fetches = 0, failures = 0, principal_changes = 0, tokens = 0;
};

// A provider's state for health checks and metrics exporters (mskiam/prometheus.hpp).
struct ProviderMetrics {
  using time_point = std::chrono::system_clock::time_point;
  ProviderCounters counters;
  std::optional<time_point> last_success;          // last successful fetch
  std::optional<time_point> credential_expiration;  // of the cached credentials
  std::optional<time_point> token_expiration;       // of the last token signed
  std::string principal;                            // of the cached credentials
  std::string source;                               // the source that answered last
  std::string last_error;                           // text of the last failed fetch, if any
  bool last_fetch_failed = false;
};

namespace detail {

// After which fraction of its lifetime to refresh credentials just fetched (RefreshPolicy's
// refresh_ahead and refresh_jitter), given a uniform draw `u` in [0, 1). `first`: the first fetch
// of a provider, whose refresh is drawn as if the provider had been running for long already.
double refresh_fraction(const RefreshPolicy& policy, bool first, double u);

// What TokenProvider's constructor checks: region, lifetime 1..900 s, host if given. Throws
// mskiam::Error (source `token`, invalid_argument).
void validate_token_options(const TokenOptions& options);

// What TokenProvider checks of credentials a source returned: both keys present, and not
// expiring within two seconds of `now`. Throws mskiam::Error naming `source`.
void check_fetched(const Credentials& credentials, std::chrono::system_clock::time_point now,
                   const std::string& source);

}  // namespace detail

template <class Source, class Clock = std::chrono::system_clock>
class TokenProvider {
  static_assert(is_credential_source_v<Source>,
                "a credential source needs a member function `mskiam::Credentials fetch()`");
  static_assert(std::is_convertible_v<decltype(std::declval<Clock&>().now()),
                                      std::chrono::system_clock::time_point>,
                "Clock::now() must return a std::chrono::system_clock::time_point");

 public:
  using time_point = std::chrono::system_clock::time_point;
  using duration = std::chrono::system_clock::duration;

  TokenProvider(Source source, TokenOptions options, ProviderOptions provider_options = {},
                Clock clock = Clock{});

  TokenProvider(const TokenProvider&) = delete;
  TokenProvider& operator=(const TokenProvider&) = delete;

  // A token signed with current credentials, fetching or refreshing them first when needed.
  // Throws mskiam::Error when no usable credentials can be had; the message names the source.
  AuthToken token();

  // The credentials tokens are signed with, after the same refresh as token(). For diagnostics:
  // print it, it shows no secret.
  Credentials credentials();

  const TokenOptions& options() const noexcept { return options_; }
  const std::string& source_name() const noexcept { return source_name_; }
  Source& source() noexcept { return source_; }
  Clock& clock() noexcept { return clock_; }

  using Counters = ProviderCounters;
  Counters counters() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return {fetches_, failures_, principal_changes_, tokens_issued_};
  }

  // A snapshot for health checks and metrics exporters; cheap, from any thread.
  using Metrics = ProviderMetrics;
  Metrics metrics() const;

 private:
  // Seconds a token signed now may live: up to the credentials' expiration minus the margin.
  std::chrono::seconds usable_seconds(time_point now) const;

  // The next moment this provider wants to be asked: the refresh point of its credentials, or
  // after a failed refresh the retry time; unset for credentials that never expire.
  AuthToken with_refresh_at(AuthToken token) const;

  bool usable(time_point now) const {
    return credentials_ && usable_seconds(now) >= std::chrono::seconds(1);
  }

  bool refresh_due(time_point now) const {
    return !usable(now) || (refresh_at_ && now >= *refresh_at_ && now >= next_attempt_);
  }

  Event event(EventType type, time_point now) const;
  void emit(const std::vector<Event>& events) const;
  duration backoff(duration lifetime);
  duration refresh_delay(duration lifetime, bool first);

  // Makes sure usable credentials are cached, refreshing them when due. Only one thread asks the
  // source at a time; while still-valid credentials are cached, the others do not wait for it.
  void ensure_credentials(time_point now);
  // Its steps. Whether this thread asks the source now (then `fetching` is held): a refresh is
  // due, and no other thread is at it while the cached credentials are still usable.
  bool take_fetch_turn(time_point now, std::unique_lock<std::mutex>& fetching);
  // The source's answer, checked (check_fetched); nullopt and `failure` set when it failed.
  std::optional<Credentials> fetch_checked(time_point now, std::optional<Error>& failure);
  // With mutex_ held from here on. A new principal: an event, and with PrincipalChange::reject
  // the answer dropped and `failure` set.
  void apply_principal_policy(time_point now, std::optional<Credentials>& fresh,
                              std::optional<Error>& failure, std::vector<Event>& events);
  // The name the source gives itself (`name()`), else detail::unnamed_source.
  static std::string source_name_of(const Source& source) {
    if constexpr (detail::has_source_name<Source>::value)
      return std::string(source.name());
    else
      return std::string(detail::unnamed_source);
  }
  // Caches fresh credentials and draws their refresh point.
  void accept(Credentials fresh, time_point now, std::vector<Event>& events);
  // Counts a failure and schedules the retry; the cached credentials stay while usable.
  void record_failure(const Error& failure, time_point now, std::vector<Event>& events);

  Source source_;
  const TokenOptions options_;
  const ProviderOptions provider_options_;
  Clock clock_;
  const std::string source_name_;

  mutable std::mutex mutex_;  // guards everything below
  std::mutex fetch_mutex_;    // held by the one thread asking the source
  std::optional<Credentials> credentials_;
  std::optional<time_point> refresh_at_;
  time_point next_attempt_{};
  duration margin_{};
  duration lifetime_{};
  std::optional<AuthToken> token_;
  time_point token_reuse_until_{};
  TokenCache token_cache_;
  unsigned consecutive_failures_ = 0;
  std::uint64_t jitter_state_;
  std::string last_error_;
  std::optional<time_point> last_success_;
  std::uint64_t fetches_ = 0, failures_ = 0, principal_changes_ = 0, tokens_issued_ = 0;
};

// ---------------------------------------------------------------------------------------------
// TokenProvider's members: templates, so here rather than under MSKIAM_DEFINITIONS.

template <class Source, class Clock>
TokenProvider<Source, Clock>::TokenProvider(Source source, TokenOptions options,
                                            ProviderOptions provider_options, Clock clock)
    : source_(std::move(source)),
      options_(std::move(options)),
      provider_options_(std::move(provider_options)),
      clock_(std::move(clock)),
      source_name_(source_name_of(source_)),
      jitter_state_(provider_options_.jitter_seed.value_or(
          reinterpret_cast<std::uintptr_t>(this) ^
          static_cast<std::uint64_t>(clock_.now().time_since_epoch().count()))) {
  detail::validate_token_options(options_);
}

template <class Source, class Clock>
AuthToken TokenProvider<Source, Clock>::token() {
  const time_point now = clock_.now();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (token_ && now < token_reuse_until_ && !refresh_due(now)) return with_refresh_at(*token_);
  }
  ensure_credentials(now);
  std::vector<Event> events;
  AuthToken token;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (token_ && now < token_reuse_until_ && !refresh_due(now)) return with_refresh_at(*token_);
    TokenOptions options = options_;
    options.lifetime = std::min(options.lifetime, usable_seconds(now));
    token = sign_token(*credentials_, options, now, &token_cache_);
    token_ = token;
    const auto lifetime = token.expires_at - std::chrono::floor<std::chrono::seconds>(now);
    token_reuse_until_ = now + std::chrono::duration_cast<duration>(
                                   lifetime * provider_options_.refresh.token_reuse);
    ++tokens_issued_;
    if (provider_options_.on_event) {
      Event e = event(EventType::token_issued, now);
      e.expiration = token.expires_at;
      events.push_back(std::move(e));
    }
  }
  emit(events);
  std::lock_guard<std::mutex> lock(mutex_);
  return with_refresh_at(std::move(token));
}

template <class Source, class Clock>
Credentials TokenProvider<Source, Clock>::credentials() {
  ensure_credentials(clock_.now());
  std::lock_guard<std::mutex> lock(mutex_);
  return *credentials_;
}

template <class Source, class Clock>
auto TokenProvider<Source, Clock>::metrics() const -> Metrics {
  std::lock_guard<std::mutex> lock(mutex_);
  Metrics m;
  m.counters = {fetches_, failures_, principal_changes_, tokens_issued_};
  m.last_success = last_success_;
  if (credentials_) {
    m.credential_expiration = credentials_->expiration;
    m.principal = credentials_->principal;
    m.source = credentials_->source;
  }
  if (token_) m.token_expiration = token_->expires_at;
  m.last_error = last_error_;
  m.last_fetch_failed = consecutive_failures_ > 0;
  return m;
}

template <class Source, class Clock>
std::chrono::seconds TokenProvider<Source, Clock>::usable_seconds(time_point now) const {
  if (!credentials_ || !credentials_->expiration) return max_token_lifetime;
  const auto end = *credentials_->expiration - margin_;
  if (end <= now) return std::chrono::seconds(0);
  return std::chrono::floor<std::chrono::seconds>(end - now);
}

template <class Source, class Clock>
AuthToken TokenProvider<Source, Clock>::with_refresh_at(AuthToken token) const {
  token.refresh_at.reset();
  if (refresh_at_) {
    const time_point when = consecutive_failures_ > 0 ? next_attempt_ : *refresh_at_;
    if (when < token.expires_at) token.refresh_at = when;
  }
  return token;
}

template <class Source, class Clock>
Event TokenProvider<Source, Clock>::event(EventType type, time_point now) const {
  Event e{type, now, source_name_, {}, {}, {}, {}, {}, {}};
  if (credentials_) {
    // The member that answered (`container` under a default_chain), when the source says.
    if (!credentials_->source.empty()) e.source = credentials_->source;
    e.access_key_id = credentials_->access_key_id;
    e.principal = credentials_->principal;
    e.expiration = credentials_->expiration;
  }
  return e;
}

template <class Source, class Clock>
void TokenProvider<Source, Clock>::emit(const std::vector<Event>& events) const {
  if (!provider_options_.on_event) return;
  for (const Event& e : events) {
    try {
      provider_options_.on_event(e);
    } catch (...) {
      // A reporting hook must not break authentication.
    }
  }
}

template <class Source, class Clock>
auto TokenProvider<Source, Clock>::backoff(duration lifetime) -> duration {
  const RefreshPolicy& p = provider_options_.refresh;
  const auto cap = std::min<duration>(
      std::chrono::duration_cast<duration>(lifetime * p.backoff_max), p.max_backoff);
  const auto first = std::chrono::duration_cast<duration>(lifetime * p.backoff_initial);
  return detail::jittered_backoff(first, cap, consecutive_failures_, jitter_state_,
                                  duration(std::chrono::milliseconds(100)));
}

template <class Source, class Clock>
auto TokenProvider<Source, Clock>::refresh_delay(duration lifetime, bool first) -> duration {
  const double u = detail::next_unit(jitter_state_);
  return std::chrono::duration_cast<duration>(
      lifetime * detail::refresh_fraction(provider_options_.refresh, first, u));
}

template <class Source, class Clock>
void TokenProvider<Source, Clock>::ensure_credentials(time_point now) {
  std::unique_lock<std::mutex> fetching(fetch_mutex_, std::defer_lock);
  if (!take_fetch_turn(now, fetching)) return;

  std::optional<Error> failure;
  std::optional<Credentials> fresh = fetch_checked(now, failure);

  std::vector<Event> events;
  std::unique_lock<std::mutex> lock(mutex_);
  ++fetches_;
  if (fresh) apply_principal_policy(now, fresh, failure, events);
  if (fresh)
    accept(std::move(*fresh), now, events);
  else
    record_failure(*failure, now, events);
  const bool still_usable = usable(now);
  const bool had_credentials = credentials_.has_value();
  lock.unlock();
  fetching.unlock();
  emit(events);
  if (!still_usable) {
    if (!had_credentials) throw *failure;  // the first fetch failed: its own error
    throw Error(failure->kind() == ErrorKind::principal_changed ? failure->kind()
                                                                : ErrorKind::expired,
                source_name_,
                "no usable credentials: the cached ones have expired and the refresh failed: " +
                    std::string(failure->what()));
  }
}

template <class Source, class Clock>
bool TokenProvider<Source, Clock>::take_fetch_turn(time_point now,
                                                   std::unique_lock<std::mutex>& fetching) {
  bool required = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!refresh_due(now)) return false;
    required = !usable(now);
  }
  if (required) {
    fetching.lock();
  } else if (!fetching.try_lock()) {
    return false;  // another thread is refreshing; the cached credentials are still good
  }
  std::lock_guard<std::mutex> lock(mutex_);
  return refresh_due(now);  // false: refreshed while this thread waited
}

template <class Source, class Clock>
std::optional<Credentials> TokenProvider<Source, Clock>::fetch_checked(
    time_point now, std::optional<Error>& failure) {
  try {
    Credentials fresh = source_.fetch();
    if (fresh.source.empty()) fresh.source = source_name_;
    detail::check_fetched(fresh, now, source_name_);
    return fresh;
  } catch (const Error& e) {
    failure = e;
  } catch (const std::exception& e) {
    failure = Error(ErrorKind::internal, source_name_, e.what());
  }
  return std::nullopt;
}

template <class Source, class Clock>
void TokenProvider<Source, Clock>::apply_principal_policy(time_point now,
                                                          std::optional<Credentials>& fresh,
                                                          std::optional<Error>& failure,
                                                          std::vector<Event>& events) {
  if (!credentials_ || credentials_->principal.empty() || fresh->principal.empty() ||
      fresh->principal == credentials_->principal)
    return;
  Event e = event(EventType::principal_changed, now);
  e.previous_principal = credentials_->principal;
  e.principal = fresh->principal;
  e.access_key_id = fresh->access_key_id;
  e.expiration = fresh->expiration;
  if (provider_options_.principal_change == PrincipalChange::reject) {
    e.type = EventType::principal_change_rejected;
    failure = Error(ErrorKind::principal_changed, source_name_,
                    "refreshed credentials carry principal " + fresh->principal + " instead of " +
                        credentials_->principal + " and the principal-change policy is reject");
    e.message = failure->what();
    fresh.reset();
  } else {
    ++principal_changes_;
  }
  events.push_back(std::move(e));
}

template <class Source, class Clock>
void TokenProvider<Source, Clock>::accept(Credentials fresh, time_point now,
                                          std::vector<Event>& events) {
  const duration lifetime = fresh.expiration.value_or(now) - now;
  const bool first = !credentials_;
  credentials_ = std::move(fresh);
  token_cache_.reset();
  token_.reset();
  consecutive_failures_ = 0;
  last_success_ = now;
  next_attempt_ = now;
  if (credentials_->expiration) {
    const RefreshPolicy& p = provider_options_.refresh;
    margin_ = std::min<duration>(
        std::chrono::duration_cast<duration>(lifetime * p.expiry_margin), p.max_margin);
    refresh_at_ = now + refresh_delay(lifetime, first);
    lifetime_ = lifetime;
  } else {
    margin_ = duration::zero();
    refresh_at_.reset();  // credentials that never expire are fetched once
  }
  events.insert(events.begin(), event(EventType::credentials_fetched, now));
}

template <class Source, class Clock>
void TokenProvider<Source, Clock>::record_failure(const Error& failure, time_point now,
                                                  std::vector<Event>& events) {
  ++failures_;
  ++consecutive_failures_;
  last_error_ = failure.what();
  // Without a lifetime to be proportional to (nothing cached yet), back off as for one hour.
  next_attempt_ = now + backoff(credentials_ && credentials_->expiration
                                    ? lifetime_
                                    : duration(std::chrono::hours(1)));
  Event e = event(EventType::refresh_failed, now);
  e.message = failure.what();
  e.retry_at = next_attempt_;
  events.push_back(std::move(e));
  if (usable(now) && credentials_->expiration &&
      *credentials_->expiration - now < options_.lifetime) {
    Event expiring = event(EventType::credentials_expiring, now);
    expiring.message = failure.what();
    events.push_back(std::move(expiring));
  }
}

MSKIAM_END_NAMESPACE

#if MSKIAM_DEFINITIONS
#include <cmath>

#include "mskiam/detail/time.hpp"

MSKIAM_BEGIN_NAMESPACE
namespace detail {

MSKIAM_INLINE void validate_token_options(const TokenOptions& options) {
  validate_region(options.region, token_source, "TokenOptions::region");
  validate_token_lifetime(options.lifetime, token_source);
  if (!options.host.empty()) validate_host(options.host, token_source);
}

MSKIAM_INLINE void check_fetched(const Credentials& credentials,
                                 std::chrono::system_clock::time_point now,
                                 const std::string& source) {
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty())
    throw Error(ErrorKind::bad_document, source,
                "returned credentials without an access key id or secret access key");
  // Two seconds is the least that leaves a one-second token after the expiry margin.
  if (credentials.expiration && *credentials.expiration - now < std::chrono::seconds(2))
    throw Error(ErrorKind::expired, source,
                "returned credentials (access key id " + credentials.access_key_id +
                    ") that expire at " + detail::iso8601(*credentials.expiration) +
                    ", too soon to use");
}

// Later refreshes: uniform in [latest - jitter, latest]. The first: from the density a provider
// that has run for long shows at a random moment (the time until its next refresh is longer than
// x with the probability that an interval is), so a fleet started at once refreshes as evenly as
// one started long ago: uniform up to the window, then falling linearly to zero across it. It
// starts a sixtieth of the lifetime after the fetch, never right on top of it.
MSKIAM_INLINE double refresh_fraction(const RefreshPolicy& policy, bool first, double u) {
  constexpr double first_floor = 1.0 / 60.0;
  const double latest = 1.0 - policy.refresh_ahead;
  if (!(policy.refresh_jitter > 0.0) || latest <= first_floor) return latest;
  if (!first) {
    const double earliest = std::max(0.0, latest - policy.refresh_jitter);
    return earliest + u * (latest - earliest);
  }
  const double window = std::min(policy.refresh_jitter, latest - first_floor);
  const double flat = latest - first_floor - window;  // where the density is uniform
  const double mean = flat + window / 2;
  const double x = u * mean;
  if (x < flat) return first_floor + x;
  const double v = (x - flat) / (mean - flat);  // in [0, 1): through the falling part
  return latest - window * std::sqrt(1.0 - v);
}

}  // namespace detail
MSKIAM_END_NAMESPACE
#endif  // MSKIAM_DEFINITIONS
