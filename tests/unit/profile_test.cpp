// ProfileCredentials and the profile rules behind it (detail::plan_profile): profile and file
// selection, static keys, role chains and cycles, credential_source, web identity, process,
// session names, and errors that name the profile, file and line but never a secret.
#include "mskiam/sources/profile.hpp"

#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "catch.hpp"
#include "mskiam/detail/encoding.hpp"
#include "mskiam/detail/profile_plan.hpp"
#include "support/aws_fakes.hpp"
#include "support/error_of.hpp"
#include "support/profile_fixtures.hpp"
#include "support/unprivileged.hpp"

using mskiam::ErrorKind;
using mskiam::SessionName;
using mskiam::detail::ProfileBase;
using mskiam::detail::ProfilePlan;

namespace {

// Temporary config and credentials files, pointed at by AWS_CONFIG_FILE and
// AWS_SHARED_CREDENTIALS_FILE; the environment is restored afterwards.
struct Files {
  mskiam_test::EnvGuard env;
  mskiam_test::TempDir dir;
  std::string config, credentials;

  Files(const std::string& config_text, const std::string& credentials_text) {
    config = dir.path() + "/config";
    credentials = dir.path() + "/credentials";
    if (!config_text.empty()) dir.write("config", config_text);
    if (!credentials_text.empty()) dir.write("credentials", credentials_text);
    env.set("AWS_CONFIG_FILE", config);
    env.set("AWS_SHARED_CREDENTIALS_FILE", credentials);
  }

  ProfilePlan plan(const std::string& profile, const SessionName& name = {}) const {
    return mskiam::detail::plan_profile(mskiam::detail::load_shared_files(config, credentials),
                                        profile, name);
  }

