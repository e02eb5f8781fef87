// TokenProvider: caching, refresh ahead of expiry, keeping valid credentials when a refresh
// fails, principal-change policies, events, and one fetch for many threads. Time is a FakeClock.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "catch.hpp"
#include "mskiam/provider.hpp"
#include "mskiam/sources/static.hpp"
#include "support/fake_clock.hpp"

namespace {

using namespace std::chrono_literals;
using mskiam_test::FakeClock;

// A source whose answers the test scripts: credentials of a given lifetime, principal and key, or
// an error. Copies share the script, so the test keeps a handle after moving it into a provider.
class ScriptedSource {
 public:
  struct Script {
    std::mutex mutex;
    FakeClock clock;
    std::chrono::seconds lifetime{3600};
    std::string principal = "arn:aws:sts::123456789012:assumed-role/MskRole/fixed";
    bool fail = false;
    std::function<void()> during_fetch;  // runs inside fetch(), e.g. to stall it
    int fetches = 0;
  };

  explicit ScriptedSource(FakeClock clock) : script_(std::make_shared<Script>()) {
    script_->clock = clock;
  }

  mskiam::Credentials fetch() {
    std::function<void()> hook;
    {
      std::lock_guard<std::mutex> lock(script_->mutex);
      hook = script_->during_fetch;
    }
    if (hook) hook();
    std::lock_guard<std::mutex> lock(script_->mutex);
    const int n = ++script_->fetches;
    if (script_->fail)
      throw mskiam::Error(mskiam::ErrorKind::http_status, "scripted", "STS answered 500", "500");
    mskiam::Credentials c;
    c.access_key_id = "ASIASCRIPTED" + std::to_string(n);
    c.secret_access_key = "scripted-secret-" + std::to_string(n);
    c.session_token = "scripted-token-" + std::to_string(n);
    c.expiration = script_->clock.now() + script_->lifetime;
    c.principal = script_->principal;
    return c;
  }
  std::string_view name() const { return "scripted"; }

  Script& script() { return *script_; }

 private:
  std::shared_ptr<Script> script_;
};

using Provider = mskiam::TokenProvider<ScriptedSource, FakeClock>;

mskiam::TokenOptions options() {
  mskiam::TokenOptions o;
  o.region = "us-east-1";
  return o;
}

struct Fixture {
  FakeClock clock;
  ScriptedSource source{clock};
  std::vector<mskiam::Event> events;
  std::mutex events_mutex;
  mskiam::RefreshPolicy refresh;

  // Refresh points exactly at the refresh_ahead point, for tests that count on them.
  void without_jitter() { refresh.refresh_jitter = 0; }

  std::unique_ptr<Provider> make(mskiam::PrincipalChange policy = mskiam::PrincipalChange::allow) {
    mskiam::ProviderOptions po;
    po.refresh = refresh;
    po.principal_change = policy;
    po.on_event = [this](const mskiam::Event& e) {
      std::lock_guard<std::mutex> lock(events_mutex);
      events.push_back(e);
    };
    return std::make_unique<Provider>(source, options(), po, clock);
  }
  int count(mskiam::EventType type) {
    std::lock_guard<std::mutex> lock(events_mutex);
    int n = 0;
    for (const auto& e : events) n += e.type == type ? 1 : 0;
    return n;
  }
  int fetches() {
    std::lock_guard<std::mutex> lock(source.script().mutex);
    return source.script().fetches;
  }
};

}  // namespace

TEST_CASE("provider: one fetch serves many tokens until the refresh point") {
  Fixture f;
  f.without_jitter();
  auto p = f.make();
  const auto first = p->token();
  CHECK(f.fetches() == 1);
  CHECK(first.principal == "arn:aws:sts::123456789012:assumed-role/MskRole/fixed");
  CHECK(first.expires_at == std::chrono::floor<std::chrono::seconds>(f.clock.now()) + 900s);
  // Hours of librdkafka refreshes every 12 minutes: one fetch per 40 minutes (2/3 of an hour).
  for (int i = 0; i < 30; ++i) {
    f.clock.advance(12min);
    const auto t = p->token();
    CHECK(t.expires_at > f.clock.now() + 14min);  // every token gets (nearly) its full 15 minutes
  }
  // Refresh is due 40 minutes after a fetch and happens at the next call, 48 minutes after it:
  // fetches at 0, 48, 96, ... 336 minutes in 6 hours.
  CHECK(f.fetches() == 8);
  CHECK(f.count(mskiam::EventType::credentials_fetched) == 8);
  CHECK(f.count(mskiam::EventType::token_issued) == 31);
}

TEST_CASE("provider: the same policy is right for 20-second credentials") {
  Fixture f;
  f.without_jitter();
  f.source.script().lifetime = 20s;
  auto p = f.make();
  for (int i = 0; i < 100; ++i) {
    const auto t = p->token();
    // Tokens never outlive credentials minus the margin (1/60 of 20 s = 333 ms).
    CHECK(t.expires_at <= f.clock.now() + 20s);
    CHECK(t.expires_at > f.clock.now());
    f.clock.advance(1s);
  }
  // Refresh at 2/3 of 20 s: about every 14 s -> 100 s / 14 s ~ 7-8 fetches.
  CHECK(f.fetches() >= 7);
  CHECK(f.fetches() <= 9);
}

