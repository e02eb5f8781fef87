// The plugin's sasl.oauthbearer.config parser: every key, every refusal names the key.
#include "catch.hpp"
#include "settings.hpp"

using mskiam_plugin::parse_settings;
using mskiam_plugin::SettingsError;

namespace {

std::string error_of(const std::string& text, const std::string& bootstrap = {}) {
  try {
    parse_settings(text, bootstrap);
  } catch (const SettingsError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("plugin settings: every key is read") {
  const auto s = parse_settings(
      "  region=eu-west-1 session_name=orders-app role_arn=arn:aws:iam::123456789012:role/Msk "
      "external_id=ext-1 profile=prod principal_change=reject "
      "sts_endpoint=https://sts.eu-west-1.amazonaws.com host=kafka.eu-west-1.amazonaws.com "
      "lifetime=300s\t");
  CHECK(s.region == "eu-west-1");
  REQUIRE(s.session_name);
  CHECK(*s.session_name == "orders-app");
  CHECK(s.role_arn == "arn:aws:iam::123456789012:role/Msk");
  CHECK(s.external_id == "ext-1");
  CHECK(s.profile == "prod");
  CHECK(s.principal_change == mskiam::PrincipalChange::reject);
  CHECK(s.sts_endpoint == "https://sts.eu-west-1.amazonaws.com");
  CHECK(s.host == "kafka.eu-west-1.amazonaws.com");
  CHECK(s.lifetime == std::chrono::seconds(300));
}

TEST_CASE("plugin settings: defaults with region alone") {
  const auto s = parse_settings("region=us-east-1");
  CHECK_FALSE(s.session_name);
  CHECK(s.role_arn.empty());
  CHECK(s.profile.empty());
  CHECK(s.principal_change == mskiam::PrincipalChange::allow);
  CHECK(s.lifetime == std::chrono::seconds(900));
}

TEST_CASE("plugin settings: each refusal names the property and the key") {
  const std::pair<const char*, const char*> cases[] = {
      {"", "sasl.oauthbearer.config: region: is required"},
      {"lifetime=60", "sasl.oauthbearer.config: region: is required"},
      {"region=us-east-1 regoin=x", "sasl.oauthbearer.config: regoin: unknown key (known keys: region,"},
      {"region=Us-East-1", "sasl.oauthbearer.config: region: "},
      {"region=", "sasl.oauthbearer.config: region: has no value"},
      {"region=us-east-1 region=us-west-2", "sasl.oauthbearer.config: region: is given twice"},
      {"region=us-east-1 lifetime=0", "sasl.oauthbearer.config: lifetime: token lifetime 0 s is outside 1..900 s"},
      {"region=us-east-1 lifetime=901", "sasl.oauthbearer.config: lifetime: token lifetime 901 s is outside"},
      {"region=us-east-1 lifetime=15m", "sasl.oauthbearer.config: lifetime: "},
      {"region=us-east-1 principal_change=yes", "sasl.oauthbearer.config: principal_change: \"yes\" is neither allow nor reject"},
      {"region=us-east-1 session_name=a", "sasl.oauthbearer.config: session_name: "},
      {"region=us-east-1 session_name=a/b", "sasl.oauthbearer.config: session_name: "},
      {"region=us-east-1 role_arn=MskRole", "sasl.oauthbearer.config: role_arn: "},
      {"region=us-east-1 external_id=abc", "sasl.oauthbearer.config: external_id: needs role_arn"},
      {"region=us-east-1 role_arn=arn:aws:iam::123456789012:role/R external_id=a", "sasl.oauthbearer.config: external_id: "},
      {"region=us-east-1 sts_endpoint=sts.amazonaws.com", "sasl.oauthbearer.config: sts_endpoint: "},
      {"region=us-east-1 host=a_b", "sasl.oauthbearer.config: host: "},
      {"region=us-east-1 verbose", "sasl.oauthbearer.config: \"verbose\" is not key=value"},
      {"region=us-east-1 =x", "sasl.oauthbearer.config: \"=x\" is not key=value"},
  };
  for (const auto& [text, expected] : cases) {
    INFO(text);
    CHECK(error_of(text).rfind(expected, 0) == 0);
  }
}

TEST_CASE("plugin settings: what the library would refuse later is refused at configuration") {
  // A region that cannot exist, and role ARNs the looser check of old let through: each is the
  // library's own rule (mskiam/validation.hpp), so a client is never accepted here and refused
  // at creation.
  const std::pair<const char*, const char*> cases[] = {
      {"region=useast1", "sasl.oauthbearer.config: region: region \"useast1\" is malformed"},
      {"region=us-east", "sasl.oauthbearer.config: region: region \"us-east\" is malformed"},
      {"region=us-east-1 role_arn=arn:aws:iam::1:role/R",
       "sasl.oauthbearer.config: role_arn: role ARN \"arn:aws:iam::1:role/R\" is invalid"},
      {"region=us-east-1 role_arn=arn:aws:iam::123456789012:role/",
       "sasl.oauthbearer.config: role_arn: role ARN \"arn:aws:iam::123456789012:role/\" is invalid"},
      {"region=us-east-1 role_arn=arn:aws:sts::123456789012:role/Msk",
       "sasl.oauthbearer.config: role_arn: role ARN \"arn:aws:sts::123456789012:role/Msk\" is invalid"},
  };
  for (const auto& [text, expected] : cases) {
    INFO(text);
    CHECK(error_of(text).rfind(expected, 0) == 0);
  }
  for (const char* arn : {"arn:aws:iam::1:role/R", "arn:aws:sts::123456789012:role/Msk"}) {
    INFO(arn);
    CHECK_THROWS_AS(mskiam::validate_role_arn(arn, "sts"), mskiam::Error);
  }
  CHECK(parse_settings("region=eu-isoe-west-1").region == "eu-isoe-west-1");
  CHECK(parse_settings("region=us-gov-west-1 role_arn=arn:aws-us-gov:iam::123456789012:role/a/b")
            .role_arn == "arn:aws-us-gov:iam::123456789012:role/a/b");
}

TEST_CASE("plugin settings: without region=, the region of bootstrap.servers' MSK host names") {
  const char* brokers = " b-1.us-west-2-orders.abc.c3.kafka.eu-west-1.amazonaws.com:9098 ,"
                        "b-2.us-west-2-orders.abc.c3.kafka.eu-west-1.amazonaws.com:9098";
  CHECK(parse_settings("", brokers).region == "eu-west-1");
  CHECK(parse_settings("lifetime=60", brokers).region == "eu-west-1");
  // region= wins; the brokers are then not read at all.
  CHECK(parse_settings("region=us-east-1", brokers).region == "us-east-1");
  CHECK(parse_settings("region=us-east-1", "127.0.0.1:9092").region == "us-east-1");
  // The keys alone, for configuration time: no region is no error yet.
  CHECK(mskiam_plugin::parse_keys("lifetime=60").region.empty());
  CHECK_THROWS_AS(mskiam_plugin::parse_keys("regoin=us-east-1"), SettingsError);
}

TEST_CASE("plugin settings: brokers that give no region are refused naming the key and the host") {
  CHECK(error_of("", "127.0.0.1:9092") ==
        "sasl.oauthbearer.config: region: is not set, and bootstrap.servers gives none: broker "
        "\"127.0.0.1:9092\" is not an MSK broker host name (...kafka.<region>.amazonaws.com or "
        "...kafka-serverless.<region>.amazonaws.com, .amazonaws.com.cn in China), so it names no "
        "region: set the region explicitly");
  CHECK(error_of("lifetime=60", "b-1.o.abc.c3.kafka.eu-west-1.amazonaws.com:9098,"
                                "b-1.o.abc.c3.kafka.eu-west-2.amazonaws.com:9098")
            .rfind("sasl.oauthbearer.config: region: is not set, and bootstrap.servers gives none: "
                   "the brokers are in more than one region",
                   0) == 0);
  CHECK(error_of("", " ").rfind("sasl.oauthbearer.config: region: is required", 0) == 0);
}
