// The plugin's settings: `sasl.oauthbearer.config` as space-separated key=value pairs, parsed
// and checked in full before any client is created, so that a typo fails client creation with
// a message naming the key instead of leaving a client that never connects.
//
//   sasl.oauthbearer.config=region=eu-west-1 role_arn=arn:aws:iam::123456789012:role/Msk session_name=orders
//
// Without region=, the region is the one bootstrap.servers' MSK host names end in
// (mskiam/brokers.hpp).
//
// Plugin-private (not installed): only plugin/rdkafka_plugin.cpp and tests/plugin include it.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "mskiam/brokers.hpp"
#include "mskiam/detail/text.hpp"
#include "mskiam/error.hpp"
#include "mskiam/policy.hpp"
#include "mskiam/validation.hpp"

namespace mskiam_plugin {

// The librdkafka property the settings live in, named in every error.
inline constexpr std::string_view config_property = "sasl.oauthbearer.config";
// The property of the brokers, whose host names give the region when the settings do not.
inline constexpr std::string_view bootstrap_property = "bootstrap.servers";

inline constexpr std::string_view known_keys =
    "region, session_name, role_arn, external_id, profile, principal_change, sts_endpoint, host, "
    "lifetime";

struct Settings {
  std::string region;                          // the key's, else from bootstrap.servers' hosts
  std::optional<std::string> session_name;     // fixed role session name
  std::string role_arn;                        // AssumeRole over the base source
  std::string external_id;                     // with role_arn only
  std::string profile;                         // base source: this profile instead of the chain
  mskiam::PrincipalChange principal_change = mskiam::PrincipalChange::allow;
  std::string sts_endpoint;                    // STS endpoint override (http(s)://host[:port])
  std::string host;                            // token host override
  std::chrono::seconds lifetime{900};          // X-Amz-Expires, 1..900
};

// Thrown for any bad setting; what() is the complete message for librdkafka's errstr, and
// always names the property and the key.
class SettingsError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

namespace detail {

[[noreturn]] inline void fail(std::string_view key, const std::string& why) {
  std::string text(config_property);
  if (!key.empty()) text.append(": ").append(key);
  text.append(": ").append(why);
  throw SettingsError(text);
}

inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

inline std::vector<std::string_view> split_words(std::string_view text) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    const std::size_t start = i;
    while (i < text.size() && !is_space(text[i])) ++i;
    if (i > start) words.push_back(text.substr(start, i - start));
  }
  return words;
}

inline bool is_printable_ascii(std::string_view s) {
  for (char c : s)
    if (c < 0x21 || c > 0x7e) return false;
  return true;
}

inline std::chrono::seconds parse_lifetime(std::string_view value) {
  // Seconds, optionally with an `s` suffix: 900, 300s.
  if (!value.empty() && value.back() == 's') value.remove_suffix(1);
  const auto n = mskiam::detail::parse_decimal(value, 4);
  if (!n) fail("lifetime", "\"" + std::string(value) + "\" is not a number of seconds from 1 to 900");
  const std::chrono::seconds lifetime(*n);
  mskiam::validate_token_lifetime(lifetime, "lifetime");
  return lifetime;
}

}  // namespace detail

// Parses and checks every key; throws SettingsError. The region stays empty when `text` has
// none: bootstrap.servers, which may be set later, can still give it.
inline Settings parse_keys(std::string_view text) {
  Settings s;
  std::vector<std::string> seen;
  for (std::string_view word : detail::split_words(text)) {
    const std::size_t eq = word.find('=');
    if (eq == std::string_view::npos || eq == 0)
      detail::fail("", "\"" + std::string(word) +
                           "\" is not key=value (settings are space-separated key=value pairs)");
    const std::string key(word.substr(0, eq));
    const std::string value(word.substr(eq + 1));
    for (const std::string& k : seen)
      if (k == key) detail::fail(key, "is given twice");
    seen.push_back(key);
    if (value.empty()) detail::fail(key, "has no value");
    try {
      if (key == "region") {
        mskiam::validate_region(value, key);
        s.region = value;
      } else if (key == "session_name") {
        mskiam::validate_session_name(value, key);
        s.session_name = value;
      } else if (key == "role_arn") {
        mskiam::validate_role_arn(value, key);
        s.role_arn = value;
      } else if (key == "external_id") {
        mskiam::validate_external_id(value, key);
        s.external_id = value;
      } else if (key == "profile") {
        if (!detail::is_printable_ascii(value)) detail::fail(key, "is not a profile name");
        s.profile = value;
      } else if (key == "principal_change") {
        if (value == "allow")
          s.principal_change = mskiam::PrincipalChange::allow;
        else if (value == "reject")
          s.principal_change = mskiam::PrincipalChange::reject;
        else
          detail::fail(key, "\"" + value + "\" is neither allow nor reject");
      } else if (key == "sts_endpoint") {
        mskiam::validate_endpoint(value, "STS endpoint", key);
        s.sts_endpoint = value;
      } else if (key == "host") {
        mskiam::validate_host(value, key);
        s.host = value;
      } else if (key == "lifetime") {
        s.lifetime = detail::parse_lifetime(value);
      } else {
        detail::fail(key, "unknown key (known keys: " + std::string(known_keys) + ")");
      }
    } catch (const mskiam::Error& e) {
      // The library's own checks: keep their explanation, name the key.
      detail::fail(key, e.message());
    }
  }
  if (!s.external_id.empty() && s.role_arn.empty())
    detail::fail("external_id", "needs role_arn (it is sent with AssumeRole)");
  return s;
}

// parse_keys, then the region: the key's, else the one MSK region of `bootstrap` (the value of
// bootstrap.servers). Throws SettingsError naming the key `region` when neither gives one.
inline Settings parse_settings(std::string_view text, std::string_view bootstrap = {}) {
  Settings s = parse_keys(text);
  if (!s.region.empty()) return s;
  if (mskiam::detail::trim(bootstrap).empty())
    detail::fail("region", "is required, for example " + std::string(config_property) +
                               "=\"region=us-east-1\", unless " + std::string(bootstrap_property) +
                               " names MSK brokers, whose host names carry the region");
  try {
    s.region = mskiam::region_from_bootstrap(bootstrap, bootstrap_property);
  } catch (const mskiam::Error& e) {
    detail::fail("region", "is not set, and " + std::string(bootstrap_property) +
                               " gives none: " + e.message());
  }
  return s;
}

}  // namespace mskiam_plugin
