// EnvironmentCredentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN and
// AWS_CREDENTIAL_EXPIRATION, read again at every fetch (a refresh sees updated variables).
#pragma once

#include <string_view>

#include "mskiam/credentials.hpp"
#include "mskiam/error.hpp"

MSKIAM_BEGIN_NAMESPACE

inline constexpr std::string_view access_key_id_env = "AWS_ACCESS_KEY_ID";
inline constexpr std::string_view secret_access_key_env = "AWS_SECRET_ACCESS_KEY";
inline constexpr std::string_view session_token_env = "AWS_SESSION_TOKEN";
inline constexpr std::string_view credential_expiration_env = "AWS_CREDENTIAL_EXPIRATION";

class EnvironmentCredentials {
 public:
  static constexpr std::string_view source = "environment";

  // Throws not_configured when neither key variable is set, invalid_argument when only one is
  // or when AWS_CREDENTIAL_EXPIRATION is not an ISO 8601 time.
  Credentials fetch() const;
  std::string_view name() const noexcept { return source; }
};

MSKIAM_END_NAMESPACE

#if MSKIAM_DEFINITIONS
#include <string>
#include <utility>

#include "mskiam/detail/environment.hpp"
#include "mskiam/detail/time.hpp"
#include "mskiam/policy.hpp"

MSKIAM_BEGIN_NAMESPACE

MSKIAM_INLINE Credentials EnvironmentCredentials::fetch() const {
  const auto key = detail::getenv_nonempty(access_key_id_env);
  auto secret = detail::getenv_nonempty(secret_access_key_env);
  if (!key && !secret)
    throw Error(ErrorKind::not_configured, std::string(source),
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set");
  if (!key)
    throw Error(ErrorKind::invalid_argument, std::string(source),
                "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
  if (!secret)
    throw Error(ErrorKind::invalid_argument, std::string(source),
                "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
  Credentials c;
  c.access_key_id = *key;
  c.secret_access_key = std::move(*secret);
  if (auto token = detail::getenv_nonempty(session_token_env)) c.session_token = std::move(*token);
  if (auto expiration = detail::getenv_nonempty(credential_expiration_env)) {
    auto parsed = detail::parse_iso8601(*expiration);
    if (!parsed)
      throw Error(ErrorKind::invalid_argument, std::string(source),
                  "AWS_CREDENTIAL_EXPIRATION \"" + *expiration +
                      "\" is not an ISO 8601 time such as 2030-01-01T00:00:00Z");
    c.expiration = *parsed;
  }
  c.source = std::string(source);
  return c;
}

MSKIAM_END_NAMESPACE
#endif  // MSKIAM_DEFINITIONS
