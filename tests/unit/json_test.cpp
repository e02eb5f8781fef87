// detail::json (the strict JSON parser) and parse_credential_document (the one parser of the
// container, IMDS and credential_process documents): accepted shapes, every refusal, limits, and
// error messages that name the offset but never quote the input.
#include <chrono>
#include <string>
#include <vector>

#include "catch.hpp"
#include "mskiam/detail/credential_document.hpp"
#include "mskiam/detail/json.hpp"
#include "support/local_endpoints_fixtures.hpp"

using mskiam::ErrorKind;
using mskiam::detail::DocumentKind;
using local_endpoints_test::contains;
using local_endpoints_test::error_of;
namespace json = mskiam::detail::json;

namespace {
json::Value parse(const std::string& s, json::Limits limits = {}) {
  return json::parse(s, "test", limits);
}
mskiam::Error parse_error(const std::string& s, json::Limits limits = {}) {
  return error_of([&] { parse(s, limits); });
}
mskiam::Error document_error(const std::string& s, DocumentKind kind = DocumentKind::any) {
  return error_of([&] { mskiam::detail::parse_credential_document(s, "container", kind); });
}
std::string iso(const mskiam::Credentials& c) { return mskiam::detail::iso8601(*c.expiration); }
}  // namespace

TEST_CASE("json: scalars - nested containers and member lookup") {
  const auto v = parse(R"( {"a": [1, -2.5e3, true, false, null, "x"], "b": {"c": {}} , "d": []} )");
  REQUIRE(v.is_object());
  REQUIRE(v.size() == 3);
  CHECK(v.keys() == std::vector<std::string>{"a", "b", "d"});
  const auto* a = v.find("a");
  REQUIRE(a != nullptr);
  REQUIRE(a->is_array());
  REQUIRE(a->size() == 6);
  CHECK(a->items()[0].as_integer() == 1);
  CHECK(a->items()[1].is_number());
  CHECK(a->items()[1].text() == "-2.5e3");
  CHECK(a->items()[2].is_bool());
  CHECK(a->items()[2].as_bool());
  CHECK_FALSE(a->items()[3].as_bool());
  CHECK(a->items()[4].is_null());
  CHECK(a->items()[5].text() == "x");
  CHECK(v.find("b")->find("c")->is_object());
  CHECK(v.find("d")->is_array());
  CHECK(v.find("missing") == nullptr);
  CHECK(a->find("a") == nullptr);  // not an object
  CHECK(parse("\"top\"").text() == "top");
  CHECK(parse(" 0 ").as_integer() == 0);
}

