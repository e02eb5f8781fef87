// ContainerCredentials (ECS task roles, EKS Pod Identity agent) with an injected HttpTransport:
// URI selection, the allowed-host rule, the authorization token and its file, status handling,
// retries, and errors that never hold the token or the secret.
#include <chrono>
#include <string>
#include <vector>

#include "catch.hpp"
#include "mskiam/detail/time.hpp"
#include "mskiam/sources/container.hpp"
#include "support/aws_fakes.hpp"
#include "support/local_endpoints_fixtures.hpp"

using mskiam::ContainerCredentials;
using mskiam::ErrorKind;
using mskiam::HttpRequest;
using mskiam::HttpResponse;
using local_endpoints_test::contains;
using local_endpoints_test::EnvGuard;
using local_endpoints_test::error_of;
using local_endpoints_test::header_of;
using local_endpoints_test::RecordingTransport;
using local_endpoints_test::response;
using local_endpoints_test::TempDir;

namespace {

const std::string kSecret = "container-secret-wJalrXUtnFEMI";
const std::string kToken = "container-session-token-IQoJb3JpZ2lu";
const std::string kAuth = "auth-token-eyJhbGciOiJSUzI1NiJ9";

std::string document() {
  return R"({"AccessKeyId":"ASIACONTAINER","SecretAccessKey":")" + kSecret + R"(","Token":")" +
         kToken + R"(","AccountId":"123456789012","Expiration":"2030-01-01T00:00:00.123456789Z"})";
}

RecordingTransport serving(long status, std::string body) {
  return RecordingTransport(
      [status, body](const HttpRequest&, std::size_t) { return response(status, body); });
}

struct CleanContainerEnv : EnvGuard {
  CleanContainerEnv() {
    for (const char* name : {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                             "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"})
      unset(name);
  }
};

ContainerCredentials::Options options(const std::string& full_uri, const RecordingTransport& t) {
  ContainerCredentials::Options o;
  o.full_uri = full_uri;
  o.transport = t.transport();
  o.retry = mskiam::RetryPolicy{3, std::chrono::milliseconds(1), std::chrono::milliseconds(2)};
  return o;
}

}  // namespace

TEST_CASE("container: the relative URI goes to 169.254.170.2 and wins over the full URI") {
  CleanContainerEnv env;
  env.set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc");
  env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/other");
  auto t = serving(200, document());
  auto source = ContainerCredentials::from_environment(t.transport());
  CHECK(source.url() == "http://169.254.170.2/v2/credentials/abc");
  const auto c = source.fetch();
  CHECK(c.access_key_id == "ASIACONTAINER");
  CHECK(c.secret_access_key.reveal() == kSecret);
  CHECK(c.session_token.reveal() == kToken);
  REQUIRE(c.expiration);
  CHECK(mskiam::detail::iso8601(*c.expiration) == "2030-01-01T00:00:00Z");
  CHECK(c.source == "container");
  CHECK(c.principal.empty());  // Pod Identity and ECS documents do not name the session principal
  CHECK(source.name() == "container");
  const auto requests = t.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].method == "GET");
  CHECK(requests[0].url == "http://169.254.170.2/v2/credentials/abc");
  CHECK(requests[0].source == "container");
  CHECK(header_of(requests[0], "Accept") == "application/json");
  CHECK_FALSE(header_of(requests[0], "Authorization"));
}

TEST_CASE("container: short timeouts and a response size cap on every request") {
  CleanContainerEnv env;
  env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials");
  auto t = serving(200, document());
  ContainerCredentials::from_environment(t.transport()).fetch();
  const auto r = t.requests().at(0);
  CHECK(r.connect_timeout == std::chrono::milliseconds(1000));
  CHECK(r.timeout == std::chrono::milliseconds(2000));
  CHECK(r.max_response_bytes == mskiam::container_max_response_bytes);
}

TEST_CASE("container: not configured when neither URI variable is set") {
  CleanContainerEnv env;
  env.set("AWS_CONTAINER_AUTHORIZATION_TOKEN", kAuth);
  const auto e = error_of([] { ContainerCredentials::from_environment([](const HttpRequest&) {
                                 return HttpResponse{};
                               }); });
  CHECK(e.kind() == ErrorKind::not_configured);
  CHECK(e.source() == "container");
  CHECK(contains(e.message(), "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"));
  CHECK(contains(e.message(), "AWS_CONTAINER_CREDENTIALS_FULL_URI"));
}

