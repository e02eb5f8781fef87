// InstanceMetadata (IMDSv2 with the IMDSv1 fallback) against an injected HttpTransport that plays
// IMDS: token PUT and its cache, role discovery, the fallback statuses of credentials.md §2.8,
// the 401 token renewal, disabling, endpoint overrides, retries and secret-free errors.
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "catch.hpp"
#include "mskiam/detail/time.hpp"
#include "mskiam/sources/imds.hpp"
#include "support/aws_fakes.hpp"
#include "support/local_endpoints_fixtures.hpp"

using mskiam::ErrorKind;
using mskiam::HttpRequest;
using mskiam::HttpResponse;
using mskiam::InstanceMetadata;
using local_endpoints_test::contains;
using local_endpoints_test::EnvGuard;
using local_endpoints_test::error_of;
using local_endpoints_test::header_of;
using local_endpoints_test::RecordingTransport;
using local_endpoints_test::response;

namespace {

const std::string kSecret = "imds-secret-wJalrXUtnFEMI";
const std::string kSessionToken = "imds-session-token-IQoJb3JpZ2lu";
const std::string kRolePath = "/latest/meta-data/iam/security-credentials/";

std::string document(const std::string& code = "Success") {
  return R"({"Code":")" + code + R"(","LastUpdated":"2012-04-26T16:39:16Z","Type":"AWS-HMAC",
    "AccessKeyId":"ASIAIMDS","SecretAccessKey":")" + kSecret + R"(","Token":")" + kSessionToken +
         R"(","Expiration":"2030-05-17T15:09:54Z"})";
}

// A scripted IMDS. Each token PUT hands out "imds-token-<n>"; data GETs check it.
struct Imds {
  long token_status = 200;
  bool token_times_out = false;
  std::string token_ttl_header;  // empty: echo the requested TTL
  bool v1_allowed = true;        // GETs without a token answered
  long list_status = 200;
  std::string list_body = "mskiam-role\nother-role\n";
  long creds_status = 200;
  std::string creds_body = document();
  int unauthorized_gets = 0;  // the next N GETs answer 401 (an expired token)
  int failing_gets = 0;       // the next N GETs answer 503
  bool get_times_out = false;
  int tokens_issued = 0;
  std::string current_token;

  HttpResponse operator()(const HttpRequest& r) {
    if (r.url.find("/latest/api/token") != std::string::npos) {
      if (r.method != "PUT") return response(405, "");
      if (token_times_out) throw mskiam::Error(ErrorKind::timeout, r.source, "PUT timed out");
      if (token_status != 200) return response(token_status, "");
      current_token = "imds-token-" + std::to_string(++tokens_issued);
      const auto ttl = header_of(r, "x-aws-ec2-metadata-token-ttl-seconds").value_or("");
      return response(200, current_token,
                      {{"x-aws-ec2-metadata-token-ttl-seconds",
                        token_ttl_header.empty() ? ttl : token_ttl_header}});
    }
    if (get_times_out) throw mskiam::Error(ErrorKind::timeout, r.source, "GET timed out");
    if (failing_gets > 0) {
      --failing_gets;
      return response(503, "");
    }
    const auto token = header_of(r, "x-aws-ec2-metadata-token");
    if (unauthorized_gets > 0) {
      --unauthorized_gets;
      return response(401, "");
    }
    if (token ? *token != current_token : !v1_allowed) return response(401, "");
    const auto path = r.url.substr(r.url.find("/latest/"));
    if (path == kRolePath) return response(list_status, list_body);
    if (path == kRolePath + "mskiam-role") return response(creds_status, creds_body);
    return response(404, "<title>404 - Not Found</title>");
  }
};

struct Fixture {
  EnvGuard env;
  std::shared_ptr<Imds> imds = std::make_shared<Imds>();
  RecordingTransport transport{[state = imds](const HttpRequest& r, std::size_t) { return (*state)(r); }};