TEST_CASE("provider: a cached token is reused briefly - then re-signed") {
  Fixture f;
  auto p = f.make();
  const auto a = p->token();
  f.clock.advance(10s);
  CHECK(p->token().value == a.value);  // within the first tenth of its life
  f.clock.advance(2min);
  const auto b = p->token();
  CHECK(b.value != a.value);
  CHECK(b.expires_at > a.expires_at);
  CHECK(f.fetches() == 1);
}

TEST_CASE("provider: a failed refresh keeps still-valid credentials and retries with backoff") {
  Fixture f;
  auto p = f.make();
  const auto first = p->token();
  f.clock.advance(41min);  // refresh due (19 min left of 60)
  f.source.script().fail = true;
  const auto t = p->token();  // refresh fails, cached credentials still sign
  CHECK(t.principal == first.principal);
  CHECK(f.count(mskiam::EventType::refresh_failed) == 1);
  CHECK(f.fetches() == 2);
  // Backoff: the next seconds do not hammer the source.
  for (int i = 0; i < 10; ++i) {
    f.clock.advance(1s);
    p->token();
  }
  CHECK(f.fetches() == 2);
  // ...but it does try again within the backoff cap (1/12 of an hour = 5 min).
  for (int i = 0; i < 6; ++i) {
    f.clock.advance(1min);
    p->token();
  }
  CHECK(f.fetches() >= 3);
  f.source.script().fail = false;
  f.clock.advance(6min);
  p->token();
  CHECK(f.count(mskiam::EventType::credentials_fetched) == 2);
  {
    std::lock_guard<std::mutex> lock(f.events_mutex);
    for (const auto& e : f.events)
      if (e.type == mskiam::EventType::refresh_failed) {
        CHECK(e.retry_at.has_value());
        CHECK_THAT(e.message, mskiam_test::contains_substring("scripted: http_status: STS answered 500"));
      }
  }
}

namespace {
// The retry delay the provider announced with its last refresh_failed event.
std::chrono::system_clock::duration last_retry_delay(Fixture& f) {
  std::lock_guard<std::mutex> lock(f.events_mutex);
  for (auto e = f.events.rbegin(); e != f.events.rend(); ++e)
    if (e->type == mskiam::EventType::refresh_failed && e->retry_at) return *e->retry_at - e->at;
  throw std::runtime_error("no refresh_failed event with a retry time");
}
}  // namespace

TEST_CASE("provider: refresh retries back off exponentially - jittered - up to the cap") {
  // One-hour credentials: the first retry after [15 s, 30 s] (1/120 of the lifetime, jittered
  // down to half), each next one twice as late, capped at 5 min (1/12 of the lifetime).
  Fixture f;
  auto p = f.make();
  p->token();
  f.clock.advance(41min);  // refresh due, 19 min of validity left
  f.source.script().fail = true;
  std::chrono::system_clock::duration base = 30s;
  for (int failure = 1; failure <= 6; ++failure) {
    p->token();
    REQUIRE(f.count(mskiam::EventType::refresh_failed) == failure);
    const auto delay = last_retry_delay(f);
    INFO("failure " << failure << ": retry after "
                    << std::chrono::duration_cast<std::chrono::milliseconds>(delay).count() << " ms");
    CHECK(delay >= base / 2);
    CHECK(delay <= base);
    base = std::min<std::chrono::system_clock::duration>(base * 2, 5min);
    f.clock.advance(delay);  // exactly at the announced time: the next attempt happens
  }
  CHECK(f.fetches() == 7);
}

TEST_CASE("provider: providers that fail together do not retry together") {
  constexpr int providers = 16;
  std::vector<std::unique_ptr<Fixture>> fixtures;
  std::vector<std::unique_ptr<Provider>> alive;  // distinct providers at once, as in a fleet
  std::vector<std::chrono::system_clock::duration> delays;
  for (int i = 0; i < providers; ++i) {
    fixtures.push_back(std::make_unique<Fixture>());
    Fixture& f = *fixtures.back();
    alive.push_back(f.make());
    alive.back()->token();
    f.clock.advance(41min);
    f.source.script().fail = true;
    alive.back()->token();
    delays.push_back(last_retry_delay(f));
  }
  std::sort(delays.begin(), delays.end());
  const auto distinct = std::unique(delays.begin(), delays.end()) - delays.begin();
  CHECK(distinct >= providers - 2);  // the same instant twice is chance; all alike is no jitter
  CHECK(delays.front() >= 15s);
  CHECK(delays.back() <= 30s);
}

