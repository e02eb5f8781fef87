// DefaultChain: member order, skipping what is not configured, stopping at what is configured
// but fails, one error that lists every member, and sticking to the member that answered.
#include "mskiam/sources/default_chain.hpp"

#include <atomic>
#include <memory>
#include <string>

#include "catch.hpp"
#include "support/error_of.hpp"
#include "support/aws_fakes.hpp"
#include "support/profile_fixtures.hpp"

using mskiam::ErrorKind;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

bool contains_imds(const std::string& log_line) {
  return log_line.find("\"endpoint\": \"imds\"") != std::string::npos;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// A loopback-free stand-in for IMDS and the container endpoint: answers by URL path, counts calls.
struct FakeEndpoints {
  std::shared_ptr<std::atomic<int>> calls = std::make_shared<std::atomic<int>>(0);
  std::shared_ptr<std::atomic<bool>> down = std::make_shared<std::atomic<bool>>(false);
  std::shared_ptr<std::atomic<bool>> unreachable = std::make_shared<std::atomic<bool>>(false);

  mskiam::HttpTransport transport() const {
    auto c = calls;
    auto d = down;
    auto u = unreachable;
    return [c, d, u](const mskiam::HttpRequest& r) {
      ++*c;
      if (*u)
        throw mskiam::Error(ErrorKind::timeout, r.source, "connection to " + r.url + " timed out");
      mskiam::HttpResponse response;
      if (*d) {
        response.status = 500;
        return response;
      }
      const std::string doc =
          "{\"Code\":\"Success\",\"AccessKeyId\":\"ASIAREMOTEEXAMPLE\",\"SecretAccessKey\":"
          "\"remote-secret\","
          "\"Token\":\"remote-token\",\"Expiration\":\"2030-01-01T00:00:00Z\"}";
      response.status = 200;
      if (ends_with(r.url, "/latest/api/token"))
        response.body = "imds-token";
      else if (ends_with(r.url, "/iam/security-credentials/"))
        response.body = "role";
      else if (ends_with(r.url, "/iam/security-credentials/role") ||
               r.url.find("169.254.170.2") != std::string::npos)
        response.body = doc;
      else
        response.status = 404;
      return response;
    };
  }
};

struct Setup {
  mskiam_test::EnvGuard env;
  mskiam_test::TempDir dir;
  FakeEndpoints endpoints;

  Setup() {
    env.set("HOME", dir.path());  // no ~/.aws here
    env.set("AWS_CONFIG_FILE", dir.path() + "/config");
    env.set("AWS_SHARED_CREDENTIALS_FILE", dir.path() + "/credentials");
  }

  mskiam::DefaultChain chain(std::string profile = {}) const {
    mskiam::DefaultChain::Options o;
    o.transport = endpoints.transport();
    o.profile = std::move(profile);
    return mskiam::DefaultChain(o);
  }

  void profile_keys(const std::string& name, const std::string& key) {
    dir.write("credentials",
              "[" + name + "]\naws_access_key_id = " + key + "\naws_secret_access_key = s\n");
  }
};

mskiam::Error fetch_error(mskiam::DefaultChain& chain) {
  return mskiam_test::error_of([&] { chain.fetch(); });
}

}  // namespace

TEST_CASE("default chain: environment answers first and is named as the source") {
  Setup s;
  s.profile_keys("default", "AKIDPROFILE");
  s.env.set("AWS_ACCESS_KEY_ID", "AKIDENV");
  s.env.set("AWS_SECRET_ACCESS_KEY", "env-secret");
  auto chain = s.chain();
  CHECK(chain.last_source().empty());
  const auto c = chain.fetch();
  CHECK(c.access_key_id == "AKIDENV");
  CHECK(c.source == "environment");
  CHECK(chain.last_source() == "environment");
  CHECK(chain.name() == "default_chain");
  CHECK(*s.endpoints.calls == 0);
}

TEST_CASE("default chain: the profile answers when the environment has no keys") {
  Setup s;
  s.profile_keys("default", "AKIDPROFILE");
  auto chain = s.chain();
  const auto c = chain.fetch();
  CHECK(c.access_key_id == "AKIDPROFILE");
  CHECK(c.source == "profile");
  CHECK(chain.last_source() == "profile");
}

TEST_CASE("default chain: a profile named in the options skips the environment") {
  Setup s;
  s.profile_keys("msk", "AKIDMSK");
  s.env.set("AWS_ACCESS_KEY_ID", "AKIDENV");
  s.env.set("AWS_SECRET_ACCESS_KEY", "env-secret");
  auto chain = s.chain("msk");
  CHECK(chain.fetch().access_key_id == "AKIDMSK");
}

