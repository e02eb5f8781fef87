// write_prometheus: the exposition of a provider's metrics, label escaping, the label names it
// refuses, and that no secret reaches it. tests/cli/test_prometheus.py parses the same format
// with Debian's python3-prometheus-client.
#include <chrono>
#include <string>
#include <vector>

#include "catch.hpp"
#include "mskiam/prometheus.hpp"
#include "mskiam/sources/static.hpp"
#include "support/error_of.hpp"
#include "support/fake_clock.hpp"
#include "support/flaky_source.hpp"

namespace {

using namespace std::chrono_literals;
using mskiam_test::FakeClock;

using Source = mskiam_test::FlakySource;

mskiam::TokenOptions options() {
  mskiam::TokenOptions o;
  o.region = "us-east-1";
  return o;
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("prometheus: a provider after a failed refresh - every family with its value") {
  FakeClock clock;
  bool fail = false;
  mskiam::TokenProvider<Source, FakeClock> p{Source{clock, &fail}, options(), {}, clock};
  p.token();
  clock.advance(45min);
  fail = true;
  p.token();  // the refresh fails; the cached credentials (15 minutes left) still sign
  clock.advance(30s);
  std::string text;
  mskiam::write_prometheus(text, p, {{"client", "orders-api"}});
  const std::string l = "{client=\"orders-api\"}";
  CHECK(text ==
        "# HELP mskiam_credential_fetches_total Times the credential source was asked.\n"
        "# TYPE mskiam_credential_fetches_total counter\n"
        "mskiam_credential_fetches_total" + l + " 2\n"
        "# HELP mskiam_credential_fetch_failures_total Fetches that failed; valid cached credentials were kept.\n"
        "# TYPE mskiam_credential_fetch_failures_total counter\n"
        "mskiam_credential_fetch_failures_total" + l + " 1\n"
        "# HELP mskiam_principal_changes_total Refreshed credentials that carried another principal and were taken.\n"
        "# TYPE mskiam_principal_changes_total counter\n"
        "mskiam_principal_changes_total" + l + " 0\n"
        "# HELP mskiam_tokens_signed_total Tokens signed.\n"
        "# TYPE mskiam_tokens_signed_total counter\n"
        "mskiam_tokens_signed_total" + l + " 2\n"
        "# HELP mskiam_credentials_expiry_seconds Seconds until the cached credentials expire; negative once expired.\n"
        "# TYPE mskiam_credentials_expiry_seconds gauge\n"
        "mskiam_credentials_expiry_seconds" + l + " 870.000\n"
        "# HELP mskiam_token_expiry_seconds Seconds until the last token signed expires; negative once expired.\n"
        "# TYPE mskiam_token_expiry_seconds gauge\n"
        "mskiam_token_expiry_seconds" + l + " 810.000\n"
        "# HELP mskiam_last_success_age_seconds Seconds since the last successful fetch.\n"
        "# TYPE mskiam_last_success_age_seconds gauge\n"
        "mskiam_last_success_age_seconds" + l + " 2730.000\n"
        "# HELP mskiam_refresh_failing 1 while the last fetch failed, 0 after a success.\n"
        "# TYPE mskiam_refresh_failing gauge\n"
        "mskiam_refresh_failing" + l + " 1\n"
        "# HELP mskiam_token_lifetime_seconds The token lifetime the provider asks for.\n"
        "# TYPE mskiam_token_lifetime_seconds gauge\n"
        "mskiam_token_lifetime_seconds" + l + " 900\n"
        "# HELP mskiam_provider_info The principal and source of the cached credentials.\n"
        "# TYPE mskiam_provider_info gauge\n"
        "mskiam_provider_info{client=\"orders-api\",principal=\"arn:aws:sts::123456789012:assumed-role/MskRole/app\",source=\"sts_source\"} 1\n");
  CHECK(text.find("events-secret-value") == std::string::npos);
  CHECK(text.find("events-session-token") == std::string::npos);
}

TEST_CASE("prometheus: label values are escaped - backslash quote and line feed") {
  mskiam::PrometheusEntry entry;
  entry.labels = {{"path", "C:\\kafka\\\"prod\"\nline two"}};
  std::string text;
  mskiam::write_prometheus(text, {entry}, std::chrono::system_clock::now());
  CHECK(text.find("mskiam_tokens_signed_total{path=\"C:\\\\kafka\\\\\\\"prod\\\"\\nline two\"} 0\n") !=
        std::string::npos);
  // Each sample stays on one line: the line feed of the value is escaped, not written.
  CHECK(text.find("\nline two") == std::string::npos);
}

TEST_CASE("prometheus: label names the format refuses - or that mskiam uses - are refused") {
  for (const char* name : {"", "1st", "bad-name", "__reserved", "principal", "source"}) {
    mskiam::PrometheusEntry entry;
    entry.labels = {{name, "x"}};
    std::string text;
    INFO("label name \"" << name << "\"");
    const auto e = mskiam_test::error_of([&] { mskiam::write_prometheus(text, {entry}, {}); });
    CHECK(e.kind() == mskiam::ErrorKind::invalid_argument);
    CHECK(e.source() == "prometheus");
    CHECK(text.empty());
  }
  mskiam::PrometheusEntry twice;
  twice.labels = {{"client", "a"}, {"client", "b"}};
  std::string text;
  CHECK_THAT(mskiam_test::error_of([&] { mskiam::write_prometheus(text, {twice}, {}); }).what(),
             mskiam_test::contains_substring("label \"client\" is given twice"));
  mskiam::PrometheusEntry good;
  good.labels = {{"_client2", "a"}, {"Env", "b"}};
  CHECK_NOTHROW(mskiam::write_prometheus(text, {good}, {}));
}

TEST_CASE("prometheus: several providers - each family once with one sample per provider") {
  FakeClock clock;
  bool fail = false;
  mskiam::TokenProvider<Source, FakeClock> a{Source{clock, &fail}, options(), {}, clock};
  mskiam::TokenProvider<Source, FakeClock> b{Source{clock, &fail}, options(), {}, clock};
  a.token();
  std::string text;
  mskiam::write_prometheus(text,
                           {mskiam::prometheus_entry(a, {{"client", "a"}}),
                            mskiam::prometheus_entry(b, {{"client", "b"}})},
                           clock.now());
  CHECK(occurrences(text, "# TYPE mskiam_tokens_signed_total counter\n") == 1);
  CHECK(text.find("mskiam_tokens_signed_total{client=\"a\"} 1\n") != std::string::npos);
  CHECK(text.find("mskiam_tokens_signed_total{client=\"b\"} 0\n") != std::string::npos);
  // b has fetched nothing: no expiry, no last success for it, a's are there.
  CHECK(text.find("mskiam_credentials_expiry_seconds{client=\"a\"} 3600.000\n") != std::string::npos);
  CHECK(text.find("mskiam_credentials_expiry_seconds{client=\"b\"}") == std::string::npos);
  CHECK(text.find("mskiam_last_success_age_seconds{client=\"b\"}") == std::string::npos);
}

TEST_CASE("prometheus: credentials that never expire have no expiry sample") {
  mskiam::Credentials c;
  c.access_key_id = "AKIDEXAMPLE";
  c.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  FakeClock clock;
  mskiam::TokenProvider<mskiam::StaticCredentials, FakeClock> p{mskiam::StaticCredentials{c},
                                                                 options(), {}, clock};
  p.token();
  std::string text;
  mskiam::write_prometheus(text, p);
  CHECK(text.find("mskiam_credentials_expiry_seconds") == std::string::npos);
  CHECK(text.find("mskiam_token_expiry_seconds 900.000\n") != std::string::npos);
  CHECK(text.find("mskiam_provider_info{principal=\"\",source=\"static\"} 1\n") != std::string::npos);
  CHECK(text.find("wJalrXUtnFEMI") == std::string::npos);
}