TEST_CASE("json: string escapes - unicode escapes and surrogate pairs decode to UTF-8") {
  CHECK(parse(R"("\" \\ \/ \b \f \n \r \t")").text() == "\" \\ / \b \f \n \r \t");
  CHECK(parse(R"("\u0041\u00e9\u20AC")").text() == "A\xC3\xA9\xE2\x82\xAC");
  CHECK(parse(R"("\ud83d\ude00")").text() == "\xF0\x9F\x98\x80");  // U+1F600
  CHECK(parse(R"("\uDBFF\uDFFF")").text() == "\xF4\x8F\xBF\xBF");  // U+10FFFF
  CHECK(parse(R"("\u0000")").text() == std::string(1, '\0'));
  CHECK(parse("\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"").text() ==
        "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
}

TEST_CASE("json: integers are read exactly - fractions and exponents are not integers") {
  CHECK(parse("9223372036854775807").as_integer() == INT64_MAX);
  CHECK(parse("-9223372036854775808").as_integer() == INT64_MIN);
  CHECK_FALSE(parse("9223372036854775808").as_integer());
  CHECK_FALSE(parse("-9223372036854775809").as_integer());
  CHECK_FALSE(parse("1.0").as_integer());
  CHECK_FALSE(parse("1e2").as_integer());
  CHECK(parse("-0").as_integer() == 0);
  CHECK_FALSE(parse("\"1\"").as_integer());
}

TEST_CASE("json: malformed documents are bad_document errors with an offset") {
  const std::vector<std::string> bad = {
      "", "   ", "{", "}", "[", "[1,]", "[,1]", "[1 2]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}",
      "{'a':1}", "{\"a\":}", "{,}", "01", "-01", "1.", ".5", "-", "1e", "1e+", "+1", "0x10",
      "NaN", "Infinity", "tru", "nul", "falsey", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\u12G4\"",
      "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"\\ud800x\"", "\"a\nb\"", "\"a\tb\"",
      "\"\x01\"", "\"\xC0\xAF\"", "\"\xED\xA0\x80\"", "\"\xF4\x90\x80\x80\"", "\"\xE2\x82\"",
      "\"\x80\"", "\"\xFF\"", "\"\xF8\x88\x80\x80\x80\"", "\xEF\xBB\xBF{}", "{} x", "{}{}", "[] ]",
      "\"a\"\"b\"", std::string("{}\0", 3), "/* c */ {}", "[1,\n2,\n"};
  for (const auto& input : bad) {
    INFO("input: " << input);
    const auto e = parse_error(input);
    CHECK(e.kind() == ErrorKind::bad_document);
    CHECK(e.source() == "test");
    CHECK(contains(e.message(), "invalid JSON: "));
    CHECK(contains(e.message(), "offset"));
  }
  CHECK(contains(parse_error("[1,]").message(), "at offset 3"));
  CHECK(contains(parse_error("{} x").message(), "unexpected data after the document at offset 3"));
}

TEST_CASE("json: duplicate member names are refused") {
  const auto e = parse_error(R"({"AccessKeyId":"A","SecretAccessKey":"s","AccessKeyId":"B"})");
  CHECK(e.kind() == ErrorKind::bad_document);
  CHECK(contains(e.message(), "duplicate member name"));
  CHECK_NOTHROW(parse(R"({"a":{"x":1},"b":{"x":1}})"));  // same name in different objects
}

TEST_CASE("json: nesting deeper than the depth limit is refused - deep input cannot exhaust the stack") {
  const json::Limits two{json::default_max_bytes, 2};
  CHECK_NOTHROW(parse("[[1]]", two));
  CHECK_NOTHROW(parse(R"({"a":{"b":1}})", two));
  CHECK(contains(parse_error("[[[1]]]", two).message(), "nesting deeper than the limit at offset 2"));
  CHECK(contains(parse_error(R"({"a":[{}]})", two).message(), "nesting deeper"));
  // Far deeper than any stack could take if recursion were unbounded.
  const std::string deep(json::default_max_bytes, '[');
  CHECK(contains(parse_error(deep).message(), "nesting deeper than the limit at offset 32"));
  std::string ok_depth = std::string(json::default_max_depth, '[') + std::string(json::default_max_depth, ']');
  CHECK_NOTHROW(parse(ok_depth));
  const std::string objects = [] {
    std::string s;
    for (int i = 0; i < 100000; ++i) s += "{\"a\":";
    return s;
  }();
  CHECK(parse_error(objects).kind() == ErrorKind::bad_document);
}

TEST_CASE("json: input larger than the size limit is refused before parsing") {
  const json::Limits small{16, 8};
  CHECK_NOTHROW(parse("\"0123456789abcd\"", small));  // exactly 16 bytes
  const auto e = parse_error("\"0123456789abcde\"", small);
  CHECK(contains(e.message(), "17 bytes is larger than the limit of 16 bytes"));
  const std::string big = "\"" + std::string(json::default_max_bytes, 'a') + "\"";
  CHECK(parse_error(big).kind() == ErrorKind::bad_document);
}

TEST_CASE("json: error messages never quote the input") {
  const std::string secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  for (const std::string& input :
       {"{\"SecretAccessKey\": \"" + secret + "\" \"x\"}", "{\"" + secret + "\"}",
        "[\"" + secret + "\", " + secret + "]", "\"" + secret + "\\q\"", secret}) {
    const auto e = parse_error(input);
    CHECK_FALSE(contains(e.what(), secret));
    CHECK_FALSE(contains(e.what(), "wJalr"));
  }
}

// ----- credential documents ------------------------------------------------------------------

TEST_CASE("credential document: the IMDS sample of the EC2 User Guide") {
  const auto c = mskiam::detail::parse_credential_document(R"({
  "Code" : "Success",
  "LastUpdated" : "2012-04-26T16:39:16Z",
  "Type" : "AWS-HMAC",
  "AccessKeyId" : "ASIAIOSFODNN7EXAMPLE",
  "SecretAccessKey" : "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  "Token" : "token",
  "Expiration" : "2017-05-17T15:09:54Z"
})",
                                                           "imds", DocumentKind::imds);
  CHECK(c.access_key_id == "ASIAIOSFODNN7EXAMPLE");
  CHECK(c.secret_access_key.reveal() == "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
  CHECK(c.session_token.reveal() == "token");
  REQUIRE(c.expiration);
  CHECK(iso(c) == "2017-05-17T15:09:54Z");
  CHECK(c.principal.empty());
  CHECK(c.source == "imds");
}

TEST_CASE("credential document: extended IMDS document with AccountId and a microsecond fraction") {
  const auto c = mskiam::detail::parse_credential_document(
      R"({"Code":"Success","AccountId":"123456789012","AccessKeyId":"ASIAX","SecretAccessKey":"s","Token":"t",
          "Expiration":"2025-03-18T21:53:17.832308Z","Unknown":{"nested":[1,2,{"x":null}]}})",
      "imds", DocumentKind::imds);
  CHECK(iso(c) == "2025-03-18T21:53:17Z");
}

