// The credential source the end-to-end tests compile into the examples (MSKIAM_EXAMPLE_SOURCE):
// a simulated STS in the client process. Every fetch mints new temporary credentials that expire
// after $MSKIAM_E2E_CREDENTIAL_LIFETIME_S seconds and registers them in the broker emulator's
// credential registry ($MSKIAM_E2E_REGISTRY), as STS makes new credentials known to MSK.
//
// The principal is arn:aws:sts::123456789012:assumed-role/<role>/<session name>, where the session
// name is
//   - the --session-name of the example when given (the fix: one principal for the process), or
//   - "aws-sdk-js-session-<epoch ms>", new at every fetch, as the AWS SDK for JavaScript and EKS
//     Pod Identity do (the incident: the principal changes at every refresh).
// Failures are injected per fetch: $MSKIAM_E2E_FAIL_FETCHES="2=500,3=timeout" makes the second
// fetch of this process fail at once as an HTTP 500 would, and the third after 2 s as a timeout.
#pragma once

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <thread>

#include "mskiam/credentials.hpp"
#include "mskiam/error.hpp"
#include "mskiam/sources/any.hpp"

namespace {

class SimulatedSts {
 public:
  static constexpr const char* source = "simulated_sts";

  SimulatedSts(std::string role_arn, std::string session_name)
      : role_(role_name(role_arn)), session_name_(std::move(session_name)) {
    const char* registry = std::getenv("MSKIAM_E2E_REGISTRY");
    if (registry == nullptr || *registry == '\0')
      throw mskiam::Error(mskiam::ErrorKind::not_configured, source,
                          "MSKIAM_E2E_REGISTRY is not set");
    registry_ = registry;
    if (const char* f = std::getenv("MSKIAM_E2E_FAIL_FETCHES"))
      failures_ = std::string(",") + f + ",";
    if (const char* s = std::getenv("MSKIAM_E2E_CREDENTIAL_LIFETIME_S")) lifetime_s_ = std::atol(s);
    if (lifetime_s_ < 3) lifetime_s_ = 3;
  }

  mskiam::Credentials fetch() {
    inject_failure();
    const auto now = std::chrono::system_clock::now();
    const long long now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    const std::string session =
        session_name_.empty() ? "aws-sdk-js-session-" + std::to_string(now_ms) : session_name_;
    mskiam::Credentials c;
    c.access_key_id = "ASIAE2E" + random_string(13, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
    c.secret_access_key = random_string(40, alphabet);
    c.session_token = random_string(64, alphabet);
    c.expiration = now + std::chrono::seconds(lifetime_s_);
    c.principal = "arn:aws:sts::123456789012:assumed-role/" + role_ + "/" + session;
    c.source = source;
    register_credentials(c, now_ms + lifetime_s_ * 1000);
    return c;
  }

  std::string_view name() const noexcept { return source; }

 private:
  static constexpr const char* alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

  static std::string role_name(const std::string& role_arn) {
    const auto slash = role_arn.rfind('/');
    return slash == std::string::npos ? "MskRole" : role_arn.substr(slash + 1);
  }

  std::string random_string(std::size_t n, const char* chars) {
    const std::size_t count = std::char_traits<char>::length(chars);
    std::uniform_int_distribution<std::size_t> pick(0, count - 1);
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s += chars[pick(rng_)];
    return s;
  }

  void inject_failure() {
    const std::string n = "," + std::to_string(++fetches_) + "=";
    if (failures_.find(n + "timeout,") != std::string::npos) {
      std::this_thread::sleep_for(std::chrono::seconds(2));
      throw mskiam::Error(mskiam::ErrorKind::timeout, source,
                          "no answer from STS within 2000 ms (injected)");
    }
    if (failures_.find(n + "500,") != std::string::npos)
      throw mskiam::Error(mskiam::ErrorKind::http_status, source,
                          "STS answered HTTP 500 InternalFailure (injected)");
  }

  // Adds the credentials to the registry, a JSON object that several client processes extend:
  // under an exclusive lock, read it, insert before the final '}', write a copy and rename it.
  void register_credentials(const mskiam::Credentials& c, long long expiration_ms) const {
    const std::string lock_path = registry_ + ".lock";
    const int lock = open(lock_path.c_str(), O_CREAT | O_RDWR, 0600);
    if (lock < 0 || flock(lock, LOCK_EX) != 0)
      throw mskiam::Error(mskiam::ErrorKind::io, source, "cannot lock " + lock_path);
    std::string text;
    {
      std::ifstream in(registry_);
      text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    const auto end = text.rfind('}');
    const std::string entry = "\"" + c.access_key_id + "\": {\"secret_access_key\": \"" +
                              c.secret_access_key.reveal() + "\", \"principal\": \"" +
                              c.principal + "\", \"session_token\": \"" +
                              c.session_token.reveal() + "\", \"expiration_ms\": " +
                              std::to_string(expiration_ms) + "}";
    if (end == std::string::npos || text.find('"') == std::string::npos)
      text = "{" + entry + "}\n";
    else
      text = text.substr(0, end) + ",\n " + entry + "}\n";
    const std::string tmp = registry_ + ".tmp." + std::to_string(getpid());
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << text;
    }
    const bool renamed = std::rename(tmp.c_str(), registry_.c_str()) == 0;
    close(lock);
    if (!renamed) throw mskiam::Error(mskiam::ErrorKind::io, source, "cannot write " + registry_);
  }

  std::string role_, session_name_, registry_, failures_;
  long lifetime_s_ = 20;
  long fetches_ = 0;
  std::mt19937_64 rng_{std::random_device{}()};
};

// The examples' make_source(); region and STS endpoint do not matter to a simulated STS.
mskiam::AnySource make_source(const std::string& /*region*/, const std::string& role_arn,
                              const std::string& session_name,
                              const std::string& /*sts_endpoint*/) {
  return SimulatedSts(role_arn, session_name);
}

}  // namespace
