// mskiam/validation.hpp: the one set of input rules the library, mskiam-token and the plugin ask.
#include <chrono>
#include <string>

#include "catch.hpp"
#include "mskiam/sts.hpp"
#include "mskiam/token.hpp"
#include "mskiam/validation.hpp"
#include "support/error_of.hpp"
#include "support/profile_fixtures.hpp"

using mskiam::ErrorKind;
using mskiam_test::error_of;

TEST_CASE("validation: region ids of every partition pass - what cannot be a region is refused") {
  for (const char* region : {"us-east-1", "eu-west-3", "ap-southeast-5", "cn-north-1", "us-gov-west-1",
                             "us-iso-east-1", "us-isob-east-1", "eu-isoe-west-1", "eusc-de-east-1",
                             "il-central-1", "mx-central-1"}) {
    INFO(region);
    CHECK_NOTHROW(mskiam::validate_region(region, "test"));
  }
  for (const char* region : {"useast1", "us-east", "us-1", "east-1", "u-east-1", "useast-east-1",
                             "us-east-1a", "us-east-1-", "-us-east-1", "us--east-1", "US-EAST-1",
                             "us-east-one", "aws-global", "us_east_1", "us-east-1.evil.com"}) {
    INFO(region);
    const auto e = error_of([&] { mskiam::validate_region(region, "test"); });
    CHECK(e.kind() == ErrorKind::invalid_argument);
    CHECK(e.source() == "test");
    CHECK_THAT(e.message(), mskiam_test::contains_substring("is malformed"));
  }
  CHECK(error_of([] { mskiam::validate_region(std::string(mskiam::max_region_size, 'a') + "-b-1", "t"); })
            .kind() == ErrorKind::invalid_argument);
}

TEST_CASE("validation: a region that cannot exist is refused naming where it came from") {
  const auto e = error_of([] { mskiam::validate_region("useast1", "mskiam-token", "--region"); });
  CHECK(e.message() == "region \"useast1\" (from --region) is malformed: expected a region id such as "
                       "\"us-east-1\" (lower-case <area>-<direction>-<number>)");
  // A token is never signed for kafka.useast1.amazonaws.com.
  mskiam::Credentials c;
  c.access_key_id = "AKIDEXAMPLE";
  c.secret_access_key = std::string("secret");
  mskiam::TokenOptions options;
  options.region = "useast1";
  const auto token = error_of([&] { mskiam::sign_token(c, options, std::chrono::system_clock::now()); });
  CHECK(token.source() == "token");
  CHECK_THAT(token.message(), mskiam_test::contains_substring("(from TokenOptions::region)"));
}

TEST_CASE("validation: the environment's region - AWS_REGION before AWS_DEFAULT_REGION - checked and named") {
  mskiam_test::EnvGuard env;
  env.unset("AWS_REGION");
  env.unset("AWS_DEFAULT_REGION");
  CHECK_FALSE(mskiam::region_from_environment("sts"));
  env.set("AWS_DEFAULT_REGION", "eu-central-1");
  auto setting = mskiam::region_from_environment("sts");
  REQUIRE(setting);
  CHECK(setting->region == "eu-central-1");
  CHECK(setting->origin == "AWS_DEFAULT_REGION");
  env.set("AWS_REGION", "useast1");
  const auto e = error_of([] { mskiam::region_from_environment("sts"); });
  CHECK(e.source() == "sts");
  CHECK_THAT(e.message(), mskiam_test::contains_substring("region \"useast1\" (from AWS_REGION) is malformed"));
  // STS resolves its region the same way, and refuses the same value.
  mskiam::StsOptions options;
  CHECK(error_of([&] { mskiam::StsClient{options}; }).kind() == ErrorKind::invalid_argument);
  env.set("AWS_REGION", "ap-south-2");
  CHECK(mskiam::resolve_sts_region({}) == "ap-south-2");
  // STS's global endpoint is the one name that is not a region id.
  CHECK(mskiam::sts_endpoint(mskiam::sts_global_region, false) == "https://sts.amazonaws.com");
}

TEST_CASE("validation: role ARN - external id - durations - lifetime and host limits are the named ones") {
  CHECK_NOTHROW(mskiam::validate_role_arn("arn:aws:iam::123456789012:role/path/Msk", "t"));
  for (const char* arn : {"", "arn:aws:iam::1:role/R", "arn:aws:iam::123456789012:user/Msk",
                          "arn:aws:iam::123456789012:role/", "arn:aws:iam:us-east-1:123456789012:role/R",
                          "arn::iam::123456789012:role/R", "arn:aws:iam::123456789012:role/a b",
                          // no colon after the partition, and one a few characters before the end
                          // (a fuzzer's finding: these threw std::out_of_range)
                          "30N13mskiam_plugin130", "arn:aws-iam-123456789012-role-R",
                          "arn:aws-iam-123456789012-rol:e/"}) {
    INFO(arn);
    CHECK(error_of([&] { mskiam::validate_role_arn(arn, "t"); }).kind() == ErrorKind::invalid_argument);
  }
  CHECK(error_of([] { mskiam::validate_role_arn(std::string(mskiam::max_role_arn + 1, 'a'), "t"); })
            .kind() == ErrorKind::invalid_argument);
  CHECK_NOTHROW(mskiam::validate_external_id(std::string(mskiam::max_external_id, 'x'), "t"));
  CHECK_THROWS_AS(mskiam::validate_external_id(std::string(mskiam::max_external_id + 1, 'x'), "t"),
                  mskiam::Error);
  CHECK_THROWS_AS(mskiam::validate_external_id("x", "t"), mskiam::Error);
  // The external id may be a shared secret: never quoted.
  const auto e = error_of([] { mskiam::validate_external_id("secret value", "t"); });
  CHECK(e.message().find("secret value") == std::string::npos);
  CHECK_NOTHROW(mskiam::validate_duration(mskiam::sts_min_duration, "t"));
  CHECK_NOTHROW(mskiam::validate_duration(mskiam::sts_max_duration, "t"));
  CHECK_THROWS_AS(mskiam::validate_duration(mskiam::sts_min_duration - std::chrono::seconds(1), "t"),
                  mskiam::Error);
  CHECK_THROWS_AS(mskiam::validate_duration(mskiam::sts_max_duration + std::chrono::seconds(1), "t"),
                  mskiam::Error);
  CHECK_NOTHROW(mskiam::validate_token_lifetime(mskiam::max_token_lifetime, "t"));
  CHECK_THROWS_AS(mskiam::validate_token_lifetime(mskiam::max_token_lifetime + std::chrono::seconds(1), "t"),
                  mskiam::Error);
  CHECK_THROWS_AS(mskiam::validate_token_lifetime(std::chrono::seconds(0), "t"), mskiam::Error);
  CHECK_NOTHROW(mskiam::validate_host("Kafka.Example.com:9098", "t"));
  CHECK_THROWS_AS(mskiam::validate_host(std::string(mskiam::max_host_size + 1, 'a'), "t"), mskiam::Error);
  CHECK_THROWS_AS(mskiam::validate_host("a_b", "t"), mskiam::Error);
  CHECK_NOTHROW(mskiam::validate_session_name(std::string(mskiam::max_session_name, 's'), "t"));
  CHECK_THROWS_AS(mskiam::validate_session_name(std::string(mskiam::max_session_name + 1, 's'), "t"),
                  mskiam::Error);
}