  Fixture() {
    for (const char* name : {"AWS_EC2_METADATA_DISABLED", "AWS_EC2_METADATA_V1_DISABLED",
                             "AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"})
      env.unset(name);
  }
  InstanceMetadata::Options options() const {
    InstanceMetadata::Options o;
    o.endpoint = "http://169.254.169.254";
    o.transport = transport.transport();
    o.retry = mskiam::RetryPolicy{2, std::chrono::milliseconds(1), std::chrono::milliseconds(2)};
    return o;
  }
  InstanceMetadata source() const { return InstanceMetadata(options()); }
  std::vector<std::string> lines() const {  // "PUT /latest/api/token", "GET ...[token]"
    std::vector<std::string> out;
    for (const auto& r : transport.requests()) {
      std::string line = r.method + " " + r.url.substr(r.url.find("/latest/"));
      if (const auto t = header_of(r, "x-aws-ec2-metadata-token")) line += " [" + *t + "]";
      out.push_back(line);
    }
    return out;
  }
};

}  // namespace

TEST_CASE("imds: IMDSv2 token - the first role of the list - then its credentials") {
  Fixture f;
  const auto c = f.source().fetch();
  CHECK(c.access_key_id == "ASIAIMDS");
  CHECK(c.secret_access_key.reveal() == kSecret);
  CHECK(c.session_token.reveal() == kSessionToken);
  REQUIRE(c.expiration);
  CHECK(mskiam::detail::iso8601(*c.expiration) == "2030-05-17T15:09:54Z");
  CHECK(c.source == "imds");
  CHECK(c.principal.empty());
  CHECK(f.lines() == std::vector<std::string>{
                         "PUT /latest/api/token",
                         "GET /latest/meta-data/iam/security-credentials/ [imds-token-1]",
                         "GET /latest/meta-data/iam/security-credentials/mskiam-role [imds-token-1]"});
  const auto put = f.transport.requests().at(0);
  CHECK(put.url == "http://169.254.169.254/latest/api/token");
  CHECK(header_of(put, "x-aws-ec2-metadata-token-ttl-seconds") == "21600");
  CHECK(put.source == "imds");
}

TEST_CASE("imds: 1 s timeouts and a size cap on every request") {
  Fixture f;
  InstanceMetadata::Options o;
  o.transport = f.transport.transport();
  o.endpoint = "http://169.254.169.254";
  InstanceMetadata(o).fetch();
  for (const auto& r : f.transport.requests()) {
    CHECK(r.connect_timeout == std::chrono::milliseconds(1000));
    CHECK(r.timeout == std::chrono::milliseconds(1000));
    CHECK(r.max_response_bytes <= mskiam::imds_max_response_bytes);
  }
}

