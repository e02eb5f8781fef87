// mskiam-fleet-bench: 10,000 TokenProviders started within one minute (a fleet-wide deploy),
// one-hour credentials, a simulated day under a fake clock against a fake STS (tests/support/
// fleet.hpp). Prints, per hour, the peak-to-mean ratio of STS requests per minute (start-up
// fetches excluded), the same fleet without refresh jitter for comparison, an hour in which STS
// refuses every other call for 10 minutes, and the heap each provider holds. Nothing is asserted
// here: tests/unit/refresh_jitter_test.cpp asserts the ratios on a smaller fleet.
//
//   mskiam-fleet-bench                  10,000 providers
//   mskiam-fleet-bench --providers 500  a smaller fleet (the CTest smoke run)
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "support/fleet.hpp"

namespace {

using namespace std::chrono_literals;
using mskiam_test::Fleet;
using mskiam_test::FleetOptions;

constexpr std::size_t day_hours = 24;
constexpr auto throttle_from = 24h + 10min;
constexpr auto throttle_for = 10min;
constexpr auto run_for = 26h;

std::size_t heap_in_use() { return mallinfo2().uordblks; }

void print_hours(const mskiam_test::FleetResult& r, std::size_t from, std::size_t to) {
  std::printf("  hour  requests  peak/min  mean/min  peak/mean\n");
  for (std::size_t h = from; h < to; ++h) {
    const std::size_t m = h * 60;
    std::printf("  %4zu  %8.0f  %8llu  %8.1f  %9.2f\n", h, r.mean(m, m + 60) * 60,
                static_cast<unsigned long long>(r.peak(m, m + 60)), r.mean(m, m + 60),
                r.peak_to_mean(h));
  }
}

void without_jitter(int providers) {
  std::printf("\nwithout jitter (RefreshPolicy::refresh_jitter = 0), the first 3 hours:\n");
  print_hours(mskiam_test::run_without_jitter(providers, 3h), 0, 3);
}

}  // namespace

int main(int argc, char** argv) {
  FleetOptions options;
  options.providers = 10000;
  if (argc == 3 && std::string(argv[1]) == "--providers") options.providers = std::atoi(argv[2]);
  if (options.providers <= 0) {
    std::fprintf(stderr, "usage: mskiam-fleet-bench [--providers N]\n");
    return 2;
  }
  options.duration = run_for;
  options.throttle_from = throttle_from;
  options.throttle_for = throttle_for;

  const auto wall_start = std::chrono::steady_clock::now();
  const std::size_t heap_before = heap_in_use();
  Fleet fleet(options);
  fleet.run_until(2min);  // every provider has fetched once and signed a token
  const std::size_t heap_running = heap_in_use();
  fleet.run_until(run_for);
  const auto& r = fleet.result();
  const double wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();

  std::printf("fleet: %d providers started within one minute, one-hour credentials, %zu simulated "
              "hours\nSTS requests per minute, the %llu start-up fetches excluded:\n",
              options.providers, day_hours, static_cast<unsigned long long>(r.startup_requests));
  print_hours(r, 0, day_hours);
  double worst = 0;
  for (std::size_t h = 0; h < day_hours; ++h) worst = std::max(worst, r.peak_to_mean(h));
  std::printf("  worst hour: peak/mean %.2f (target: under 2 in every hour)\n", worst);

  const std::size_t from = static_cast<std::size_t>(std::chrono::minutes(throttle_from).count());
  const std::size_t to = from + static_cast<std::size_t>(throttle_for.count());
  const double steady = r.mean(from - 70, from - 10);
  std::printf("\nthrottling: STS refuses every other call from minute %zu to %zu (hour 24)\n"
              "  steady before: %.1f requests/min; peak while throttled: %llu (%.2fx); peak in "
              "the 100 minutes after: %llu (%.2fx)\n  calls refused: %llu; token() errors: %llu; "
              "least validity left on any provider's credentials: %lld s\n",
              from, to, steady, static_cast<unsigned long long>(r.peak(from, to)),
              static_cast<double>(r.peak(from, to)) / steady,
              static_cast<unsigned long long>(r.peak(to, to + 100)),
              static_cast<double>(r.peak(to, to + 100)) / steady,
              static_cast<unsigned long long>(r.throttled),
              static_cast<unsigned long long>(r.token_errors),
              static_cast<long long>(r.least_validity.count()));
  std::printf("  minute:   ");
  for (std::size_t m = from - 5; m < to + 10; ++m) std::printf(" %4zu", m - from + 10);
  std::printf("\n  requests: ");
  for (std::size_t m = from - 5; m < to + 10; ++m)
    std::printf(" %4llu", static_cast<unsigned long long>(r.requests_per_minute[m]));
  std::printf("\n");

  std::printf("\nmemory: sizeof(TokenProvider<FleetSource, FakeClock>) %zu bytes; heap per provider "
              "with its credentials (800-byte session token), token and signing key: %.0f bytes\n",
              sizeof(mskiam_test::FleetProvider),
              static_cast<double>(heap_running - heap_before) / options.providers);
  std::printf("simulation: %llu token() calls in %.1f s of wall time (informational)\n",
              static_cast<unsigned long long>(r.token_calls), wall_s);

  without_jitter(options.providers);
  return 0;
}
