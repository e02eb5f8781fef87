// WebIdentity: the token file read again at every fetch (kubelet rotates it), the role session
// name chosen once (fixed > AWS_ROLE_SESSION_NAME > default) and sent unchanged, configuration
// from the environment, and errors that name the token file but never the token. Assertions on
// tokens are wrapped in extra parentheses so that a failure prints true/false, not the token.
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "catch.hpp"
#include "mskiam/sources/web_identity.hpp"
#include "support/aws_fakes.hpp"
#include "support/profile_fixtures.hpp"
#include "support/error_of.hpp"
#include "support/sts_fixtures.hpp"
#include "support/unprivileged.hpp"

using mskiam::ErrorKind;
using mskiam::SessionName;
using mskiam::WebIdentity;
using mskiam_test::Answer;
using mskiam_test::ScriptedTransport;
using mskiam_test::contains;
using mskiam_test::error_of;
using mskiam_test::form_value;

namespace {

const std::string role_arn = "arn:aws:iam::123456789012:role/WebRole";
const std::string token_a = "eyJhbGciOiJSUzI1NiJ9.first-projected-token.signature-a";
const std::string token_b = "eyJhbGciOiJSUzI1NiJ9.rotated-projected-token.signature-b";

struct Setup {
  mskiam_test::EnvGuard env;
  mskiam_test::TempDir dir;
  ScriptedTransport sts{{Answer::ok(mskiam_test::sts_answer("AssumeRoleWithWebIdentity", "WebRole", "any"))}};
  std::string token_file = dir.write("token", token_a);

  WebIdentity::Options options(SessionName name = {}) const {
    WebIdentity::Options o;
    o.role_arn = role_arn;
    o.token_file = token_file;
    o.session_name = std::move(name);
    o.sts = sts.options();
    return o;
  }
  std::string sent(const std::string& field, std::size_t call) const {
    return form_value(sts.requests().at(call).body, field);
  }
};

void check_no_token(const std::string& text) {
  CHECK_FALSE(contains(text, "projected-token"));
  CHECK_FALSE(contains(text, "eyJ"));
  CHECK_FALSE(contains(text, "issued-secret"));
  CHECK_FALSE(contains(text, "issued-token"));
}

}  // namespace

TEST_CASE("web identity: token file re-read at every refresh") {
  Setup s;
  WebIdentity source(s.options(SessionName::fixed("pinned")));
  const auto first = source.fetch();
  s.dir.write("token", token_b + "\n");  // kubelet rotated it (a trailing newline is trimmed)
  const auto second = source.fetch();
  REQUIRE(s.sts.calls() == 2);
  CHECK((s.sent("WebIdentityToken", 0) == token_a));
  CHECK((s.sent("WebIdentityToken", 1) == token_b));
  CHECK(first.source == "web_identity");
  CHECK(second.source == "web_identity");
  CHECK(source.name() == "web_identity");
  CHECK(s.sts.requests()[0].url == "https://sts.us-east-1.amazonaws.com/");
  CHECK(mskiam_test::header_value(s.sts.requests()[0], "Authorization").empty());  // unsigned
}

TEST_CASE("web identity: two consecutive fetches send the same RoleSessionName") {
  Setup s;
  s.env.set("AWS_ROLE_SESSION_NAME", "from-env");
  WebIdentity source(s.options());
  source.fetch();
  s.env.set("AWS_ROLE_SESSION_NAME", "changed-later");  // resolved once: ignored from now on
  source.fetch();
  REQUIRE(s.sts.calls() == 2);
  CHECK(s.sent("RoleSessionName", 0) == "from-env");
  CHECK(s.sent("RoleSessionName", 1) == "from-env");
  CHECK(source.session_name() == "from-env");
}

TEST_CASE("web identity: session name precedence is fixed - then AWS_ROLE_SESSION_NAME - then the default") {
  Setup s;
  CHECK(WebIdentity(s.options()).session_name() == mskiam::default_session_name());
  s.env.set("AWS_ROLE_SESSION_NAME", "from-env");
  CHECK(WebIdentity(s.options()).session_name() == "from-env");
  CHECK(WebIdentity(s.options(SessionName::fixed("fixed-name"))).session_name() == "fixed-name");
  WebIdentity fixed(s.options(SessionName::fixed("fixed-name")));
  fixed.fetch();
  fixed.fetch();
  CHECK(s.sent("RoleSessionName", 0) == "fixed-name");
  CHECK(s.sent("RoleSessionName", 1) == "fixed-name");

  s.env.unset("AWS_ROLE_SESSION_NAME");
  WebIdentity automatic(s.options());
  automatic.fetch();
  automatic.fetch();
  CHECK(s.sent("RoleSessionName", 2) == mskiam::default_session_name());
  CHECK(s.sent("RoleSessionName", 3) == mskiam::default_session_name());
}

