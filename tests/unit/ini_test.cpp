// The shared config/credentials file parser: section prefixes, comments, sub-sections,
// continuations, malformed lines (named by file and line, never by content), size cap.
#include "mskiam/detail/ini.hpp"

#include <string>

#include "catch.hpp"
#include "support/error_of.hpp"
#include "support/profile_fixtures.hpp"
#include "support/unprivileged.hpp"

using mskiam::detail::IniFile;
using mskiam::detail::IniFlavor;
using mskiam::detail::parse_ini;

namespace {
std::string value(const IniFile& f, const std::string& profile, const std::string& key) {
  const auto it = f.profiles.find(profile);
  if (it == f.profiles.end()) return "<no profile>";
  const std::string* v = it->second.get(key);
  return v ? *v : "<no key>";
}

mskiam::Error parse_error(const std::string& text, IniFlavor flavor = IniFlavor::config) {
  return mskiam_test::error_of([&] { parse_ini(text, flavor, "/x/config"); });
}
}  // namespace

TEST_CASE("ini: config file needs the profile prefix - credentials file forbids it") {
  const std::string text =
      "[default]\nregion = eu-west-1\n"
      "[profile dev]\nregion = us-east-2\n"
      "[plain]\nregion = ap-south-1\n"
      "[profile  \"quoted name\"]\nregion = ca-central-1\n"
      "[profile two words]\nregion = none\n";
  const auto config = parse_ini(text, IniFlavor::config, "config");
  CHECK(value(config, "default", "region") == "eu-west-1");
  CHECK(value(config, "dev", "region") == "us-east-2");
  CHECK(value(config, "quoted name", "region") == "ca-central-1");
  CHECK(config.profiles.count("plain") == 0);      // not a profile in the config file
  CHECK(config.profiles.count("two words") == 0);  // unquoted spaces: not a profile name
  CHECK(config.profiles.count("profile dev") == 0);

  const auto credentials = parse_ini(text, IniFlavor::credentials, "credentials");
  CHECK(value(credentials, "default", "region") == "eu-west-1");
  CHECK(value(credentials, "plain", "region") == "ap-south-1");
  CHECK(credentials.profiles.count("dev") == 0);  // `[profile dev]` is ignored there
  CHECK(credentials.profiles.count("profile dev") == 0);
}

TEST_CASE("ini: the profile-default section wins over the default section whatever the order") {
  for (const std::string text :
       {"[default]\nregion = a\nextra = 1\n[profile default]\nregion = b\n",
        "[profile default]\nregion = b\n[default]\nregion = a\nextra = 1\n"}) {
    const auto f = parse_ini(text, IniFlavor::config, "config");
    CHECK(value(f, "default", "region") == "b");
    CHECK(value(f, "default", "extra") == "<no key>");  // the whole [default] section is ignored
  }
}

TEST_CASE("ini: sso-session - services and unknown sections are ignored") {
  const auto f = parse_ini(
      "[sso-session corp]\nsso_region = us-east-1\n[services local]\ns3 =\n  endpoint_url = x\n"
      "[profile a]\nsso_session = corp\n",
      IniFlavor::config, "config");
  REQUIRE(f.profiles.size() == 1);
  CHECK(value(f, "a", "sso_session") == "corp");
}

TEST_CASE("ini: comments at line start or after whitespace - not inside a value") {
  const auto f = parse_ini(
      "# leading comment\n; another\n[profile a] # after a header\n"
      "  # indented comment\n"
      "key1 = value # trailing\n"
      "key2 = value;not-a-comment\n"
      "key3 = va#lue\n"
      "key4 = value\t; tab before\n",
      IniFlavor::config, "config");
  CHECK(value(f, "a", "key1") == "value");
  CHECK(value(f, "a", "key2") == "value;not-a-comment");
  CHECK(value(f, "a", "key3") == "va#lue");
  CHECK(value(f, "a", "key4") == "value");
}