TEST_CASE("container: a relative URI must be a path") {
  CleanContainerEnv env;
  env.set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "@evil.example.com/creds");
  const auto e = error_of([] { ContainerCredentials::from_environment(); });
  CHECK(e.kind() == ErrorKind::invalid_argument);
  CHECK(contains(e.message(), "must start with '/'"));
}

TEST_CASE("container: plain http full URIs only to loopback - ECS and EKS agent hosts - https to any host") {
  auto t = serving(200, document());
  const std::vector<std::string> allowed = {
      "http://127.0.0.1:8080/creds", "http://127.1.2.3/", "http://127.255.255.254",
      "http://[::1]:80/creds", "http://[0:0:0:0:0:0:0:1]/", "http://169.254.170.2/v2/credentials",
      "http://169.254.170.23/v1/credentials", "http://[fd00:ec2::23]/v1/credentials",
      "http://[FD00:0EC2:0:0:0:0:0:23]:80/x", "http://localhost:1234/", "HTTP://LOCALHOST/",
      "https://example.com/creds", "https://169.254.169.254/", "https://10.0.0.1:8443/x"};
  for (const auto& uri : allowed) {
    INFO(uri);
    CHECK_NOTHROW(ContainerCredentials(options(uri, t)));
  }
  struct Refused {
    std::string uri, host;
  };
  const std::vector<Refused> refused = {
      {"http://example.com/creds", "example.com"},
      {"http://169.254.169.254/latest/meta-data/", "169.254.169.254"},
      {"http://169.254.170.3/", "169.254.170.3"},
      {"http://10.0.0.1/", "10.0.0.1"},
      {"http://128.0.0.1/", "128.0.0.1"},
      {"http://127.0.0.01/", "127.0.0.01"},
      {"http://0177.0.0.1/", "0177.0.0.1"},
      {"http://2130706433/", "2130706433"},
      {"http://127.1/", "127.1"},
      {"http://127.0.0.1.nip.io/", "127.0.0.1.nip.io"},
      {"http://localhost.evil.com/", "localhost.evil.com"},
      {"http://[::2]/", "::2"},
      {"http://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1"},
      {"http://[fe80::1%25eth0]/", "fe80::1%25eth0"},
      {"http://[fd00:ec2::254]/", "fd00:ec2::254"},
  };
  for (const auto& r : refused) {
    INFO(r.uri);
    const auto e = error_of([&] { ContainerCredentials(options(r.uri, t)); });
    CHECK(e.kind() == ErrorKind::invalid_argument);
    CHECK(e.source() == "container");
    CHECK(contains(e.message(), "host \"" + r.host + "\" is not allowed"));
  }
  for (const std::string uri : {"ftp://127.0.0.1/creds", "file:///etc/passwd", "127.0.0.1/creds",
                                "http://user:pw@127.0.0.1/", "http://127.0.0.1@evil.com/",
                                "http://127.0.0.1:80x/", "http:///path", "http://[::1/",
                                "http://127.0.0.1/ x", "http://127.0.0.1/\r\nX: y"}) {
    INFO(uri);
    CHECK(error_of([&] { ContainerCredentials(options(uri, t)); }).kind() == ErrorKind::invalid_argument);
  }
  CHECK(t.count() == 0);  // refused before any request
}

TEST_CASE("container: the authorization token variable is sent verbatim") {
  CleanContainerEnv env;
  env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/creds");
  env.set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Basic " + kAuth);
  auto t = serving(200, document());
  ContainerCredentials::from_environment(t.transport()).fetch();
  CHECK(header_of(t.requests().at(0), "Authorization") == "Basic " + kAuth);
}

TEST_CASE("container: the token file is re-read at every fetch and wins over the variable") {
  CleanContainerEnv env;
  TempDir dir;
  const std::string file = dir.write("token", "file-token-1");
  env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials");
  env.set("AWS_CONTAINER_AUTHORIZATION_TOKEN", kAuth);
  env.set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", file);
  auto t = serving(200, document());
  auto source = ContainerCredentials::from_environment(t.transport());
  source.fetch();
  dir.write("token", "file-token-2");  // Kubernetes rotated the projected token
  source.fetch();
  const auto requests = t.requests();
  REQUIRE(requests.size() == 2);
  CHECK(header_of(requests[0], "Authorization") == "file-token-1");
  CHECK(header_of(requests[1], "Authorization") == "file-token-2");
}

