// The one parser of the JSON credential document served by the container endpoint (ECS task
// roles, EKS Pod Identity), by IMDS and printed by credential_process (credentials.md §2.4, §2.7,
// §2.8, §6.5-6.7). One parser so that the three sources agree on every rule and it is fuzzed once.
//
// Members read (unknown members are ignored, names are case-sensitive as the SDKs read them):
//   AccessKeyId, SecretAccessKey   required, non-empty strings
//   Token | SessionToken           optional; container and IMDS say `Token`, credential_process
//                                  `SessionToken`; either is accepted, both must then agree
//   Expiration                     optional ISO 8601 (fractions and offsets accepted, years
//                                  1900-2199); required for IMDS, whose credentials always expire;
//                                  a past value is accepted here (the provider judges expiry)
//   Version                        if present must be the integer 1; required for credential_process
//   Code                           if present must be "Success"; required for IMDS
//   AccountId, RoleArn             type-checked when present, otherwise not used: see below
// JSON null counts as absent for the optional members.
//
// `principal` is left empty. None of these documents names the principal MSK sees (the
// assumed-role ARN with its session name): ECS gives `RoleArn`, the *role* ARN, which stays the
// same when the session name changes, and EKS Pod Identity gives no ARN at all. Reporting the role
// ARN as the principal would hide exactly the principal changes this library exists to surface;
// callers who need the principal chain AssumeRole with a fixed session name, or ask
// GetCallerIdentity. `Credentials` has no account field, so AccountId is only type-checked.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "mskiam/credentials.hpp"
#include "mskiam/detail/json.hpp"
#include "mskiam/detail/time.hpp"
#include "mskiam/error.hpp"

MSKIAM_BEGIN_NAMESPACE
namespace detail {

// Credential documents are ~2 KiB; anything near this is not one.
inline constexpr std::size_t max_credential_document_bytes = 64 * 1024;
// They are flat objects; a little nesting is tolerated in members we ignore.
inline constexpr std::size_t max_credential_document_depth = 8;

enum class DocumentKind {
  any,        // the shared rules only
  container,  // same as any: a 200 from the container endpoint
  imds,       // `Code` must be present and "Success"; `Expiration` required
  process,    // `Version` must be present and 1
};

}  // namespace detail

// Parses a credential document with the shared rules; throws mskiam::Error naming `source`
// (bad_document; service_error for an IMDS `Code` other than Success).
inline Credentials parse_credential_document(std::string_view json, std::string_view source);

// ---------------------------------------------------------------------------------------------
// Details.

namespace detail {

// Service codes (`Success`, `AssumeRoleUnauthorizedAccess`, `InvalidIdentityToken.Expired`) may be
// echoed in messages: an upper-case letter, then letters and dots, at most 64 characters. A value
// with digits or other punctuation is never quoted: an endpoint reflecting a token, or a secret
// key, into `Code` would otherwise put it in a log line.
inline bool is_printable_code(std::string_view s) noexcept {
  if (s.empty() || s.size() > 64 || !(s[0] >= 'A' && s[0] <= 'Z')) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.')) return false;
  return true;
}

// Credentials go into HTTP headers and signatures: a control character is never legitimate.
inline bool has_control_character(std::string_view s) noexcept {
  for (char c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  return false;
}

// The same, with the extra rules of one endpoint; also reachable as detail::parse_credential_document.
// parse_iso8601 converts to system_clock's nanoseconds, which overflow (undefined behaviour)
// outside about 1678-2262; credential expirations are checked to lie in 1900-2199 first.
inline bool plausible_expiration_year(std::string_view s) noexcept {
  if (s.size() < 4) return false;
  int year = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    year = year * 10 + (s[i] - '0');
  }
  return year >= 1900 && year < 2200;
}

inline Credentials parse_credential_document(std::string_view json, std::string_view source,
                                             DocumentKind kind = DocumentKind::any) {
  const std::string src(source);
  auto bad = [&](const std::string& why) -> Error {
    return Error(ErrorKind::bad_document, src, "credential document: " + why);
  };
  const json::Value doc =
      json::parse(json, source, json::Limits{max_credential_document_bytes,
                                             max_credential_document_depth});
  if (!doc.is_object()) throw bad("not a JSON object");

  // A member that must be a string when present; JSON null counts as absent.
  auto optional_string = [&](std::string_view key) -> const std::string* {
    const json::Value* v = doc.find(key);
    if (v == nullptr || v->is_null()) return nullptr;
    if (!v->is_string()) throw bad(std::string(key) + " is not a string");
    return &v->text();
  };
  auto required_string = [&](std::string_view key) -> const std::string& {
    const std::string* s = optional_string(key);
    if (s == nullptr) throw bad(std::string(key) + " is missing");
    if (s->empty()) throw bad(std::string(key) + " is empty");
    return *s;
  };

  // Version first: a document of another version may name its members differently.
  const json::Value* version = doc.find("Version");
  if (version == nullptr && kind == DocumentKind::process)
    throw bad("Version is missing (credential_process must print \"Version\": 1)");
  if (version != nullptr) {
    const auto number = version->as_integer();
    if (!number || *number != 1) {
      if (number && *number > -1000000 && *number < 1000000)
        throw bad("Version is " + std::to_string(*number) + ", only version 1 is supported");
      throw bad("Version must be the number 1");
    }
  }

  const std::string* code = optional_string("Code");
  if (code == nullptr && kind == DocumentKind::imds) throw bad("Code is missing");
  if (code != nullptr && *code != "Success") {
    if (is_printable_code(*code))
      throw Error(ErrorKind::service_error, src,
                  "credential document has Code \"" + *code + "\" instead of \"Success\"", *code);
    throw Error(ErrorKind::service_error, src,
                "credential document has a Code other than \"Success\"");
  }

  Credentials c;
  c.access_key_id = required_string("AccessKeyId");
  if (has_control_character(c.access_key_id)) throw bad("AccessKeyId contains a control character");
  const std::string& secret = required_string("SecretAccessKey");
  if (has_control_character(secret)) throw bad("SecretAccessKey contains a control character");
  c.secret_access_key = secret;

  const std::string* token = optional_string("Token");
  const std::string* session_token = optional_string("SessionToken");
  if (token != nullptr && session_token != nullptr && *token != *session_token)
    throw bad("Token and SessionToken are both present and differ");
  if (token == nullptr) token = session_token;
  if (token != nullptr && !token->empty()) {
    if (has_control_character(*token)) throw bad("the session token contains a control character");
    c.session_token = *token;
  }

  const std::string* expiration = optional_string("Expiration");
  if (expiration == nullptr && kind == DocumentKind::imds) throw bad("Expiration is missing");
  if (expiration != nullptr) {
    const auto parsed = plausible_expiration_year(*expiration)
                            ? parse_iso8601(*expiration)
                            : std::optional<std::chrono::system_clock::time_point>();
    if (!parsed) throw bad("Expiration is not an ISO 8601 time such as 2030-01-01T00:00:00Z");
    c.expiration = *parsed;
  }

  (void)optional_string("AccountId");
  (void)optional_string("RoleArn");
  c.source = src;
  return c;
}

}  // namespace detail

inline Credentials parse_credential_document(std::string_view json, std::string_view source) {
  return detail::parse_credential_document(json, source, detail::DocumentKind::any);
}

MSKIAM_END_NAMESPACE
