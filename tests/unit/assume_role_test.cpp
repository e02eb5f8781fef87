// AssumeRole<Source>: base credentials fetched from the wrapped source at every fetch and used to
// sign AssumeRole, the session name chosen once (fixed > default, no environment variable), the
// external id and duration, the one-hour cap of role chaining, errors from either side, and the
// EKS Pod Identity fix (AssumeRole<ContainerCredentials> with a fixed name) against the fakes.
#include <memory>
#include <string>

#include "catch.hpp"
#include "mskiam/sources/any.hpp"
#include "mskiam/sources/assume_role.hpp"
#include "mskiam/sources/container.hpp"
#include "mskiam/sources/static.hpp"
#include "support/aws_fakes.hpp"
#include "support/profile_fixtures.hpp"
#include "support/error_of.hpp"
#include "support/sts_fixtures.hpp"

using mskiam::AssumeRole;
using mskiam::ErrorKind;
using mskiam::SessionName;
using mskiam_test::Answer;
using mskiam_test::ScriptedTransport;
using mskiam_test::contains;
using mskiam_test::error_of;
using mskiam_test::form_value;
using mskiam_test::header_value;

namespace {

const std::string role_arn = "arn:aws:iam::123456789012:role/MskRole";

// A base source whose key changes at every fetch, like renewed container credentials; it can
// be told to fail.
struct RotatingSource {
  std::shared_ptr<int> fetches = std::make_shared<int>(0);
  std::shared_ptr<std::string> principal = std::make_shared<std::string>();
  std::shared_ptr<std::optional<ErrorKind>> fail = std::make_shared<std::optional<ErrorKind>>();

  mskiam::Credentials fetch() {
    if (*fail) throw mskiam::Error(**fail, "container", "GET http://169.254.170.23/v1/credentials timed out");
    ++*fetches;
    mskiam::Credentials c;
    c.access_key_id = "ASIABASE" + std::to_string(*fetches);
    c.secret_access_key = "base-secret-" + std::to_string(*fetches);
    c.session_token = "base-token-" + std::to_string(*fetches);
    c.principal = *principal;
    c.source = "container";
    return c;
  }
  std::string_view name() const { return "container"; }
};

struct Setup {
  mskiam_test::EnvGuard env;
  ScriptedTransport sts{{Answer::ok(mskiam_test::sts_answer("AssumeRole", "MskRole", "any"))}};
  RotatingSource base;

  AssumeRole<RotatingSource>::Options options(SessionName name = {}) const {
    AssumeRole<RotatingSource>::Options o;
    o.role_arn = role_arn;
    o.session_name = std::move(name);
    o.sts = sts.options();
    return o;
  }
  AssumeRole<RotatingSource> source(SessionName name = {}) const { return {base, options(std::move(name))}; }
  std::string sent(const std::string& field, std::size_t call) const {
    return form_value(sts.requests().at(call).body, field);
  }
};

void check_no_secret(const std::string& text) {
  CHECK_FALSE(contains(text, "base-secret-"));
  CHECK_FALSE(contains(text, "base-token-"));
  CHECK_FALSE(contains(text, "issued-secret-"));
  CHECK_FALSE(contains(text, "issued-token-"));
}

}  // namespace

TEST_CASE("assume role: the base credentials of each fetch sign that fetch's AssumeRole") {
  Setup s;
  auto source = s.source(SessionName::fixed("msk-static-session"));
  const auto first = source.fetch();
  const auto second = source.fetch();
  CHECK(*s.base.fetches == 2);
  REQUIRE(s.sts.calls() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    const auto& r = s.sts.requests()[i];
    const std::string n = std::to_string(i + 1);
    CHECK_THAT(header_value(r, "Authorization"), Catch::Matchers::StartsWith("AWS4-HMAC-SHA256 Credential=ASIABASE" + n + "/"));
    CHECK((header_value(r, "X-Amz-Security-Token") == "base-token-" + n));
    CHECK(form_value(r.body, "Action") == "AssumeRole");
    CHECK(form_value(r.body, "RoleArn") == role_arn);
  }
  CHECK(first.source == "assume_role");
  CHECK(source.name() == "assume_role");
  CHECK(first.principal == "arn:aws:sts::123456789012:assumed-role/MskRole/any");
}

