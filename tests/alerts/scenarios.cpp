// mskiam-alert-scenarios: a provider under a fake clock through each outage docs/alerts.md has
// a rule for, its metrics written with write_prometheus once a simulated minute, as a scrape
// would see them. tests/alerts/test_alerts.py turns them into promtool's input series and checks
// which alerts fire when. Refresh jitter is off, so that each scenario's times are exact.
//
//   mskiam-alert-scenarios    every scenario: "# scenario NAME minute M", then the exposition
#include <chrono>
#include <functional>
#include <iostream>
#include <memory>
#include <string>

#include "mskiam/prometheus.hpp"
#include "support/fake_clock.hpp"

namespace {

using namespace std::chrono_literals;
using mskiam_test::FakeClock;

// What the scenario makes of STS from one minute to the next.
struct Script {
  FakeClock clock;
  std::chrono::seconds lifetime{3600};
  std::string principal = "arn:aws:sts::123456789012:assumed-role/MskRole/orders";
  bool fail = false;
  int fetches = 0;
};

class ScriptedSts {
 public:
  explicit ScriptedSts(std::shared_ptr<Script> script) : script_(std::move(script)) {}
  mskiam::Credentials fetch() {
    if (script_->fail)
      throw mskiam::Error(mskiam::ErrorKind::http_status, "sts", "STS answered 503", "503");
    ++script_->fetches;
    mskiam::Credentials c;
    c.access_key_id = "ASIASCENARIO" + std::to_string(script_->fetches);
    c.secret_access_key = "scenario-secret-" + std::to_string(script_->fetches);
    c.session_token = "scenario-session-token";
    c.expiration = script_->clock.now() + script_->lifetime;
    c.principal = script_->principal;
    return c;
  }
  std::string_view name() const { return "sts"; }

 private:
  std::shared_ptr<Script> script_;
};

// Runs `minutes` simulated minutes; `step(minute, script)` changes STS and says whether the
// application asks for a token that minute.
void run(const std::string& name, std::chrono::seconds lifetime, int minutes,
         const std::function<bool(int, Script&)>& step) {
  FakeClock clock;
  auto script = std::make_shared<Script>();
  script->clock = clock;
  script->lifetime = lifetime;
  mskiam::ProviderOptions po;
  po.refresh.refresh_jitter = 0;
  po.jitter_seed = 1;
  mskiam::TokenOptions options;
  options.region = "us-east-1";
  mskiam::TokenProvider<ScriptedSts, FakeClock> provider{ScriptedSts(script), options, po, clock};
  for (int minute = 0; minute <= minutes; ++minute) {
    if (minute > 0) clock.advance(1min);
    if (step(minute, *script)) {
      try {
        provider.token();
      } catch (const mskiam::Error&) {
        // No usable credentials: what the metrics show is the point.
      }
    }
    std::string text;
    mskiam::write_prometheus(text, provider, {{"scenario", name}});
    std::cout << "# scenario " << name << " minute " << minute << "\n" << text;
  }
}

}  // namespace

int main() {
  // Three hours of one-hour credentials, refreshed every 40 minutes: no alert.
  run("healthy", 1h, 180, [](int, Script&) { return true; });
  // The session name changes from minute 30; the refresh at 40 takes the new principal.
  run("principal_changed", 1h, 90, [](int minute, Script& s) {
    if (minute == 30) s.principal = "arn:aws:sts::123456789012:assumed-role/MskRole/other";
    return true;
  });
  // Three-hour credentials, STS down from minute 115 to 140: the refresh at 120 fails for 20
  // minutes, with 35 minutes of credentials left when STS is back.
  run("refresh_failing", 3h, 200, [](int minute, Script& s) {
    s.fail = minute >= 115 && minute < 140;
    return true;
  });
  // STS down for good from minute 35: the refresh at 40 fails, the credentials end at 60.
  run("sts_down", 1h, 75, [](int minute, Script& s) {
    s.fail = minute >= 35;
    return true;
  });
  // One token at minute 0, then nobody asks again (an application that never serves librdkafka's
  // refresh callback): the token ends at 15.
  run("token_never_refreshed", 1h, 40, [](int minute, Script&) { return minute == 0; });
  // Nobody ever asks for a token: librdkafka never connects, silently.
  run("never_signed", 1h, 10, [](int, Script&) { return false; });
  return 0;
}
