// What TokenProvider reports as it works: every fetch, failure, principal change and token. An
// application passes a handler (ProviderOptions::on_event); nothing is printed by default.
// Events carry no secret: only the access key id, the principal and times.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "mskiam/version.hpp"

MSKIAM_BEGIN_NAMESPACE

enum class EventType {
  credentials_fetched,       // a source answered: source, principal, expiration
  refresh_failed,            // a source failed: message, retry_at; cached credentials kept if valid
  principal_changed,         // new credentials, another principal (PrincipalChange::allow)
  principal_change_rejected, // new credentials, another principal, refused (PrincipalChange::reject)
  token_issued,              // a token was signed: expiration
  credentials_expiring,      // a refresh failed and the cached credentials end within a token lifetime
};

constexpr std::string_view to_string(EventType type) noexcept {
  switch (type) {
    case EventType::credentials_fetched: return "credentials_fetched";
    case EventType::refresh_failed: return "refresh_failed";
    case EventType::principal_changed: return "principal_changed";
    case EventType::principal_change_rejected: return "principal_change_rejected";
    case EventType::token_issued: return "token_issued";
    case EventType::credentials_expiring: return "credentials_expiring";
  }
  return "unknown";
}

struct Event {
  EventType type;
  std::chrono::system_clock::time_point at;  // the provider clock's time of the event
  std::string source;                        // credential source: `environment`, `web_identity`...
  std::string access_key_id;
  std::string principal;
  std::string previous_principal;            // principal_changed / principal_change_rejected
  std::optional<std::chrono::system_clock::time_point> expiration;  // credentials or token
  std::optional<std::chrono::system_clock::time_point> retry_at;    // refresh_failed
  std::string message;                       // refresh_failed: the error's text (never a secret)
};

// Called on the thread that calls TokenProvider::token(), without the provider's lock held; it
// must not call back into the provider that reports the event.
using EventHandler = std::function<void(const Event&)>;

MSKIAM_END_NAMESPACE