  mskiam::Error plan_error(const std::string& profile) const {
    INFO("profile " << profile);
    return mskiam_test::error_of([&] { plan(profile); });
  }
};

mskiam::Error fetch_error(mskiam::ProfileCredentials& source) {
  return mskiam_test::error_of([&] { source.fetch(); });
}

mskiam::ProfileCredentials profile(const std::string& name) {
  mskiam::ProfileCredentials::Options o;
  o.profile = name;
  return mskiam::ProfileCredentials(o);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("profile: explicit name beats AWS_PROFILE - which beats AWS_DEFAULT_PROFILE") {
  mskiam_test::EnvGuard env;
  using mskiam::detail::resolve_profile_name;
  CHECK(resolve_profile_name("").name == "default");
  CHECK(resolve_profile_name("").origin == "default");
  env.set("AWS_DEFAULT_PROFILE", "legacy");
  CHECK(resolve_profile_name("").name == "legacy");
  CHECK(resolve_profile_name("").origin == "AWS_DEFAULT_PROFILE");
  env.set("AWS_PROFILE", "current");
  CHECK(resolve_profile_name("").name == "current");
  CHECK(resolve_profile_name("").origin == "AWS_PROFILE");
  CHECK(resolve_profile_name("mine").name == "mine");
  CHECK(resolve_profile_name("mine").origin == "options");
}

TEST_CASE(
    "profile: files from AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE, else ~/.aws with HOME") {
  mskiam_test::EnvGuard env;
  mskiam_test::TempDir dir;
  dir.mkdir(".aws");
  dir.write(".aws/credentials",
            "[default]\naws_access_key_id = AKIDHOME\naws_secret_access_key = home-secret\n");
  dir.write("other",
            "[default]\naws_access_key_id = AKIDOTHER\naws_secret_access_key = other-secret\n");
  env.set("HOME", dir.path() + "/");
  CHECK(mskiam::ProfileCredentials{}.fetch().access_key_id == "AKIDHOME");

  env.set("AWS_SHARED_CREDENTIALS_FILE", "~/other");
  CHECK(mskiam::ProfileCredentials{}.fetch().access_key_id == "AKIDOTHER");

  mskiam::ProfileCredentials::Options o;
  o.credentials_file = dir.path() + "/.aws/credentials";  // options beat the environment
  CHECK(mskiam::ProfileCredentials(o).fetch().access_key_id == "AKIDHOME");

  using mskiam::detail::expand_home;
  CHECK(expand_home("~") == dir.path());
  CHECK(expand_home("~user/x") == "~user/x");
  CHECK(expand_home("/a/~/b") == "/a/~/b");
}

TEST_CASE("profile: static keys and session token - credentials file overrides config key by key") {
  Files f(
      "[profile dev]\naws_access_key_id = AKIDCONFIG\naws_secret_access_key = config-secret\n"
      "aws_session_token = config-token\nregion = eu-west-1\n",
      "[dev]\naws_access_key_id = AKIDCRED\naws_secret_access_key = cred-secret\n"
      "[legacy]\naws_access_key_id = AKIDLEGACY\naws_secret_access_key = s\naws_security_token = "
      "old-token\n");
  auto source = profile("dev");
  const auto c = source.fetch();
  CHECK(c.access_key_id == "AKIDCRED");
  CHECK(c.secret_access_key.reveal() == "cred-secret");
  CHECK(c.session_token.reveal() == "config-token");  // not overridden: kept from the config file
  CHECK_FALSE(c.expiration);
  CHECK(c.source == "profile");
  CHECK(source.name() == "profile");
  CHECK(source.description() == "static keys (profile dev)");
  CHECK(f.plan("dev").region == "eu-west-1");
  CHECK(profile("legacy").fetch().session_token.reveal() == "old-token");
}

TEST_CASE("profile: partial static keys name the missing key - never the value") {
  Files f("",
          "[a]\naws_access_key_id = AKIDPARTIAL\n[b]\naws_secret_access_key = only-secret-value\n");
  auto e = f.plan_error("a");
  CHECK(e.kind() == ErrorKind::invalid_argument);
  CHECK_THAT(e.what(),
             mskiam_test::contains_substring(
                 "profile \"a\": aws_access_key_id is set but aws_secret_access_key is not"));
  e = f.plan_error("b");
  CHECK_THAT(e.what(), mskiam_test::contains_substring(
                           "aws_secret_access_key is set but aws_access_key_id is not"));
  CHECK_FALSE(contains(e.what(), "only-secret-value"));
}

TEST_CASE(
    "profile: a missing profile is not_configured, naming the profile and the files searched") {
  Files f("[profile other]\nregion = x\n", "");
  auto source = profile("absent");
  const auto e = fetch_error(source);
  CHECK(e.kind() == ErrorKind::not_configured);
  CHECK(e.source() == "profile");
  CHECK_THAT(e.what(), mskiam_test::contains_substring("profile \"absent\" not found in " + f.config +
                                                 ", " + f.credentials + " (absent)"));
}

TEST_CASE("profile: a config-file section without the profile prefix is explained") {
  Files f(
      "[dev]\nrole_arn = arn:aws:iam::1:role/R\ncredential_source = Environment\n"
      "[profile top]\nrole_arn = arn:aws:iam::1:role/R\nsource_profile = dev\n",
      "");
  auto e = f.plan_error("dev");
  CHECK(e.kind() == ErrorKind::not_configured);
  CHECK_THAT(e.what(),
             mskiam_test::contains_substring(
                 "has a [dev] section, which needs the prefix in the config file: [profile dev]"));
  e = f.plan_error("top");
  CHECK_THAT(e.what(), mskiam_test::contains_substring("source_profile \"dev\" not found"));
  CHECK_THAT(e.what(), mskiam_test::contains_substring("[profile dev]"));
}

TEST_CASE("profile: a profile with nothing usable is invalid_argument naming it") {
  Files f(
      "[default]\nregion = eu-west-1\n[profile sso]\nsso_session = corp\n"
      "[profile wi]\nweb_identity_token_file = /t\n",
      "");
  auto source = profile("default");
  auto e = fetch_error(source);
  CHECK(e.kind() == ErrorKind::invalid_argument);
  CHECK_THAT(e.what(), mskiam_test::contains_substring("profile \"default\" in " + f.config));
  CHECK_THAT(e.what(), mskiam_test::contains_substring("has no credentials"));
  CHECK_THROWS_AS(f.plan("default"), mskiam::detail::ProfileWithoutCredentials);
  e = f.plan_error("sso");
  CHECK_THAT(e.what(), mskiam_test::contains_substring("SSO profiles are not supported"));
  e = f.plan_error("wi");
  CHECK_THAT(e.what(), mskiam_test::contains_substring("web_identity_token_file needs role_arn"));
}

TEST_CASE("profile: role chains of any depth - session name fixed > role_session_name > default") {
  Files f(
      "[profile top]\nrole_arn = arn:aws:iam::111111111111:role/Top\nsource_profile = middle\n"
      "role_session_name = top-session\nexternal_id = ext-1\nduration_seconds = 1800\nregion = "
      "eu-west-3\n"
      "[profile middle]\nrole_arn = arn:aws:iam::222222222222:role/Middle\nsource_profile = "
      "bottom\n"
      "[profile bottom]\nregion = us-west-2\n",
      "[bottom]\naws_access_key_id = AKIDBOTTOM\naws_secret_access_key = bottom-secret\n");
  auto plan = f.plan("top");
  REQUIRE(plan.roles.size() == 2);
  CHECK(plan.roles[0].profile == "top");
  CHECK(plan.roles[0].role_arn == "arn:aws:iam::111111111111:role/Top");
  CHECK(plan.roles[0].session_name == "top-session");
  CHECK(plan.roles[0].external_id == "ext-1");
  CHECK(plan.roles[0].duration == std::chrono::seconds(1800));
  CHECK(plan.roles[1].profile == "middle");
  CHECK(plan.roles[1].session_name == mskiam::default_session_name());
  CHECK(plan.roles[1].duration == std::chrono::seconds(3600));
  CHECK(plan.base == ProfileBase::static_keys);
  CHECK(plan.base_profile == "bottom");
  CHECK(plan.static_credentials.access_key_id == "AKIDBOTTOM");
  CHECK(plan.region == "eu-west-3");  // the requested profile's region, not the source's
  CHECK(plan.describe() ==
        "assume_role arn:aws:iam::111111111111:role/Top (profile top) <- assume_role "
        "arn:aws:iam::222222222222:role/Middle (profile middle) <- static keys (profile bottom)");

  // The application's fixed name applies to the outermost role: that is the principal.
  plan = f.plan("top", SessionName::fixed("app-fixed"));
  CHECK(plan.roles[0].session_name == "app-fixed");
  CHECK(plan.roles[1].session_name == mskiam::default_session_name());
  plan = f.plan("middle", SessionName::fixed("app-fixed"));
  CHECK(plan.roles[0].session_name == "app-fixed");
}

TEST_CASE("profile: a source profile with static keys ends the chain even if it has a role") {
  Files f(
      "[profile a]\nrole_arn = arn:aws:iam::111111111111:role/A\nsource_profile = b\n"
      "[profile b]\nrole_arn = arn:aws:iam::222222222222:role/B\nsource_profile = a\n",
      "[b]\naws_access_key_id = AKIDB\naws_secret_access_key = b-secret\n");
  const auto plan = f.plan("a");
  REQUIRE(plan.roles.size() == 1);
  CHECK(plan.base_profile == "b");
  CHECK(plan.static_credentials.access_key_id == "AKIDB");
  // Requested directly, b's role_arn comes first, and coming back to b through a is a loop even
  // though b has keys: only a profile naming itself may use its own keys (botocore
  // _validate_source_profile).
  CHECK_THAT(f.plan_error("b").what(),
             mskiam_test::contains_substring("source_profile cycle: b -> a -> b"));
}

TEST_CASE("profile: a profile may name itself as source_profile only with static keys") {
  Files f(
      "[profile self]\nrole_arn = arn:aws:iam::111111111111:role/Self\nsource_profile = self\n"
      "[profile loop]\nrole_arn = arn:aws:iam::111111111111:role/Loop\nsource_profile = loop\n",
      "[self]\naws_access_key_id = AKIDSELF\naws_secret_access_key = self-secret\n");
  const auto plan = f.plan("self");
  REQUIRE(plan.roles.size() == 1);
  CHECK(plan.roles[0].profile == "self");
  CHECK(plan.base_profile == "self");
  CHECK(plan.static_credentials.access_key_id == "AKIDSELF");
  const auto e = f.plan_error("loop");
  CHECK(e.kind() == ErrorKind::invalid_argument);
  CHECK_THAT(e.what(), mskiam_test::contains_substring("source_profile cycle: loop -> loop"));
}

TEST_CASE("profile: a source_profile cycle is an error that lists the cycle") {
  Files f(
      "[profile a]\nrole_arn = arn:aws:iam::1:role/A\nsource_profile = b\n"
      "[profile b]\nrole_arn = arn:aws:iam::1:role/B\nsource_profile = c\n"
      "[profile c]\nrole_arn = arn:aws:iam::1:role/C\nsource_profile = a\n"
      "[profile d]\nrole_arn = arn:aws:iam::1:role/D\nsource_profile = missing\n",
      "");
  auto e = f.plan_error("a");
  CHECK(e.kind() == ErrorKind::invalid_argument);
  CHECK_THAT(e.what(),
             mskiam_test::contains_substring("profile \"a\": source_profile cycle: a -> b -> c -> a"));
  e = f.plan_error("b");
  CHECK_THAT(e.what(), mskiam_test::contains_substring("b -> c -> a -> b"));
  e = f.plan_error("d");
  CHECK_THAT(e.what(),
             mskiam_test::contains_substring("profile \"d\": source_profile \"missing\" not found in"));
}

TEST_CASE("profile: very long source_profile chains are refused - not recursed") {
  std::string config;
  for (int i = 0; i < 100; ++i)
    config += "[profile p" + std::to_string(i) +
              "]\nrole_arn = arn:aws:iam::1:role/R\nsource_profile = p" + std::to_string(i + 1) +
              "\n";
  config += "[profile p100]\naws_access_key_id = AKID\naws_secret_access_key = s\n";
  Files f(config, "");
  CHECK_THAT(f.plan_error("p0").what(), mskiam_test::contains_substring("chain longer than"));
  CHECK(f.plan("p90").roles.size() == 10);
}

TEST_CASE("profile: credential_source Environment - Ec2InstanceMetadata - EcsContainer") {
  Files f(
      "[profile env]\nrole_arn = arn:aws:iam::1:role/R\ncredential_source = Environment\n"
      "[profile ec2]\nrole_arn = arn:aws:iam::1:role/R\ncredential_source = Ec2InstanceMetadata\n"
      "[profile ecs]\nrole_arn = arn:aws:iam::1:role/R\ncredential_source = EcsContainer\n"
      "[profile bad]\nrole_arn = arn:aws:iam::1:role/R\ncredential_source = environment\n"
      "[profile both]\nrole_arn = arn:aws:iam::1:role/R\ncredential_source = "
      "Environment\nsource_profile = env\n"
      "[profile neither]\nrole_arn = arn:aws:iam::1:role/R\n",
      "");
  CHECK(f.plan("env").base == ProfileBase::environment);
  CHECK(f.plan("ec2").base == ProfileBase::imds);
  CHECK(f.plan("ecs").base == ProfileBase::container);
  CHECK(f.plan("ecs").roles.size() == 1);
  CHECK(f.plan("ecs").base_profile == "ecs");
  CHECK_THAT(
      f.plan_error("bad").what(),
      mskiam_test::contains_substring("credential_source \"environment\" is not one of Environment, "
                                "Ec2InstanceMetadata, EcsContainer"));
  CHECK_THAT(f.plan_error("both").what(),
             mskiam_test::contains_substring("both source_profile and credential_source"));
  CHECK_THAT(f.plan_error("neither").what(),
             mskiam_test::contains_substring("role_arn needs source_profile or credential_source"));
}

TEST_CASE("profile: duration_seconds - role_session_name and mfa_serial are checked up front") {
  Files f(
      "[profile short]\nrole_arn = arn:aws:iam::1:role/R\ncredential_source = "
      "Environment\nduration_seconds = 60\n"
      "[profile text]\nrole_arn = arn:aws:iam::1:role/R\ncredential_source = "
      "Environment\nduration_seconds = 1h\n"
      "[profile name]\nrole_arn = arn:aws:iam::1:role/R\ncredential_source = "
      "Environment\nrole_session_name = has space\n"
      "[profile mfa]\nrole_arn = arn:aws:iam::1:role/R\ncredential_source = "
      "Environment\nmfa_serial = arn:aws:iam::1:mfa/u\n"
      "[profile long]\nrole_arn = arn:aws:iam::1:role/R\ncredential_source = "
      "Environment\nduration_seconds = 43200\n",
      "");
  CHECK_THAT(f.plan_error("short").what(),
             mskiam_test::contains_substring("profile \"short\": duration_seconds \"60\" is not a number "
                                       "of seconds between 900 and 43200"));
  CHECK_THAT(f.plan_error("text").what(), mskiam_test::contains_substring("duration_seconds \"1h\""));
  CHECK_THAT(f.plan_error("name").what(),
             mskiam_test::contains_substring("profile \"name\": role_session_name: role session name"));
  CHECK_THAT(f.plan_error("mfa").what(), mskiam_test::contains_substring("mfa_serial is set"));
  CHECK(f.plan("long").roles[0].duration == std::chrono::seconds(43200));
}

TEST_CASE("profile: role_arn with web_identity_token_file is web identity - not AssumeRole") {
  Files f(
      "[profile wi]\nrole_arn = arn:aws:iam::1:role/Web\nweb_identity_token_file = ~/token\n"
      "role_session_name = wi-session\n"
      "[profile chained]\nrole_arn = arn:aws:iam::1:role/Msk\nsource_profile = wi\n",
      "");
  f.env.set("HOME", "/home/u");
  auto plan = f.plan("wi");
  CHECK(plan.base == ProfileBase::web_identity);
  CHECK(plan.roles.empty());
  CHECK(plan.web_identity.role_arn == "arn:aws:iam::1:role/Web");
  CHECK(plan.web_identity.session_name == "wi-session");
  CHECK(plan.web_identity_token_file == "/home/u/token");
  CHECK(f.plan("wi", SessionName::fixed("app")).web_identity.session_name == "app");

  plan = f.plan("chained", SessionName::fixed("app"));
  REQUIRE(plan.roles.size() == 1);
  CHECK(plan.roles[0].session_name == "app");
  CHECK(plan.base == ProfileBase::web_identity);
  CHECK(plan.web_identity.session_name == "wi-session");
}

TEST_CASE("profile: credential_process profiles - and static keys take precedence over them") {
  Files f(
      "[profile proc]\ncredential_process = /usr/bin/get-creds --profile x\n"
      "[profile both]\ncredential_process = /bin/false\naws_access_key_id = "
      "AKIDBOTH\naws_secret_access_key = s\n",
      "");
  auto plan = f.plan("proc");
  CHECK(plan.base == ProfileBase::process);
  CHECK(plan.process_command == "/usr/bin/get-creds --profile x");
  CHECK(f.plan("both").base == ProfileBase::static_keys);
}

TEST_CASE("profile: malformed and unreadable files name the file and line - never a value") {
  Files f("[profile a]\naws_access_key_id = AKIDX\nwJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY\n",
          "");
  auto source = profile("a");
  auto e = fetch_error(source);
  CHECK(e.kind() == ErrorKind::bad_document);
  CHECK_THAT(e.what(), mskiam_test::contains_substring(f.config + ":3: "));
  CHECK_FALSE(contains(e.what(), "wJalrXUtnFEMI"));

  f.dir.write("credentials", "[a]\n", 0000);
  f.dir.write("config", "[profile a]\nregion = x\n", 0644);
  mskiam_test::let_unprivileged_enter(f.dir.path());  // root reads anything: ask as nobody
  const std::string refused = mskiam_test::unprivileged_error_of([&] { profile("a").fetch(); });
  CHECK_THAT(refused, Catch::Matchers::StartsWith("io: "));
  CHECK_THAT(refused, mskiam_test::contains_substring(f.credentials + ": cannot open"));
}

TEST_CASE("profile: the source is built once - later file edits do not change it") {
  Files f("", "[a]\naws_access_key_id = AKIDFIRST\naws_secret_access_key = first-secret\n");
  auto source = profile("a");
  CHECK(source.fetch().access_key_id == "AKIDFIRST");
  f.dir.write("credentials",
              "[a]\naws_access_key_id = AKIDSECOND\naws_secret_access_key = second\n");
  f.env.set("AWS_PROFILE", "other");
  CHECK(source.fetch().access_key_id == "AKIDFIRST");
  CHECK(profile("a").fetch().access_key_id == "AKIDSECOND");  // a new source reads the new file
}

TEST_CASE("profile: a failed first build is retried at the next fetch") {
  Files f("", "");
  auto source = profile("late");
  CHECK(fetch_error(source).kind() == ErrorKind::not_configured);
  f.dir.write("credentials", "[late]\naws_access_key_id = AKIDLATE\naws_secret_access_key = s\n");
  CHECK(source.fetch().access_key_id == "AKIDLATE");
}

TEST_CASE("profile: the profile name is read from the environment when the source is built") {
  Files f("",
          "[one]\naws_access_key_id = AKIDONE\naws_secret_access_key = s\n"
          "[two]\naws_access_key_id = AKIDTWO\naws_secret_access_key = s\n");
  f.env.set("AWS_PROFILE", "one");
  mskiam::ProfileCredentials source;
  f.env.set("AWS_PROFILE", "two");
  CHECK(source.profile_name() == "one");
  CHECK(source.profile_origin() == "AWS_PROFILE");
  CHECK(source.fetch().access_key_id == "AKIDONE");
}

// ---------------------------------------------------------------------------------------------
// End to end through the real STS, web identity and process sources, with an injected transport
// standing in for STS.

namespace {

std::string form_value(const std::string& body, const std::string& name) {
  std::size_t pos = 0;
  while (pos <= body.size()) {
    std::size_t end = body.find('&', pos);
    if (end == std::string::npos) end = body.size();
    const std::string pair = body.substr(pos, end - pos);
    const std::size_t eq = pair.find('=');
    if (eq != std::string::npos && pair.compare(0, eq, name) == 0)
      return mskiam::detail::uri_decode(pair.substr(eq + 1)).value_or("<bad escape>");
    pos = end + 1;
  }
  return "";
}

std::string header(const mskiam::HttpRequest& r, const std::string& lower_name) {
  for (const auto& [n, v] : r.headers) {
    std::string l = n;
    for (char& ch : l)
      if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
    if (l == lower_name) return v;
  }
  return "";
}

// Answers AssumeRole and AssumeRoleWithWebIdentity like STS: the assumed-role ARN ends with the
// RoleSessionName it was sent; the new access key id is ASIA<role name>.
struct FakeSts {
  struct Call {
    std::string url, action, role_arn, session_name, external_id, duration, authorization, token;
  };
  std::shared_ptr<std::vector<Call>> calls = std::make_shared<std::vector<Call>>();
  std::shared_ptr<std::string> fail_code = std::make_shared<std::string>();

  mskiam::StsOptions options() const {
    mskiam::StsOptions o;
    auto log = calls;
    auto fail = fail_code;
    o.retry.max_attempts = 1;
    o.transport = [log, fail](const mskiam::HttpRequest& r) {
      Call c{r.url,
             form_value(r.body, "Action"),
             form_value(r.body, "RoleArn"),
             form_value(r.body, "RoleSessionName"),
             form_value(r.body, "ExternalId"),
             form_value(r.body, "DurationSeconds"),
             header(r, "authorization"),
             form_value(r.body, "WebIdentityToken")};
      log->push_back(c);
      mskiam::HttpResponse response;
      if (!fail->empty()) {
        response.status = 403;
        response.body =
            "<ErrorResponse><Error><Type>Sender</Type><Code>" + *fail +
            "</Code><Message>not allowed</Message></Error><RequestId>r</RequestId></ErrorResponse>";
        return response;
      }
      const std::string role = c.role_arn.substr(c.role_arn.rfind('/') + 1);
      const std::string arn =
          "arn:aws:sts::123456789012:assumed-role/" + role + "/" + c.session_name;
      response.status = 200;
      response.body =
          "<" + c.action + "Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><" +
          c.action + "Result><AssumedRoleUser><Arn>" + arn +
          "</Arn><AssumedRoleId>AROA:" + c.session_name +
          "</AssumedRoleId></AssumedRoleUser><Credentials><AccessKeyId>ASIA" + role +
          "</AccessKeyId><SecretAccessKey>secret-of-" + role +
          "</SecretAccessKey><SessionToken>token-of-" + role +
          "</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration></Credentials></" +
          c.action + "Result></" + c.action + "Response>";
      return response;
    };
    return o;
  }
};

mskiam::ProfileCredentials profile_with(const std::string& name, const FakeSts& sts,
                                        mskiam::SessionName session = {}) {
  mskiam::ProfileCredentials::Options o;
  o.profile = name;
  o.sts = sts.options();
  o.session_name = std::move(session);
  return mskiam::ProfileCredentials(o);
}

}  // namespace

TEST_CASE("profile: assume-role profile signs with the source keys and keeps its session name") {
  Files f(
      "[profile msk]\nrole_arn = arn:aws:iam::123456789012:role/MskRole\nsource_profile = base\n"
      "role_session_name = msk-static\nexternal_id = ext-123\nduration_seconds = 1800\nregion = "
      "eu-west-1\n",
      "[base]\naws_access_key_id = AKIDBASEEXAMPLE\naws_secret_access_key = base-secret-value\n");
  FakeSts sts;
  auto source = profile_with("msk", sts);
  const auto first = source.fetch();
  const auto second = source.fetch();
  CHECK(first.principal == "arn:aws:sts::123456789012:assumed-role/MskRole/msk-static");
  CHECK(second.principal == first.principal);
  CHECK(first.access_key_id == "ASIAMskRole");
  CHECK(first.source == "profile");
  REQUIRE(sts.calls->size() == 2);
  for (const auto& call : *sts.calls) {
    CHECK(call.action == "AssumeRole");
    CHECK(call.session_name == "msk-static");
    CHECK(call.external_id == "ext-123");
    CHECK(call.duration == "1800");
    CHECK_THAT(call.authorization, mskiam_test::contains_substring("Credential=AKIDBASEEXAMPLE/"));
    CHECK_THAT(call.authorization, mskiam_test::contains_substring("/eu-west-1/sts/aws4_request"));
    CHECK_THAT(call.url,
               mskiam_test::contains_substring("sts.eu-west-1.amazonaws.com"));  // the profile's region
  }
  CHECK(source.description() ==
        "assume_role arn:aws:iam::123456789012:role/MskRole (profile msk) <- static keys (profile "
        "base)");
}

TEST_CASE("profile: in a role chain each role's credentials sign the next call") {
  Files f(
      "[profile top]\nrole_arn = arn:aws:iam::123456789012:role/Top\nsource_profile = middle\n"
      "[profile middle]\nrole_arn = arn:aws:iam::123456789012:role/Middle\nsource_profile = base\n"
      "role_session_name = middle-session\n",
      "[base]\naws_access_key_id = AKIDBASEEXAMPLE\naws_secret_access_key = base-secret-value\n");
  FakeSts sts;
  auto source = profile_with("top", sts, mskiam::SessionName::fixed("app-pinned"));
  const auto c = source.fetch();
  CHECK(c.principal == "arn:aws:sts::123456789012:assumed-role/Top/app-pinned");
  REQUIRE(sts.calls->size() == 2);
  CHECK((*sts.calls)[0].role_arn == "arn:aws:iam::123456789012:role/Middle");
  CHECK((*sts.calls)[0].session_name == "middle-session");
  CHECK_THAT((*sts.calls)[0].authorization,
             mskiam_test::contains_substring("Credential=AKIDBASEEXAMPLE/"));
  CHECK((*sts.calls)[1].role_arn == "arn:aws:iam::123456789012:role/Top");
  CHECK((*sts.calls)[1].session_name == "app-pinned");
  CHECK_THAT((*sts.calls)[1].authorization, mskiam_test::contains_substring("Credential=ASIAMiddle/"));
  CHECK(source.fetch().principal == c.principal);
}

TEST_CASE("profile: without role_session_name the default session name is used at every refresh") {
  Files f(
      "[profile r]\nrole_arn = arn:aws:iam::123456789012:role/R\ncredential_source = Environment\n",
      "");
  f.env.set("AWS_ACCESS_KEY_ID", "AKIDENVEXAMPLE");
  f.env.set("AWS_SECRET_ACCESS_KEY", "env-secret-value");
  FakeSts sts;
  auto source = profile_with("r", sts);
  const auto a = source.fetch();
  const auto b = source.fetch();
  CHECK(a.principal ==
        "arn:aws:sts::123456789012:assumed-role/R/" + mskiam::default_session_name());
  CHECK(b.principal == a.principal);
  REQUIRE(sts.calls->size() == 2);
  CHECK_THAT((*sts.calls)[0].authorization,
             mskiam_test::contains_substring("Credential=AKIDENVEXAMPLE/"));

  // The profile names the environment as its source: variables missing is a configuration error.
  f.env.unset("AWS_ACCESS_KEY_ID");
  f.env.unset("AWS_SECRET_ACCESS_KEY");
  const auto e = fetch_error(source);
  CHECK(e.kind() == ErrorKind::invalid_argument);
  CHECK_THAT(e.what(), Catch::Matchers::StartsWith("profile: invalid_argument: profile \"r\": "));
  CHECK_THAT(e.what(), mskiam_test::contains_substring("environment: not_configured: AWS_ACCESS_KEY_ID"));
}

TEST_CASE("profile: an STS refusal keeps its kind and code and names the profile") {
  Files f(
      "[profile r]\nrole_arn = arn:aws:iam::123456789012:role/R\nsource_profile = base\n",
      "[base]\naws_access_key_id = AKIDBASEEXAMPLE\naws_secret_access_key = base-secret-value\n");
  FakeSts sts;
  *sts.fail_code = "AccessDenied";
  auto source = profile_with("r", sts);
  const auto e = fetch_error(source);
  CHECK(e.kind() == ErrorKind::service_error);
  CHECK(e.code() == "AccessDenied");
  CHECK(e.source() == "profile");
  CHECK_THAT(e.what(), Catch::Matchers::StartsWith("profile: service_error: profile \"r\": "));
  CHECK_FALSE(contains(e.what(), "base-secret-value"));
}

TEST_CASE("profile: web identity profile reads its token file and sends role_session_name") {
  mskiam_test::TempDir tokens;
  const auto token_file = tokens.write("token", "eyJ-profile-web-identity-token");
  Files f(
      "[profile wi]\nrole_arn = arn:aws:iam::123456789012:role/Web\nweb_identity_token_file = " +
          token_file + "\nrole_session_name = wi-session\n",
      "");
  FakeSts sts;
  auto source = profile_with("wi", sts);
  const auto c = source.fetch();
  CHECK(c.principal == "arn:aws:sts::123456789012:assumed-role/Web/wi-session");
  REQUIRE(sts.calls->size() == 1);
  CHECK((*sts.calls)[0].action == "AssumeRoleWithWebIdentity");
  CHECK((*sts.calls)[0].token == "eyJ-profile-web-identity-token");
  CHECK((*sts.calls)[0].authorization.empty());  // unsigned

  *sts.fail_code = "InvalidIdentityToken";
  const auto e = fetch_error(source);
  CHECK(e.source() == "profile");
  CHECK_FALSE(contains(e.what(), "eyJ-profile-web-identity-token"));
}

TEST_CASE("profile: credential_process runs the command and reports its failure with the profile") {
  mskiam_test::TempDir bin;
  const auto good =
      bin.write("good.sh",
                "#!/bin/sh\nprintf '%s' '{\"Version\": 1, \"AccessKeyId\": \"AKIDPROCESS\", "
                "\"SecretAccessKey\": \"process-secret\", \"SessionToken\": \"process-token\", "
                "\"Expiration\": \"2030-01-01T00:00:00Z\"}'\n",
                0700);
  const auto bad = bin.write("bad.sh", "#!/bin/sh\nexit 3\n", 0700);
  Files f("[profile good]\ncredential_process = " + good +
              "\n[profile bad]\ncredential_process = " + bad + "\n",
          "");
  auto source = profile("good");
  const auto c = source.fetch();
  CHECK(c.access_key_id == "AKIDPROCESS");
  CHECK(c.secret_access_key.reveal() == "process-secret");
  CHECK(c.session_token.reveal() == "process-token");
  REQUIRE(c.expiration);
  CHECK(c.source == "profile");

  auto failing = profile("bad");
  const auto e = fetch_error(failing);
  CHECK(e.kind() == ErrorKind::process);
  CHECK(e.source() == "profile");
  CHECK_THAT(e.what(), mskiam_test::contains_substring("profile \"bad\""));
}

// ---------------------------------------------------------------------------------------------
// Against the loopback STS fake (tests/fakes/aws_fakes.py): botocore checks every signature.

namespace {
std::vector<std::string> sts_lines(const mskiam_test::AwsFakes& fakes) {
  std::vector<std::string> out;
  for (const auto& line : fakes.log_lines())
    if (contains(line, "\"endpoint\": \"sts\"")) out.push_back(line);
  return out;
}
}  // namespace

TEST_CASE("profile (loopback STS): an assume-role profile keeps one principal across refreshes") {
  mskiam_test::AwsFakesOptions fo;
  fo.base_credentials = {"AKIDLOOPBACKBASE:loopback-base-secret-value"};
  mskiam_test::AwsFakes fakes(fo);
  Files f(
      "[profile msk]\nrole_arn = arn:aws:iam::123456789012:role/MskRole\nsource_profile = base\n"
      "role_session_name = msk-static\nregion = eu-west-1\n",
      "[base]\naws_access_key_id = AKIDLOOPBACKBASE\naws_secret_access_key = "
      "loopback-base-secret-value\n");
  mskiam::ProfileCredentials::Options o;
  o.profile = "msk";
  o.sts.endpoint = fakes.url();
  mskiam::ProfileCredentials source(o);
  const auto a = source.fetch();
  const auto b = source.fetch();
  const auto c = source.fetch();
  CHECK(a.principal == "arn:aws:sts::123456789012:assumed-role/MskRole/msk-static");
  CHECK(b.principal == a.principal);
  CHECK(c.principal == a.principal);
  CHECK(a.access_key_id != b.access_key_id);  // new credentials each time, same principal
  const auto lines = sts_lines(fakes);
  REQUIRE(lines.size() == 3);
  for (const auto& line : lines) {
    CHECK_THAT(line, mskiam_test::contains_substring("\"signature\": \"verified\""));
    CHECK_THAT(line, mskiam_test::contains_substring("\"role_session_name\": \"msk-static\""));
    CHECK_FALSE(contains(line, "loopback-base-secret-value"));
  }
}

TEST_CASE(
    "profile (loopback STS): a two-role chain signs the second call with the first role's "
    "session") {
  mskiam_test::AwsFakesOptions fo;
  fo.base_credentials = {"AKIDLOOPBACKBASE:loopback-base-secret-value"};
  mskiam_test::AwsFakes fakes(fo);
  Files f(
      "[profile top]\nrole_arn = arn:aws:iam::123456789012:role/Top\nsource_profile = middle\n"
      "duration_seconds = 3600\n"
      "[profile middle]\nrole_arn = arn:aws:iam::123456789012:role/Middle\nsource_profile = base\n",
      "[base]\naws_access_key_id = AKIDLOOPBACKBASE\naws_secret_access_key = "
      "loopback-base-secret-value\n");
  mskiam::ProfileCredentials::Options o;
  o.profile = "top";
  o.sts.endpoint = fakes.url();
  o.session_name = mskiam::SessionName::fixed("msk-top");
  mskiam::ProfileCredentials source(o);
  const auto c = source.fetch();
  CHECK(c.principal == "arn:aws:sts::123456789012:assumed-role/Top/msk-top");
  const auto lines = sts_lines(fakes);
  REQUIRE(lines.size() == 2);
  CHECK_THAT(lines[0],
             mskiam_test::contains_substring("\"role_arn\": \"arn:aws:iam::123456789012:role/Middle\""));
  CHECK_THAT(lines[0], mskiam_test::contains_substring(
                           "\"caller\": \"arn:aws:iam::123456789012:user/mskiam-test\""));
  CHECK_THAT(lines[1],
             mskiam_test::contains_substring("\"role_arn\": \"arn:aws:iam::123456789012:role/Top\""));
  CHECK_THAT(lines[1], mskiam_test::contains_substring(
                           "\"caller\": \"arn:aws:sts::123456789012:assumed-role/Middle/" +
                           mskiam::default_session_name() + "\""));
  for (const auto& line : lines)
    CHECK_THAT(line, mskiam_test::contains_substring("\"signature\": \"verified\""));
}

TEST_CASE(
    "profile (loopback): Pod Identity base credentials, one MSK principal through role chaining") {
  // The incident mskiam exists for: the Pod Identity agent hands out a new session name at every
  // fetch; a profile that chains into a role with a fixed role_session_name keeps one principal.
  mskiam_test::AwsFakes fakes;
  Files f(
      "[profile msk]\nrole_arn = arn:aws:iam::123456789012:role/MskRole\ncredential_source = "
      "EcsContainer\n"
      "role_session_name = msk-static\n",
      "");
  f.env.set("AWS_CONTAINER_CREDENTIALS_FULL_URI", fakes.url() + "/pod-identity");
  mskiam::ProfileCredentials::Options o;
  o.profile = "msk";
  o.sts.endpoint = fakes.url();
  mskiam::ProfileCredentials source(o);
  const auto a = source.fetch();
  const auto b = source.fetch();
  CHECK(a.principal == "arn:aws:sts::123456789012:assumed-role/MskRole/msk-static");
  CHECK(b.principal == a.principal);
  std::vector<std::string> callers;
  for (const auto& line : sts_lines(fakes)) {
    CHECK_THAT(line, mskiam_test::contains_substring("\"signature\": \"verified\""));
    const auto at = line.find("\"caller\": \"");
    if (at != std::string::npos) callers.push_back(line.substr(at, line.find('"', at + 11) - at));
  }
  REQUIRE(callers.size() == 2);
  CHECK(callers[0] != callers[1]);  // the base principal did change underneath
}