TEST_CASE("imds: the token is cached across fetches until shortly before its TTL ends") {
  Fixture f;
  auto source = f.source();
  source.fetch();
  source.fetch();
  CHECK(f.imds->tokens_issued == 1);

  SECTION("the TTL granted by IMDS wins when it is shorter than the one asked for") {
    Fixture g;
    g.imds->token_ttl_header = "2";  // renewed after 1 s (margin: at most half the TTL)
    auto s = g.source();
    s.fetch();
    s.fetch();
    CHECK(g.imds->tokens_issued == 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    s.fetch();
    CHECK(g.imds->tokens_issued == 2);
  }
  SECTION("the TTL asked for is configurable") {
    Fixture g;
    auto o = g.options();
    o.token_ttl = std::chrono::seconds(2);
    InstanceMetadata s(o);
    s.fetch();
    CHECK(header_of(g.transport.requests().at(0), "x-aws-ec2-metadata-token-ttl-seconds") == "2");
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    s.fetch();
    CHECK(g.imds->tokens_issued == 2);
    o.token_ttl = std::chrono::seconds(0);
    CHECK(error_of([&] { InstanceMetadata{o}; }).kind() == ErrorKind::invalid_argument);
  }
}

TEST_CASE("imds: token PUT answered 403 - 404 or 405 falls back to IMDSv1") {
  for (long status : {403L, 404L, 405L}) {
    INFO(status);
    Fixture f;
    f.imds->token_status = status;
    CHECK(f.source().fetch().access_key_id == "ASIAIMDS");
    CHECK(f.lines() == std::vector<std::string>{"PUT /latest/api/token",
                                                "GET /latest/meta-data/iam/security-credentials/",
                                                "GET /latest/meta-data/iam/security-credentials/mskiam-role"});
  }
}

TEST_CASE("imds: token PUT timing out falls back to IMDSv1 - whose GETs are then not retried on timeout") {
  Fixture f;
  f.imds->token_times_out = true;
  CHECK(f.source().fetch().access_key_id == "ASIAIMDS");
  CHECK(f.lines().size() == 3);

  Fixture unreachable;
  unreachable.imds->token_times_out = true;
  unreachable.imds->get_times_out = true;
  CHECK(error_of([&] { unreachable.source().fetch(); }).kind() == ErrorKind::timeout);
  CHECK(unreachable.lines().size() == 2);  // one PUT, one GET: no retry of a known-dead endpoint
}

TEST_CASE("imds: token PUT answered 400 is terminal") {
  Fixture f;
  f.imds->token_status = 400;
  const auto e = error_of([&] { f.source().fetch(); });
  CHECK(e.kind() == ErrorKind::http_status);
  CHECK(e.code() == "400");
  CHECK(e.source() == "imds");
  CHECK(contains(e.message(), "no IMDSv1 fallback"));
  CHECK(f.lines().size() == 1);
}

TEST_CASE("imds: token PUT answered 5xx is retried - then an error - never a v1 fallback") {
  Fixture f;
  f.imds->token_status = 503;
  const auto e = error_of([&] { f.source().fetch(); });
  CHECK(e.kind() == ErrorKind::http_status);
  CHECK(e.code() == "503");
  CHECK(f.lines() == std::vector<std::string>{"PUT /latest/api/token", "PUT /latest/api/token"});
}

TEST_CASE("imds: the v1 fallback can be disabled by option or by AWS_EC2_METADATA_V1_DISABLED") {
  Fixture f;
  f.imds->token_status = 403;
  auto o = f.options();
  o.allow_v1_fallback = false;
  auto e = error_of([&] { InstanceMetadata(o).fetch(); });
  CHECK(e.kind() == ErrorKind::http_status);
  CHECK(contains(e.message(), "answered HTTP 403 and the IMDSv1 fallback is disabled"));
  CHECK(f.lines().size() == 1);

  Fixture g;
  g.env.set("AWS_EC2_METADATA_V1_DISABLED", "True");
  g.imds->token_times_out = true;
  CHECK(error_of([&] { g.source().fetch(); }).kind() == ErrorKind::timeout);
  CHECK(g.lines().size() == 1);
}

TEST_CASE("imds: a 401 on a data GET fetches a new token once") {
  Fixture f;
  auto source = f.source();
  source.fetch();
  f.imds->unauthorized_gets = 1;  // the cached token expired on the IMDS side
  CHECK_NOTHROW(source.fetch());
  CHECK(f.imds->tokens_issued == 2);
  CHECK(f.lines().at(3) == "GET /latest/meta-data/iam/security-credentials/ [imds-token-1]");
  CHECK(f.lines().at(4) == "PUT /latest/api/token");
  CHECK(f.lines().at(5) == "GET /latest/meta-data/iam/security-credentials/ [imds-token-2]");

  f.imds->unauthorized_gets = 2;  // still refused with the new token: reported
  const auto e = error_of([&] { source.fetch(); });
  CHECK(e.kind() == ErrorKind::http_status);
  CHECK(e.code() == "401");
  CHECK(f.imds->tokens_issued == 3);
}

TEST_CASE("imds: a v1 request answered 401 explains that IMDSv2 is required") {
  Fixture f;
  f.imds->token_times_out = true;
  f.imds->v1_allowed = false;
  const auto e = error_of([&] { f.source().fetch(); });
  CHECK(e.kind() == ErrorKind::http_status);
  CHECK(contains(e.message(), "requires IMDSv2"));
  CHECK(contains(e.message(), "hop limit"));
}

TEST_CASE("imds: no role attached to the instance is not_configured") {
  Fixture f;
  f.imds->list_status = 404;
  auto e = error_of([&] { f.source().fetch(); });
  CHECK(e.kind() == ErrorKind::not_configured);
  CHECK(contains(e.message(), "no IAM role is attached"));
  Fixture g;
  g.imds->list_body = "\n";
  CHECK(error_of([&] { g.source().fetch(); }).kind() == ErrorKind::not_configured);
}

TEST_CASE("imds: a listed role that is not an IAM role name is refused before it reaches a URL") {
  for (const std::string& list : std::vector<std::string>{"../../user-data", "role?x=1", "role/other",
                                                         std::string(65, 'r'), "r\xC3\xA9le"}) {
    INFO(list);
    Fixture f;
    f.imds->list_body = list;
    const auto e = error_of([&] { f.source().fetch(); });
    CHECK(e.kind() == ErrorKind::bad_document);
    CHECK(f.lines().size() == 2);
  }
  Fixture crlf;
  crlf.imds->list_body = "  mskiam-role \r\nother\r\n";  // surrounding blanks and CRLF are trimmed
  CHECK_NOTHROW(crlf.source().fetch());
}

TEST_CASE("imds: a Code other than Success is a service_error - malformed documents bad_document") {
  Fixture f;
  f.imds->creds_body = document("AssumeRoleUnauthorizedAccess");
  auto e = error_of([&] { f.source().fetch(); });
  CHECK(e.kind() == ErrorKind::service_error);
  CHECK(e.code() == "AssumeRoleUnauthorizedAccess");
  for (const std::string& body : {std::string("not json"), document().substr(0, 60),
                                 std::string(R"({"AccessKeyId":"A","SecretAccessKey":"s","Token":"t","Expiration":"2030-01-01T00:00:00Z"})")}) {
    Fixture g;
    g.imds->creds_body = body;
    e = error_of([&] { g.source().fetch(); });
    CHECK(e.kind() == ErrorKind::bad_document);
    CHECK(e.source() == "imds");
  }
}

TEST_CASE("imds: the credentials GET answered 404 is an http_status error") {
  Fixture f;
  f.imds->creds_status = 404;
  const auto e = error_of([&] { f.source().fetch(); });
  CHECK(e.kind() == ErrorKind::http_status);
  CHECK(e.code() == "404");
  CHECK(contains(e.message(), "security-credentials/mskiam-role answered HTTP 404"));
}

TEST_CASE("imds: 5xx and timeouts of data GETs are retried") {
  Fixture f;
  f.imds->failing_gets = 1;
  CHECK_NOTHROW(f.source().fetch());
  CHECK(f.lines().size() == 4);
  Fixture g;
  g.imds->failing_gets = 10;
  CHECK(error_of([&] { g.source().fetch(); }).code() == "503");
  CHECK(g.lines().size() == 3);  // PUT + 2 attempts
  Fixture h;
  h.imds->get_times_out = true;
  CHECK(error_of([&] { h.source().fetch(); }).kind() == ErrorKind::timeout);
  CHECK(h.lines().size() == 3);
}

TEST_CASE("imds: AWS_EC2_METADATA_DISABLED=true is not_configured without any request") {
  for (const std::string value : {"true", "TRUE", "True"}) {
    Fixture f;
    f.env.set("AWS_EC2_METADATA_DISABLED", value);
    const auto e = error_of([&] { InstanceMetadata::from_environment(f.transport.transport()).fetch(); });
    CHECK(e.kind() == ErrorKind::not_configured);
    CHECK(contains(e.message(), "AWS_EC2_METADATA_DISABLED"));
    CHECK(f.transport.count() == 0);
  }
  Fixture f;
  f.env.set("AWS_EC2_METADATA_DISABLED", "false");
  f.env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1");
  CHECK_NOTHROW(InstanceMetadata::from_environment(f.transport.transport()).fetch());
  auto o = f.options();
  o.disabled = true;
  CHECK(error_of([&] { InstanceMetadata(o).fetch(); }).kind() == ErrorKind::not_configured);
}

TEST_CASE("imds: endpoint from the option - AWS_EC2_METADATA_SERVICE_ENDPOINT or the IPv6 mode") {
  Fixture f;
  CHECK(InstanceMetadata::from_environment(f.transport.transport()).endpoint() == "http://169.254.169.254");
  f.env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv6");
  CHECK(InstanceMetadata::from_environment(f.transport.transport()).endpoint() == "http://[fd00:ec2::254]");
  f.env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:8111/");
  auto source = InstanceMetadata::from_environment(f.transport.transport());
  CHECK(source.endpoint() == "http://127.0.0.1:8111");
  source.fetch();
  CHECK(f.transport.requests().at(0).url == "http://127.0.0.1:8111/latest/api/token");
  auto o = f.options();
  o.endpoint = "http://10.1.2.3";
  CHECK(InstanceMetadata(o).endpoint() == "http://10.1.2.3");
  for (const std::string bad : {"169.254.169.254", "ftp://x", "http://a b", "http://x\r\n"}) {
    o.endpoint = bad;
    CHECK(error_of([&] { InstanceMetadata{o}; }).kind() == ErrorKind::invalid_argument);
  }
}

TEST_CASE("imds: no error message contains the token - the secret or the session token") {
  const std::vector<std::string> bodies = {
      R"({"Code":"Success","AccessKeyId":"A","SecretAccessKey":")" + kSecret + R"(","Token":")" + kSessionToken +
          R"(","Expiration":"bad"})",
      R"({"Code":")" + kSecret + R"(","AccessKeyId":"A","SecretAccessKey":")" + kSecret + R"("})",
      R"({"Code":"Success","SecretAccessKey":")" + kSecret + R"(","Token":")" + kSessionToken + R"("})"};
  for (const auto& body : bodies) {
    Fixture f;
    f.imds->creds_body = body;
    const auto e = error_of([&] { f.source().fetch(); });
    CHECK_FALSE(contains(e.what(), kSecret));
    CHECK_FALSE(contains(e.what(), kSessionToken));
    CHECK_FALSE(contains(e.what(), "imds-token-"));
  }
  Fixture f;
  f.imds->unauthorized_gets = 5;
  CHECK_FALSE(contains(error_of([&] { f.source().fetch(); }).what(), "imds-token-"));
}

