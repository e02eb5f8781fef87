// Refresh jitter: each provider draws its refresh points within a window below the two-thirds
// point, its first one from the start on, so that a fleet started together (a deploy) asks STS
// at an even rate from its first hour, and retries while STS throttles stay spread. The fleet
// runs under the fake clock against a fake STS; what is asserted are counts, not timings.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>

#include "catch.hpp"
#include "mskiam/provider.hpp"
#include "support/fake_clock.hpp"
#include "support/fleet.hpp"

namespace {

using namespace std::chrono_literals;
using mskiam_test::FakeClock;
using mskiam_test::Fleet;
using mskiam_test::FleetOptions;

// Scaled down from mskiam-fleet-bench's 10,000 so that it runs in seconds under the sanitizers;
// per-minute counts of ~60 keep the ratios' noise well below the bound.
constexpr int fleet_size = 2000;

// A day of one fleet, hours 0..23.
constexpr std::size_t hours_in_day = 24;

}  // namespace

TEST_CASE("refresh jitter: later refreshes fall between 30 and 40 minutes of one hour") {
  const mskiam::RefreshPolicy policy;
  std::uint64_t state = 7;
  double low = 1, high = 0;
  for (int i = 0; i < 10000; ++i) {
    const double f = mskiam::detail::refresh_fraction(policy, false, mskiam::detail::next_unit(state));
    low = std::min(low, f);
    high = std::max(high, f);
  }
  CHECK(low >= 0.5);
  CHECK(low < 0.51);  // the whole window is used...
  CHECK(high <= 2.0 / 3.0);
  CHECK(high > 2.0 / 3.0 - 0.01);  // ...up to its end, never past the refresh_ahead point
}

TEST_CASE("refresh jitter: a first refresh comes from the first minute on - weighted as for a provider running long") {
  const mskiam::RefreshPolicy policy;
  std::uint64_t state = 11;
  constexpr int draws = 100000;
  int before_window = 0;
  double low = 1, high = 0, sum = 0;
  for (int i = 0; i < draws; ++i) {
    const double f = mskiam::detail::refresh_fraction(policy, true, mskiam::detail::next_unit(state));
    low = std::min(low, f);
    high = std::max(high, f);
    sum += f;
    before_window += f < 0.5 ? 1 : 0;
  }
  CHECK(low >= 1.0 / 60.0);
  CHECK(high <= 2.0 / 3.0);
  // Uniform from 1/60 to 1/2 (29 minutes of density 1), then falling to 0 over the window
  // (10 minutes of area 5): 29/34 of the draws before the window, mean 16.6 of 60 minutes ahead.
  CHECK(std::abs(before_window / double(draws) - 29.0 / 34.0) < 0.01);
  const double mean = (29.0 * (1.0 + 29.0 / 2.0) + 5.0 * (30.0 + 10.0 / 3.0)) / 34.0 / 60.0;
  CHECK(std::abs(sum / draws - mean) < 0.005);
}

TEST_CASE("refresh jitter: zero jitter refreshes every provider at exactly two thirds") {
  mskiam::RefreshPolicy policy;
  policy.refresh_jitter = 0;
  CHECK(mskiam::detail::refresh_fraction(policy, true, 0.0) == 1.0 - policy.refresh_ahead);
  CHECK(mskiam::detail::refresh_fraction(policy, false, 0.99) == 1.0 - policy.refresh_ahead);
}

TEST_CASE("refresh jitter: one seed gives one schedule - two seeds two") {
  FleetOptions options;
  options.providers = 3;
  options.duration = 6h;
  Fleet a(options), b(options);
  options.seed = 2;
  Fleet c(options);
  a.run_until(6h);
  b.run_until(6h);
  c.run_until(6h);
  CHECK(a.result().requests_per_minute == b.result().requests_per_minute);
  CHECK(a.result().requests_per_minute != c.result().requests_per_minute);
}

TEST_CASE("refresh jitter: 20-second credentials refresh ahead of expiry - tokens never outlive them") {
  FleetOptions options;
  options.providers = 50;
  options.duration = 1h;
  options.credential_lifetime = 20s;
  Fleet fleet(options);
  fleet.run_until(60min);
  CHECK(fleet.result().token_errors == 0);
  CHECK(fleet.result().least_validity >= 6s);  // refreshed with a third of the lifetime left
  std::uint64_t refreshes = 0;
  for (auto n : fleet.result().requests_per_minute) refreshes += n;
  // One refresh every 10 to 13.3 seconds of each provider's hour.
  CHECK(refreshes >= 50u * 3600 / 14);
  CHECK(refreshes <= 50u * 3600 / 10);
}

TEST_CASE("fleet: without jitter a fleet started in one minute refreshes in one wave") {
  // The control: what the fleet test below guards against is seen by the same measure.
  const auto result = mskiam_test::run_without_jitter(fleet_size, 3h);
  for (std::size_t h = 0; h < 3; ++h) CHECK(result.peak_to_mean(h) > 10);
}

TEST_CASE("fleet: a fleet started in one minute asks STS evenly in every hour of a day") {
  FleetOptions options;
  options.providers = fleet_size;
  options.duration = 24h;
  Fleet fleet(options);
  fleet.run_until(24h);
  const auto& r = fleet.result();
  CHECK(r.startup_requests == fleet_size);
  CHECK(r.token_errors == 0);
  for (std::size_t h = 0; h < hours_in_day; ++h) {
    INFO("hour " << h);
    CHECK(r.peak_to_mean(h) < 2.0);
  }
  // What the spread costs: refreshes every 30-40 minutes instead of every 40.
  const double per_provider_hour = r.mean(0, 24 * 60) * 60 / fleet_size;
  CHECK(per_provider_hour > 60.0 / 40);
  CHECK(per_provider_hour < 60.0 / 30);
}

TEST_CASE("fleet: STS throttling half the calls for 10 minutes - requests stay bounded and credentials valid") {
  // The fleet asks evenly from its first hour, so three hours in is as steady as a day in.
  FleetOptions options;
  options.providers = fleet_size;
  options.duration = 5h;
  options.throttle_from = 3h + 10min;
  options.throttle_for = 10min;
  Fleet fleet(options);
  fleet.run_until(5h);
  const auto& r = fleet.result();
  CHECK(r.throttled > 0);
  CHECK(r.token_errors == 0);
  // A refresh due as throttling starts has at least 20 minutes left; failing through all 10
  // minutes and waiting out a last 5-minute backoff still leaves 5.
  CHECK(r.least_validity > 5min);
  const double steady = r.mean(2 * 60, 3 * 60);
  const std::size_t from = 3 * 60 + 10;
  const double throttled = r.mean(from, from + 10);
  const double peak = static_cast<double>(r.peak(from, from + 10));
  INFO("steady " << steady << " per minute; while throttled " << throttled << ", peak " << peak);
  // Half the calls fail, so each refresh takes two calls on average: twice the steady rate. The
  // peak minute adds the noise of a ~60-a-minute fleet; retries in step would be many times more.
  CHECK(throttled < 2.5 * steady);
  CHECK(peak < 4 * steady);
  CHECK(static_cast<double>(r.peak(from + 10, 5 * 60)) < 4 * steady);  // nor a wave after
  CHECK(r.peak_to_mean(4) < 2.0);
}
