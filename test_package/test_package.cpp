// The consumer program of every packaging test (add_subdirectory, FetchContent, find_package,
// pkg-config) and of the Conan test_package: signs the published token vector V1, checks its
// signature, then signs a token now with StaticCredentials through a TokenProvider and prints it.
// With MSKIAM_TEST_RDKAFKA it also plugs the provider into a librdkafka configuration (C and C++
// APIs). With MSKIAM_TEST_COMPILED it must be built in the compiled mode (mskiam::compiled): the
// headers declare only and the definitions come from the library. Exit status 0 means the
// package works.
#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>

#include "mskiam/provider.hpp"
#include "mskiam/sources/static.hpp"
#include "mskiam/token.hpp"
#include "mskiam/version.hpp"

#if defined(MSKIAM_TEST_COMPILED) && (!defined(MSKIAM_COMPILED_LIB) || MSKIAM_DEFINITIONS)
#error "mskiam::compiled did not put this file in the compiled mode (MSKIAM_COMPILED_LIB)"
#endif
#if !defined(MSKIAM_TEST_COMPILED) && defined(MSKIAM_COMPILED_LIB)
#error "header-only consumer built in the compiled mode"
#endif

#ifdef MSKIAM_TEST_RDKAFKA
#include <librdkafka/rdkafka.h>

#include "mskiam/rdkafka.hpp"
#endif

namespace {

// Vector V1 of the MSK token reference: AKIDEXAMPLE, us-east-1, signed at 1700000000 s.
constexpr const char* vector_secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr const char* vector_signature =
    "253398ddf30b737b61a7a122a0259ada4c7162423af560094b2f4edef8033616";
constexpr long long vector_signed_at_s = 1700000000;

int fail(const std::string& why) {
  std::fprintf(stderr, "test_package: %s\n", why.c_str());
  return 1;
}

}  // namespace

int main() try {
  mskiam::Credentials credentials;
  credentials.access_key_id = "AKIDEXAMPLE";
  credentials.secret_access_key = std::string(vector_secret);
  mskiam::TokenOptions options;
  options.region = "us-east-1";

  const std::chrono::system_clock::time_point signed_at{std::chrono::seconds(vector_signed_at_s)};
  const mskiam::AuthToken vector = mskiam::sign_token(credentials, options, signed_at);
  if (mskiam::decode_token(vector.value).param("X-Amz-Signature") != std::string(vector_signature))
    return fail("vector V1: wrong signature");

  mskiam::TokenProvider<mskiam::StaticCredentials> provider{
      mskiam::StaticCredentials{credentials}, options};
  const mskiam::AuthToken token = provider.token();
  const mskiam::DecodedToken decoded = mskiam::decode_token(token.value);
  if (decoded.host != "kafka.us-east-1.amazonaws.com") return fail("host " + decoded.host);
  if (token.expires_at <= std::chrono::system_clock::now()) return fail("token already expired");
  std::printf("mskiam %s (%s) token %s\n", MSKIAM_VERSION_STRING,
              MSKIAM_DEFINITIONS ? "header-only" : "compiled", token.value.c_str());

#ifdef MSKIAM_TEST_RDKAFKA
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  mskiam::rdkafka::attach(conf, provider);
  rd_kafka_conf_destroy(conf);

  std::unique_ptr<RdKafka::Conf> cpp_conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  mskiam::rdkafka::RefreshCallback<decltype(provider)> callback{provider};
  mskiam::rdkafka::attach(*cpp_conf, callback);

  const mskiam::rdkafka::OAuthBearerToken handed = mskiam::rdkafka::oauthbearer_token(provider);
  if (handed.md_lifetime_ms <= 0 || handed.value.empty()) return fail("empty librdkafka token");
  std::printf("librdkafka %s md_lifetime_ms %lld\n", rd_kafka_version_str(),
              static_cast<long long>(handed.md_lifetime_ms));
#endif
  return 0;
} catch (const std::exception& e) {
  return fail(e.what());
}