TEST_CASE("web identity: invalid session names are rejected before any call") {
  Setup s;
  for (const char* bad : {"x", "has space", "a/b", "name:colon"}) {
    INFO(bad);
    s.env.set("AWS_ROLE_SESSION_NAME", bad);
    const auto e = error_of([&] { WebIdentity{s.options()}; });
    CHECK(e.kind() == ErrorKind::invalid_argument);
    CHECK(e.source() == "web_identity");
    CHECK_THAT(e.what(), mskiam_test::contains_substring("role session name"));
    CHECK(error_of([&] { SessionName::fixed(bad); }).kind() == ErrorKind::invalid_argument);
  }
  s.env.unset("AWS_ROLE_SESSION_NAME");
  auto o = s.options();
  o.role_arn = "arn:aws:iam::123456789012:user/NotARole";
  CHECK(error_of([&] { WebIdentity{o}; }).kind() == ErrorKind::invalid_argument);
  o = s.options();
  o.duration = std::chrono::seconds(60);
  CHECK(error_of([&] { WebIdentity{o}; }).kind() == ErrorKind::invalid_argument);
  o = s.options();
  o.token_file.clear();
  CHECK(error_of([&] { WebIdentity{o}; }).kind() == ErrorKind::invalid_argument);
  CHECK(s.sts.calls() == 0);
}

TEST_CASE("web identity: missing - empty and unreadable token files name the file - not the token") {
  Setup s;
  auto o = s.options();
  o.token_file = s.dir.path() + "/absent-token";
  WebIdentity missing(o);  // the file may appear later: checked at fetch
  auto e = error_of([&] { missing.fetch(); });
  CHECK(e.kind() == ErrorKind::io);
  CHECK(e.source() == "web_identity");
  CHECK_THAT(e.what(), mskiam_test::contains_substring(o.token_file));
  CHECK_THAT(e.what(), mskiam_test::contains_substring("No such file or directory"));

  s.dir.write("token", "");
  WebIdentity source(s.options());
  e = error_of([&] { source.fetch(); });
  CHECK(e.kind() == ErrorKind::invalid_argument);
  CHECK_THAT(e.what(), mskiam_test::contains_substring(s.token_file + " is empty"));
  s.dir.write("token", " \n\t\r\n");
  CHECK(error_of([&] { source.fetch(); }).kind() == ErrorKind::invalid_argument);

  s.dir.write("token", std::string(20001, 'a'));
  e = error_of([&] { source.fetch(); });
  CHECK(e.kind() == ErrorKind::invalid_argument);
  CHECK_THAT(e.what(), mskiam_test::contains_substring("20001 bytes"));
  CHECK_FALSE(contains(e.what(), "aaaa"));

  o = s.options();
  o.token_file = s.dir.mkdir("a-directory");
  WebIdentity directory(o);
  e = error_of([&] { directory.fetch(); });
  CHECK(e.kind() == ErrorKind::io);
  CHECK_THAT(e.what(), mskiam_test::contains_substring(o.token_file));

  s.dir.write("token", token_a, 0000);
  mskiam_test::let_unprivileged_enter(s.dir.path());  // root reads anything: ask as nobody
  const std::string refused = mskiam_test::unprivileged_error_of([&] { source.fetch(); });
  CHECK_THAT(refused, Catch::Matchers::StartsWith("io: "));
  CHECK_THAT(refused, mskiam_test::contains_substring("Permission denied"));
  check_no_token(refused);
  CHECK(s.sts.calls() == 0);

  s.dir.write("token", token_a, 0600);  // back: the same source works again
  CHECK(source.fetch().source == "web_identity");
}

TEST_CASE("web identity: from_environment reads the IRSA variables") {
  Setup s;
  auto e = error_of([&] { WebIdentity::from_environment({}, s.sts.options()); });
  CHECK(e.kind() == ErrorKind::not_configured);
  CHECK(e.source() == "web_identity");
  CHECK_THAT(e.what(), mskiam_test::contains_substring("AWS_WEB_IDENTITY_TOKEN_FILE"));
  s.env.set("AWS_ROLE_ARN", role_arn);
  CHECK(error_of([&] { WebIdentity::from_environment({}, s.sts.options()); }).kind() == ErrorKind::not_configured);
  s.env.unset("AWS_ROLE_ARN");
  s.env.set("AWS_WEB_IDENTITY_TOKEN_FILE", s.token_file);
  e = error_of([&] { WebIdentity::from_environment({}, s.sts.options()); });
  CHECK(e.kind() == ErrorKind::invalid_argument);
  CHECK_THAT(e.what(), mskiam_test::contains_substring("AWS_ROLE_ARN is not"));

  s.env.set("AWS_ROLE_ARN", role_arn);
  s.env.set("AWS_ROLE_SESSION_NAME", "irsa-session");
  auto source = WebIdentity::from_environment({}, s.sts.options());
  CHECK(source.session_name() == "irsa-session");
  CHECK(source.token_file() == s.token_file);
  CHECK(source.role_arn() == role_arn);
  CHECK(WebIdentity::from_environment(SessionName::fixed("app-fixed"), s.sts.options()).session_name() == "app-fixed");
  source.fetch();
  CHECK(s.sent("RoleArn", 0) == role_arn);
  CHECK(s.sent("RoleSessionName", 0) == "irsa-session");
  CHECK(s.sts.calls() == 1);
}