TEST_CASE("assume role: two consecutive fetches send the same RoleSessionName") {
  Setup s;
  auto fixed = s.source(SessionName::fixed("orders-consumer"));
  fixed.fetch();
  fixed.fetch();
  CHECK(s.sent("RoleSessionName", 0) == "orders-consumer");
  CHECK(s.sent("RoleSessionName", 1) == "orders-consumer");
  CHECK(fixed.session_name() == "orders-consumer");

  // No fixed name: the host-derived default, also once. AWS_ROLE_SESSION_NAME is web identity's.
  s.env.set("AWS_ROLE_SESSION_NAME", "not-for-assume-role");
  auto automatic = s.source();
  automatic.fetch();
  automatic.fetch();
  CHECK(automatic.session_name() == mskiam::default_session_name());
  CHECK(s.sent("RoleSessionName", 2) == mskiam::default_session_name());
  CHECK(s.sent("RoleSessionName", 3) == mskiam::default_session_name());
}

TEST_CASE("assume role: external id - duration and region are sent as configured") {
  Setup s;
  auto o = s.options(SessionName::fixed("s1"));
  o.external_id = "partner-ext-id:42";
  o.duration = std::chrono::seconds(900);
  o.sts.region = "eu-north-1";
  AssumeRole<RotatingSource> source(s.base, o);
  source.fetch();
  const auto& r = s.sts.last();
  CHECK(form_value(r.body, "ExternalId") == "partner-ext-id:42");
  CHECK(form_value(r.body, "DurationSeconds") == "900");
  CHECK(r.url == "https://sts.eu-north-1.amazonaws.com/");
  CHECK_THAT(header_value(r, "Authorization"), mskiam_test::contains_substring("/eu-north-1/sts/aws4_request"));
}

TEST_CASE("assume role: invalid session names and parameters are rejected before any call") {
  Setup s;
  auto expect_invalid = [&](const AssumeRole<RotatingSource>::Options& o, const std::string& part) {
    INFO(part);
    const auto e = error_of([&] { AssumeRole<RotatingSource>(s.base, o); });
    CHECK(e.kind() == ErrorKind::invalid_argument);
    CHECK(e.source() == "assume_role");
    CHECK_THAT(e.what(), mskiam_test::contains_substring(part));
  };
  for (const char* bad : {"x", "two words", "a/b", "semi;colon"})
    CHECK(error_of([&] { SessionName::fixed(bad); }).kind() == ErrorKind::invalid_argument);
  auto o = s.options();
  o.role_arn = "arn:aws:iam::123456789012:policy/NotARole";
  expect_invalid(o, "role ARN");
  o = s.options();
  o.duration = std::chrono::seconds(43201);
  expect_invalid(o, "duration");
  o = s.options();
  o.external_id = "a";
  expect_invalid(o, "external id");
  CHECK(*s.base.fetches == 0);
  CHECK(s.sts.calls() == 0);
}

TEST_CASE("assume role: role chaining over an assumed-role base is capped at one hour") {
  Setup s;
  *s.base.principal = "arn:aws:sts::123456789012:assumed-role/PodRole/eks-cluster-pod-0000";
  auto o = s.options(SessionName::fixed("chained"));
  o.duration = std::chrono::seconds(7200);
  AssumeRole<RotatingSource> source(s.base, o);
  const auto e = error_of([&] { source.fetch(); });
  CHECK(e.kind() == ErrorKind::invalid_argument);
  CHECK_THAT(e.what(), mskiam_test::contains_substring("caps role chaining at 3600 s"));
  CHECK(s.sts.calls() == 0);

  *s.base.principal = "arn:aws:iam::123456789012:user/ci";  // an IAM user may ask for more
  source.fetch();
  CHECK(s.sent("DurationSeconds", 0) == "7200");
}

TEST_CASE("assume role: a failing base source keeps its kind and is named") {
  Setup s;
  *s.base.fail = ErrorKind::timeout;
  auto source = s.source(SessionName::fixed("s1"));
  const auto e = error_of([&] { source.fetch(); });
  CHECK(e.kind() == ErrorKind::timeout);
  CHECK(e.source() == "assume_role");
  CHECK_THAT(e.what(), Catch::Matchers::StartsWith("assume_role: timeout: base credentials for " + role_arn +
                                                   " from container: container: timeout: "));
  CHECK(s.sts.calls() == 0);
}