TEST_CASE("container: an authorization token containing CR or LF is refused - and never echoed") {
  CleanContainerEnv env;
  env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/creds");
  env.set("AWS_CONTAINER_AUTHORIZATION_TOKEN", kAuth + "\r\nX-Injected: yes");
  auto t = serving(200, document());
  auto e = error_of([&] { ContainerCredentials::from_environment(t.transport()); });
  CHECK(e.kind() == ErrorKind::invalid_argument);
  CHECK(contains(e.message(), "AWS_CONTAINER_AUTHORIZATION_TOKEN contains a CR or LF"));
  CHECK_FALSE(contains(e.what(), kAuth));

  TempDir dir;
  env.set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", dir.write("token", kAuth + "\n"));
  auto source = ContainerCredentials::from_environment(t.transport());  // the file wins
  e = error_of([&] { source.fetch(); });
  CHECK(e.kind() == ErrorKind::invalid_argument);
  CHECK(contains(e.message(), "contains a CR or LF character (a trailing newline counts)"));
  CHECK_FALSE(contains(e.what(), kAuth));
  dir.write("token", "ab\rcd");
  CHECK(error_of([&] { source.fetch(); }).kind() == ErrorKind::invalid_argument);
  dir.write("token", "");
  CHECK(contains(error_of([&] { source.fetch(); }).message(), "is empty"));
  CHECK(t.count() == 0);
}

TEST_CASE("container: an unreadable token file is an io error naming the path") {
  CleanContainerEnv env;
  env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/creds");
  env.set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/nonexistent/mskiam/token");
  auto t = serving(200, document());
  auto source = ContainerCredentials::from_environment(t.transport());
  const auto e = error_of([&] { source.fetch(); });
  CHECK(e.kind() == ErrorKind::io);
  CHECK(contains(e.message(), "/nonexistent/mskiam/token"));
}

TEST_CASE("container: 401 and 403 are clear http_status errors - not retried") {
  RecordingTransport t([](const HttpRequest&, std::size_t) {
    return response(401, R"({"Code":"AccessDenied","Message":"Invalid Authorization token"})");
  });
  auto o = options("http://169.254.170.23/v1/credentials", t);
  o.authorization_token = kAuth;
  ContainerCredentials source(o);
  auto e = error_of([&] { source.fetch(); });
  CHECK(e.kind() == ErrorKind::http_status);
  CHECK(e.code() == "401");
  CHECK(contains(e.message(), "answered HTTP 401 (Code \"AccessDenied\"): the authorization token was refused"));
  CHECK_FALSE(contains(e.what(), kAuth));
  CHECK(t.count() == 1);

  auto forbidden = serving(403, "<html>Forbidden</html>");
  ContainerCredentials no_token(options("http://127.0.0.1:1/creds", forbidden));
  e = error_of([&] { no_token.fetch(); });
  CHECK(e.code() == "403");
  CHECK(contains(e.message(), "HTTP 403: the endpoint wants an authorization token"));
  CHECK_FALSE(contains(e.message(), "Forbidden"));  // the body is not quoted
  CHECK(forbidden.count() == 1);
}

TEST_CASE("container: 5xx and timeouts are retried - then reported - other failures are not retried") {
  SECTION("503 twice, then success") {
    RecordingTransport t([](const HttpRequest&, std::size_t i) {
      return i < 2 ? response(503, "") : response(200, document());
    });
    CHECK(ContainerCredentials(options("http://127.0.0.1:1/c", t)).fetch().access_key_id == "ASIACONTAINER");
    CHECK(t.count() == 3);
  }
  SECTION("500 every time") {
    auto t = serving(500, R"({"Code":"InternalError","Message":"x"})");
    const auto e = error_of([&] { ContainerCredentials(options("http://127.0.0.1:1/c", t)).fetch(); });
    CHECK(e.kind() == ErrorKind::http_status);
    CHECK(e.code() == "500");
    CHECK(contains(e.message(), "answered HTTP 500 (Code \"InternalError\")"));
    CHECK(t.count() == 3);
  }
  SECTION("a timeout, then success") {
    RecordingTransport t([](const HttpRequest& r, std::size_t i) {
      if (i == 0) throw mskiam::Error(ErrorKind::timeout, r.source, "GET " + r.url + " timed out");
      return response(200, document());
    });
    CHECK_NOTHROW(ContainerCredentials(options("http://127.0.0.1:1/c", t)).fetch());
    CHECK(t.count() == 2);
  }
  SECTION("connection refused is reported at once") {
    RecordingTransport t([](const HttpRequest& r, std::size_t) -> HttpResponse {
      throw mskiam::Error(ErrorKind::transport, r.source, "GET " + r.url + " failed: refused");
    });
    CHECK(error_of([&] { ContainerCredentials(options("http://127.0.0.1:1/c", t)).fetch(); }).kind() ==
          ErrorKind::transport);
    CHECK(t.count() == 1);
  }
  SECTION("404 is reported at once") {
    auto t = serving(404, "");
    const auto e = error_of([&] { ContainerCredentials(options("http://127.0.0.1:1/c", t)).fetch(); });
    CHECK(e.code() == "404");
    CHECK(t.count() == 1);
  }
}