TEST_CASE("web identity: STS region and endpoint come from StsOptions") {
  Setup s;
  s.env.set("AWS_REGION", "ap-northeast-1");
  auto o = s.options();
  o.sts.region.clear();
  WebIdentity from_env(o);
  from_env.fetch();
  CHECK(s.sts.last().url == "https://sts.ap-northeast-1.amazonaws.com/");
  o.sts.region = "cn-north-1";
  WebIdentity china(o);
  china.fetch();
  CHECK(s.sts.last().url == "https://sts.cn-north-1.amazonaws.com.cn/");
  CHECK(china.sts().endpoint() == "https://sts.cn-north-1.amazonaws.com.cn");
}

TEST_CASE("web identity: STS errors keep kind and code - name the token file - never the token") {
  Setup s;
  s.sts.set({Answer::status_only(400, mskiam_test::sts_error("InvalidIdentityToken", "Incorrect token audience"))});
  WebIdentity source(s.options(SessionName::fixed("pinned")));
  auto e = error_of([&] { source.fetch(); });
  CHECK(e.kind() == ErrorKind::service_error);
  CHECK(e.code() == "InvalidIdentityToken");
  CHECK(e.source() == "web_identity");
  CHECK(s.sts.calls() == 1);  // not retried
  CHECK_THAT(e.what(), Catch::Matchers::StartsWith("web_identity: service_error: token file " + s.token_file +
                                                   ", session pinned: sts: service_error: "
                                                   "AssumeRoleWithWebIdentity " + role_arn +
                                                   ": InvalidIdentityToken: Incorrect token audience"));
  check_no_token(e.what());

  s.sts.set({Answer::status_only(400, mskiam_test::sts_error("IDPCommunicationError", "try again")),
             Answer::ok(mskiam_test::sts_answer("AssumeRoleWithWebIdentity", "WebRole", "pinned"))});
  CHECK(source.fetch().principal == "arn:aws:sts::123456789012:assumed-role/WebRole/pinned");
  CHECK(s.sts.calls() == 3);  // retried once

  s.sts.set({Answer::fail(ErrorKind::timeout)});
  e = error_of([&] { source.fetch(); });
  CHECK(e.kind() == ErrorKind::timeout);
  CHECK(s.sts.calls() == 6);
  check_no_token(e.what());
}

TEST_CASE("web identity fake: a rotated token file is accepted and the principal stays the same") {
  mskiam_test::EnvGuard env;
  mskiam_test::TempDir dir;
  const std::string token_file = dir.write("token", token_a);
  mskiam_test::AwsFakesOptions fo;
  fo.expected_web_identity_token_file = token_file;  // the fake re-reads it too
  mskiam_test::AwsFakes fakes(fo);

  WebIdentity::Options o;
  o.role_arn = role_arn;
  o.token_file = token_file;
  o.session_name = SessionName::fixed("irsa-pinned");
  o.sts.region = "eu-west-1";
  o.sts.endpoint = fakes.url();
  o.sts.retry.base_delay = std::chrono::milliseconds(5);
  WebIdentity source(o);
  const auto first = source.fetch();
  dir.write("token", token_b);
  const auto second = source.fetch();
  CHECK(first.principal == "arn:aws:sts::123456789012:assumed-role/WebRole/irsa-pinned");
  CHECK(second.principal == first.principal);
  CHECK(first.access_key_id != second.access_key_id);

  auto lines = fakes.log_lines();
  REQUIRE(lines.size() == 2);
  for (const auto& line : lines) {
    INFO(line);
    CHECK(contains(line, "\"web_identity_token\": \"matched\""));
    CHECK(contains(line, "\"signature\": \"unsigned\""));
    CHECK(contains(line, "\"role_session_name\": \"irsa-pinned\""));
  }

  // A source reading another file sends a token the fake does not expect: refused, not retried.
  o.token_file = dir.write("stale-token", token_a);
  WebIdentity stale(o);
  const auto e = error_of([&] { stale.fetch(); });
  CHECK(e.code() == "InvalidIdentityToken");
  CHECK(fakes.log_lines().size() == 3);
  check_no_token(e.what());
}
