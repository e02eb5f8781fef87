// EnvironmentCredentials and the redaction of secrets when credentials are printed.
#include <cstdlib>
#include <sstream>
#include <string>

#include "catch.hpp"
#include "mskiam/detail/time.hpp"
#include "mskiam/sources/environment.hpp"
#include "support/error_of.hpp"

namespace {
struct CleanEnvironment {
  CleanEnvironment() { clear(); }
  ~CleanEnvironment() { clear(); }
  static void clear() {
    for (const char* name : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                             "AWS_CREDENTIAL_EXPIRATION"})
      unsetenv(name);
  }
};

mskiam::Error fetch_error() {
  return mskiam_test::error_of([] { mskiam::EnvironmentCredentials{}.fetch(); });
}
}  // namespace

TEST_CASE("environment: key - secret - session token and expiration") {
  CleanEnvironment env;
  setenv("AWS_ACCESS_KEY_ID", "ASIAENVEXAMPLE", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "env-secret-value", 1);
  setenv("AWS_SESSION_TOKEN", "env-session-token", 1);
  setenv("AWS_CREDENTIAL_EXPIRATION", "2030-01-01T00:00:00Z", 1);
  const auto c = mskiam::EnvironmentCredentials{}.fetch();
  CHECK(c.access_key_id == "ASIAENVEXAMPLE");
  CHECK(c.secret_access_key.reveal() == "env-secret-value");
  CHECK(c.session_token.reveal() == "env-session-token");
  REQUIRE(c.expiration);
  CHECK(mskiam::detail::iso8601(*c.expiration) == "2030-01-01T00:00:00Z");
  CHECK(c.source == "environment");
}

TEST_CASE("environment: not configured - partial and malformed are distinct errors") {
  CleanEnvironment env;
  auto e = fetch_error();
  CHECK(e.kind() == mskiam::ErrorKind::not_configured);
  CHECK(e.source() == "environment");
  setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
  e = fetch_error();
  CHECK(e.kind() == mskiam::ErrorKind::invalid_argument);
  CHECK_THAT(e.what(), mskiam_test::contains_substring("AWS_SECRET_ACCESS_KEY is not"));
  setenv("AWS_SECRET_ACCESS_KEY", "env-secret-value", 1);
  setenv("AWS_CREDENTIAL_EXPIRATION", "tomorrow", 1);
  e = fetch_error();
  CHECK_THAT(e.what(), mskiam_test::contains_substring("AWS_CREDENTIAL_EXPIRATION \"tomorrow\""));
  CHECK(std::string(e.what()).find("env-secret-value") == std::string::npos);
}

TEST_CASE("printing credentials never shows the secret key or the session token") {
  mskiam::Credentials c;
  c.access_key_id = "ASIAPRINT";
  c.secret_access_key = "print-secret-value";
  c.session_token = "print-session-token";
  c.principal = "arn:aws:sts::123456789012:assumed-role/R/s";
  std::ostringstream os;
  os << c << ' ' << c.secret_access_key;
  const std::string text = os.str();
  CHECK(text.find("print-secret-value") == std::string::npos);
  CHECK(text.find("print-session-token") == std::string::npos);
  CHECK_THAT(text, mskiam_test::contains_substring("ASIAPRINT"));
  CHECK_THAT(text, mskiam_test::contains_substring("<redacted>"));
  CHECK_THAT(text, mskiam_test::contains_substring("assumed-role/R/s"));
}

TEST_CASE("a moved-from or cleared secret is empty") {
  mskiam::Secret a("value");
  mskiam::Secret b(std::move(a));
  CHECK(b.reveal() == "value");
  CHECK(a.empty());  // NOLINT(bugprone-use-after-move): wiping on move is the contract
  b.clear();
  CHECK(b.empty());
}