TEST_CASE("container: malformed - truncated and oversized bodies are bad_document - not retried") {
  for (const std::string& body : {std::string("<html>502 Bad Gateway</html>"), std::string(""),
                                 document().substr(0, 40), std::string(R"({"Code":"Success"})"),
                                 std::string(R"({"AccessKeyId":"A","SecretAccessKey":"s","Expiration":"soon"})")}) {
    INFO(body);
    auto t = serving(200, body);
    const auto e = error_of([&] { ContainerCredentials(options("http://127.0.0.1:1/c", t)).fetch(); });
    CHECK(e.kind() == ErrorKind::bad_document);
    CHECK(e.source() == "container");
    CHECK(t.count() == 1);
  }
  RecordingTransport oversized([](const HttpRequest& r, std::size_t) -> HttpResponse {
    throw mskiam::Error(ErrorKind::bad_document, r.source, "response is larger than 65536 bytes");
  });
  CHECK(error_of([&] { ContainerCredentials(options("http://127.0.0.1:1/c", oversized)).fetch(); }).kind() ==
        ErrorKind::bad_document);
  CHECK(oversized.count() == 1);
}

TEST_CASE("container: no error message contains the secret - the session token or the auth token") {
  const std::vector<std::string> bodies = {
      R"({"AccessKeyId":"A","SecretAccessKey":")" + kSecret + R"(","Token":")" + kToken + R"(","Expiration":"x"})",
      R"({"AccessKeyId":"A","SecretAccessKey":")" + kSecret + R"(","Token":")" + kToken + R"(")",
      R"({"Code":")" + kSecret + R"(","Message":")" + kToken + R"("})",
      R"({"Code":")" + kAuth + R"(","Message":")" + kAuth + R"("})",
      R"({"code":"Success1","message":"x"})"};
  for (long status : {200L, 400L, 500L}) {
    for (const auto& body : bodies) {
      auto t = serving(status, body);
      auto o = options("http://127.0.0.1:1/c", t);
      o.authorization_token = kAuth;
      const auto e = error_of([&] { ContainerCredentials(o).fetch(); });
      CHECK_FALSE(contains(e.what(), kSecret));
      CHECK_FALSE(contains(e.what(), kToken));
      CHECK_FALSE(contains(e.what(), kAuth));
    }
  }
}

// ----- against the loopback fake (tests/fakes/aws_fakes.py), through libcurl ---------------------

namespace {

using local_endpoints_test::log_entries;

ContainerCredentials::Options fake_options(const mskiam_test::AwsFakes& fakes, const std::string& path) {
  ContainerCredentials::Options o;
  o.full_uri = fakes.url() + path;
  o.retry = mskiam::RetryPolicy{2, std::chrono::milliseconds(1), std::chrono::milliseconds(2)};
  return o;
}

}  // namespace

TEST_CASE("container (fake): ECS credentials over loopback http - reused by the endpoint") {
  mskiam_test::AwsFakes fakes;
  ContainerCredentials source(fake_options(fakes, "/v2/credentials/abc"));
  const auto first = source.fetch();
  const auto second = source.fetch();
  CHECK(first.access_key_id.rfind("ASIA", 0) == 0);
  CHECK(first.access_key_id == second.access_key_id);
  CHECK(first.secret_access_key.size() == 40);
  CHECK_FALSE(first.session_token.empty());
  CHECK(first.expiration);
  CHECK(first.principal.empty());  // the ECS document names the role, not the session principal
  const auto log = log_entries(fakes.log_lines(), "container");
  REQUIRE(log.size() == 2);
  CHECK(log[0].field("method") == "GET");
  CHECK(log[0].field("path") == "/v2/credentials/abc");
  CHECK(log[0].field("authorization") == "unchecked");
  CHECK(log[0].field("status") == "200");
}