// ----- against the loopback fake (tests/fakes/aws_fakes.py), through libcurl ---------------------

namespace {

using local_endpoints_test::log_entries;

struct FakeImds {
  EnvGuard env;
  mskiam_test::AwsFakes fakes;

  FakeImds() {
    for (const char* name : {"AWS_EC2_METADATA_DISABLED", "AWS_EC2_METADATA_V1_DISABLED",
                             "AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"})
      env.unset(name);
  }
  InstanceMetadata::Options options() const {
    InstanceMetadata::Options o;
    o.endpoint = fakes.url();
    o.retry = mskiam::RetryPolicy{2, std::chrono::milliseconds(1), std::chrono::milliseconds(2)};
    return o;
  }
  std::vector<local_endpoints_test::LogEntry> log() const { return log_entries(fakes.log_lines(), "imds"); }
};

}  // namespace

TEST_CASE("imds (fake): IMDSv2 through libcurl - the token cached across fetches") {
  FakeImds f;
  f.env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", f.fakes.url() + "/");
  auto source = InstanceMetadata::from_environment();
  const auto a = source.fetch();
  const auto b = source.fetch();
  CHECK(a.access_key_id.rfind("ASIA", 0) == 0);
  CHECK(a.access_key_id == b.access_key_id);
  CHECK(a.expiration);
  CHECK(a.source == "imds");
  const auto log = f.log();
  REQUIRE(log.size() == 5);  // one PUT, then list + credentials twice
  CHECK(log[0].field("action") == "token");
  CHECK(log[0].field("method") == "PUT");
  CHECK(log[0].field("ttl") == "21600");
  for (std::size_t i = 1; i < log.size(); ++i) {
    CHECK(log[i].field("imds_token") == "valid");
    CHECK(log[i].field("status") == "200");
  }
  CHECK(log[1].field("action") == "list");
  CHECK(log[2].field("action") == "credentials");
  CHECK(log[2].field("path") == "/latest/meta-data/iam/security-credentials/mskiam-instance-role");
}

