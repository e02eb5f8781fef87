// What TokenProvider reports as it works: every fetch, failure, principal change and token. An
// application passes a handler (ProviderOptions::on_event); nothing is printed by default.
// Events carry no secret: only the access key id, the principal and times.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "mskiam/config.hpp"

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

// Syslog severities, as librdkafka's log uses them.
enum class Severity { error = 3, warning = 4, notice = 5, info = 6, debug = 7 };

constexpr Severity severity(EventType type) noexcept {
  switch (type) {
    case EventType::principal_change_rejected: return Severity::error;
    case EventType::refresh_failed:
    case EventType::credentials_expiring: return Severity::warning;
    case EventType::principal_changed: return Severity::notice;
    case EventType::credentials_fetched: return Severity::info;
    case EventType::token_issued: return Severity::debug;
  }
  return Severity::info;
}

// One line for a log: `credentials_fetched source=web_identity principal=arn:... expires=...`.
std::string describe(const Event& e);

// A handler that prints events up to `max` severity to stderr, one line each, prefixed with
// `mskiam: `. `stderr_events()` shows everything but token_issued.
EventHandler stderr_events(Severity max = Severity::info);

MSKIAM_END_NAMESPACE

#if MSKIAM_DEFINITIONS
#include <cstdio>

#include "mskiam/detail/time.hpp"

MSKIAM_BEGIN_NAMESPACE

MSKIAM_INLINE std::string describe(const Event& e) {
  std::string line(to_string(e.type));
  auto field = [&line](std::string_view name, const std::string& value) {
    if (value.empty()) return;
    line.append(" ").append(name).append("=").append(value);
  };
  field("source", e.source);
  field("access_key_id", e.access_key_id);
  field("principal", e.principal);
  field("previous_principal", e.previous_principal);
  if (e.expiration)
    field(e.type == EventType::token_issued ? "token_expires" : "expires", detail::iso8601(*e.expiration));
  if (e.retry_at) field("retry_at", detail::iso8601(*e.retry_at));
  if (!e.message.empty()) line.append(" cause=\"").append(e.message).append("\"");
  return line;
}

MSKIAM_INLINE EventHandler stderr_events(Severity max) {
  return [max](const Event& e) {
    if (static_cast<int>(severity(e.type)) > static_cast<int>(max)) return;
    const std::string line = "mskiam: " + describe(e) + "\n";
    std::fputs(line.c_str(), stderr);
  };
}

MSKIAM_END_NAMESPACE
#endif  // MSKIAM_DEFINITIONS
