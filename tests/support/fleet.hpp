// A fleet of TokenProviders against one fake STS, under one FakeClock: every provider started
// within the same minute (a fleet-wide deploy), one-hour credentials, each provider asked for a
// token when librdkafka would ask (at the token's refresh_at, else at 80% of its life). Counts
// STS requests per minute; optionally STS throttles every other call for a while. Used by the
// fleet unit test (ratios asserted) and by mskiam-fleet-bench (10,000 providers, printed).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <queue>
#include <string>
#include <utility>
#include <vector>

#include "mskiam/provider.hpp"
#include "support/fake_clock.hpp"

namespace mskiam_test {

struct FleetOptions {
  int providers = 1000;
  std::chrono::hours duration{24};
  std::chrono::seconds credential_lifetime{std::chrono::hours(1)};
  mskiam::RefreshPolicy refresh;
  // STS refuses every other call in [throttle_from, throttle_from + throttle_for), from the start.
  std::chrono::minutes throttle_from{0};
  std::chrono::minutes throttle_for{0};
  std::uint64_t seed = 1;
};

struct FleetResult {
  std::uint64_t startup_requests = 0;
  std::vector<std::uint64_t> requests_per_minute;  // start-up fetches excluded
  std::uint64_t throttled = 0;                      // calls STS refused
  std::uint64_t token_calls = 0;
  std::uint64_t token_errors = 0;  // token() threw: a provider without usable credentials
  // The least validity any provider's cached credentials had left, checked at every call and at
  // every minute for all providers while STS throttles.
  std::chrono::seconds least_validity{std::chrono::hours(24)};

  // Peak over mean of the requests per minute of hour `h` (minutes 60h .. 60h+59).
  double peak_to_mean(std::size_t h) const {
    const auto first = requests_per_minute.begin() + static_cast<std::ptrdiff_t>(h * 60);
    const auto last = first + 60;
    std::uint64_t sum = 0, peak = 0;
    for (auto it = first; it != last; ++it) {
      sum += *it;
      peak = std::max(peak, *it);
    }
    return sum == 0 ? 0.0 : static_cast<double>(peak) * 60.0 / static_cast<double>(sum);
  }
  std::uint64_t peak(std::size_t from_minute, std::size_t to_minute) const {
    return *std::max_element(requests_per_minute.begin() + static_cast<std::ptrdiff_t>(from_minute),
                             requests_per_minute.begin() + static_cast<std::ptrdiff_t>(to_minute));
  }
  double mean(std::size_t from_minute, std::size_t to_minute) const {
    std::uint64_t sum = 0;
    for (std::size_t m = from_minute; m < to_minute; ++m) sum += requests_per_minute[m];
    return static_cast<double>(sum) / static_cast<double>(to_minute - from_minute);
  }
};

// The one STS of the fleet: counts every call by minute and throttles on schedule.
class FleetSts {
 public:
  FleetSts(FakeClock clock, const FleetOptions& options)
      : clock_(clock), start_(clock.now()), options_(options) {
    result.requests_per_minute.assign(
        static_cast<std::size_t>(std::chrono::minutes(options.duration).count()) + 1, 0);
  }

  bool throttling(FakeClock::time_point t) const {
    return t >= start_ + options_.throttle_from &&
           t < start_ + options_.throttle_from + options_.throttle_for;
  }

  // One AssumeRole call; `startup`: the provider's first.
  void call(bool startup) {
    const auto now = clock_.now();
    if (startup) {
      ++result.startup_requests;
    } else {
      const auto minute = static_cast<std::size_t>((now - start_) / std::chrono::minutes(1));
      if (minute < result.requests_per_minute.size()) ++result.requests_per_minute[minute];
    }
    if (throttling(now) && (++throttle_calls_ % 2) == 0) {
      ++result.throttled;
      throw mskiam::Error(mskiam::ErrorKind::service_error, "sts", "Throttling: Rate exceeded",
                          "Throttling");
    }
  }

  FakeClock clock() const { return clock_; }
  FakeClock::time_point start() const { return start_; }
  const FleetOptions& options() const { return options_; }

  FleetResult result;

 private:
  FakeClock clock_;
  FakeClock::time_point start_;
  FleetOptions options_;
  std::uint64_t throttle_calls_ = 0;
};

// A provider's source: one-hour STS credentials of the size STS gives (an ~800-byte session token).
class FleetSource {
 public:
  FleetSource(std::shared_ptr<FleetSts> sts, int id) : sts_(std::move(sts)), id_(id) {}