TEST_CASE("ini: whitespace is trimmed - keys match regardless of case - later values win") {
  const auto f = parse_ini(
      "\xEF\xBB\xBF[a]\r\n  AWS_Access_Key_ID\t=   AKIDEXAMPLE  \r\nk=v=w\r\nk2 = 1\nk2 = "
      "2\n[a]\nk3 = 3\n",
      IniFlavor::credentials, "credentials");
  CHECK(value(f, "a", "aws_access_key_id") == "AKIDEXAMPLE");
  CHECK(value(f, "a", "k") == "v=w");
  CHECK(value(f, "a", "k2") == "2");
  CHECK(value(f, "a", "k3") == "3");  // a repeated section is merged
  CHECK(f.profiles.count("A") == 0);  // profile names stay case-sensitive
}

TEST_CASE("ini: nested sub-sections are skipped without breaking the profile") {
  const auto f = parse_ini(
      "[profile a]\nregion = eu-west-1\ns3 =\n  max_concurrent_requests = 20\n"
      "\n  addressing_style = path\nrole_arn = arn:aws:iam::123456789012:role/R\n"
      "empty =\n[profile b]\nregion = x\n",
      IniFlavor::config, "config");
  CHECK(value(f, "a", "region") == "eu-west-1");
  CHECK(value(f, "a", "max_concurrent_requests") == "<no key>");
  CHECK(value(f, "a", "s3") == "<no key>");
  CHECK(value(f, "a", "empty") == "<no key>");  // an empty value is no value
  CHECK(value(f, "a", "role_arn") == "arn:aws:iam::123456789012:role/R");
  CHECK(value(f, "b", "region") == "x");
}

TEST_CASE("ini: a deeper indented line continues the value above - equal indentation does not") {
  const auto f = parse_ini("[profile a]\n  k1 = one\n  k2 = two\n    more\nk3 = three\n",
                           IniFlavor::config, "config");
  CHECK(value(f, "a", "k1") == "one");
  CHECK(value(f, "a", "k2") == "two\nmore");
  CHECK(value(f, "a", "k3") == "three");
}

TEST_CASE("ini: malformed lines name the file and line - never the content") {
  auto e = parse_error("[profile a]\nAKIDSECRETLINE\n");
  CHECK(e.kind() == mskiam::ErrorKind::bad_document);
  CHECK(e.source() == "profile");
  CHECK_THAT(e.what(), Catch::Matchers::StartsWith("profile: bad_document: /x/config:2: "));
  CHECK(std::string(e.what()).find("AKIDSECRETLINE") == std::string::npos);

  e = parse_error("\n\nsecret = s3cr3tvalue\n[profile a]\n");
  CHECK_THAT(e.what(), mskiam_test::contains_substring("/x/config:3: property before any [section]"));
  CHECK(std::string(e.what()).find("s3cr3tvalue") == std::string::npos);

  e = parse_error("[profile a]\n = s3cr3tvalue\n");
  CHECK_THAT(e.what(), mskiam_test::contains_substring("/x/config:2: property without a name"));
  CHECK(std::string(e.what()).find("s3cr3tvalue") == std::string::npos);

  e = parse_error("[profile a\nk = v\n", IniFlavor::credentials);
  CHECK_THAT(e.what(), mskiam_test::contains_substring("/x/config:1: section header without closing ]"));
}

TEST_CASE("ini: odd but harmless inputs parse") {
  CHECK(parse_ini("", IniFlavor::config, "c").profiles.empty());
  CHECK(parse_ini("\n\n\r\n", IniFlavor::config, "c").profiles.empty());
  CHECK(parse_ini("[]\nk = v\n", IniFlavor::credentials, "c").profiles.empty());
  CHECK(
      parse_ini("[profile ]\nk = v\n[profile]\nk = v\n", IniFlavor::config, "c").profiles.empty());
  CHECK(parse_ini("[a]\nk = v", IniFlavor::credentials, "c").profiles.count("a") ==
        1);  // no final newline
  CHECK(parse_ini("  [a]  \n", IniFlavor::credentials, "c").profiles.count("a") == 1);
  std::string nul("[a]\nk = v\0w\n", 12);
  CHECK(parse_ini(nul, IniFlavor::credentials, "c").profiles.at("a").values.at("k").size() == 3);
}

