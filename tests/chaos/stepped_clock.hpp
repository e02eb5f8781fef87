// The clock the chaos suite compiles into the examples' token provider (MSKIAM_EXAMPLE_CLOCK): the
// system clock plus a step, in whole seconds, read from the file $MSKIAM_CHAOS_CLOCK_STEP_FILE at
// most once a second: a wall clock that NTP steps, as the provider sees it. It is the provider's
// clock only (credential expiry, refresh and retry times, the token's X-Amz-Date, the metrics):
// librdkafka's timers, curl and the AWS fakes keep the right time. (Stepping the whole process with
// libfaketime does not work: librdkafka waits on condition variables with CLOCK_REALTIME deadlines
// that glibc hands to the kernel unfaked, so a faked step of 10 minutes stalls every wait by 10
// minutes, which a real step does not.)
#pragma once

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <string>

namespace {

class SteppedClock {
 public:
  using duration = std::chrono::system_clock::duration;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::system_clock::time_point;
  static constexpr bool is_steady = false;

  static time_point now() {
    const auto real = std::chrono::system_clock::now();
    static std::mutex mutex;
    static std::chrono::steady_clock::time_point next_read{};
    static std::chrono::seconds step{0};
    const std::lock_guard<std::mutex> lock(mutex);
    const auto read_at = std::chrono::steady_clock::now();
    if (read_at >= next_read) {
      next_read = read_at + std::chrono::seconds(1);
      if (const char* path = std::getenv("MSKIAM_CHAOS_CLOCK_STEP_FILE")) {
        std::ifstream in(path);
        long long seconds = 0;
        if (in >> seconds) step = std::chrono::seconds(seconds);
      }
    }
    return real + step;
  }
};

}  // namespace

using ExampleClock = SteppedClock;
