// Events and the metrics snapshot: what operators see, and that no secret is in it.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "catch.hpp"
#include "mskiam/provider.hpp"
#include "support/fake_clock.hpp"
#include "support/flaky_source.hpp"

namespace {

using namespace std::chrono_literals;

using mskiam_test::FlakySource;

}  // namespace

TEST_CASE("events: every fetch - failure and token is described without secrets") {
  mskiam_test::FakeClock clock;
  bool fail = false;
  std::vector<std::string> lines;
  mskiam::ProviderOptions po;
  po.on_event = [&](const mskiam::Event& e) { lines.push_back(mskiam::describe(e)); };
  mskiam::TokenOptions o;
  o.region = "us-east-1";
  mskiam::TokenProvider<FlakySource, mskiam_test::FakeClock> p{FlakySource{clock, &fail}, o, po, clock};
  p.token();
  fail = true;
  clock.advance(50min);  // refresh due, fails; 10 min left < token lifetime: expiring warning too
  p.token();
  REQUIRE(lines.size() == 5);
  CHECK(lines[0] ==
        "credentials_fetched source=sts_source access_key_id=ASIAEVENTS "
        "principal=arn:aws:sts::123456789012:assumed-role/MskRole/app expires=2023-11-14T23:13:20Z");
  CHECK(lines[1].rfind("token_issued ", 0) == 0);
  CHECK(lines[2].rfind("refresh_failed source=sts_source", 0) == 0);
  CHECK(lines[2].find("retry_at=") != std::string::npos);
  CHECK(lines[2].find("cause=\"sts: service_error: Throttling: Rate exceeded\"") != std::string::npos);
  CHECK(lines[3].rfind("credentials_expiring ", 0) == 0);
  CHECK(lines[4].rfind("token_issued ", 0) == 0);
  for (const auto& line : lines) {
    CHECK(line.find("events-secret-value") == std::string::npos);
    CHECK(line.find("events-session-token") == std::string::npos);
  }

  const auto m = p.metrics();
  CHECK(m.counters.fetches == 2);
  CHECK(m.counters.failures == 1);
  CHECK(m.counters.tokens == 2);
  CHECK(m.last_fetch_failed);
  CHECK(m.principal == "arn:aws:sts::123456789012:assumed-role/MskRole/app");
  CHECK(m.source == "sts_source");
  CHECK(m.last_error == "sts: service_error: Throttling: Rate exceeded");
  REQUIRE(m.last_success);
  CHECK(*m.last_success == clock.now() - 50min);
  REQUIRE(m.credential_expiration);
  CHECK(*m.credential_expiration == clock.now() + 10min);
}

TEST_CASE("events: severities put failures above routine work") {
  using mskiam::EventType;
  using mskiam::Severity;
  CHECK(mskiam::severity(EventType::principal_change_rejected) == Severity::error);
  CHECK(mskiam::severity(EventType::refresh_failed) == Severity::warning);
  CHECK(mskiam::severity(EventType::principal_changed) == Severity::notice);
  CHECK(mskiam::severity(EventType::credentials_fetched) == Severity::info);
  CHECK(mskiam::severity(EventType::token_issued) == Severity::debug);
}

TEST_CASE("events: a throwing handler does not break token()") {
  mskiam_test::FakeClock clock;
  bool fail = false;
  mskiam::ProviderOptions po;
  po.on_event = [](const mskiam::Event&) { throw std::runtime_error("handler bug"); };
  mskiam::TokenOptions o;
  o.region = "us-east-1";
  mskiam::TokenProvider<FlakySource, mskiam_test::FakeClock> p{FlakySource{clock, &fail}, o, po, clock};
  CHECK_NOTHROW(p.token());
}