TEST_CASE("container (fake): Pod Identity token file re-read at each fetch - a refused token is a 401 error") {
  mskiam_test::AwsFakes fakes;
  fakes.control(R"({"config": {"container": {"authorization_token": "Bearer pod-token-1"}}})");
  TempDir dir;
  auto o = fake_options(fakes, "/v1/credentials");
  o.authorization_token_file = dir.write("eks-pod-identity-token", "Bearer pod-token-1");
  ContainerCredentials source(o);
  const auto a = source.fetch();
  const auto b = source.fetch();
  CHECK(a.access_key_id != b.access_key_id);  // Pod Identity issues new credentials every time

  dir.write("eks-pod-identity-token", "Bearer pod-token-2");  // rotated, but the agent wants -1
  const auto e = error_of([&] { source.fetch(); });
  CHECK(e.kind() == ErrorKind::http_status);
  CHECK(e.code() == "401");
  CHECK(contains(e.message(), "(Code \"AccessDenied\"): the authorization token was refused"));
  CHECK_FALSE(contains(e.what(), "pod-token"));

  const auto log = log_entries(fakes.log_lines(), "container");
  REQUIRE(log.size() == 3);  // a 401 is not retried
  CHECK(log[0].field("authorization") == "matched");
  CHECK(log[1].field("authorization") == "matched");
  CHECK(log[2].field("authorization") == "mismatch");
  CHECK(log[2].field("status") == "401");

  ContainerCredentials no_token(fake_options(fakes, "/v1/credentials"));
  CHECK(contains(error_of([&] { no_token.fetch(); }).message(), "wants an authorization token"));
}

TEST_CASE("container (fake): 503 is retried - a hanging endpoint times out in bounded time") {
  mskiam_test::AwsFakes fakes;
  fakes.control(R"({"faults": {"endpoint": "container", "type": "status", "status": 503, "times": 1}})");
  ContainerCredentials source(fake_options(fakes, "/v2/credentials/abc"));
  CHECK_NOTHROW(source.fetch());
  CHECK(log_entries(fakes.log_lines(), "container").size() == 2);

  fakes.control(R"({"faults": {"endpoint": "container", "type": "hang", "persistent": true}})");
  auto o = fake_options(fakes, "/v2/credentials/abc");
  o.timeout = std::chrono::milliseconds(300);
  ContainerCredentials hanging(o);
  const auto start = std::chrono::steady_clock::now();
  const auto e = error_of([&] { hanging.fetch(); });
  CHECK(e.kind() == ErrorKind::timeout);
  CHECK(e.source() == "container");
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));  // 2 attempts of 300 ms
}

TEST_CASE("container (fake): malformed - truncated - oversized and reset answers are clear errors") {
  mskiam_test::AwsFakes fakes;
  auto with_fault = [&](const std::string& fault) {
    fakes.control(R"({"clear_faults": "all", "faults": )" + fault + "}");
    ContainerCredentials source(fake_options(fakes, "/v2/credentials/abc"));
    return error_of([&] { source.fetch(); });
  };
  auto e = with_fault(R"({"endpoint": "container", "type": "malformed", "persistent": true})");
  CHECK(e.kind() == ErrorKind::bad_document);
  e = with_fault(R"({"endpoint": "container", "type": "huge", "bytes": 200000, "persistent": true})");
  CHECK(e.kind() == ErrorKind::bad_document);
  CHECK(contains(e.message(), "larger than 65536 bytes"));
  e = with_fault(R"({"endpoint": "container", "type": "truncate", "persistent": true})");
  CHECK((e.kind() == ErrorKind::transport || e.kind() == ErrorKind::bad_document));
  e = with_fault(R"({"endpoint": "container", "type": "reset", "persistent": true})");
  CHECK(e.kind() == ErrorKind::transport);
  e = with_fault(R"({"endpoint": "container", "type": "error", "code": "InvalidRequest", "persistent": true})");
  CHECK(e.kind() == ErrorKind::http_status);
  CHECK(e.code() == "400");
  CHECK(contains(e.message(), "HTTP 400 (Code \"InvalidRequest\")"));
}
