// Every rule mskiam applies to its inputs, with its limits, in one place: the library, the
// mskiam-token tool and the librdkafka plugin all ask these functions, so that a value accepted
// at configuration is never refused later. Each check throws mskiam::Error (invalid_argument)
// naming `source` (who asks: `token`, `sts`, a plugin key) and, for the region, where the value
// was read (`origin`: `AWS_REGION`, `--region`...), never a secret.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "mskiam/error.hpp"

MSKIAM_BEGIN_NAMESPACE

// Region ids: `<area>(-<word>)+-<number>` in lower case (us-east-1, us-gov-west-1,
// eu-isoe-west-1, eusc-de-east-1), as every partition of the SDKs' partitions file names them.
inline constexpr std::size_t max_region_size = 64;
// The region of STS's global endpoint, which names no place.
inline constexpr std::string_view sts_global_region = "aws-global";
// Where the region is read when nothing else says it, in this order (every AWS SDK).
inline constexpr std::string_view region_env = "AWS_REGION";
inline constexpr std::string_view default_region_env = "AWS_DEFAULT_REGION";

// STS RoleSessionName: 2-64 characters of [\w+=,.@-].
inline constexpr std::size_t min_session_name = 2;
inline constexpr std::size_t max_session_name = 64;
// STS RoleArn and ExternalId.
inline constexpr std::size_t min_role_arn = 20;
inline constexpr std::size_t max_role_arn = 2048;
inline constexpr std::size_t min_external_id = 2;
inline constexpr std::size_t max_external_id = 1224;
// AssumeRoleWithWebIdentity's WebIdentityToken.
inline constexpr std::size_t min_web_identity_token = 4;
inline constexpr std::size_t max_web_identity_token = 20000;
// DurationSeconds bounds of both operations; role chaining (AssumeRole signed with credentials
// that are themselves an assumed role) is capped at one hour by STS.
inline constexpr std::chrono::seconds sts_min_duration{900};
inline constexpr std::chrono::seconds sts_max_duration{43200};
inline constexpr std::chrono::seconds sts_max_chained_duration{3600};
// X-Amz-Expires of a token: MSK accepts at most 15 minutes.
inline constexpr std::chrono::seconds max_token_lifetime{900};
// A host name (TokenOptions::host): letters, digits, `-`, `.`, `:`.
inline constexpr std::size_t max_host_size = 253;

// A region id as described above; `origin` says where it was read, for the message.
void validate_region(std::string_view region, std::string_view source,
                     std::string_view origin = {});

// The region of the environment: AWS_REGION, else AWS_DEFAULT_REGION, checked and named as its
// origin; nullopt when neither is set.
struct RegionSetting {
  std::string region;
  std::string origin;  // the variable it was read from
};
std::optional<RegionSetting> region_from_environment(std::string_view source);

void validate_session_name(std::string_view name, std::string_view source);
// `arn:<partition>:iam::<12-digit account>:role/<path/name>`.
void validate_role_arn(std::string_view arn, std::string_view source);
// The value is never printed: some treat the external id as a shared secret.
void validate_external_id(std::string_view external_id, std::string_view source);
// An STS session duration, sts_min_duration..sts_max_duration.
void validate_duration(std::chrono::seconds duration, std::string_view source);
// A token lifetime, 1 s..max_token_lifetime.
void validate_token_lifetime(std::chrono::seconds lifetime, std::string_view source);
void validate_host(std::string_view host, std::string_view source);
// An endpoint override (StsOptions::endpoint): `http(s)://host[:port][/path]` without user,
// query, fragment, space or control character. `what` names it: "STS endpoint".
void validate_endpoint(std::string_view url, std::string_view what, std::string_view source);

namespace detail {
// The rule of validate_region, as a test: for callers that look for a region among other text.
bool is_region_id(std::string_view region) noexcept;

constexpr bool is_session_name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '+' || c == '=' || c == ',' || c == '.' || c == '@' || c == '-';
}
}  // namespace detail

MSKIAM_END_NAMESPACE

#if MSKIAM_DEFINITIONS
#include "mskiam/detail/environment.hpp"
#include "mskiam/detail/text.hpp"
#include "mskiam/detail/url.hpp"

MSKIAM_BEGIN_NAMESPACE
namespace detail {

constexpr bool is_lower_letter(char c) noexcept { return c >= 'a' && c <= 'z'; }
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// `<area>(-<word>)+-<number>`: an area of 2-4 letters, one or more words of letters, a number.
MSKIAM_INLINE bool is_region_id(std::string_view region) noexcept {
  std::size_t parts = 0;
  for (std::string_view rest = region; region.size() <= max_region_size; ++parts) {
    const std::string_view part = rest.substr(0, rest.find('-'));
    const bool last = part.size() == rest.size();
    bool ok = !part.empty() && (parts > 0 || (part.size() >= 2 && part.size() <= 4));
    for (char c : part) ok = ok && (last ? is_digit(c) : is_lower_letter(c));
    if (!ok) return false;
    if (last) return parts >= 2;
    rest.remove_prefix(part.size() + 1);
  }
  return false;
}

[[noreturn]] MSKIAM_INLINE void invalid(std::string_view source, const std::string& why) {
  throw Error(ErrorKind::invalid_argument, std::string(source), why);
}

}  // namespace detail

