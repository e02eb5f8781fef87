// A source of one-hour STS credentials that throws a throttling error while `*fail` is true, for
// tests of what operators see: events, metrics, their exposition.
#pragma once

#include <chrono>
#include <string_view>

#include "mskiam/credentials.hpp"
#include "mskiam/error.hpp"
#include "support/fake_clock.hpp"

namespace mskiam_test {

struct FlakySource {
  FakeClock clock;
  bool* fail;
  mskiam::Credentials fetch() {
    if (*fail) throw mskiam::Error(mskiam::ErrorKind::service_error, "sts", "Throttling: Rate exceeded", "Throttling");
    mskiam::Credentials c;
    c.access_key_id = "ASIAEVENTS";
    c.secret_access_key = "events-secret-value";
    c.session_token = "events-session-token";
    c.expiration = clock.now() + std::chrono::hours(1);
    c.principal = "arn:aws:sts::123456789012:assumed-role/MskRole/app";
    return c;
  }
  std::string_view name() const { return "sts_source"; }
};

}  // namespace mskiam_test