TEST_CASE("imds (fake): token endpoint answering 403 - 404 or 405 falls back to IMDSv1") {
  for (const std::string status : {"403", "404", "405"}) {
    INFO(status);
    FakeImds f;
    f.fakes.control(R"({"config": {"imds": {"allow_v1": true}}, "faults": {"endpoint": "imds", "action": "token",
                        "type": "status", "status": )" + status + R"(, "persistent": true}})");
    CHECK(InstanceMetadata(f.options()).fetch().access_key_id.rfind("ASIA", 0) == 0);
    const auto log = f.log();
    REQUIRE(log.size() == 3);
    CHECK(log[0].field("status") == status);
    CHECK(log[1].field("imds_token") == "missing");
    CHECK(log[2].field("imds_token") == "missing");
  }
}

TEST_CASE("imds (fake): an instance that requires IMDSv2 refuses the v1 fallback with 401") {
  FakeImds f;  // the fake's default: allow_v1 false
  f.fakes.control(R"({"faults": {"endpoint": "imds", "action": "token", "type": "status", "status": 404, "persistent": true}})");
  const auto e = error_of([&] { InstanceMetadata(f.options()).fetch(); });
  CHECK(e.kind() == ErrorKind::http_status);
  CHECK(e.code() == "401");
  CHECK(contains(e.message(), "requires IMDSv2"));
}