TEST_CASE("credential document: ECS task role document - RoleArn is not taken as the principal") {
  const auto c = mskiam::parse_credential_document(R"({
    "AccessKeyId": "ASIAECSEXAMPLE",
    "Expiration": "2030-01-01T06:00:00Z",
    "RoleArn": "arn:aws:iam::123456789012:role/TaskRole",
    "SecretAccessKey": "ecs-secret",
    "Token": "ecs-token"
})",
                                                   "container");
  CHECK(c.access_key_id == "ASIAECSEXAMPLE");
  CHECK(c.session_token.reveal() == "ecs-token");
  // The role ARN is not the assumed-role principal MSK sees (it lacks the session name).
  CHECK(c.principal.empty());
  CHECK(c.source == "container");
}

TEST_CASE("credential document: EKS Pod Identity document - nanoseconds and AccountId - no ARN") {
  const auto c = mskiam::parse_credential_document(
      R"({"AccessKeyId":"ASIAPOD","SecretAccessKey":"pod-secret","Token":"pod-token","AccountId":"123456789012",
          "Expiration":"2030-01-01T03:00:00.123456789Z"})",
      "container");
  CHECK(iso(c) == "2030-01-01T03:00:00Z");
  CHECK(c.principal.empty());
}

TEST_CASE("credential document: credential_process output with and without optional members") {
  auto c = mskiam::detail::parse_credential_document(
      R"({"Version": 1, "AccessKeyId": "AKIDPROC", "SecretAccessKey": "proc-secret",
          "SessionToken": "proc-token", "Expiration": "2030-01-01T00:00:00+02:00"})",
      "process", DocumentKind::process);
  CHECK(c.session_token.reveal() == "proc-token");
  CHECK(iso(c) == "2029-12-31T22:00:00Z");
  c = mskiam::detail::parse_credential_document(
      R"({"Version":1,"AccessKeyId":"AKIDPROC","SecretAccessKey":"proc-secret"})", "process",
      DocumentKind::process);
  CHECK(c.session_token.empty());
  CHECK_FALSE(c.expiration);
  c = mskiam::detail::parse_credential_document(
      R"({"Version":1,"AccessKeyId":"AKIDPROC","SecretAccessKey":"s","SessionToken":null,"Expiration":null})",
      "process", DocumentKind::process);
  CHECK(c.session_token.empty());
  CHECK_FALSE(c.expiration);
  c = mskiam::detail::parse_credential_document(
      R"({"Version":1,"AccessKeyId":"A","SecretAccessKey":"s","SessionToken":"t","Token":"t"})",
      "process", DocumentKind::process);
  CHECK(c.session_token.reveal() == "t");
}

