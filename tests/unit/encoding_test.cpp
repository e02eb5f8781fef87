// The small codecs under the signer: base64url, percent-encoding, UTC calendar, ISO 8601.
#include <chrono>
#include <string>

#include "catch.hpp"
#include "mskiam/detail/encoding.hpp"
#include "mskiam/detail/time.hpp"

using namespace mskiam::detail;

TEST_CASE("base64url has no padding and round-trips every length") {
  CHECK(base64url_encode("") == "");
  CHECK(base64url_encode("f") == "Zg");
  CHECK(base64url_encode("fo") == "Zm8");
  CHECK(base64url_encode("foo") == "Zm9v");
  CHECK(base64url_encode("\xfb\xff") == "-_8");
  std::string all;
  for (int i = 0; i < 256; ++i) {
    all += static_cast<char>(i);
    CHECK(base64url_decode(base64url_encode(all)) == all);
  }
  CHECK(base64url_decode("Zg==") == std::string("f"));
  CHECK_FALSE(base64url_decode("Z"));
  CHECK_FALSE(base64url_decode("Zm9v+/"));
}

TEST_CASE("percent-encoding keeps unreserved characters and upper-cases hex") {
  CHECK(uri_encode("AZaz09-_.~") == "AZaz09-_.~");
  CHECK(uri_encode("a b/+=:") == "a%20b%2F%2B%3D%3A");
  CHECK(uri_encode("\xE1\x88\xB4") == "%E1%88%B4");
  CHECK(uri_decode("a%20b%2f%2B+") == std::string("a b/++"));
  CHECK_FALSE(uri_decode("%"));
  CHECK_FALSE(uri_decode("%2"));
  CHECK_FALSE(uri_decode("%zz"));
}

TEST_CASE("UTC calendar around midnight - leap days and year ends") {
  using std::chrono::seconds;
  CHECK(amz_date(from_unix_seconds(0)) == "19700101T000000Z");
  CHECK(amz_date(from_unix_seconds(1709251199)) == "20240229T235959Z");
  CHECK(amz_date(from_unix_seconds(1709251200)) == "20240301T000000Z");
  CHECK(amz_date(from_unix_seconds(1704067199)) == "20231231T235959Z");
  CHECK(amz_date(from_unix_seconds(4107542400)) == "21000301T000000Z");  // 2100 is not a leap year
  CHECK(amz_date(from_unix_seconds(-1)) == "19691231T235959Z");
  CHECK(iso8601(from_unix_seconds(1700000000)) == "2023-11-14T22:13:20Z");
}

TEST_CASE("ISO 8601 parsing: Z - offsets - fractions - anything else is refused") {
  CHECK(parse_iso8601("2023-11-14T22:13:20Z") == from_unix_seconds(1700000000));
  CHECK(parse_iso8601("2023-11-14T22:13:20.999Z") == from_unix_seconds(1700000000));
  CHECK(parse_iso8601("2023-11-15T00:13:20+02:00") == from_unix_seconds(1700000000));
  CHECK(parse_iso8601("2023-11-14T21:13:20-01:00") == from_unix_seconds(1700000000));
  CHECK(parse_iso8601("2024-02-29T00:00:00Z"));
  for (const char* bad : {"", "2023-11-14", "2023-11-14T22:13:20", "2023-13-01T00:00:00Z",
                          "2023-02-29T00:00:00Z", "2023-11-14T24:00:00Z", "2023-11-14T22:13:20Zjunk",
                          "2023-11-14T22:13:20.Z", "yesterday",
                          "1015-01-01T00:00:00+02:00", "9999-12-31T23:59:59Z"}) {
    INFO(bad);
    CHECK_FALSE(parse_iso8601(bad));
  }
}
