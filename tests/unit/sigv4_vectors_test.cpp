// The query (presign) variant of the published SigV4 test suite (aws-c-auth
// tests/aws-signing-test-suite/v4) and the presign vectors of smithy-rs and botocore.
#include <string>
#include <utility>
#include <vector>

#include "catch.hpp"
#include "mskiam/detail/crypto.hpp"
#include "mskiam/detail/encoding.hpp"
#include "mskiam/sigv4.hpp"
#include "support/presign_reference.hpp"

namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

struct Presign {
  std::string access_key = "AKIDEXAMPLE";
  std::string secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  std::string token;
  std::string region = "us-east-1";
  std::string service = "service";
  std::string amz_date = "20150830T123600Z";
  std::string expires = "3600";
  std::string host = "example.amazonaws.com";
  std::string uri = "/";
  Params params;

  std::string canonical_request() const {
    Params all = params;
    all.emplace_back("X-Amz-Algorithm", "AWS4-HMAC-SHA256");
    all.emplace_back("X-Amz-Credential", access_key + "/" + scope());
    all.emplace_back("X-Amz-Date", amz_date);
    all.emplace_back("X-Amz-Expires", expires);
    if (!token.empty()) all.emplace_back("X-Amz-Security-Token", token);
    all.emplace_back("X-Amz-SignedHeaders", "host");
    return mskiam_test::presign_canonical_request(canonical_uri(), mskiam_test::canonical_query(all), host);
  }
  std::string scope() const {
    return mskiam::sigv4::credential_scope(amz_date.substr(0, 8), region, service);
  }
  // Each path segment encoded, slashes kept.
  std::string canonical_uri() const {
    std::string out;
    std::string segment;
    for (char c : uri) {
      if (c == '/') {
        out += mskiam::detail::uri_encode(segment) + "/";
        segment.clear();
      } else {
        segment += c;
      }
    }
    return out + mskiam::detail::uri_encode(segment);
  }
  std::string string_to_sign() const {
    return mskiam::sigv4::string_to_sign(amz_date, scope(), canonical_request());
  }
  std::string signature() const {
    const auto key = mskiam::sigv4::derive_signing_key(mskiam::Secret(secret), amz_date.substr(0, 8),
                                                       region, service);
    return mskiam::sigv4::signature(key, string_to_sign());
  }
};

}  // namespace

TEST_CASE("aws-c-auth get-vanilla: canonical request - string to sign and signature") {
  Presign p;
  CHECK(p.canonical_request() ==
        "GET\n/\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%"
        "2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=3600&X-Amz-SignedHeaders="
        "host\nhost:example.amazonaws.com\n\nhost\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(p.string_to_sign() ==
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
        "bb7705b4aa3cb8e8f5e1e0b3d4c0b64030797a313c8ceee43e33117cc43eadc5");
  CHECK(p.signature() == "e93c787ed7f371d5c6b165c1b38ede9550f4dce4144713e844b25b7192d3865d");
}

TEST_CASE("aws-c-auth get-vanilla-with-session-token: the token is signed") {
  Presign p;
  p.token = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";
  CHECK(p.string_to_sign().substr(p.string_to_sign().size() - 64) ==
        "cb30434103085aa9e73780fc60dc9a9df818fd2a7b1de12a9f6f4d791f898761");
  CHECK(p.signature() == "7ff2b50b376cb4d151970630573d6291dc128cc5c2a12ffb237f73cc53f67b6c");
}

TEST_CASE("aws-c-auth query cases: encoding and sorting of parameters") {
  struct Case {
    const char* name;
    Params params;
    const char* signature;
  };
  const std::string unreserved =
      "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  const std::vector<Case> cases = {
      {"get-vanilla-query", {}, "e93c787ed7f371d5c6b165c1b38ede9550f4dce4144713e844b25b7192d3865d"},
      {"get-vanilla-empty-query-key",
       {{"Param1", "value1"}},
       "49096700cbbaa5753443850f40df10f904fc2fdb544dc9512203cc77c471a9de"},
      {"get-vanilla-query-order-key-case",
       {{"Param2", "value2"}, {"Param1", "value1"}},
       "86012e2c9ad4d77369f5d81c11f75158aae4f895a085212cc6d3f923d300bed5"},
      {"get-vanilla-query-order-encoded",
       {{"Param-3", "Value3"}, {"Param", "Value2"}, {"\xE1\x88\xB4", "Value1"}},
       "c5f1848ceec943ac2ca68ee720460c23aaae30a2300586597ada94c4a65e4787"},
      {"get-vanilla-query-unreserved",
       {{unreserved, unreserved}},
       "8e76a88a7433637b12778d5592799b29ad21ecd6cf6325051c21d86f0acda2bf"},
      {"get-vanilla-utf8-query",
       {{"\xE1\x88\xB4", "bar"}},
       "0bdd809b1519ac4f0c1dc3540e2cc46bd0c7f778eda408b2ebf3b913d21ff600"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    Presign p;
    p.params = c.params;
    CHECK(p.signature() == c.signature);
  }
}

