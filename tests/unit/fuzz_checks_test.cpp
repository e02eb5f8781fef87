// The fuzz harnesses' secret check (tests/fuzz/fuzz_checks.hpp) must find a leak and must not take
// an echo of the input for one: a finding aborts a fuzzing run, so both mistakes cost a CI run.
#include <string>

#include "catch.hpp"
#include "fuzz/fuzz_checks.hpp"

namespace {
constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
}

TEST_CASE("fuzz checks: a message quoting a secret from its one place in the input leaks it") {
  const std::string input = "<SecretAccessKey>" + std::string(kSecret) + "</SecretAccessKey>";
  CHECK(fuzz::leaks("bad document near " + std::string(kSecret), kSecret, {}, input));
  // A cut value leaks too: any 16-byte run without a blank.
  CHECK(fuzz::leaks("bad document near " + std::string(kSecret.substr(3, 16)), kSecret, {}, input));
  CHECK(fuzz::leaks(std::string(kSecret), kSecret, {}, {}));  // a secret the harness handed the code
}

TEST_CASE("fuzz checks: text the input holds in another place too is not a leak") {
  // A profile named like the secret's value: the message names the profile, not the secret.
  const std::string input = "[profile " + std::string(kSecret) + "]\naws_secret_access_key = " +
                            std::string(kSecret) + "\n";
  CHECK_FALSE(fuzz::leaks("profile " + std::string(kSecret) + " is bad", kSecret, {}, input));
  // Text the harness itself put in every message (a role ARN) is chance as well.
  CHECK_FALSE(fuzz::leaks("role arn:aws:iam::1:role/wJalrXUtnFEMI/K7MDENG", kSecret,
                          {"arn:aws:iam::1:role/wJalrXUtnFEMI/K7MDENG"}, "x"));
  CHECK_FALSE(fuzz::leaks("no secret here", kSecret, {}, {}));
}

TEST_CASE("fuzz checks: an XML value ends where markup begins") {
  fuzz::Secrets out;
  fuzz::add_between(out, "<SecretAccessKey>abcdefgh<Arn>arn:x</Arn></SecretAccessKey>", "<SecretAccessKey>",
                    "</SecretAccessKey>");
  REQUIRE(out.size() == 1);
  CHECK(out[0] == "abcdefgh");
}
