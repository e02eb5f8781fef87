// mskiam/brokers.hpp: the region of a bootstrap list, read from the MSK host names' DNS suffix.
#include <string>

#include "catch.hpp"
#include "mskiam/brokers.hpp"
#include "support/error_of.hpp"

using mskiam::ErrorKind;
using mskiam_test::contains_substring;
using mskiam_test::error_of;

namespace {

mskiam::Error refusal(const std::string& list) {
  return error_of([&] { mskiam::region_from_bootstrap(list, "bootstrap.servers"); });
}

}  // namespace

TEST_CASE("brokers: a provisioned cluster's private brokers name its region") {
  CHECK(mskiam::region_from_bootstrap(
            "b-1.orders.abc123.c3.kafka.us-east-1.amazonaws.com:9098,"
            "b-2.orders.abc123.c3.kafka.us-east-1.amazonaws.com:9098",
            "test") == "us-east-1");
}

TEST_CASE("brokers: public access brokers name their region") {
  CHECK(mskiam::region_from_bootstrap("b-1-public.orders.abc123.c3.kafka.ap-southeast-2.amazonaws.com:9198",
                                      "test") == "ap-southeast-2");
}

TEST_CASE("brokers: a Serverless bootstrap names its region") {
  CHECK(mskiam::region_from_bootstrap("boot-xyz12345.c1.kafka-serverless.us-west-2.amazonaws.com:9098",
                                      "test") == "us-west-2");
}

TEST_CASE("brokers: China brokers end in .amazonaws.com.cn") {
  CHECK(mskiam::region_from_bootstrap("b-1.orders.abc123.c2.kafka.cn-north-1.amazonaws.com.cn:9098",
                                      "test") == "cn-north-1");
  CHECK(mskiam::msk_broker_region("boot-x.c1.kafka-serverless.cn-northwest-1.amazonaws.com.cn") ==
        "cn-northwest-1");
  // The partition and the suffix go together.
  CHECK_FALSE(mskiam::msk_broker_region("b-1.o.abc.c2.kafka.us-east-1.amazonaws.com.cn"));
  CHECK_FALSE(mskiam::msk_broker_region("b-1.o.abc.c2.kafka.cn-north-1.amazonaws.com"));
}

TEST_CASE("brokers: a region-looking cluster name does not fool the suffix rule") {
  CHECK(mskiam::region_from_bootstrap("b-1.us-west-2-orders.abc.c3.kafka.eu-west-1.amazonaws.com:9098",
                                      "test") == "eu-west-1");
  CHECK(mskiam::msk_broker_region("b-1.kafka.us-west-2.abc.c3.kafka.eu-west-1.amazonaws.com") ==
        "eu-west-1");
}

TEST_CASE("brokers: host names are case-insensitive") {
  CHECK(mskiam::msk_broker_region("B-1.Orders.ABC.C3.KAFKA.EU-WEST-1.AMAZONAWS.COM") == "eu-west-1");
}

TEST_CASE("brokers: hosts that only look like MSK name no region") {
  for (const char* host : {"kafka.us-east-1.amazonaws.com", "b-1.o.abc.c3.kafka.us-east-1.amazonaws.com.evil.example",
                           "b-1.o.abc.c3.kafka.us-east-1.example.com", "b-1.o.abc.c3.ec2.us-east-1.amazonaws.com",
                           "b-1.o.abc.c3.kafka.useast1.amazonaws.com", "b-1.o.abc.c3.kafka..amazonaws.com",
                           "amazonaws.com", "localhost", "127.0.0.1", "2001:db8::1", ""}) {
    INFO(host);
    CHECK_FALSE(mskiam::msk_broker_region(host));
  }
}