TEST_CASE("credential document: Version must be the integer 1 - and is required for credential_process") {
  const std::string keys = R"("AccessKeyId":"A","SecretAccessKey":"s")";
  auto e = document_error("{" + keys + "}", DocumentKind::process);
  CHECK(e.kind() == ErrorKind::bad_document);
  CHECK(contains(e.message(), "Version is missing"));
  CHECK(contains(document_error(R"({"Version":2,)" + keys + "}").message(),
                 "Version is 2, only version 1 is supported"));
  for (const std::string version : {"\"1\"", "1.0", "true", "null", "[1]", "99999999999999999999"})
    CHECK(contains(document_error("{\"Version\":" + version + "," + keys + "}", DocumentKind::process)
                       .message(),
                   "Version must be the number 1"));
  CHECK_NOTHROW(mskiam::parse_credential_document("{" + keys + "}", "container"));
}

TEST_CASE("credential document: IMDS Code other than Success is a service_error carrying the code") {
  const std::string rest =
      R"("AccessKeyId":"A","SecretAccessKey":"s","Token":"t","Expiration":"2030-01-01T00:00:00Z")";
  auto e = document_error(R"({"Code":"AssumeRoleUnauthorizedAccess",)" + rest + "}", DocumentKind::imds);
  CHECK(e.kind() == ErrorKind::service_error);
  CHECK(e.code() == "AssumeRoleUnauthorizedAccess");
  CHECK(contains(e.message(), "Code \"AssumeRoleUnauthorizedAccess\""));
  e = document_error(R"({"Code":"has a secret wJalr inside",)" + rest + "}", DocumentKind::imds);
  CHECK(e.kind() == ErrorKind::service_error);
  CHECK_FALSE(contains(e.what(), "wJalr"));
  CHECK(contains(document_error("{" + rest + "}", DocumentKind::imds).message(), "Code is missing"));
  CHECK(contains(document_error(
                     R"({"Code":"Success","AccessKeyId":"A","SecretAccessKey":"s","Token":"t"})",
                     DocumentKind::imds)
                     .message(),
                 "Expiration is missing"));
}

