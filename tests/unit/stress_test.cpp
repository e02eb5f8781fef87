// Bounded resources and thread safety of TokenProvider: many threads calling token() while
// credentials expire and refresh (run under ThreadSanitizer by scripts/sanitizers.sh), a
// simulated month at constant memory, and no thread of its own.
#include <malloc.h>
#if defined(__has_include)
#if __has_include(<sanitizer/allocator_interface.h>)
#include <sanitizer/allocator_interface.h>
#endif
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "catch.hpp"
#include "mskiam/provider.hpp"
#include "support/fake_clock.hpp"
#include "support/unprivileged.hpp"

namespace {

using namespace std::chrono_literals;
using mskiam_test::FakeClock;

// Short-lived credentials whose principal never changes; every fetch a new key.
struct RotatingSource {
  FakeClock clock;
  std::chrono::seconds lifetime{20};
  std::shared_ptr<std::atomic<int>> fetches = std::make_shared<std::atomic<int>>(0);
  // Fetches running now, and the most that ever ran at once: "one fetch at a time" is max 1.
  std::shared_ptr<std::atomic<int>> in_flight = std::make_shared<std::atomic<int>>(0);
  std::shared_ptr<std::atomic<int>> max_in_flight = std::make_shared<std::atomic<int>>(0);
  mskiam::Credentials fetch() {
    const int running = ++*in_flight;
    for (int seen = *max_in_flight; running > seen && !max_in_flight->compare_exchange_weak(seen, running);) {
    }
    std::this_thread::yield();  // a fetch takes time: give a second caller the chance to overlap
    const int n = ++*fetches;
    mskiam::Credentials c;
    c.access_key_id = "ASIAROTATING" + std::to_string(n);
    c.secret_access_key = "rotating-secret-" + std::to_string(n);
    c.session_token = std::string(800, 't');
    c.expiration = clock.now() + lifetime;
    c.principal = "arn:aws:sts::123456789012:assumed-role/MskRole/pinned";
    --*in_flight;
    return c;
  }
};

mskiam::TokenOptions options() {
  mskiam::TokenOptions o;
  o.region = "eu-west-1";
  return o;
}

// Heap bytes in use, the blocks malloc served with mmap included (large ones bypass the heap
// arena mallinfo2's uordblks counts). Under ASan and TSan, whose allocator replaces malloc and
// leaves mallinfo2 at zero, the sanitizer's own count.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MSKIAM_TEST_SANITIZER_ALLOCATOR 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define MSKIAM_TEST_SANITIZER_ALLOCATOR 1
#endif
#endif
#ifdef MSKIAM_TEST_SANITIZER_ALLOCATOR
std::size_t bytes_in_use() { return __sanitizer_get_current_allocated_bytes(); }
#else
std::size_t bytes_in_use() {
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}
#endif

std::size_t thread_count() {
  std::size_t n = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) {
    (void)entry;
    ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("stress: 8 threads call token() while credentials expire and refresh") {
  FakeClock clock;
  RotatingSource source{clock};
  mskiam::TokenProvider<RotatingSource, FakeClock> provider{source, options(), {}, clock};
  std::atomic<bool> stop{false};
  std::atomic<long> tokens{0}, errors{0}, stale{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < 8; ++i)
    callers.emplace_back([&] {
      while (!stop) {
        try {
          const auto before = clock.now();
          const auto t = provider.token();
          // A token is never already expired when handed out (the clock only moves forward).
          if (t.expires_at <= before) ++stale;
          if (t.principal != "arn:aws:sts::123456789012:assumed-role/MskRole/pinned") ++errors;
          ++tokens;
        } catch (...) {
          ++errors;
        }
      }
    });
  // Ten simulated minutes in 100 ms steps: 20-second credentials refresh about 40 times.
  // Each step waits until the callers made progress, so time does not outrun them.
  for (int step = 0; step < 6000; ++step) {
    clock.advance(100ms);
    const long target = tokens + 4;
    while (tokens < target && errors == 0) std::this_thread::yield();
  }
  stop = true;
  for (auto& t : callers) t.join();
  CHECK(errors == 0);
  CHECK(stale == 0);
  CHECK(tokens > 0);
  CHECK(*source.fetches >= 30);
  CHECK(*source.fetches <= 60);
  CHECK(*source.max_in_flight == 1);  // eight callers, never two fetches at once
}

TEST_CASE("bounded: a simulated month of refreshes holds constant memory") {
  FakeClock clock;
  RotatingSource source{clock};
  source.lifetime = 1h;
  mskiam::TokenProvider<RotatingSource, FakeClock> provider{source, options(), {}, clock};
  auto day = [&] {  // librdkafka asks at 80% of a 15-minute token: every 12 minutes
    for (int i = 0; i < 120; ++i) {
      provider.token();
      clock.advance(12min);
    }
  };
  {  // the measure sees a leak of the size this test guards against, mmapped or not
    const std::size_t before = bytes_in_use();
    std::vector<char> held(1 << 20, 'x');
    asm volatile("" : : "g"(held.data()) : "memory");  // the allocation is used: not elided
    CHECK(bytes_in_use() >= before + held.size());
  }
  day();
  const std::size_t after_first_day = bytes_in_use();
  for (int d = 1; d < 30; ++d) day();
  const std::size_t after_month = bytes_in_use();
  INFO("in use after day 1: " << after_first_day << " bytes, after day 30: " << after_month);
  CHECK(*source.fetches > 600);  // thousands of tokens, hundreds of refreshes
  CHECK(provider.counters().tokens == 3600);
  // Allowance for allocator noise; a leak of one credential per refresh would be > 500 KB.
  CHECK(after_month <= after_first_day + 16 * 1024);
}

TEST_CASE("bounded: the provider creates no thread") {
  FakeClock clock;
  RotatingSource source{clock};
  const std::size_t before = thread_count();
  std::size_t most = before;  // counted after every call: a thread started and later ended shows too
  mskiam::TokenProvider<RotatingSource, FakeClock> provider{source, options(), {}, clock};
  most = std::max(most, thread_count());
  for (int i = 0; i < 1000; ++i) {
    provider.token();
    most = std::max(most, thread_count());
    clock.advance(1s);
  }
  CHECK(most == before);
  CHECK(thread_count() == before);
}

TEST_CASE("bounded: the provider starts no thread at any time - not even a short-lived one") {
  if (!mskiam_test::can_forbid_new_threads()) {
    WARN("skipped: needs root, and no ThreadSanitizer, to forbid new threads");
    return;
  }
  // The guard itself: a thread that would end at once still cannot start.
  const std::string planted = mskiam_test::without_new_threads([] {
    try {
      std::thread([] {}).join();
      return std::string("a thread started");
    } catch (const std::system_error&) {
      return std::string("refused");
    }
  });
  REQUIRE(planted == "refused");
  // The provider, from construction through a thousand tokens and their refreshes.
  const std::string got = mskiam_test::without_new_threads([] {
    FakeClock clock;
    RotatingSource source{clock};
    mskiam::TokenProvider<RotatingSource, FakeClock> provider{source, options(), {}, clock};
    for (int i = 0; i < 1000; ++i) {
      provider.token();
      clock.advance(1s);
    }
    return std::string("ok");
  });
  CHECK(got == "ok");
}