TEST_CASE("default chain: a profile with only a region is skipped - IMDS answers") {
  Setup s;
  s.dir.write("config", "[default]\nregion = eu-west-1\n");
  auto chain = s.chain();
  const auto c = chain.fetch();
  CHECK(c.access_key_id == "ASIAREMOTEEXAMPLE");
  CHECK(c.source == "imds");
  CHECK(chain.last_source() == "imds");
}

TEST_CASE("default chain: container variables select the container endpoint instead of IMDS") {
  Setup s;
  s.env.set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc");
  auto chain = s.chain();
  const auto c = chain.fetch();
  CHECK(c.source == "container");
  CHECK(c.access_key_id == "ASIAREMOTEEXAMPLE");
}

TEST_CASE("default chain: when nothing answers - one error lists every member and why") {
  Setup s;
  *s.endpoints.unreachable = true;
  auto chain = s.chain();
  auto e = fetch_error(chain);
  const std::string text = e.what();
  CHECK(e.source() == "default_chain");
  CHECK(e.kind() == ErrorKind::timeout);  // IMDS could come back: worth retrying
  CHECK_THAT(
      text, Catch::Matchers::StartsWith(
                "default_chain: timeout: no credentials: environment: not_configured: "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set; profile: not_configured: "
                "profile \"default\" not found in " +
                s.dir.path() + "/config (absent), " + s.dir.path() +
                "/credentials (absent); "
                "web_identity: not_configured: "));
  CHECK_THAT(text, mskiam_test::contains_substring("; imds: timeout: "));
  CHECK(chain.last_source().empty());

  s.env.set("AWS_EC2_METADATA_DISABLED", "true");
  auto disabled = s.chain();
  e = fetch_error(disabled);
  CHECK(e.kind() == ErrorKind::not_configured);  // every member had nothing
  CHECK_THAT(e.what(), mskiam_test::contains_substring("; imds: not_configured: "));
}

TEST_CASE("default chain: a configured member that fails stops the chain") {
  Setup s;
  s.env.set("AWS_ACCESS_KEY_ID", "AKIDHALF");  // no secret: botocore's PartialCredentialsError
  auto chain = s.chain();
  const auto e = fetch_error(chain);
  CHECK(e.kind() == ErrorKind::invalid_argument);
  CHECK_THAT(e.what(),
             mskiam_test::contains_substring("environment: invalid_argument: AWS_ACCESS_KEY_ID is set"));
  CHECK_THAT(e.what(), mskiam_test::contains_substring(
                           "the chain stops here; not tried: profile, web_identity, imds"));
  CHECK(*s.endpoints.calls == 0);

  s.env.unset("AWS_ACCESS_KEY_ID");
  s.dir.write("config", "[default]\nrole_arn = arn:aws:iam::1:role/R\n");  // neither source_profile
                                                                           // nor credential_source
  auto broken_profile = s.chain();
  const auto p = fetch_error(broken_profile);
  CHECK(p.kind() == ErrorKind::invalid_argument);
  CHECK_THAT(p.what(), mskiam_test::contains_substring("environment: not_configured: "));
  CHECK_THAT(p.what(), mskiam_test::contains_substring(
                           "profile: invalid_argument: profile \"default\": role_arn needs"));
  CHECK(*s.endpoints.calls == 0);
}

TEST_CASE("default chain: a profile named by AWS_PROFILE that does not exist stops the chain") {
  Setup s;
  s.env.set("AWS_PROFILE", "typo");
  auto chain = s.chain();
  const auto e = fetch_error(chain);
  CHECK(e.kind() == ErrorKind::not_configured);
  CHECK_THAT(e.what(), mskiam_test::contains_substring("profile \"typo\" not found"));
  CHECK_THAT(e.what(), mskiam_test::contains_substring("named by AWS_PROFILE, so the chain stops here"));
  CHECK(*s.endpoints.calls == 0);  // not silently the instance role
}

TEST_CASE("default chain: the member that answered is asked alone at the next refresh") {
  Setup s;
  s.profile_keys("default", "AKIDPROFILE");
  auto chain = s.chain();
  CHECK(chain.fetch().source == "profile");
  // Keys appear in the environment later: the chain does not switch identity.
  s.env.set("AWS_ACCESS_KEY_ID", "AKIDENV");
  s.env.set("AWS_SECRET_ACCESS_KEY", "env-secret");
  const auto again = chain.fetch();
  CHECK(again.source == "profile");
  CHECK(again.access_key_id == "AKIDPROFILE");
  CHECK(chain.last_source() == "profile");
}