TEST_CASE("aws-c-auth path cases: canonical URI encoding") {
  struct Case {
    const char* uri;
    const char* signature;
  };
  const std::vector<Case> cases = {
      {"/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
       "95968482db1b9e0fadef6efc1bd24689f77c77d9ef56919c96a28cc92e0d6005"},
      {"/\xE1\x88\xB4", "10eae3f14a260bd3911cc6d008d3c576d143b05b62f09782a7a4b37f52178e44"},
      {"/example space/", "7a1f416954786484c9824d93c1f26ef64acb9b1b6c9154d08c9f07d0e394abf6"},
  };
  for (const auto& c : cases) {
    INFO(c.uri);
    Presign p;
    p.uri = c.uri;
    CHECK(p.signature() == c.signature);
  }
}

TEST_CASE("smithy-rs test_sign_vanilla_with_query_params: 35 s presign") {
  Presign p;
  p.expires = "35";
  p.params = {{"Param2", "value2"}, {"Param1", "value1"}};
  CHECK(p.signature() == "f25aea20f8c722ece3b363fc5d60cc91add973f9b64c42ba36fa28d57afe9019");
}

TEST_CASE("botocore TestSigV4Presign: presign without and with a query") {
  Presign p;
  p.access_key = "access_key";
  p.secret = "secret_key";
  p.service = "myservice";
  p.region = "myregion";
  p.amz_date = "20140101T000000Z";
  p.expires = "60";
  p.host = "ec2.us-east-1.amazonaws.com";
  CHECK(p.signature() == "c70e0bcdb4cd3ee324f71c78195445b8788315af0800bbbdbbb6d05a616fb84c");
  p.host = "myservice.us-east-1.amazonaws.com";
  p.params = {{"Param", "value"}};
  CHECK(p.signature() == "8e1d372d168d532313ce6df8f64a7dc51de6f312a9cfba6e5b345d8a771e839c");
}

namespace {
// What a key signs: the cache's prepared key and a freshly derived one must agree.
std::string mac_of(const mskiam::detail::HmacKey& key) {
  return mskiam::detail::hex(mskiam::detail::hmac_sha256(key, "string to sign"));
}
std::string mac_of(const char* secret, const char* date) {
  return mskiam::sigv4::signature(
      mskiam::sigv4::derive_signing_key(mskiam::Secret(secret), date, "us-east-1", "kafka-cluster"),
      "string to sign");
}
}  // namespace

TEST_CASE("signing key cache derives once per day - region - service and credentials") {
  constexpr const char* secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  CHECK(mskiam::detail::hex(mskiam::sigv4::derive_signing_key(mskiam::Secret(secret), "20231114",
                                                              "us-east-1", "kafka-cluster")) ==
        "471356ee8f16ac6dc307e2f0f52d257d070480b62db48fd73f75291157492fd4");
  mskiam::Credentials c;
  c.access_key_id = "AKIDEXAMPLE";
  c.secret_access_key = secret;
  mskiam::sigv4::SigningKeyCache cache;
  CHECK(mac_of(cache.prepared(c, "20231114", "us-east-1", "kafka-cluster")) == mac_of(secret, "20231114"));
  cache.prepared(c, "20231114", "us-east-1", "kafka-cluster");
  CHECK(cache.derivations() == 1);
  CHECK(mac_of(cache.prepared(c, "20231115", "us-east-1", "kafka-cluster")) == mac_of(secret, "20231115"));
  CHECK(cache.derivations() == 2);
  c.secret_access_key = "another-secret";  // same key id, new secret: never reuse the old key
  const std::string again = mac_of(cache.prepared(c, "20231115", "us-east-1", "kafka-cluster"));
  CHECK(cache.derivations() == 3);
  CHECK(again != mac_of(secret, "20231115"));
  CHECK(again == mac_of("another-secret", "20231115"));
  cache.reset();
  cache.prepared(c, "20231115", "us-east-1", "kafka-cluster");
  CHECK(cache.derivations() == 4);
}

TEST_CASE("the signing key cache's prepared key is wiped by reset") {
  mskiam::Credentials c;
  c.access_key_id = "AKIDEXAMPLE";
  c.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  mskiam::sigv4::SigningKeyCache cache;
  const auto& prepared = cache.prepared(c, "20231114", "us-east-1", "kafka-cluster");
  CHECK_FALSE(prepared.empty());
  cache.reset();
  CHECK(prepared.empty());  // the same object, its states freed (and wiped by OpenSSL)
  cache.prepared(c, "20231114", "us-east-1", "kafka-cluster");
  CHECK(cache.derivations() == 2);
}