MSKIAM_INLINE void validate_region(std::string_view region, std::string_view source,
                                   std::string_view origin) {
  const std::string from = origin.empty() ? "" : " (from " + std::string(origin) + ")";
  if (region.empty())
    detail::invalid(source, "region is empty" + from + "; a region id is needed, such as \"us-east-1\"");
  if (!detail::is_region_id(region))
    detail::invalid(source, "region \"" + detail::printable(region, 128) + "\"" + from +
                                " is malformed: expected a region id such as \"us-east-1\" "
                                "(lower-case <area>-<direction>-<number>)");
}

MSKIAM_INLINE std::optional<RegionSetting> region_from_environment(std::string_view source) {
  for (std::string_view name : {region_env, default_region_env}) {
    if (auto value = detail::getenv_nonempty(name)) {
      validate_region(*value, source, name);
      return RegionSetting{std::move(*value), std::string(name)};
    }
  }
  return std::nullopt;
}

MSKIAM_INLINE void validate_session_name(std::string_view name, std::string_view source) {
  bool ok = name.size() >= min_session_name && name.size() <= max_session_name;
  for (char c : name) ok = ok && detail::is_session_name_char(c);
  if (!ok)
    detail::invalid(source, "role session name \"" + detail::printable(name, 128) +
                                "\" is invalid: it must be 2 to 64 characters of letters, digits "
                                "and +=,.@_-");
}

MSKIAM_INLINE void validate_role_arn(std::string_view arn, std::string_view source) {
  if (arn.empty()) detail::invalid(source, "role ARN is empty");
  const auto fail = [&](const std::string& why) {
    detail::invalid(source, "role ARN \"" + detail::printable(arn, 256) + "\" is invalid: " + why);
  };
  if (arn.size() < min_role_arn || arn.size() > max_role_arn)
    fail("it must be 20 to 2048 characters");
  for (char c : arn)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      fail("it contains a space or control character");
  // arn:<partition>:iam::<account>:role/<name>: the partition and the account are checked below.
  const std::size_t partition_end = arn.find(':', 4);
  const std::string_view partition = arn.substr(4, partition_end - 4);
  const std::string_view rest =
      partition_end == std::string_view::npos ? "" : arn.substr(partition_end);
  bool ok = detail::starts_with(arn, "arn:") && !partition.empty() &&
            detail::starts_with(rest, ":iam::") && rest.size() > 24 && rest[18] == ':' &&
            detail::starts_with(rest.substr(19), "role/") && rest.back() != '/';
  if (ok)  // rest holds ":iam::<account>:role/...": the account's 12 characters are there
    for (char c : rest.substr(6, 12)) ok = ok && detail::is_digit(c);
  if (!ok) fail("expected arn:<partition>:iam::<12-digit account id>:role/<name>");
}

MSKIAM_INLINE void validate_external_id(std::string_view external_id, std::string_view source) {
  bool ok = external_id.size() >= min_external_id && external_id.size() <= max_external_id;
  for (char c : external_id) ok = ok && (detail::is_session_name_char(c) || c == ':' || c == '/');
  if (!ok)
    detail::invalid(source,
                    "external id is invalid: it must be 2 to 1224 characters of letters, digits "
                    "and +=,.@:/_-");
}

MSKIAM_INLINE void validate_duration(std::chrono::seconds duration, std::string_view source) {
  if (duration < sts_min_duration || duration > sts_max_duration)
    detail::invalid(source, "session duration " + std::to_string(duration.count()) +
                                " s is out of range: STS accepts 900 to 43200 seconds");
}

MSKIAM_INLINE void validate_token_lifetime(std::chrono::seconds lifetime, std::string_view source) {
  if (lifetime < std::chrono::seconds(1) || lifetime > max_token_lifetime)
    detail::invalid(source, "token lifetime " + std::to_string(lifetime.count()) +
                                " s is outside 1..900 s");
}

MSKIAM_INLINE void validate_host(std::string_view host, std::string_view source) {
  bool ok = !host.empty() && host.size() <= max_host_size;
  for (char c : host)
    ok = ok && (detail::is_lower_letter(detail::ascii_lower(c)) || detail::is_digit(c) || c == '-' ||
                c == '.' || c == ':');
  if (!ok) detail::invalid(source, "host \"" + detail::printable(host, 300) + "\" is not a host name");
}

MSKIAM_INLINE void validate_endpoint(std::string_view url, std::string_view what,
                                     std::string_view source) {
  const std::string quoted = std::string(what) + " \"" + detail::printable(url, 256) + "\"";
  const auto parts = detail::split_url(url);
  const std::string_view scheme = url.substr(0, url.find("://"));
  if (scheme != "https" && scheme != "http")
    detail::invalid(source, quoted + " is not an http:// or https:// URL");
  bool ok = parts.has_value() && parts->rest.find_first_of("?#") == std::string_view::npos;
  for (char c : url) ok = ok && static_cast<unsigned char>(c) > 0x20 && c != 0x7f;
  if (!ok)
    detail::invalid(source, quoted + " is malformed: expected scheme://host[:port][/path] without "
                                     "user, query or fragment");
}

MSKIAM_END_NAMESPACE
#endif  // MSKIAM_DEFINITIONS