TEST_CASE("default chain: the answering member's failure is thrown - not hidden by another member") {
  Setup s;
  auto chain = s.chain();
  CHECK(chain.fetch().source == "imds");
  *s.endpoints.down = true;
  s.env.set("AWS_ACCESS_KEY_ID", "AKIDENV");
  s.env.set("AWS_SECRET_ACCESS_KEY", "env-secret");
  const auto e = fetch_error(chain);
  CHECK(e.kind() != ErrorKind::not_configured);
  CHECK(e.source() == "default_chain");
  CHECK_THAT(e.what(), mskiam_test::contains_substring("imds"));
  CHECK_THAT(e.what(), mskiam_test::contains_substring("does not switch"));
  *s.endpoints.down = false;
  CHECK(chain.fetch().source == "imds");
}

TEST_CASE(
    "default chain: when the answering member's variables vanish, the chain is walked again") {
  Setup s;
  s.env.set("AWS_ACCESS_KEY_ID", "AKIDENV");
  s.env.set("AWS_SECRET_ACCESS_KEY", "env-secret");
  auto chain = s.chain();
  CHECK(chain.fetch().source == "environment");
  s.env.unset("AWS_ACCESS_KEY_ID");
  s.env.unset("AWS_SECRET_ACCESS_KEY");
  s.profile_keys("default", "AKIDPROFILE");
  CHECK(chain.fetch().source == "profile");
  CHECK(chain.last_source() == "profile");
}

// ---------------------------------------------------------------------------------------------
// Against the loopback fakes (tests/fakes/aws_fakes.py), through libcurl.

TEST_CASE("default chain (loopback): IMDS answers off the fake when nothing else is configured") {
  Setup s;
  mskiam_test::AwsFakes fakes;
  s.env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", fakes.url());
  mskiam::DefaultChain chain;  // curl transport
  const auto c = chain.fetch();
  CHECK(c.source == "imds");
  CHECK(chain.last_source() == "imds");
  CHECK_THAT(c.access_key_id, Catch::Matchers::StartsWith("ASIA"));
  CHECK(c.expiration);
}

TEST_CASE("default chain (loopback): container variables win over IMDS") {
  Setup s;
  mskiam_test::AwsFakes fakes;
  s.env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", fakes.url());
  s.env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", fakes.url() + "/v2/credentials/abc");
  mskiam::DefaultChain chain;
  const auto c = chain.fetch();
  CHECK(c.source == "container");
  bool imds_called = false;
  for (const auto& line : fakes.log_lines()) imds_called = imds_called || contains_imds(line);
  CHECK_FALSE(imds_called);
}

TEST_CASE("default chain (loopback): web identity from the environment - before IMDS") {
  Setup s;
  mskiam_test::AwsFakes fakes;
  const auto token = s.dir.write("token", "eyJ-chain-web-identity-token-example");
  s.env.set("AWS_EC2_METADATA_SERVICE_ENDPOINT", fakes.url());
  s.env.set("AWS_WEB_IDENTITY_TOKEN_FILE", token);
  s.env.set("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/IrsaRole");
  mskiam::DefaultChain::Options o;
  o.sts.endpoint = fakes.url();
  o.session_name = mskiam::SessionName::fixed("chain-pinned");
  mskiam::DefaultChain chain(o);
  const auto a = chain.fetch();
  const auto b = chain.fetch();
  CHECK(a.source == "web_identity");
  CHECK(a.principal == "arn:aws:sts::123456789012:assumed-role/IrsaRole/chain-pinned");
  CHECK(b.principal == a.principal);
}

TEST_CASE("default chain: a role profile refused by STS stops the chain before IMDS") {
  Setup s;
  s.dir.write("config",
              "[default]\nrole_arn = arn:aws:iam::123456789012:role/R\nsource_profile = base\n");
  s.dir.write("credentials",
              "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base-secret\n");
  mskiam::DefaultChain::Options o;
  o.transport = s.endpoints.transport();
  o.sts.retry.max_attempts = 1;
  o.sts.transport = [](const mskiam::HttpRequest&) {
    mskiam::HttpResponse r;
    r.status = 403;
    r.body =
        "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not "
        "trusted</Message></Error><RequestId>1</RequestId></ErrorResponse>";
    return r;
  };
  mskiam::DefaultChain chain(o);
  const auto e = fetch_error(chain);
  CHECK(e.kind() == ErrorKind::service_error);
  CHECK(e.code() == "AccessDenied");
  CHECK_THAT(e.what(), mskiam_test::contains_substring("profile: service_error: profile \"default\""));
  CHECK_THAT(e.what(), mskiam_test::contains_substring("not tried: web_identity, imds"));
  CHECK_FALSE(contains(e.what(), "base-secret"));
  CHECK(*s.endpoints.calls == 0);  // never the instance role instead
}