TEST_CASE("imds (fake): a token request that hangs times out and falls back to IMDSv1 in bounded time") {
  FakeImds f;
  f.fakes.control(R"({"config": {"imds": {"allow_v1": true}},
                      "faults": {"endpoint": "imds", "action": "token", "type": "hang", "persistent": true}})");
  auto o = f.options();
  o.timeout = std::chrono::milliseconds(300);
  const auto start = std::chrono::steady_clock::now();
  CHECK_NOTHROW(InstanceMetadata(o).fetch());
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
  const auto log = f.log();
  REQUIRE(log.size() == 3);
  CHECK(log[1].field("imds_token") == "missing");
}

TEST_CASE("imds (fake): token request answered 400 is terminal") {
  FakeImds f;
  f.fakes.control(R"({"config": {"imds": {"allow_v1": true}},
                      "faults": {"endpoint": "imds", "action": "token", "type": "status", "status": 400, "persistent": true}})");
  const auto e = error_of([&] { InstanceMetadata(f.options()).fetch(); });
  CHECK(e.kind() == ErrorKind::http_status);
  CHECK(e.code() == "400");
  CHECK(f.log().size() == 1);
}

TEST_CASE("imds (fake): a short-lived token is renewed before IMDS would refuse it") {
  FakeImds f;
  auto o = f.options();
  o.token_ttl = std::chrono::seconds(1);  // the fake expires it after 1 s; cached for 0.5 s
  InstanceMetadata source(o);
  source.fetch();
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  CHECK_NOTHROW(source.fetch());
  int puts = 0;
  for (const auto& entry : f.log()) {
    if (entry.field("action") == "token") {
      ++puts;
      CHECK(entry.field("ttl") == "1");
    } else {
      CHECK(entry.field("imds_token") == "valid");  // never sent an expired token
    }
  }
  CHECK(puts == 2);
}

TEST_CASE("imds (fake): malformed - oversized and error documents are clear errors") {
  FakeImds f;
  auto with_fault = [&](const std::string& fault) {
    f.fakes.control(R"({"clear_faults": "all", "faults": )" + fault + "}");
    return error_of([&] { InstanceMetadata(f.options()).fetch(); });
  };
  auto e = with_fault(R"({"endpoint": "imds", "action": "credentials", "type": "malformed", "persistent": true})");
  CHECK(e.kind() == ErrorKind::bad_document);
  CHECK(e.source() == "imds");
  e = with_fault(R"({"endpoint": "imds", "action": "credentials", "type": "huge", "bytes": 100000, "persistent": true})");
  CHECK(e.kind() == ErrorKind::bad_document);
  e = with_fault(R"({"endpoint": "imds", "action": "list", "type": "status", "status": 404, "persistent": true})");
  CHECK(e.kind() == ErrorKind::not_configured);
  e = with_fault(R"({"endpoint": "imds", "action": "credentials", "type": "status", "status": 500, "persistent": true})");
  CHECK(e.kind() == ErrorKind::http_status);
  CHECK(e.code() == "500");
  e = with_fault(R"({"endpoint": "imds", "action": "credentials", "type": "reset", "persistent": true})");
  CHECK(e.kind() == ErrorKind::transport);
}