TEST_CASE("assume role: STS errors keep kind and code - name the signer - never a secret") {
  Setup s;
  s.sts.set({Answer::status_only(403, mskiam_test::sts_error("AccessDenied", "not authorized to perform sts:AssumeRole"))});
  auto source = s.source(SessionName::fixed("s1"));
  auto e = error_of([&] { source.fetch(); });
  CHECK(e.kind() == ErrorKind::service_error);
  CHECK(e.code() == "AccessDenied");
  CHECK(s.sts.calls() == 1);
  CHECK_THAT(e.what(), Catch::Matchers::StartsWith("assume_role: service_error: session s1, signed by ASIABASE1 from "
                                                   "container: sts: service_error: AssumeRole " + role_arn +
                                                   ": AccessDenied: not authorized"));
  check_no_secret(e.what());

  s.sts.set({Answer::status_only(400, mskiam_test::sts_error("Throttling", "Rate exceeded")),
             Answer::ok(mskiam_test::sts_answer("AssumeRole", "MskRole", "s1"))});
  CHECK(source.fetch().principal == "arn:aws:sts::123456789012:assumed-role/MskRole/s1");
  CHECK(s.sts.calls() == 3);
  CHECK(*s.base.fetches == 2);  // once per fetch, not once per attempt

  s.sts.set({Answer::ok("<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIA</AccessKeyId>"
                        "<SecretAccessKey>issued-secret-x</SecretAccessKey></Credentials></AssumeRoleResult>"
                        "</AssumeRoleResponse>")});
  e = error_of([&] { source.fetch(); });
  CHECK(e.kind() == ErrorKind::bad_document);
  check_no_secret(e.what());
}

TEST_CASE("assume role: works over a type-erased source and a static one") {
  Setup s;
  mskiam::Credentials keys;
  keys.access_key_id = "AKIASTATICEXAMPLE";
  keys.secret_access_key = "static-secret-value";
  AssumeRole<mskiam::AnySource>::Options o;
  o.role_arn = role_arn;
  o.session_name = SessionName::fixed("erased");
  o.sts = s.sts.options();
  AssumeRole<mskiam::AnySource> erased(mskiam::AnySource(mskiam::StaticCredentials(keys)), o);
  erased.fetch();
  CHECK_THAT(header_value(s.sts.last(), "Authorization"), mskiam_test::contains_substring("Credential=AKIASTATICEXAMPLE/"));
  CHECK(header_value(s.sts.last(), "X-Amz-Security-Token").empty());
  mskiam::AnySource nested = erased;  // an AssumeRole is itself a source
  CHECK(nested.name() == "assume_role");
  nested.fetch();
  CHECK(s.sts.calls() == 2);
}

TEST_CASE("assume role fake: Pod Identity renews into new principals - AssumeRole keeps one") {
  mskiam_test::EnvGuard env;
  mskiam_test::AwsFakes fakes;
  mskiam::ContainerCredentials::Options co;
  co.full_uri = fakes.url() + "/pod-identity";
  mskiam::ContainerCredentials pod(co);
  const auto a = pod.fetch();
  const auto b = pod.fetch();
  REQUIRE(a.access_key_id != b.access_key_id);  // the fake renews at every fetch, like the agent

  AssumeRole<mskiam::ContainerCredentials>::Options o;
  o.role_arn = "arn:aws:iam::123456789012:role/MskClient";
  o.session_name = SessionName::fixed("orders-consumer");
  o.sts.region = "eu-west-1";
  o.sts.endpoint = fakes.url();
  o.sts.retry.base_delay = std::chrono::milliseconds(5);
  AssumeRole<mskiam::ContainerCredentials> pinned(pod, o);
  const auto first = pinned.fetch();
  const auto second = pinned.fetch();
  CHECK(first.principal == "arn:aws:sts::123456789012:assumed-role/MskClient/orders-consumer");
  CHECK(second.principal == first.principal);
  CHECK(first.access_key_id != second.access_key_id);

  int assume_calls = 0;
  for (const auto& line : fakes.log_lines()) {
    if (!contains(line, "\"action\": \"AssumeRole\"")) continue;
    ++assume_calls;
    INFO(line);
    CHECK(contains(line, "\"signature\": \"verified\""));  // botocore, with the Pod Identity session token
    CHECK(contains(line, "\"role_session_name\": \"orders-consumer\""));
    CHECK(contains(line, "eks-cluster-pod-"));  // the caller: a new Pod Identity session each time
  }
  CHECK(assume_calls == 2);

  // A 503 then success: the STS call is retried with the same base credentials.
  fakes.control(R"({"faults": {"endpoint": "sts", "action": "AssumeRole", "type": "status", "status": 503}})");
  CHECK(pinned.fetch().principal == first.principal);
}
