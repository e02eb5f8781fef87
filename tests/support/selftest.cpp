// Self-test of the test-support headers; not part of the CMake build. Build and run by hand:
//   g++ -std=c++17 -Wall -Wextra -Wpedantic -Werror -Wconversion -Wshadow
//       -DMSKIAM_SOURCE_DIR='"/work/main"' tests/support/selftest.cpp -o /tmp/selftest && /tmp/selftest
#include "aws_fakes.hpp"
#include "child_process.hpp"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <thread>

namespace {

int failures = 0;

void check(bool ok, const std::string& what) {
  std::printf("%s %s\n", ok ? "ok  " : "FAIL", what.c_str());
  if (!ok) ++failures;
}

std::string json_string_field(const std::string& json, const std::string& name) {
  const std::string key = "\"" + name + "\": \"";
  const auto p = json.find(key);
  if (p == std::string::npos) return {};
  const auto b = p + key.size();
  return json.substr(b, json.find('"', b) - b);
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

}  // namespace

int main() {
  using namespace std::chrono_literals;
  using mskiam_test::AwsFakes;
  using mskiam_test::AwsFakesOptions;
  using mskiam_test::ChildProcess;

  // ChildProcess: a child that ignores SIGTERM is killed after the grace period and reaped.
  {
    ChildProcess c({"/bin/sh", "-c", "trap '' TERM; exec sleep 30"});
    check(c.running(), "child running");
    std::this_thread::sleep_for(100ms);
    const auto t0 = std::chrono::steady_clock::now();
    auto st = c.stop(300ms);
    const auto took = std::chrono::steady_clock::now() - t0;
    check(st && WIFSIGNALED(*st) && WTERMSIG(*st) == SIGKILL, "SIGTERM ignored -> SIGKILL");
    check(took < 2s, "stop bounded by the grace period");
    check(!c.running(), "reaped");
  }
  {
    bool threw = false;
    try {
      ChildProcess c({"/bin/false"});
      mskiam_test::wait_for_file("/nonexistent/port", 2s, &c);
    } catch (const std::exception&) {
      threw = true;
    }
    check(threw, "wait_for_file throws when the child exits");
    threw = false;
    try {
      ChildProcess c({"/nonexistent/program"});
    } catch (const std::exception&) {
      threw = true;
    }
    check(threw, "spawn of a missing program throws");
  }

  std::string dir;
  pid_t pid = 0;
  {
    AwsFakesOptions o;
    o.base_credentials = {"AKIDSELFTEST:selftestsecret:arn:aws:iam::123456789012:user/selftest"};
    o.config_json = R"({"container": {"authorization_token": "Bearer tok"}})";
    o.credential_lifetime_s = 20;
    AwsFakes fakes(o);
    dir = fakes.dir();
    pid = fakes.pid();
    check(fakes.port() > 0, "port " + std::to_string(fakes.port()));
    check(fakes.url() == "http://127.0.0.1:" + std::to_string(fakes.port()), "url " + fakes.url());

    std::set<std::string> keys;
    for (int i = 0; i < 3; ++i) {
      auto r = fakes.request("GET", "/pod-identity", {}, {{"Authorization", "Bearer tok"}});
      check(r.status == 200, "pod identity fetch " + std::to_string(i));
      keys.insert(json_string_field(r.body, "AccessKeyId"));
    }
    check(keys.size() == 3, "pod identity: new credentials every fetch");
    const std::string reg = fakes.registry_json();
    bool all_registered = true;
    for (const auto& k : keys) all_registered = all_registered && contains(reg, k);
    check(all_registered, "issued credentials are in the registry");
    check(contains(reg, "AKIDSELFTEST"), "base credentials registered");
    check(contains(reg, "eks-cluster-pod-"), "pod identity principal in the registry");

    check(fakes.request("GET", "/pod-identity").status == 401, "missing Authorization refused");

    fakes.control(R"({"faults": [{"endpoint": "container", "type": "status", "status": 503, "times": 2}]})");
    check(fakes.request("GET", "/v2/credentials/abc").status == 503, "fault 1");
    check(fakes.request("GET", "/v2/credentials/abc").status == 503, "fault 2");
    check(fakes.request("GET", "/v2/credentials/abc", {}, {{"Authorization", "Bearer tok"}}).status == 200,
          "queue consumed");
    bool refused = false;
    try {
      fakes.control(R"({"faults": [{"endpoint": "nope"}]})");
    } catch (const std::exception&) {
      refused = true;
    }
    check(refused, "bad control document refused");

    fakes.control(R"({"faults": [{"endpoint": "sts", "type": "error", "code": "Throttling"}]})");
    auto sts = fakes.request("POST", "/", "Action=GetCallerIdentity&Version=2011-06-15",
                             {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}});
    check(sts.status == 400 && contains(sts.body, "<Code>Throttling</Code>"), "STS error fault");
    sts = fakes.request("POST", "/", "Action=GetCallerIdentity&Version=2011-06-15",
                        {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}});
    check(sts.status == 403 && contains(sts.body, "MissingAuthenticationToken"), "unsigned GetCallerIdentity refused");

    auto tok = fakes.request("PUT", "/latest/api/token", {}, {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}});
    check(tok.status == 200 && !tok.body.empty(), "IMDS token");
    auto role = fakes.request("GET", "/latest/meta-data/iam/security-credentials/", {},
                              {{"X-aws-ec2-metadata-token", tok.body}});
    check(role.status == 200 && role.body == "mskiam-instance-role", "IMDS role name");

    const auto lines = fakes.log_lines();
    check(lines.size() == 11, "log lines: " + std::to_string(lines.size()));
    bool no_secret = true;
    for (const auto& l : lines) no_secret = no_secret && !contains(l, "Bearer tok") && !contains(l, tok.body);
    check(no_secret, "log holds no Authorization value or IMDS token");
  }
  check(!std::filesystem::exists(dir), "temp dir removed");
  check(::kill(pid, 0) != 0, "fake process gone");

  std::printf("%s\n", failures == 0 ? "selftest: all passed" : "selftest: FAILURES");
  return failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