TEST_CASE("brokers: ports may be given or not, IPv6 in brackets, a scheme before") {
  const auto brokers = mskiam::parse_bootstrap(
      " b-1.o.abc.c3.kafka.eu-west-1.amazonaws.com:9098 ,b-2.o.abc.c3.kafka.eu-west-1.amazonaws.com,"
      "[2001:db8::1]:20098, [::1] ,SASL_SSL://Broker.Example:9198,",
      "test");
  REQUIRE(brokers.size() == 5);
  CHECK(brokers[0].text == "b-1.o.abc.c3.kafka.eu-west-1.amazonaws.com:9098");
  CHECK(brokers[0].host == "b-1.o.abc.c3.kafka.eu-west-1.amazonaws.com");
  CHECK(brokers[0].port == 9098);
  CHECK(brokers[1].host == "b-2.o.abc.c3.kafka.eu-west-1.amazonaws.com");
  CHECK_FALSE(brokers[1].port);
  CHECK(brokers[2].host == "2001:db8::1");
  CHECK(brokers[2].port == mskiam::msk_iam_port_ipv6);
  CHECK(brokers[3].host == "::1");
  CHECK_FALSE(brokers[3].port);
  CHECK(brokers[4].host == "broker.example");
  CHECK(brokers[4].port == 9198);
  CHECK(mskiam::region_from_bootstrap(" b-1.o.abc.c3.kafka.eu-west-1.amazonaws.com:9098 , "
                                      "b-2.o.abc.c3.kafka.eu-west-1.amazonaws.com ",
                                      "test") == "eu-west-1");
}

TEST_CASE("brokers: malformed entries are refused naming the entry") {
  for (const char* list : {"b-1.example:", "b-1.example:0", "b-1.example:65536", "b-1.example:90a8",
                           "2001:db8::1:9098", "[2001:db8::1:9098", "[::1]9098", ":9098"}) {
    INFO(list);
    const auto e = error_of([&] { mskiam::parse_bootstrap(list, "bootstrap.servers"); });
    CHECK(e.kind() == ErrorKind::invalid_argument);
    CHECK(e.source() == "bootstrap.servers");
    CHECK_THAT(e.message(), contains_substring("broker \""));
  }
}

TEST_CASE("brokers: an empty list is refused") {
  for (const char* list : {"", " ", ",", " , ,"}) {
    INFO(list);
    const auto e = refusal(list);
    CHECK(e.kind() == ErrorKind::invalid_argument);
    CHECK_THAT(e.message(), contains_substring("names no broker"));
  }
}

TEST_CASE("brokers: an unknown host is refused naming the host") {
  const auto e = refusal("b-1.o.abc.c3.kafka.eu-west-1.amazonaws.com:9098,127.0.0.1:9092");
  CHECK(e.kind() == ErrorKind::invalid_argument);
  CHECK(e.source() == "bootstrap.servers");
  CHECK_THAT(e.message(), contains_substring("broker \"127.0.0.1:9092\" is not an MSK broker host name"));
  CHECK_THAT(e.message(), contains_substring("set the region explicitly"));
}

TEST_CASE("brokers: brokers of two regions are refused naming both") {
  const auto e = refusal("b-1.o.abc.c3.kafka.eu-west-1.amazonaws.com:9098,"
                         "b-2.o.abc.c3.kafka.eu-west-1.amazonaws.com:9098,"
                         "boot-x.c1.kafka-serverless.us-east-1.amazonaws.com:9098");
  CHECK(e.kind() == ErrorKind::invalid_argument);
  CHECK(e.message() ==
        "the brokers are in more than one region: \"b-1.o.abc.c3.kafka.eu-west-1.amazonaws.com:9098\" "
        "is in eu-west-1, \"boot-x.c1.kafka-serverless.us-east-1.amazonaws.com:9098\" in us-east-1; "
        "a client talks to one cluster, in one region");
}

TEST_CASE("brokers: MSK's IAM ports are known, others are not") {
  CHECK(mskiam::is_msk_iam_port(9098));
  CHECK(mskiam::is_msk_iam_port(9198));
  CHECK(mskiam::is_msk_iam_port(20098));
  CHECK_FALSE(mskiam::is_msk_iam_port(9092));
  CHECK_FALSE(mskiam::is_msk_iam_port(9094));
  CHECK_FALSE(mskiam::is_msk_iam_port(9096));
}
