// sign_token against the MSK token vectors of reference/token.md §2.3, and every rule and error
// of the token: host per partition, lifetime capping, padding, User-Agent outside the signature.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "catch.hpp"
#include "mskiam/detail/encoding.hpp"
#include "mskiam/token.hpp"

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Time = std::chrono::system_clock::time_point;

Time at_ms(std::int64_t ms) { return Time(std::chrono::duration_cast<Time::duration>(milliseconds(ms))); }

std::int64_t ms_of(Time t) {
  return std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
}

constexpr const char* example_secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

mskiam::Credentials creds(const char* key, const char* secret = example_secret, const char* token = "") {
  mskiam::Credentials c;
  c.access_key_id = key;
  c.secret_access_key = secret;
  c.session_token = token;
  return c;
}

mskiam::TokenOptions region(const char* r) {
  mskiam::TokenOptions o;
  o.region = r;
  return o;
}

struct Vector {
  const char* name;
  mskiam::Credentials credentials;
  mskiam::TokenOptions options;
  std::int64_t now_ms;
  const char* amz_date;
  const char* expires;
  const char* signature;
  std::int64_t expiry_ms;
};

}  // namespace

TEST_CASE("MSK token vectors V1-V5 and V7 give the published signatures and expiry") {
  auto v5 = region("cn-north-1");
  v5.host = "";  // the default host: what the official signers use for China
  auto v7 = creds("ASIAEXAMPLE", example_secret, "tok");
  v7.expiration = at_ms(1700003600000);
  const Vector vectors[] = {
      {"V1", creds("AKIDEXAMPLE"), region("us-east-1"), 1700000000000, "20231114T221320Z", "900",
       "253398ddf30b737b61a7a122a0259ada4c7162423af560094b2f4edef8033616", 1700000900000},
      {"V2", creds("ASIAEXAMPLE", example_secret, "IQoJb3JpZ2luX2VjEXAMPLE/+=token"),
       region("us-west-2"), 1700000000123, "20231114T221320Z", "900",
       "e2cd1051dc5e0be734a303e9cf923757ee978e38bc5503869a63a43f4ba094e3", 1700000900000},
      {"V3",
       creds("ASIAQEXAMPLEEXAMPLE1", "abcdEFGH/ijkl+MNOP=qrstUVWXyz0123456789",
             "FwoGZXIvYXdzEBYaDK1/EXAMPLE+TOKEN=="),
       region("eu-central-1"), 1709251199999, "20240229T235959Z", "900",
       "1a8c5b58c45fc78216c65b6ef4f39c32031fdf332dc6104af2cd42cf23a366f4", 1709252099000},
      {"V4", creds("AKIDEXAMPLE"), region("us-gov-west-1"), 1700000000000, "20231114T221320Z", "900",
       "f8770fe17067f5a206ff5134a157e084f0375b1b103c75321e12919e16bbfb44", 1700000900000},
      {"V5", creds("AKIDEXAMPLE"), v5, 1700000000000, "20231114T221320Z", "900",
       "94b24c50d84db72f5ecdc371ef065ce2e41f676f0647d54cd9543b12d4077287", 1700000900000},
      {"V7", v7, region("us-west-2"), 1700000000123, "20231114T221320Z", "900",
       "28705e5a1112fd25447c61a3b30f71fafdc4e4a3899d45fc5c1348a8ec228c66", 1700000900000},
  };
  for (const auto& v : vectors) {
    INFO(v.name);
    const auto token = mskiam::sign_token(v.credentials, v.options, at_ms(v.now_ms));
    const auto decoded = mskiam::decode_token(token.value);
    CHECK(decoded.param("X-Amz-Signature") == std::string(v.signature));
    CHECK(decoded.param("X-Amz-Date") == std::string(v.amz_date));
    CHECK(decoded.param("X-Amz-Expires") == std::string(v.expires));
    CHECK(ms_of(token.expires_at) == v.expiry_ms);
    CHECK(decoded.param("Action") == std::string("kafka-cluster:Connect"));
    CHECK(decoded.param("X-Amz-SignedHeaders") == std::string("host"));
    CHECK(decoded.param("User-Agent") == std::string("mskiam-cpp/" MSKIAM_VERSION_STRING));
    CHECK(token.value.find_first_not_of(
              "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == std::string::npos);
  }
}

TEST_CASE("V1 token is the exact URL: sorted signed query - then signature - then User-Agent") {
  const auto token = mskiam::sign_token(creds("AKIDEXAMPLE"), region("us-east-1"), at_ms(1700000000000));
  const auto url = mskiam::detail::base64url_decode(token.value);
  REQUIRE(url);
  CHECK(*url ==
        "https://kafka.us-east-1.amazonaws.com/?Action=kafka-cluster%3AConnect&X-Amz-Algorithm=AWS4-"
        "HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20231114%2Fus-east-1%2Fkafka-cluster%2Faws4_"
        "request&X-Amz-Date=20231114T221320Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-"
        "Signature=253398ddf30b737b61a7a122a0259ada4c7162423af560094b2f4edef8033616&User-Agent="
        "mskiam-cpp%2F" MSKIAM_VERSION_STRING);
  CHECK(token.principal == "AKIDEXAMPLE");  // no ARN known: the access key id stands in
}

TEST_CASE("V2 session token is percent-encoded inside the signed query") {
  const auto token = mskiam::sign_token(creds("ASIAEXAMPLE", example_secret, "IQoJb3JpZ2luX2VjEXAMPLE/+=token"),
                                        region("us-west-2"), at_ms(1700000000123));
  const auto url = *mskiam::detail::base64url_decode(token.value);
  CHECK(url.find("&X-Amz-Security-Token=IQoJb3JpZ2luX2VjEXAMPLE%2F%2B%3Dtoken&X-Amz-SignedHeaders=host&") !=
        std::string::npos);
}

TEST_CASE("the JS signer's fractional-lifetime inputs (V6) give an integer X-Amz-Expires") {
  auto c = creds("ASIAEXAMPLE", example_secret, "tok");
  c.expiration = at_ms(1700000600623);
  const auto token = mskiam::sign_token(c, region("us-west-2"), at_ms(1700000000123));
  const auto decoded = mskiam::decode_token(token.value);
  CHECK(decoded.param("X-Amz-Expires") == std::string("600"));
  CHECK(ms_of(token.expires_at) == 1700000600000);
  CHECK(token.expires_at <= *c.expiration);
}

TEST_CASE("the lifetime option sets X-Amz-Expires - and credentials cap it") {
  auto options = region("us-east-1");
  options.lifetime = seconds(300);
  auto c = creds("AKIDEXAMPLE");
  auto token = mskiam::sign_token(c, options, at_ms(1700000000000));
  CHECK(mskiam::decode_token(token.value).lifetime == seconds(300));
  c.expiration = at_ms(1700000000000 + 42'500);
  token = mskiam::sign_token(c, options, at_ms(1700000000000));
  CHECK(mskiam::decode_token(token.value).lifetime == seconds(42));
  CHECK(ms_of(token.expires_at) == 1700000042000);
}

TEST_CASE("host: amazonaws.com everywhere - China too as the official signers - and an explicit override") {
  CHECK(mskiam::msk_host("us-east-1") == "kafka.us-east-1.amazonaws.com");
  CHECK(mskiam::msk_host("us-gov-west-1") == "kafka.us-gov-west-1.amazonaws.com");
  CHECK(mskiam::msk_host("cn-north-1") == "kafka.cn-north-1.amazonaws.com");
  CHECK(mskiam::msk_host("cn-northwest-1") == "kafka.cn-northwest-1.amazonaws.com");
  auto options = region("cn-north-1");
  CHECK(mskiam::decode_token(mskiam::sign_token(creds("AKIDEXAMPLE"), options, at_ms(1700000000000)).value)
            .host == "kafka.cn-north-1.amazonaws.com");
  options.host = "kafka.cn-north-1.amazonaws.com.cn";
  CHECK(mskiam::decode_token(mskiam::sign_token(creds("AKIDEXAMPLE"), options, at_ms(1700000000000)).value)
            .host == "kafka.cn-north-1.amazonaws.com.cn");
  options.host = "kafka.vpce.example.internal";
  CHECK(mskiam::decode_token(mskiam::sign_token(creds("AKIDEXAMPLE"), options, at_ms(1700000000000)).value)
            .host == "kafka.vpce.example.internal");
}

TEST_CASE("a custom User-Agent is appended unsigned") {
  auto options = region("us-east-1");
  options.user_agent = "my app/1.0";
  const auto token = mskiam::sign_token(creds("AKIDEXAMPLE"), options, at_ms(1700000000000));
  const auto decoded = mskiam::decode_token(token.value);
  CHECK(decoded.param("User-Agent") == std::string("my app/1.0"));
  CHECK(decoded.param("X-Amz-Signature") ==
        std::string("253398ddf30b737b61a7a122a0259ada4c7162423af560094b2f4edef8033616"));
}

TEST_CASE("the principal of ARN-carrying credentials is reported with the token") {
  auto c = creds("ASIAEXAMPLE");
  c.principal = "arn:aws:sts::123456789012:assumed-role/MskRole/app";
  CHECK(mskiam::sign_token(c, region("us-east-1"), at_ms(1700000000000)).principal == c.principal);
}

namespace {
std::string error_of(const mskiam::Credentials& c, const mskiam::TokenOptions& o, Time now,
                     mskiam::ErrorKind expected_kind) {
  try {
    mskiam::sign_token(c, o, now);
  } catch (const mskiam::Error& e) {
    CHECK(e.kind() == expected_kind);
    CHECK(e.source() == "token");
    return e.what();
  }
  FAIL("no mskiam::Error thrown");
  return {};
}
}  // namespace

TEST_CASE("bad input is a clear mskiam::Error naming the token source") {
  using mskiam::ErrorKind;
  const Time now = at_ms(1700000000000);
  CHECK_THAT(error_of(creds(""), region("us-east-1"), now, ErrorKind::invalid_argument),
             mskiam_test::contains_substring("access key id is empty"));
  CHECK_THAT(error_of(creds("AKIDEXAMPLE", ""), region("us-east-1"), now, ErrorKind::invalid_argument),
             mskiam_test::contains_substring("secret access key is empty"));
  CHECK_THAT(error_of(creds("AKIDEXAMPLE"), region(""), now, ErrorKind::invalid_argument),
             mskiam_test::contains_substring("region is empty"));
  for (const char* bad : {"US-EAST-1", "us-east-1.", "kafka.us-east-1", "-us-east-1", "us east 1", "us-east-1-"}) {
    INFO(bad);
    CHECK_THAT(error_of(creds("AKIDEXAMPLE"), region(bad), now, ErrorKind::invalid_argument),
               mskiam_test::contains_substring("is malformed"));
  }
  for (long s : {0L, -5L, 901L, 3600L}) {
    auto o = region("us-east-1");
    o.lifetime = seconds(s);
    CHECK_THAT(error_of(creds("AKIDEXAMPLE"), o, now, ErrorKind::invalid_argument),
               mskiam_test::contains_substring("outside 1..900 s"));
  }
  auto o = region("us-east-1");
  o.host = "evil.example/path?";
  CHECK_THAT(error_of(creds("AKIDEXAMPLE"), o, now, ErrorKind::invalid_argument),
             mskiam_test::contains_substring("is not a host name"));
}

TEST_CASE("expired credentials never produce a token whose expiry is in the past") {
  const Time now = at_ms(1700000000500);
  auto c = creds("ASIAEXAMPLE", example_secret, "SESSIONTOKENVALUE");
  c.expiration = at_ms(1700000000000);
  const auto text = error_of(c, region("us-east-1"), now, mskiam::ErrorKind::expired);
  CHECK_THAT(text, mskiam_test::contains_substring("expired at 2023-11-14T22:13:20Z"));
  CHECK(text.find("SESSIONTOKENVALUE") == std::string::npos);
  CHECK(text.find(example_secret) == std::string::npos);
  c.expiration = now;  // expiring exactly now
  error_of(c, region("us-east-1"), now, mskiam::ErrorKind::expired);
  // 0.4 s left; from the signing second (…000) that is 0.9 s: less than one whole second, refused.
  c.expiration = at_ms(1700000000900);
  CHECK_THAT(error_of(c, region("us-east-1"), now, mskiam::ErrorKind::expired),
             mskiam_test::contains_substring("expire within a second"));
  c.expiration = at_ms(1700000001000);  // one whole second: the shortest token
  const auto token = mskiam::sign_token(c, region("us-east-1"), now);
  CHECK(mskiam::decode_token(token.value).lifetime == seconds(1));
  CHECK(token.expires_at > now);
}

TEST_CASE("decode_token refuses what is not a token") {
  for (const char* bad : {"", "!!!", "aGVsbG8", /* "hello" */
                          "aHR0cHM6Ly9ob3N0Lz9YLUFtei1EYXRlPTE" /* https://host/?X-Amz-Date=1 */}) {
    INFO(bad);
    CHECK_THROWS_AS(mskiam::decode_token(bad), mskiam::Error);
  }
}

TEST_CASE("the redacted URL hides the signature and the session token") {
  const auto token = mskiam::sign_token(creds("ASIAEXAMPLE", example_secret, "SESSIONTOKENVALUE"),
                                        region("us-west-2"), at_ms(1700000000000));
  const auto url = mskiam::decode_token(token.value).redacted_url();
  CHECK(url.find("SESSIONTOKENVALUE") == std::string::npos);
  CHECK(url.find("X-Amz-Signature=%3Credacted%3E") != std::string::npos);
  CHECK(url.find("X-Amz-Security-Token=%3Credacted%3E") != std::string::npos);
  CHECK(url.find("X-Amz-Credential=ASIAEXAMPLE") != std::string::npos);
}

TEST_CASE("a cache gives the uncached token whatever changes between two tokens") {
  // The cache keeps parts of the URL per credentials, day and options (and their base64url per
  // position in a 3-byte group): every change must show, in every order.
  mskiam::TokenCache cache;
  const Time t0 = at_ms(1700000000000);
  std::vector<std::pair<mskiam::Credentials, mskiam::TokenOptions>> inputs;
  auto base = creds("ASIAEXAMPLE", example_secret, "IQoJb3JpZ2luX2VjEXAMPLE/+=token");
  inputs.emplace_back(base, region("us-east-1"));
  inputs.emplace_back(creds("ASIAEXAMPLE", example_secret, "IQoJb3JpZ2luX2VjEXAMPLE/+=toke2"),
                      region("us-east-1"));                                       // session token
  inputs.emplace_back(creds("ASIAEXAMPLE", example_secret, "a"), region("us-east-1"));
  inputs.emplace_back(creds("ASIAEXAMPLE"), region("us-east-1"));                 // none
  inputs.emplace_back(creds("ASIAEXAMPLE", "other-secret", "a"), region("us-east-1"));
  inputs.emplace_back(creds("AKIDEXAMPLE2", "other-secret", "a"), region("us-east-1"));
  inputs.emplace_back(base, region("eu-west-1"));
  inputs.emplace_back(base, region("cn-north-1"));
  auto with_host = region("us-east-1");
  with_host.host = "b-1.example.kafka.us-east-1.amazonaws.com:9098";
  inputs.emplace_back(base, with_host);
  auto with_agent = region("us-east-1");
  with_agent.user_agent = "my app/1.0 (+x)";
  inputs.emplace_back(base, with_agent);
  for (int lifetime : {1, 12, 123, 900}) {  // X-Amz-Expires of 1 to 3 digits: each group position
    auto o = region("us-east-1");
    o.lifetime = seconds(lifetime);
    inputs.emplace_back(base, o);
  }
  std::size_t signed_tokens = 0;
  for (int round = 0; round < 2; ++round) {
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      for (std::int64_t day : {0, 0, 1, 1, 0}) {
        const Time now = t0 + std::chrono::hours(24 * day);
        const auto& [c, o] = inputs[round == 0 ? i : inputs.size() - 1 - i];
        const mskiam::AuthToken cached = mskiam::sign_token(c, o, now, &cache);
        const mskiam::AuthToken uncached = mskiam::sign_token(c, o, now);
        CHECK(cached.value == uncached.value);
        CHECK(cached.expires_at == uncached.expires_at);
        CHECK(cached.principal == uncached.principal);
        ++signed_tokens;
      }
    }
    cache.reset();
  }
  CHECK(signed_tokens == 2 * inputs.size() * 5);
#if MSKIAM_DEFINITIONS  // the memo's type is defined with the definitions (header-only builds)
  mskiam::sign_token(base, region("us-east-1"), t0, &cache);
  CHECK_FALSE(cache.presign_memo().tail.empty());  // it holds the encoded session token...
  cache.reset();
  CHECK(cache.presign_memo().tail.empty());  // ...until the cache is reset
  CHECK_FALSE(cache.presign_memo().valid);
#endif
}

TEST_CASE("a cached token is refused for what the uncached one is refused") {
  mskiam::TokenCache cache;
  const Time now = at_ms(1700000000000);
  const auto good = region("us-east-1");
  mskiam::sign_token(creds("AKIDEXAMPLE"), good, now, &cache);  // warm
  auto bad_lifetime = good;
  bad_lifetime.lifetime = seconds(901);
  CHECK_THROWS_AS(mskiam::sign_token(creds("AKIDEXAMPLE"), bad_lifetime, now, &cache),
                  mskiam::Error);
  auto bad_region = good;
  bad_region.region = "US-EAST-1";
  CHECK_THROWS_AS(mskiam::sign_token(creds("AKIDEXAMPLE"), bad_region, now, &cache), mskiam::Error);
  auto bad_host = good;
  bad_host.host = "evil/host";
  CHECK_THROWS_AS(mskiam::sign_token(creds("AKIDEXAMPLE"), bad_host, now, &cache), mskiam::Error);
  auto expired = creds("AKIDEXAMPLE");
  expired.expiration = now;
  CHECK_THROWS_AS(mskiam::sign_token(expired, good, now, &cache), mskiam::Error);
  CHECK_THROWS_AS(mskiam::sign_token(creds(""), good, now, &cache), mskiam::Error);
  CHECK(mskiam::sign_token(creds("AKIDEXAMPLE"), good, now, &cache).value ==
        mskiam::sign_token(creds("AKIDEXAMPLE"), good, now).value);
}

TEST_CASE("base64url written in pieces is the base64url of their concatenation") {
  std::string all;
  for (int i = 0; i < 40; ++i) all += static_cast<char>(i * 37 + 251);
  for (std::size_t a = 0; a <= all.size(); ++a) {
    for (std::size_t b = a; b <= all.size(); b += 3) {
      std::string out(mskiam::detail::base64url_size(all.size()), '?');
      mskiam::detail::Base64urlWriter writer(&out[0]);
      writer.append(std::string_view(all).substr(0, a));
      writer.append(std::string_view(all).substr(a, b - a));
      if (writer.carried() == 0) {  // whole groups may come encoded beforehand
        const std::size_t whole = (all.size() - b) / 3 * 3;
        writer.append_encoded(mskiam::detail::base64url_encode(std::string_view(all).substr(b, whole)));
        writer.append(std::string_view(all).substr(b + whole));
      } else {
        writer.append(std::string_view(all).substr(b));
      }
      CHECK(writer.finish() == out.data() + out.size());
      CHECK(out == mskiam::detail::base64url_encode(all));
    }
  }
}