TEST_CASE("ini: files over the size cap are refused") {
  std::string big = "[a]\n";
  big += "k = " + std::string(mskiam::detail::max_shared_file_bytes, 'x') + "\n";
  const auto e = parse_error(big);
  CHECK(e.kind() == mskiam::ErrorKind::bad_document);
  CHECK_THAT(e.what(), mskiam_test::contains_substring("larger than"));

  mskiam_test::TempDir dir;
  const auto path = dir.write("big", big);
  try {
    mskiam::detail::read_ini_file(path, IniFlavor::credentials);
    FAIL("no error");
  } catch (const mskiam::Error& read_error) {
    CHECK(read_error.kind() == mskiam::ErrorKind::bad_document);
    CHECK_THAT(read_error.what(), mskiam_test::contains_substring(path + ": larger than"));
  }
}

TEST_CASE("ini: absent - unreadable and non-regular files") {
  mskiam_test::TempDir dir;
  const auto absent = mskiam::detail::read_ini_file(dir.path() + "/nope", IniFlavor::config);
  CHECK_FALSE(absent.present);
  CHECK(absent.path == dir.path() + "/nope");
  CHECK_FALSE(
      mskiam::detail::read_ini_file(dir.path() + "/nope/deeper", IniFlavor::config).present);

  const auto sub = dir.mkdir("sub");
  try {
    mskiam::detail::read_ini_file(sub, IniFlavor::config);
    FAIL("no error");
  } catch (const mskiam::Error& e) {
    CHECK(e.kind() == mskiam::ErrorKind::io);
    CHECK_THAT(e.what(), mskiam_test::contains_substring(sub + ": not a regular file"));
  }

  const auto locked = dir.write("locked", "[a]\nk = v\n", 0000);
  mskiam_test::let_unprivileged_enter(dir.path());  // root reads anything: ask as nobody
  const std::string refused =
      mskiam_test::unprivileged_error_of([&] { mskiam::detail::read_ini_file(locked, IniFlavor::config); });
  CHECK_THAT(refused, Catch::Matchers::StartsWith("io: "));
  CHECK_THAT(refused, mskiam_test::contains_substring(locked + ": cannot open"));
  CHECK_THAT(refused, mskiam_test::contains_substring("Permission denied"));

  const auto ok = dir.write("ok", "[profile a]\nk = v\n");
  const auto f = mskiam::detail::read_ini_file(ok, IniFlavor::config);
  CHECK(f.present);
  CHECK(value(f, "a", "k") == "v");
}

TEST_CASE("ini: the credentials file overrides the config file key by key") {
  mskiam::detail::SharedFiles files;
  files.config = parse_ini("[profile a]\nregion = r\naws_access_key_id = CONFIGKEY\n",
                           IniFlavor::config, "config");
  files.credentials = parse_ini("[a]\naws_access_key_id = CREDKEY\n[b]\nk = v\n",
                                IniFlavor::credentials, "credentials");
  const auto a = files.profile("a");
  REQUIRE(a);
  CHECK(*a->get("region") == "r");
  CHECK(*a->get("aws_access_key_id") == "CREDKEY");
  CHECK(files.profile("b"));
  CHECK_FALSE(files.profile("c"));
  CHECK(files.searched() == "config, credentials");
}

TEST_CASE("ini: arbitrary bytes never crash the parser") {
  // A cheap stand-in for the fuzzer: every short string over a small alphabet that hits each
  // branch.
  const std::string alphabet = "[]= #;\n\t\rpa";
  std::string s;
  std::size_t parsed = 0, wrong_kind = 0;
  for (std::size_t n = 0; n < 60000; ++n) {
    s.clear();
    for (std::size_t k = n; k > 0; k /= alphabet.size()) s += alphabet[k % alphabet.size()];
    for (auto flavor : {IniFlavor::config, IniFlavor::credentials}) {
      try {
        parse_ini(s, flavor, "f");
        ++parsed;
      } catch (const mskiam::Error& e) {
        if (e.kind() != mskiam::ErrorKind::bad_document) ++wrong_kind;
      }
    }
  }
  CHECK(parsed > 0);
  CHECK(wrong_kind == 0);
}
