// StsClient and the header signing it uses: endpoints per partition, the Query-protocol request,
// the SigV4 Authorization header (published vectors and botocore on chosen inputs), reading
// responses by element name, every STS error shape, which failures are retried, checks made
// before any call, and the loopback STS fake (botocore verifies signatures on its side).
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "catch.hpp"
#include "mskiam/detail/time.hpp"
#include "mskiam/sigv4.hpp"
#include "mskiam/sts.hpp"
#include "support/aws_fakes.hpp"
#include "support/profile_fixtures.hpp"
#include "support/error_of.hpp"
#include "support/sts_fixtures.hpp"

using mskiam::ErrorKind;
using mskiam_test::Answer;
using mskiam_test::ErrorShape;
using mskiam_test::ScriptedTransport;
using mskiam_test::contains;
using mskiam_test::error_of;
using mskiam_test::form_value;
using mskiam_test::header_value;

namespace {

const std::string role_arn = "arn:aws:iam::123456789012:role/MskRole";

mskiam::Credentials base_credentials(bool with_token = true) {
  mskiam::Credentials c;
  c.access_key_id = "AKIDBASEEXAMPLE";
  c.secret_access_key = "base-secret-access-key-value";
  if (with_token) c.session_token = "base-session-token-value";
  return c;
}

mskiam::AssumeRoleRequest assume_request(std::string session = "msk-static-session") {
  mskiam::AssumeRoleRequest r;
  r.role_arn = role_arn;
  r.session_name = std::move(session);
  return r;
}

mskiam::WebIdentityRequest web_request() {
  mskiam::WebIdentityRequest r;
  r.role_arn = role_arn;
  r.session_name = "web-session";
  r.web_identity_token = "eyJ-web-identity-token-value";
  return r;
}

// No message may carry a secret of the test, whatever failed.
void check_no_secret(const std::string& text) {
  for (const std::string secret : {"base-secret-access-key-value", "base-session-token-value",
                                   "eyJ-web-identity-token-value", "issued-secret-", "issued-token-",
                                   "wJalrXUtnFEMI", "AQoDYXdz"})
    CHECK_FALSE(contains(text, secret));
}

mskiam::Credentials parse_assume_role(const std::string& body) {
  ScriptedTransport t({Answer::ok(body)});
  mskiam::StsClient sts(t.options(1));
  return sts.assume_role(base_credentials(), assume_request());
}

mskiam::Error parse_error(const std::string& body, long status = 200) {
  ScriptedTransport t({Answer::status_only(status, body)});
  mskiam::StsClient sts(t.options(1));
  return error_of([&] { sts.assume_role(base_credentials(), assume_request()); });
}

// Runs tests/support/sts_botocore_sign.py: the Authorization header botocore computes.
std::string botocore_authorization(const std::string& url, const std::string& region, const std::string& amz_date,
                                   const mskiam::Credentials& c, const std::string& body) {
  auto quote = [](const std::string& s) {
    std::string q = "'";
    for (char ch : s) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    return q + "'";
  };
  const std::string token = c.session_token.empty() ? "-" : c.session_token.reveal();
  const std::string command = std::string(MSKIAM_PYTHON) + " " + MSKIAM_SOURCE_DIR +
                              "/tests/support/sts_botocore_sign.py " + quote(url) + " " + quote(region) + " " +
                              quote(amz_date) + " " + quote(c.access_key_id) + " " +
                              quote(c.secret_access_key.reveal()) + " " + quote(token) + " " + quote(body);
  std::FILE* p = ::popen(command.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  REQUIRE(::pclose(p) == 0);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Endpoints

TEST_CASE("sts: regional endpoint per partition - FIPS variant - GovCloud as is") {
  struct Row {
    const char* region;
    bool fips;
    const char* url;
  };
  const Row rows[] = {
      {"us-east-1", false, "https://sts.us-east-1.amazonaws.com"},
      {"eu-west-1", false, "https://sts.eu-west-1.amazonaws.com"},
      {"ap-southeast-2", false, "https://sts.ap-southeast-2.amazonaws.com"},
      {"cn-north-1", false, "https://sts.cn-north-1.amazonaws.com.cn"},
      {"cn-northwest-1", false, "https://sts.cn-northwest-1.amazonaws.com.cn"},
      {"us-gov-west-1", false, "https://sts.us-gov-west-1.amazonaws.com"},
      {"us-gov-west-1", true, "https://sts.us-gov-west-1.amazonaws.com"},
      {"us-gov-east-1", true, "https://sts.us-gov-east-1.amazonaws.com"},
      {"us-east-1", true, "https://sts-fips.us-east-1.amazonaws.com"},
      {"us-west-2", true, "https://sts-fips.us-west-2.amazonaws.com"},
      {"ca-central-1", true, "https://sts-fips.ca-central-1.amazonaws.com"},
      {"us-iso-east-1", false, "https://sts.us-iso-east-1.c2s.ic.gov"},
      {"us-isob-east-1", false, "https://sts.us-isob-east-1.sc2s.sgov.gov"},
      {"us-isof-south-1", false, "https://sts.us-isof-south-1.csp.hci.ic.gov"},
      {"eu-isoe-west-1", false, "https://sts.eu-isoe-west-1.cloud.adc-e.uk"},
      {"eusc-de-east-1", false, "https://sts.eusc-de-east-1.amazonaws.eu"},
      {"aws-global", false, "https://sts.amazonaws.com"},
  };
  for (const auto& row : rows) {
    INFO(row.region << " fips=" << row.fips);
    CHECK(mskiam::sts_endpoint(row.region, row.fips) == row.url);
  }
}

TEST_CASE("sts: malformed regions and endpoints are refused at construction") {
  for (const char* region : {"", "US-EAST-1", "us-east-1.evil.com", "us east", "-us", "us/east"}) {
    INFO(region);
    if (*region != '\0') CHECK(error_of([&] { mskiam::sts_endpoint(region, false); }).kind() == ErrorKind::invalid_argument);
  }
  ScriptedTransport t;
  auto options = t.options();
  options.region = "us-east-1.evil.com";
  CHECK(error_of([&] { mskiam::StsClient{options}; }).kind() == ErrorKind::invalid_argument);
  for (const char* endpoint : {"ftp://sts.example.com", "sts.example.com", "http://user@127.0.0.1:1", "http://",
                               "http://127.0.0.1:1/?Action=x"}) {
    INFO(endpoint);
    options = t.options();
    options.endpoint = endpoint;
    const auto e = error_of([&] { mskiam::StsClient{options}; });
    CHECK(e.kind() == ErrorKind::invalid_argument);
    CHECK(e.source() == "sts");
  }
  options = t.options();
  options.endpoint = "http://127.0.0.1:1";
  options.fips = true;
  CHECK(error_of([&] { mskiam::StsClient{options}; }).kind() == ErrorKind::invalid_argument);
  CHECK(t.calls() == 0);
}

TEST_CASE("sts: region from options - then AWS_REGION - then AWS_DEFAULT_REGION - else us-east-1") {
  mskiam_test::EnvGuard env;
  ScriptedTransport t;
  auto options = t.options();
  options.region.clear();
  CHECK(mskiam::StsClient(options).endpoint() == "https://sts.us-east-1.amazonaws.com");
  env.set("AWS_DEFAULT_REGION", "eu-central-1");
  CHECK(mskiam::StsClient(options).endpoint() == "https://sts.eu-central-1.amazonaws.com");
  env.set("AWS_REGION", "cn-north-1");
  CHECK(mskiam::StsClient(options).endpoint() == "https://sts.cn-north-1.amazonaws.com.cn");
  options.region = "us-gov-west-1";
  options.fips = true;
  mskiam::StsClient gov(options);
  CHECK(gov.endpoint() == "https://sts.us-gov-west-1.amazonaws.com");
  CHECK(gov.signing_region() == "us-gov-west-1");
  options.region = "aws-global";
  options.fips = false;
  CHECK(mskiam::StsClient(options).signing_region() == "us-east-1");
  options.region = "eu-west-3";
  options.endpoint = "http://127.0.0.1:4566/";
  mskiam::StsClient custom(options);
  CHECK(custom.endpoint() == "http://127.0.0.1:4566");
  CHECK(custom.signing_region() == "eu-west-3");
}

// ---------------------------------------------------------------------------------------------
// Signing

TEST_CASE("sigv4: header signing reproduces the published POST vectors") {
  mskiam::Credentials c;
  c.access_key_id = "AKIDEXAMPLE";
  c.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  const auto at = [](const char* iso) { return *mskiam::detail::parse_iso8601(iso); };

  // aws-c-auth tests/aws-signing-test-suite/v4: post-vanilla, post-sts-header-before.
  mskiam::sigv4::HeaderSigningRequest vanilla;
  vanilla.host = "example.amazonaws.com";
  auto headers = mskiam::sigv4::sign_headers(vanilla, c, "us-east-1", "service", at("2015-08-30T12:36:00Z"));
  REQUIRE(headers.size() == 2);
  CHECK(headers[0] == std::make_pair(std::string("X-Amz-Date"), std::string("20150830T123600Z")));
  CHECK(headers[1].first == "Authorization");
  CHECK(headers[1].second ==
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=host;x-amz-date, "
        "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");

  mskiam::Credentials with_token = c;
  with_token.session_token =
      "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUu"
      "wthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8Y"
      "QcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2IC"
      "CR/oLxBA==";
  headers = mskiam::sigv4::sign_headers(vanilla, with_token, "us-east-1", "service", at("2015-08-30T12:36:00Z"));
  REQUIRE(headers.size() == 3);
  CHECK(headers[1].first == "X-Amz-Security-Token");
  CHECK(headers[1].second == with_token.session_token.reveal());
  CHECK_THAT(headers[2].second, Catch::Matchers::EndsWith(
                                    "SignedHeaders=host;x-amz-date;x-amz-security-token, "
                                    "Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"));

  // AssumeRole as botocore 1.43.11 SigV4Auth signs it (credentials.md §2.6).
  mskiam::sigv4::HeaderSigningRequest assume;
  assume.host = "sts.us-east-1.amazonaws.com";
  assume.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  assume.body =
      "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2FMskRole&"
      "RoleSessionName=msk-static-session";
  CHECK(mskiam::sigv4::payload_hash(assume.body) == "839228fe815fe380694a4ef5bed59b51f2d1156af4ab58ca0759d6933387d8e7");
  headers = mskiam::sigv4::sign_headers(assume, c, "us-east-1", "sts", at("2023-11-14T22:13:20Z"));
  CHECK(headers.back().second ==
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20231114/us-east-1/sts/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date, "
        "Signature=1311b4ba0af0b9cd7db967dbd672d1b1e9e673dcd52287d6eae89a1af10b9e39");
  mskiam::Credentials short_token = c;
  short_token.session_token = "IQoJb3JpZ2luX2VjEXAMPLE/+=token";
  headers = mskiam::sigv4::sign_headers(assume, short_token, "us-east-1", "sts", at("2023-11-14T22:13:20Z"));
  CHECK(headers.back().second ==
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20231114/us-east-1/sts/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, "
        "Signature=05be324f728080e4a67e5c63169bc46c590e033d4e8b193a5163cfef4e5b3554");
}

TEST_CASE("sigv4: canonical headers are lower-cased - trimmed - sorted and merged") {
  const auto h = mskiam::sigv4::canonical_headers(
      {{"X-B", "  two   spaces\there "}, {"Host", "example.com:8080"}, {"x-b", "second"}, {"A", ""}});
  CHECK(h.signed_headers == "a;host;x-b");
  CHECK(h.block == "a:\nhost:example.com:8080\nx-b:two spaces here,second\n");
}

TEST_CASE("sigv4: StsClient's Authorization header is the one botocore computes") {
  struct Case {
    std::string region, endpoint;
    bool token;
  };
  const Case cases[] = {{"us-east-1", "", false},
                        {"eu-west-1", "", true},
                        {"cn-north-1", "", true},
                        {"ap-south-1", "http://127.0.0.1:8443", true}};
  for (const auto& k : cases) {
    INFO(k.region << " " << k.endpoint << " token=" << k.token);
    ScriptedTransport t({Answer::ok(mskiam_test::sts_answer("AssumeRole", "MskRole", "s-1"))});
    auto options = t.options(1);
    options.region = k.region;
    options.endpoint = k.endpoint;
    mskiam::StsClient sts(options);
    auto request = assume_request("s-1");
    request.external_id = "ext:id/123";
    const auto base = base_credentials(k.token);
    sts.assume_role(base, request);
    const auto& sent = t.last();
    const std::string amz_date = header_value(sent, "X-Amz-Date");
    REQUIRE(amz_date.size() == 16);
    const std::size_t authority = sent.url.find("://") + 3;
    CHECK(header_value(sent, "Host") == sent.url.substr(authority, sent.url.find('/', authority) - authority));
    CHECK(header_value(sent, "Authorization") == botocore_authorization(sent.url, k.region, amz_date, base, sent.body));
  }
}

// ---------------------------------------------------------------------------------------------
// Requests

TEST_CASE("sts: by default a call gives up after 5 s - 2 s to connect") {
  const mskiam::StsOptions defaults;
  CHECK(defaults.timeout == std::chrono::milliseconds(5000));
  CHECK(defaults.connect_timeout == std::chrono::milliseconds(2000));
}

TEST_CASE("sts: AssumeRole is a signed form POST with the session token and every parameter") {
  ScriptedTransport t({Answer::ok(mskiam_test::sts_answer("AssumeRole", "MskRole", "msk-static-session"))});
  auto options = t.options();
  options.region = "eu-west-1";
  options.connect_timeout = std::chrono::milliseconds(1234);
  options.timeout = std::chrono::milliseconds(5678);
  mskiam::StsClient sts(options);
  auto request = assume_request();
  request.external_id = "external-123";
  request.duration = std::chrono::seconds(1800);
  const auto c = sts.assume_role(base_credentials(), request);

  REQUIRE(t.calls() == 1);
  const auto& r = t.last();
  CHECK(r.source == "sts");
  CHECK(r.method == "POST");
  CHECK(r.url == "https://sts.eu-west-1.amazonaws.com/");
  CHECK(r.connect_timeout == std::chrono::milliseconds(1234));
  CHECK(r.timeout == std::chrono::milliseconds(5678));
  CHECK(r.max_response_bytes == mskiam::sts_max_response_bytes);
  CHECK(header_value(r, "Content-Type") == "application/x-www-form-urlencoded; charset=utf-8");
  CHECK(header_value(r, "Host") == "sts.eu-west-1.amazonaws.com");
  CHECK(header_value(r, "X-Amz-Security-Token") == "base-session-token-value");
  CHECK_THAT(header_value(r, "Authorization"),
             Catch::Matchers::StartsWith("AWS4-HMAC-SHA256 Credential=AKIDBASEEXAMPLE/"));
  CHECK_THAT(header_value(r, "Authorization"), mskiam_test::contains_substring("/eu-west-1/sts/aws4_request, "));
  CHECK_THAT(header_value(r, "Authorization"),
             mskiam_test::contains_substring("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,"));
  CHECK_THAT(r.body, Catch::Matchers::StartsWith("Action=AssumeRole&Version=2011-06-15&"));
  CHECK(contains(r.body, "RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2FMskRole"));
  CHECK(form_value(r.body, "RoleSessionName") == "msk-static-session");
  CHECK(form_value(r.body, "ExternalId") == "external-123");
  CHECK(form_value(r.body, "DurationSeconds") == "1800");

  CHECK(c.access_key_id == "ASIAFAKEEXAMPLE0001");
  CHECK(c.secret_access_key.reveal() == "issued-secret-MskRole");
  CHECK(c.session_token.reveal() == "issued-token-MskRole");
  CHECK(c.principal == "arn:aws:sts::123456789012:assumed-role/MskRole/msk-static-session");
  REQUIRE(c.expiration);
  CHECK(mskiam::detail::iso8601(*c.expiration) == "2030-01-01T00:00:00Z");
  CHECK(c.source == "sts");

  // Without a session token there is no X-Amz-Security-Token, and no ExternalId when empty.
  sts.assume_role(base_credentials(false), assume_request());
  CHECK(header_value(t.last(), "X-Amz-Security-Token").empty());
  CHECK_THAT(header_value(t.last(), "Authorization"),
             mskiam_test::contains_substring("SignedHeaders=content-type;host;x-amz-date,"));
  CHECK_FALSE(mskiam_test::form_has(t.last().body, "ExternalId"));
}

TEST_CASE("sts: AssumeRoleWithWebIdentity is an unsigned form POST carrying the token") {
  ScriptedTransport t({Answer::ok(mskiam_test::sts_answer("AssumeRoleWithWebIdentity", "WebRole", "web-session"))});
  mskiam::StsClient sts(t.options());
  const auto c = sts.assume_role_with_web_identity(web_request());
  const auto& r = t.last();
  CHECK(header_value(r, "Authorization").empty());
  CHECK(header_value(r, "X-Amz-Date").empty());
  CHECK(header_value(r, "X-Amz-Security-Token").empty());
  CHECK_THAT(r.body, Catch::Matchers::StartsWith("Action=AssumeRoleWithWebIdentity&Version=2011-06-15&"));
  CHECK(form_value(r.body, "RoleSessionName") == "web-session");
  CHECK(form_value(r.body, "WebIdentityToken") == "eyJ-web-identity-token-value");
  CHECK(form_value(r.body, "DurationSeconds") == "3600");
  CHECK(c.principal == "arn:aws:sts::123456789012:assumed-role/WebRole/web-session");
}

TEST_CASE("sts: GetCallerIdentity is signed and returns the caller's ARN") {
  ScriptedTransport t({Answer::ok(mskiam_test::caller_identity_sample)});
  mskiam::StsClient sts(t.options());
  CHECK(sts.get_caller_identity(base_credentials()) ==
        "arn:aws:sts::123456789012:assumed-role/my-role-name/my-role-session-name");
  CHECK(t.last().body == "Action=GetCallerIdentity&Version=2011-06-15");
  CHECK_THAT(header_value(t.last(), "Authorization"), mskiam_test::contains_substring("/us-east-1/sts/aws4_request"));
  t.set({Answer::ok("<GetCallerIdentityResponse><GetCallerIdentityResult><UserId>x</UserId>"
                    "</GetCallerIdentityResult></GetCallerIdentityResponse>")});
  CHECK(error_of([&] { sts.get_caller_identity(base_credentials()); }).kind() == ErrorKind::bad_document);
}

TEST_CASE("sts: invalid inputs are refused before any call") {
  ScriptedTransport t({Answer::ok(mskiam_test::sts_answer("AssumeRole", "MskRole", "x"))});
  mskiam::StsClient sts(t.options());
  auto expect_invalid = [&](mskiam::AssumeRoleRequest request, const std::string& part) {
    INFO(part);
    const auto e = error_of([&] { sts.assume_role(base_credentials(), request); });
    CHECK(e.kind() == ErrorKind::invalid_argument);
    CHECK(e.source() == "sts");
    CHECK_THAT(e.what(), mskiam_test::contains_substring(part));
  };
  for (const char* name : {"", "a", "has space", "slash/name", "colon:name", "tab\tname",
                           "a-name-that-is-far-too-long-for-sts-because-it-has-more-than-64-chars"}) {
    expect_invalid(assume_request(name), "role session name");
  }
  for (const char* arn : {"", "arn:aws:iam::123456789012:user/Alice", "arn:aws:iam::12345:role/R",
                          "arn:aws:s3:::bucket/role/x", "MskRole", "arn:aws:iam::123456789012:role/",
                          "arn:aws:iam:us-east-1:123456789012:role/R", "arn:aws:iam::123456789012:role/R x"}) {
    auto r = assume_request();
    r.role_arn = arn;
    expect_invalid(r, "role ARN");
  }
  for (long seconds : {0L, 899L, 43201L, -1L}) {
    auto r = assume_request();
    r.duration = std::chrono::seconds(seconds);
    expect_invalid(r, "duration");
  }
  for (const char* id : {"x", "has space", "semi;colon"}) {
    auto r = assume_request();
    r.external_id = id;
    expect_invalid(r, "external id");
  }
  mskiam::Credentials no_secret;
  no_secret.access_key_id = "AKIDONLY";
  CHECK(error_of([&] { sts.assume_role(no_secret, assume_request()); }).kind() == ErrorKind::invalid_argument);
  auto web = web_request();
  web.web_identity_token = "abc";
  auto e = error_of([&] { sts.assume_role_with_web_identity(web); });
  CHECK(e.kind() == ErrorKind::invalid_argument);
  CHECK_FALSE(contains(e.what(), "abc"));
  web.web_identity_token = std::string(20001, 'x');
  CHECK(error_of([&] { sts.assume_role_with_web_identity(web); }).kind() == ErrorKind::invalid_argument);
  web = web_request();
  web.session_name = "bad name";
  CHECK(error_of([&] { sts.assume_role_with_web_identity(web); }).kind() == ErrorKind::invalid_argument);
  CHECK(t.calls() == 0);

  // The limits themselves are accepted.
  auto edge = assume_request(std::string(64, 'a'));
  edge.duration = std::chrono::seconds(900);
  edge.external_id = "ab";
  sts.assume_role(base_credentials(), edge);
  edge = assume_request("+=,.@_-");
  edge.duration = std::chrono::seconds(43200);
  sts.assume_role(base_credentials(), edge);
  CHECK(t.calls() == 2);
}

// ---------------------------------------------------------------------------------------------
// Responses

TEST_CASE("sts: the documentation's sample responses parse - wrapped session token included") {
  const auto c = parse_assume_role(mskiam_test::assume_role_sample);
  CHECK(c.access_key_id == "ASIAIOSFODNN7EXAMPLE");
  CHECK(c.secret_access_key.reveal() == mskiam_test::sample_secret);
  CHECK(c.session_token.reveal() == mskiam_test::sample_token_wrapped);  // whitespace and newlines gone
  CHECK(c.principal == "arn:aws:sts::123456789012:assumed-role/demo/TestAR");
  REQUIRE(c.expiration);
  CHECK(mskiam::detail::iso8601(*c.expiration) == "2019-11-09T13:34:41Z");

  ScriptedTransport t({Answer::ok(mskiam_test::web_identity_sample)});
  mskiam::StsClient sts(t.options());
  const auto w = sts.assume_role_with_web_identity(web_request());
  CHECK(w.access_key_id == "ASgeIAIOSFODNN7EXAMPLE");
  CHECK(w.session_token.reveal() == "AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE");
  CHECK(w.principal == "arn:aws:sts::123456789012:assumed-role/FederatedWebIdentityRole/app1");
  CHECK(mskiam::detail::iso8601(*w.expiration) == "2014-10-24T23:00:23Z");
}

TEST_CASE("sts: responses are read by element name whatever the order - spacing and markup") {
  const std::string arn = "arn:aws:sts::123456789012:assumed-role/R/s";
  const std::vector<std::string> bodies = {
      // Reordered everything, CRLF and tabs, a declaration and a comment.
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<!-- <Credentials> in a comment is not one -->\r\n"
      "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\r\n\t<ResponseMetadata>"
      "<RequestId>r</RequestId></ResponseMetadata>\r\n\t<AssumeRoleResult>\r\n\t\t<Credentials>\r\n"
      "\t\t\t<Expiration>\r\n2030-01-01T00:00:00.123Z\r\n</Expiration>\t<SessionToken>\t tok+/= </SessionToken>"
      "<SecretAccessKey>sec/ret+key</SecretAccessKey><AccessKeyId> ASIAORDER </AccessKeyId>\r\n\t\t</Credentials>"
      "<PackedPolicySize>6</PackedPolicySize><AssumedRoleUser><AssumedRoleId>AROA:s</AssumedRoleId><Arn>" +
          arn + "</Arn></AssumedRoleUser></AssumeRoleResult></AssumeRoleResponse>",
      // One line, namespace prefixes, attributes with `>` inside quotes, an entity in the secret.
      "<sts:AssumeRoleResponse xmlns:sts=\"https://sts.amazonaws.com/doc/2011-06-15/\"><sts:AssumeRoleResult "
      "note=\"a>b\"><sts:AssumedRoleUser><sts:Arn>" +
          arn + "</sts:Arn></sts:AssumedRoleUser><sts:Credentials><sts:AccessKeyId>ASIAORDER</sts:AccessKeyId>"
                "<sts:SecretAccessKey>sec/ret&#43;key</sts:SecretAccessKey><sts:SessionToken>tok+/=</sts:SessionToken>"
                "<sts:Expiration>2030-01-01T00:00:00Z</sts:Expiration></sts:Credentials></sts:AssumeRoleResult>"
                "</sts:AssumeRoleResponse>",
      // Unknown elements, including ones whose names start like the wanted ones.
      "<AssumeRoleResponse><AssumeRoleResult><CredentialsExtra><AccessKeyId>WRONG</AccessKeyId></CredentialsExtra>"
      "<Credentials><AccessKeyIdOld>WRONG</AccessKeyIdOld><AccessKeyId>ASIAORDER</AccessKeyId><SecretAccessKey>"
      "sec/ret+key</SecretAccessKey><SessionToken>tok+/=</SessionToken><Expiration>2030-01-01T00:00:00Z"
      "</Expiration><Future/></Credentials><AssumedRoleUser><Arn>" +
          arn + "</Arn></AssumedRoleUser><SourceIdentity>Alice</SourceIdentity></AssumeRoleResult></AssumeRoleResponse>",
  };
  for (const auto& body : bodies) {
    INFO(body);
    const auto c = parse_assume_role(body);
    CHECK(c.access_key_id == "ASIAORDER");
    CHECK(c.secret_access_key.reveal() == "sec/ret+key");
    CHECK(c.session_token.reveal() == "tok+/=");
    CHECK(c.principal == arn);
    CHECK(mskiam::detail::iso8601(*c.expiration) == "2030-01-01T00:00:00Z");
  }
}

TEST_CASE("sts: truncated - malformed and incomplete responses are bad_document without secrets") {
  const std::string& sample = mskiam_test::assume_role_sample;
  // Every cut of the sample short of its last `>`: never accepted, never a crash.
  for (std::size_t n = 0; n + 1 < sample.size(); n += (n < 64 || sample.size() - n < 64) ? 1 : 7) {
    INFO("cut at " << n);
    const auto e = parse_error(sample.substr(0, n));
    CHECK(e.kind() == ErrorKind::bad_document);
    CHECK(e.source() == "sts");
    check_no_secret(e.what());
  }
  struct Broken {
    std::string body, message;
  };
  auto without = [&](const std::string& from, const std::string& to) {
    std::string s = sample;
    const auto a = s.find(from);
    const auto b = s.find(to, a) + to.size();
    return s.erase(a, b - a);
  };
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string s = sample;
    return s.replace(s.find(from), from.size(), to);
  };
  const Broken broken[] = {
      {"", "not a complete <AssumeRoleResponse>"},
      {"not xml at all", "not a complete <AssumeRoleResponse>"},
      {"{\"AccessKeyId\": \"x\"}", "not a complete <AssumeRoleResponse>"},
      {"<AssumeRoleResponse></AssumeRoleResponse>", "no <AssumeRoleResult>"},
      {without("<Credentials>", "</Credentials>"), "no <Credentials>"},
      {without("<AccessKeyId>", "</AccessKeyId>"), "Credentials/AccessKeyId"},
      {without("<SecretAccessKey>", "</SecretAccessKey>"), "Credentials/SecretAccessKey"},
      {without("<SessionToken>", "</SessionToken>"), "Credentials/SessionToken"},
      {without("<Expiration>", "</Expiration>"), "Credentials/Expiration"},
      {without("<AssumedRoleUser>", "</AssumedRoleUser>"), "no <AssumedRoleUser>"},
      {without("<Arn>", "</Arn>"), "AssumedRoleUser/Arn"},
      {replace("<AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>", "<AccessKeyId></AccessKeyId>"), "Credentials/AccessKeyId"},
      {replace("<AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>", "<AccessKeyId/>"), "Credentials/AccessKeyId"},
      {replace("2019-11-09T13:34:41Z", "next tuesday"), "Expiration \"next tuesday\" is not an ISO 8601"},
      {replace("</SecretAccessKey>", "</SecretAccessKeyX>"), "Credentials/SecretAccessKey"},
      {replace("<SessionToken>", "<SessionToken><b>") , "Credentials/SessionToken"},
  };
  for (const auto& b : broken) {
    INFO(b.message);
    const auto e = parse_error(b.body);
    CHECK(e.kind() == ErrorKind::bad_document);
    CHECK_THAT(e.what(), mskiam_test::contains_substring(b.message));
    CHECK_THAT(e.what(), Catch::Matchers::StartsWith("sts: bad_document: AssumeRole " + role_arn));
    check_no_secret(e.what());
  }
}

TEST_CASE("sts: every error shape gives service_error with STS's code and message") {
  const ErrorShape shapes[] = {ErrorShape::error_response, ErrorShape::no_namespace, ErrorShape::root_error,
                               ErrorShape::response_errors};
  for (const auto shape : shapes) {
    INFO(static_cast<int>(shape));
    const auto e = parse_error(mskiam_test::sts_error("AccessDenied",
                                                      "User: arn:aws:sts::1:assumed-role/A/b is not authorized "
                                                      "to perform: sts:AssumeRole on resource: &quot;x&quot;"),
                               403);
    CHECK(e.kind() == ErrorKind::service_error);
    CHECK(e.source() == "sts");
    CHECK(e.code() == "AccessDenied");
    CHECK_THAT(e.what(), Catch::Matchers::StartsWith("sts: service_error: AssumeRole " + role_arn +
                                                     ": AccessDenied: User: arn:aws:sts::1:assumed-role/A/b is "
                                                     "not authorized to perform: sts:AssumeRole on resource: \"x\""));
    CHECK_THAT(e.what(), mskiam_test::contains_substring("(HTTP 403"));
    check_no_secret(e.what());
  }
  // An error document is an error whatever the status, and its request id is kept.
  const auto e = parse_error(mskiam_test::sts_error("ExpiredTokenException", "Token expired: current date/time"), 200);
  CHECK(e.code() == "ExpiredTokenException");
  CHECK_THAT(e.what(), mskiam_test::contains_substring("request id req-err-1"));
  // Control characters from the service do not reach a log line.
  CHECK_FALSE(contains(parse_error(mskiam_test::sts_error("X", "a\nb\x1b[31m"), 400).what(), "\n"));
}

TEST_CASE("sts: throttling - IDPCommunicationError - 5xx - timeouts and transport errors are retried") {
  struct Row {
    std::string name;
    Answer answer;
    ErrorKind kind;
  };
  const std::vector<Row> rows = {
      {"Throttling", Answer::status_only(400, mskiam_test::sts_error("Throttling", "Rate exceeded")), ErrorKind::service_error},
      {"ThrottlingException", Answer::status_only(400, mskiam_test::sts_error("ThrottlingException", "slow")), ErrorKind::service_error},
      {"RequestLimitExceeded", Answer::status_only(400, mskiam_test::sts_error("RequestLimitExceeded", "slow")), ErrorKind::service_error},
      {"TooManyRequestsException", Answer::status_only(429, mskiam_test::sts_error("TooManyRequestsException", "slow")), ErrorKind::service_error},
      {"IDPCommunicationError", Answer::status_only(400, mskiam_test::sts_error("IDPCommunicationError", "idp down", ErrorShape::no_namespace)), ErrorKind::service_error},
      {"InternalFailure 500", Answer::status_only(500, mskiam_test::sts_error("InternalFailure", "oops")), ErrorKind::service_error},
      {"ServiceUnavailable 503", Answer::status_only(503, mskiam_test::sts_error("ServiceUnavailable", "busy")), ErrorKind::service_error},
      {"any code with 5xx", Answer::status_only(502, mskiam_test::sts_error("SomethingNew", "gateway")), ErrorKind::service_error},
      {"502 without XML", Answer::status_only(502, "<html>Bad Gateway</html>"), ErrorKind::http_status},
      {"504 empty", Answer::status_only(504), ErrorKind::http_status},
      {"429 empty", Answer::status_only(429), ErrorKind::http_status},
      {"timeout", Answer::fail(ErrorKind::timeout), ErrorKind::timeout},
      {"transport", Answer::fail(ErrorKind::transport), ErrorKind::transport},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    ScriptedTransport t({row.answer});
    mskiam::StsClient sts(t.options(3));
    const auto e = error_of([&] { sts.assume_role(base_credentials(), assume_request()); });
    CHECK(e.kind() == row.kind);
    CHECK(t.calls() == 3);
    check_no_secret(e.what());
  }
}

TEST_CASE("sts: answers about the request itself are not retried") {
  const std::vector<std::pair<std::string, long>> codes = {
      {"AccessDenied", 403},          {"ValidationError", 400},        {"InvalidIdentityToken", 400},
      {"ExpiredTokenException", 400}, {"ExpiredToken", 403},           {"IDPRejectedClaim", 403},
      {"MalformedPolicyDocument", 400}, {"PackedPolicyTooLarge", 400}, {"RegionDisabledException", 403},
      {"InvalidClientTokenId", 403},  {"SignatureDoesNotMatch", 403},  {"IncompleteSignature", 400},
      {"RequestExpired", 400},        {"InvalidAction", 400},          {"OptInRequired", 403}};
  for (const auto& [code, status] : codes) {
    INFO(code);
    ScriptedTransport t({Answer::status_only(status, mskiam_test::sts_error(code, "no"))});
    mskiam::StsClient sts(t.options(5));
    const auto e = error_of([&] { sts.assume_role_with_web_identity(web_request()); });
    CHECK(e.kind() == ErrorKind::service_error);
    CHECK(e.code() == code);
    CHECK(t.calls() == 1);
    check_no_secret(e.what());
  }
  for (long status : {400L, 401L, 403L, 404L}) {
    INFO(status);
    ScriptedTransport t({Answer::status_only(status, "denied")});
    mskiam::StsClient sts(t.options(5));
    const auto e = error_of([&] { sts.assume_role(base_credentials(), assume_request()); });
    CHECK(e.kind() == ErrorKind::http_status);
    CHECK(e.code() == std::to_string(status));
    CHECK_FALSE(contains(e.what(), "denied"));  // a body that is not STS's is not echoed
    CHECK(t.calls() == 1);
  }
  for (const auto kind : {ErrorKind::bad_document, ErrorKind::internal}) {
    ScriptedTransport t({Answer::fail(kind)});
    mskiam::StsClient sts(t.options(5));
    CHECK(error_of([&] { sts.assume_role(base_credentials(), assume_request()); }).kind() == kind);
    CHECK(t.calls() == 1);
  }
  ScriptedTransport t({Answer::ok("<AssumeRoleResponse><AssumeRoleResult>")});  // truncated 200
  mskiam::StsClient sts(t.options(5));
  CHECK(error_of([&] { sts.assume_role(base_credentials(), assume_request()); }).kind() == ErrorKind::bad_document);
  CHECK(t.calls() == 1);
}

TEST_CASE("sts: a retried call succeeds and is signed again at each attempt") {
  ScriptedTransport t({Answer::status_only(400, mskiam_test::sts_error("Throttling", "Rate exceeded")),
                       Answer::status_only(500), Answer::fail(ErrorKind::timeout),
                       Answer::ok(mskiam_test::sts_answer("AssumeRole", "MskRole", "msk-static-session"))});
  mskiam::StsClient sts(t.options(4));
  const auto c = sts.assume_role(base_credentials(), assume_request());
  CHECK(c.principal == "arn:aws:sts::123456789012:assumed-role/MskRole/msk-static-session");
  REQUIRE(t.calls() == 4);
  for (const auto& r : t.requests()) {
    CHECK(form_value(r.body, "RoleSessionName") == "msk-static-session");
    CHECK_FALSE(header_value(r, "Authorization").empty());
  }
}

// ---------------------------------------------------------------------------------------------
// Against the loopback STS fake (tests/fakes/aws_fakes.py): botocore verifies every signature.

namespace {

struct FakeSts {
  mskiam_test::AwsFakes fakes{[] {
    mskiam_test::AwsFakesOptions o;
    o.base_credentials = {"AKIDFAKEBASE0001:fake-base-secret-value:arn:aws:iam::123456789012:user/base"};
    return o;
  }()};

  mskiam::StsOptions options(int max_attempts = 3) const {
    mskiam::StsOptions o;
    o.region = "eu-west-1";
    o.endpoint = fakes.url();
    o.retry.max_attempts = max_attempts;
    o.retry.base_delay = std::chrono::milliseconds(5);
    o.retry.max_delay = std::chrono::milliseconds(20);
    return o;
  }

  static mskiam::Credentials base() {
    mskiam::Credentials c;
    c.access_key_id = "AKIDFAKEBASE0001";
    c.secret_access_key = "fake-base-secret-value";
    return c;
  }

  std::vector<std::string> sts_log() const {
    std::vector<std::string> out;
    for (auto& line : fakes.log_lines())
      if (contains(line, "\"endpoint\": \"sts\"")) out.push_back(line);
    return out;
  }

  // The STS requests logged, once `expected` are or after 5 s: the fake logs a delayed request
  // when it answers, after the client has given up on it.
  std::size_t sts_requests_logged(std::size_t expected) const {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    std::size_t n = sts_log().size();
    while (n < expected && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      n = sts_log().size();
    }
    return n;
  }
};

}  // namespace

TEST_CASE("sts fake: AssumeRole signed by mskiam verifies with botocore - with and without a session token") {
  FakeSts fake;
  mskiam::StsClient sts(fake.options());
  const auto first = sts.assume_role(FakeSts::base(), assume_request("pinned-session"));
  CHECK(first.principal == "arn:aws:sts::123456789012:assumed-role/MskRole/pinned-session");
  CHECK_FALSE(first.session_token.empty());
  REQUIRE(first.expiration);

  // The issued credentials (with their session token) sign the next call: role chaining.
  auto chained = assume_request("second-hop");
  chained.role_arn = "arn:aws:iam::123456789012:role/Other";
  const auto second = sts.assume_role(first, chained);
  CHECK(second.principal == "arn:aws:sts::123456789012:assumed-role/Other/second-hop");
  CHECK(sts.get_caller_identity(second) == second.principal);

  const auto log = fake.sts_log();
  REQUIRE(log.size() == 3);
  for (const auto& line : log) {
    INFO(line);
    CHECK(contains(line, "\"signature\": \"verified\""));
    CHECK(contains(line, "\"status\": 200"));
  }
  CHECK(contains(log[0], "\"role_session_name\": \"pinned-session\""));
  CHECK(contains(log[1], "\"access_key_id\": \"" + first.access_key_id + "\""));

  // A wrong secret is refused by the fake: SignatureDoesNotMatch, not retried.
  auto wrong = FakeSts::base();
  wrong.secret_access_key = "not-the-secret";
  const auto e = error_of([&] { sts.assume_role(wrong, assume_request()); });
  CHECK(e.code() == "SignatureDoesNotMatch");
  CHECK(fake.sts_log().size() == 4);
  CHECK_FALSE(contains(e.what(), "not-the-secret"));
}

TEST_CASE("sts fake: 500s then success - throttling then success") {
  FakeSts fake;
  mskiam::StsClient sts(fake.options(3));
  fake.fakes.control(R"({"faults": [{"endpoint": "sts", "action": "AssumeRole", "type": "status", "status": 500, "times": 2}]})");
  CHECK(sts.assume_role(FakeSts::base(), assume_request()).principal ==
        "arn:aws:sts::123456789012:assumed-role/MskRole/msk-static-session");
  CHECK(fake.sts_log().size() == 3);

  fake.fakes.control(R"({"faults": [{"endpoint": "sts", "type": "error", "code": "Throttling", "times": 2}]})");
  sts.assume_role(FakeSts::base(), assume_request());
  CHECK(fake.sts_log().size() == 6);

  fake.fakes.control(R"({"faults": [{"endpoint": "sts", "type": "error", "code": "AccessDenied", "times": 3}]})");
  const auto e = error_of([&] { sts.assume_role(FakeSts::base(), assume_request()); });
  CHECK(e.code() == "AccessDenied");
  CHECK(fake.sts_log().size() == 7);  // not retried
  fake.fakes.control(R"({"clear_faults": true})");
}

TEST_CASE("sts fake: every error shape the fake serves is read") {
  FakeSts fake;
  mskiam::StsClient sts(fake.options(1));
  for (const char* shape : {"ErrorResponse", "no-namespace", "Error"}) {
    INFO(shape);
    fake.fakes.control(std::string(R"({"faults": {"endpoint": "sts", "type": "error", "code": "RegionDisabledException", "shape": ")") +
                       shape + "\"}}");
    const auto e = error_of([&] { sts.assume_role(FakeSts::base(), assume_request()); });
    CHECK(e.kind() == ErrorKind::service_error);
    CHECK(e.code() == "RegionDisabledException");
    CHECK_THAT(e.what(), mskiam_test::contains_substring("(HTTP 403"));
  }
}

TEST_CASE("sts fake: timeouts are honoured and retried - oversized and broken answers refused") {
  FakeSts fake;
  auto options = fake.options(2);
  options.timeout = std::chrono::milliseconds(300);
  mskiam::StsClient sts(options);

  fake.fakes.control(R"({"faults": {"endpoint": "sts", "type": "delay", "ms": 1500, "times": 2}})");
  const auto started = std::chrono::steady_clock::now();
  const auto e = error_of([&] { sts.assume_role(FakeSts::base(), assume_request()); });
  const auto elapsed = std::chrono::steady_clock::now() - started;
  CHECK(e.kind() == ErrorKind::timeout);
  CHECK(e.source() == "sts");
  CHECK(elapsed < std::chrono::milliseconds(1400));  // two attempts of 300 ms, not 1.5 s each
  CHECK(fake.sts_requests_logged(2) == 2);

  fake.fakes.control(R"({"clear_faults": true, "faults": {"endpoint": "sts", "type": "delay", "ms": 1500}})");
  CHECK_FALSE(sts.assume_role(FakeSts::base(), assume_request()).access_key_id.empty());  // second attempt answers
  CHECK(fake.sts_requests_logged(4) == 4);

  // The 64 KiB cap itself: a valid answer padded past it is refused, one padded to just under it
  // is read (the fake pads inside the document, which stays valid).
  fake.fakes.control(R"({"clear_faults": true, "faults": {"endpoint": "sts", "type": "huge", "bytes": 65536, "times": 2}})");
  const auto oversized = error_of([&] { sts.assume_role(FakeSts::base(), assume_request()); });
  CHECK(oversized.kind() == ErrorKind::bad_document);
  CHECK_THAT(oversized.what(), mskiam_test::contains_substring("larger than 65536 bytes"));
  fake.fakes.control(R"({"clear_faults": true, "faults": {"endpoint": "sts", "type": "huge", "bytes": 57344}})");
  CHECK_FALSE(sts.assume_role(FakeSts::base(), assume_request()).access_key_id.empty());

  for (const char* type : {"malformed", "truncate"}) {
    INFO(type);
    fake.fakes.control(std::string(R"({"clear_faults": true, "faults": {"endpoint": "sts", "type": ")") + type +
                       "\", \"times\": 2}}");
    const auto b = error_of([&] { sts.assume_role(FakeSts::base(), assume_request()); });
    CHECK((b.kind() == ErrorKind::bad_document || b.kind() == ErrorKind::transport));
    check_no_secret(b.what());
  }
  const std::size_t before_reset = fake.sts_log().size();
  fake.fakes.control(R"({"clear_faults": true, "faults": {"endpoint": "sts", "type": "reset", "times": 1}})");
  CHECK_FALSE(sts.assume_role(FakeSts::base(), assume_request()).access_key_id.empty());  // retried after a reset
  CHECK(fake.sts_requests_logged(before_reset + 2) == before_reset + 2);
}