TEST_CASE("provider: credentials that expire while the source is down end in a clear error") {
  Fixture f;
  auto p = f.make();
  p->token();
  f.source.script().fail = true;
  f.clock.advance(59min + 30s);  // 30 s left, inside the 60 s margin: no usable credentials
  try {
    p->token();
    FAIL("expected an error");
  } catch (const mskiam::Error& e) {
    CHECK(e.kind() == mskiam::ErrorKind::expired);
    CHECK(e.source() == "scripted");
    CHECK_THAT(e.what(), mskiam_test::contains_substring("the cached ones have expired and the refresh failed"));
    CHECK_THAT(e.what(), mskiam_test::contains_substring("STS answered 500"));
    CHECK(std::string(e.what()).find("scripted-secret") == std::string::npos);
  }
  f.source.script().fail = false;
  f.clock.advance(1h);  // backoff over, source back: recovers on its own
  CHECK_NOTHROW(p->token());
}

TEST_CASE("provider: a first fetch that fails throws the source's error") {
  Fixture f;
  f.source.script().fail = true;
  auto p = f.make();
  try {
    p->token();
    FAIL("expected an error");
  } catch (const mskiam::Error& e) {
    CHECK(e.kind() == mskiam::ErrorKind::http_status);
    CHECK(std::string(e.what()) == "scripted: http_status: STS answered 500");
  }
}

TEST_CASE("provider: principal change allowed is reported and taken") {
  Fixture f;
  auto p = f.make(mskiam::PrincipalChange::allow);
  p->token();
  f.source.script().principal = "arn:aws:sts::123456789012:assumed-role/MskRole/other";
  f.clock.advance(41min);
  CHECK(p->token().principal == "arn:aws:sts::123456789012:assumed-role/MskRole/other");
  REQUIRE(f.count(mskiam::EventType::principal_changed) == 1);
  std::lock_guard<std::mutex> lock(f.events_mutex);
  for (const auto& e : f.events)
    if (e.type == mskiam::EventType::principal_changed) {
      CHECK(e.previous_principal == "arn:aws:sts::123456789012:assumed-role/MskRole/fixed");
      CHECK(e.principal == "arn:aws:sts::123456789012:assumed-role/MskRole/other");
    }
}

TEST_CASE("provider: principal change rejected keeps old credentials - then fails clearly") {
  Fixture f;
  auto p = f.make(mskiam::PrincipalChange::reject);
  const auto first = p->token();
  f.source.script().principal = "arn:aws:sts::123456789012:assumed-role/MskRole/other";
  f.clock.advance(41min);
  CHECK(p->token().principal == first.principal);
  CHECK(f.count(mskiam::EventType::principal_change_rejected) == 1);
  f.clock.advance(19min);  // the old credentials are gone
  try {
    p->token();
    FAIL("expected an error");
  } catch (const mskiam::Error& e) {
    CHECK(e.kind() == mskiam::ErrorKind::principal_changed);
    CHECK_THAT(e.what(), mskiam_test::contains_substring("MskRole/other"));
  }
}

TEST_CASE("provider: concurrent callers trigger one fetch - not many") {
  Fixture f;
  std::atomic<int> inside{0};
  f.source.script().during_fetch = [&] {
    ++inside;
    std::this_thread::sleep_for(50ms);
  };
  auto p = f.make();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&] {
      if (!p->token().value.empty()) ++ok;
    });
  for (auto& t : threads) t.join();
  CHECK(ok == 8);
  CHECK(f.fetches() == 1);
  CHECK(inside == 1);
}

TEST_CASE("provider: static credentials without expiration are fetched once") {
  mskiam::Credentials c;
  c.access_key_id = "AKIDEXAMPLE";
  c.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  FakeClock clock;
  mskiam::TokenProvider<mskiam::StaticCredentials, FakeClock> p{mskiam::StaticCredentials{c}, options(),
                                                                 {}, clock};
  for (int i = 0; i < 100; ++i) {
    p.token();
    clock.advance(1h);
  }
  CHECK(p.counters().fetches == 1);
  CHECK(p.counters().tokens == 100);
}

TEST_CASE("provider: bad options are refused at construction") {
  FakeClock clock;
  mskiam::TokenOptions o;
  CHECK_THROWS_AS(Provider(ScriptedSource(clock), o, {}, clock), mskiam::Error);
  o.region = "us-east-1";
  o.lifetime = 0s;
  CHECK_THROWS_AS(Provider(ScriptedSource(clock), o, {}, clock), mskiam::Error);
}

TEST_CASE("provider: tokens carry the moment the provider wants to be asked again") {
  Fixture f;
  f.without_jitter();
  auto p = f.make();
  const auto start = f.clock.now();
  // The refresh point (40 minutes in) is after this token's expiry: nothing to add.
  CHECK_FALSE(p->token().refresh_at);
  f.clock.advance(30min);
  const auto t = p->token();
  REQUIRE(t.refresh_at);
  CHECK(*t.refresh_at == start + 40min);  // a third of one hour before expiry
  f.clock.advance(11min);
  f.source.script().fail = true;
  const auto after_failure = p->token();
  REQUIRE(after_failure.refresh_at);
  // After a failed refresh: the jittered retry time, within the backoff cap of 5 minutes.
  CHECK(*after_failure.refresh_at > f.clock.now());
  CHECK(*after_failure.refresh_at <= f.clock.now() + 5min);
}
