// The plugin's shared providers: which clients share one, when it is freed, who hears its events.
#include <cstdlib>
#include <memory>
#include <string>

#include "catch.hpp"
#include "mskiam/sources/static.hpp"
#include "shared_providers.hpp"

using mskiam_plugin::Audience;
using mskiam_plugin::Provider;
using mskiam_plugin::ProviderShare;
using mskiam_plugin::shared_provider;
using mskiam_plugin::sharing_key;

namespace {

constexpr const char* secret = "sHaReDsEcReT/doNotPrint+0123456789abcdef";

// A provider made by `shared_provider`, counting how often one is made.
std::shared_ptr<mskiam_plugin::SharedProvider> provider_for(const std::string& key, int& made) {
  return shared_provider(key, [&made](std::shared_ptr<Audience>) {
    ++made;
    mskiam::Credentials c;
    c.access_key_id = "AKIASHAREDTEST000001";
    c.secret_access_key = secret;
    mskiam::TokenOptions options;
    options.region = "us-east-1";
    return std::make_unique<Provider>(mskiam::StaticCredentials(c), options);
  });
}

}  // namespace

TEST_CASE("shared providers: one per key while a client holds it, a new one after the last") {
  int made = 0;
  const std::string key = sharing_key("region=us-east-1 session_name=shared-test-1");
  auto a = std::make_unique<ProviderShare>(provider_for(key, made), Audience::Member{"a", 7});
  auto b = std::make_unique<ProviderShare>(provider_for(key, made), Audience::Member{"b", 7});
  CHECK(made == 1);
  CHECK(&a->provider() == &b->provider());
  int other_made = 0;
  const auto other = provider_for(sharing_key("region=us-east-1 session_name=shared-test-2"),
                                  other_made);
  CHECK(other_made == 1);
  CHECK(other->provider.get() != &a->provider());
  a.reset();
  b.reset();  // the last client: the provider goes with it
  provider_for(key, made);
  CHECK(made == 2);
}

TEST_CASE("shared providers: the key follows the AWS environment and never holds its values") {
  REQUIRE(setenv("AWS_SECRET_ACCESS_KEY", secret, 1) == 0);
  const std::string first = sharing_key("region=us-east-1");
  CHECK(sharing_key("region=us-east-1") == first);
  CHECK(sharing_key("region=us-east-2") != first);
  CHECK(first.find(secret) == std::string::npos);
  REQUIRE(setenv("AWS_SECRET_ACCESS_KEY", "another-secret-value-000000000000000000", 1) == 0);
  CHECK(sharing_key("region=us-east-1") != first);
  REQUIRE(setenv("HOME", "/nonexistent/another-home", 1) == 0);
  const std::string moved_home = sharing_key("region=us-east-1");
  REQUIRE(setenv("UNRELATED_VARIABLE", "x", 1) == 0);
  CHECK(sharing_key("region=us-east-1") == moved_home);
  unsetenv("AWS_SECRET_ACCESS_KEY");
}

TEST_CASE("shared providers: an event is for the clients that asked for its severity, once each") {
  Audience audience;
  const auto quiet = audience.join({"quiet", 5});
  audience.join({"verbose", 7});
  audience.join({"verbose", 7});  // two clients with one client.id: named once
  CHECK(audience.wanting(3) == "quiet,verbose");
  CHECK(audience.wanting(7) == "verbose");
  audience.leave(quiet);
  CHECK(audience.wanting(3) == "verbose");
  Audience nobody;
  CHECK(nobody.wanting(0).empty());
}
