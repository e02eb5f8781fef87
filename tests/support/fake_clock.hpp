// A clock for TokenProvider tests: time moves only when the test says so, so hours of refresh
// behaviour run in milliseconds. Copies share one time; safe to read from many threads.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>

namespace mskiam_test {

class FakeClock {
 public:
  using time_point = std::chrono::system_clock::time_point;
  using duration = std::chrono::system_clock::duration;

  explicit FakeClock(time_point start = time_point(std::chrono::seconds(1700000000)))
      : now_(std::make_shared<std::atomic<duration::rep>>(start.time_since_epoch().count())) {}

  time_point now() const { return time_point(duration(now_->load())); }
  void advance(duration d) { now_->fetch_add(d.count()); }
  void set(time_point t) { now_->store(t.time_since_epoch().count()); }

 private:
  std::shared_ptr<std::atomic<duration::rep>> now_;
};

}  // namespace mskiam_test