TEST_CASE("credential document: missing - empty - mistyped and malformed members are bad_document") {
  struct Case {
    std::string doc, expect;
  };
  const std::vector<Case> cases = {
      {R"([])", "not a JSON object"},
      {R"("AccessKeyId")", "not a JSON object"},
      {R"({"SecretAccessKey":"s"})", "AccessKeyId is missing"},
      {R"({"AccessKeyId":"A"})", "SecretAccessKey is missing"},
      {R"({"AccessKeyId":"","SecretAccessKey":"s"})", "AccessKeyId is empty"},
      {R"({"AccessKeyId":"A","SecretAccessKey":""})", "SecretAccessKey is empty"},
      {R"({"AccessKeyId":1,"SecretAccessKey":"s"})", "AccessKeyId is not a string"},
      {R"({"AccessKeyId":"A","SecretAccessKey":["s"]})", "SecretAccessKey is not a string"},
      {R"({"AccessKeyId":"A","SecretAccessKey":"s","Token":5})", "Token is not a string"},
      {R"({"AccessKeyId":"A","SecretAccessKey":"s","Expiration":"tomorrow"})", "Expiration is not an ISO 8601"},
      {R"({"AccessKeyId":"A","SecretAccessKey":"s","Expiration":1700000000})", "Expiration is not a string"},
      {R"({"AccessKeyId":"A","SecretAccessKey":"s","Token":"t1","SessionToken":"t2"})", "differ"},
      {R"({"AccessKeyId":"A","SecretAccessKey":"s\r\nX-Injected: 1"})", "SecretAccessKey contains a control character"},
      {R"({"AccessKeyId":"A\u0000","SecretAccessKey":"s"})", "AccessKeyId contains a control character"},
      {R"({"AccessKeyId":"A","SecretAccessKey":"s","Token":"t\n"})", "session token contains a control character"},
      {R"({"AccessKeyId":"A","SecretAccessKey":"s","AccountId":123456789012})", "AccountId is not a string"},
      {R"({"AccessKeyId":"A","SecretAccessKey":"s","RoleArn":{}})", "RoleArn is not a string"},
      {R"({"AccessKeyId":"A","SecretAccessKey":"s"} trailing)", "invalid JSON"},
      {R"({"a":[[[[[[[[[]]]]]]]]],"AccessKeyId":"A","SecretAccessKey":"s"})", "nesting deeper"},
  };
  for (const auto& c : cases) {
    INFO(c.doc);
    const auto e = document_error(c.doc);
    CHECK(e.kind() == ErrorKind::bad_document);
    CHECK(e.source() == "container");
    CHECK(contains(e.message(), c.expect));
  }
  const std::string huge = R"({"AccessKeyId":"A","SecretAccessKey":"s","pad":")" +
                           std::string(mskiam::detail::max_credential_document_bytes, 'x') + "\"}";
  CHECK(contains(document_error(huge).message(), "larger than the limit"));
}

TEST_CASE("credential document: no error message contains the secret key or the session token") {
  const std::string secret = "SECRETwJalrXUtnFEMI", token = "TOKENIQoJb3JpZ2lu";
  const std::vector<std::string> docs = {
      R"({"AccessKeyId":"A","SecretAccessKey":")" + secret + R"(","Token":")" + token + R"(","Expiration":"x"})",
      R"({"AccessKeyId":"A","SecretAccessKey":")" + secret + R"(","Token":")" + token + R"(","SessionToken":"other"})",
      R"({"AccessKeyId":"A","SecretAccessKey":")" + secret + "\x01" + R"(","Token":")" + token + R"("})",
      R"({"Version":3,"AccessKeyId":"A","SecretAccessKey":")" + secret + R"(","SessionToken":")" + token + R"("})",
      R"({"AccessKeyId":"A","SecretAccessKey":")" + secret + R"(","Token":")" + token + R"(",})",
      R"({"Code":")" + secret + R"(","AccessKeyId":"A","SecretAccessKey":"s"})",
  };
  for (const auto& d : docs) {
    const auto e = document_error(d, DocumentKind::process);
    CHECK_FALSE(contains(e.what(), secret));
    CHECK_FALSE(contains(e.what(), token));
  }
}

TEST_CASE("credential document: an Expiration outside 1900-2199 is refused - not overflowed") {
  // Found by fuzzing: system_clock nanoseconds overflow near 1678 and 2262.
  for (const std::string when : {"1015-01-01T00:00:00+02:00", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
                                 "2262-04-12T00:00:00Z", "1899-12-31T23:59:59Z"}) {
    INFO(when);
    const auto e = document_error(R"({"AccessKeyId":"A","SecretAccessKey":"s","Expiration":")" + when + "\"}");
    CHECK(contains(e.message(), "Expiration is not an ISO 8601 time"));
  }
  const auto c = mskiam::parse_credential_document(
      R"({"AccessKeyId":"A","SecretAccessKey":"s","Expiration":"2199-12-31T23:59:59Z"})", "container");
  CHECK(iso(c) == "2199-12-31T23:59:59Z");
}