  mskiam::Credentials fetch() {
    sts_->call(fetches_ == 0);
    ++fetches_;
    mskiam::Credentials c;
    c.access_key_id = "ASIAFLEET" + std::to_string(id_);
    c.secret_access_key = "fleet-secret-" + std::to_string(id_) + "-" + std::to_string(fetches_);
    c.session_token = std::string(800, 's');
    c.expiration = sts_->clock().now() + sts_->options().credential_lifetime;
    c.principal = "arn:aws:sts::123456789012:assumed-role/MskRole/fleet-" + std::to_string(id_);
    return c;
  }
  std::string_view name() const { return "sts"; }

 private:
  std::shared_ptr<FleetSts> sts_;
  int id_;
  unsigned fetches_ = 0;
};

using FleetProvider = mskiam::TokenProvider<FleetSource, FakeClock>;

class Fleet {
 public:
  explicit Fleet(const FleetOptions& options)
      : sts_(std::make_shared<FleetSts>(clock_, options)) {
    providers_.reserve(static_cast<std::size_t>(options.providers));
    for (int i = 0; i < options.providers; ++i) {
      mskiam::ProviderOptions po;
      po.refresh = options.refresh;
      po.jitter_seed = options.seed * 1000003u + static_cast<std::uint64_t>(i);
      mskiam::TokenOptions to;
      to.region = "us-east-1";
      providers_.push_back(std::make_unique<FleetProvider>(FleetSource(sts_, i), to, po, clock_));
      // Started within the first minute, evenly.
      calls_.push({sts_->start() + std::chrono::milliseconds(60000LL * i / options.providers),
                   static_cast<std::size_t>(i)});
    }
  }

  // Runs every call due before `until` (from the start), in time order.
  void run_until(std::chrono::minutes until) {
    const auto end = sts_->start() + until;
    while (!calls_.empty() && calls_.top().at < end) {
      const Call call = calls_.top();
      calls_.pop();
      if (sts_->throttling(call.at)) check_all_during_throttle(call.at);
      clock_.set(call.at);
      calls_.push({ask(*providers_[call.provider], call.at), call.provider});
    }
  }

  const FleetResult& result() const { return sts_->result; }
  std::size_t size() const { return providers_.size(); }
  FleetProvider& provider(std::size_t i) { return *providers_[i]; }

 private:
  struct Call {
    FakeClock::time_point at;
    std::size_t provider;
    bool operator>(const Call& other) const { return at > other.at; }
  };

  // One token() call as librdkafka makes it; returns when it would call next.
  FakeClock::time_point ask(FleetProvider& p, FakeClock::time_point now) {
    FleetResult& r = sts_->result;
    ++r.token_calls;
    try {
      const mskiam::AuthToken token = p.token();
      note_validity(p, now);
      if (token.refresh_at) return std::max(*token.refresh_at, now + std::chrono::seconds(1));
      return now + (token.expires_at - now) * 4 / 5;
    } catch (const mskiam::Error&) {
      ++r.token_errors;
      return now + std::chrono::seconds(10);
    }
  }

  void note_validity(FleetProvider& p, FakeClock::time_point now) {
    const auto m = p.metrics();
    if (!m.credential_expiration) return;
    const auto left = std::chrono::floor<std::chrono::seconds>(*m.credential_expiration - now);
    sts_->result.least_validity = std::min(sts_->result.least_validity, left);
  }

  // While STS throttles, every provider's credentials are looked at once a minute.
  void check_all_during_throttle(FakeClock::time_point now) {
    const auto minute = (now - sts_->start()) / std::chrono::minutes(1);
    if (minute == last_checked_minute_) return;
    last_checked_minute_ = minute;
    for (auto& p : providers_) note_validity(*p, now);
  }

  FakeClock clock_;
  std::shared_ptr<FleetSts> sts_;
  std::vector<std::unique_ptr<FleetProvider>> providers_;
  std::priority_queue<Call, std::vector<Call>, std::greater<Call>> calls_;
  std::int64_t last_checked_minute_ = -1;
};

// The first hours of a fleet without refresh jitter: the one synchronised wave jitter replaces.
inline FleetResult run_without_jitter(int providers, std::chrono::hours hours) {
  FleetOptions options;
  options.providers = providers;
  options.duration = hours;
  options.refresh.refresh_jitter = 0;
  Fleet fleet(options);
  fleet.run_until(hours);
  return fleet.result();
}

}  // namespace mskiam_test
