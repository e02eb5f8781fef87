// mskiam::Error: the one exception type of the library. Every error names the source it comes from
// (`environment`, `profile`, `sts`, `imds`, `token`...) and a kind, so that callers can react to
// the kind and operators can read the source. Messages never contain a secret.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "mskiam/config.hpp"

MSKIAM_BEGIN_NAMESPACE

enum class ErrorKind {
  not_configured,     // the source has nothing to offer here (variable unset, file absent)
  invalid_argument,   // a value given by the application or a configuration file is wrong
  expired,            // credentials or a token are past their expiration
  io,                 // a file could not be read
  timeout,            // a network call or a process did not answer in time
  transport,          // connection refused, reset, TLS failure, DNS failure
  http_status,        // an endpoint answered with an unexpected HTTP status
  bad_document,       // a response, file or process output could not be parsed
  service_error,      // a service answered with an error code of its own (STS `Throttling`...)
  process,            // credential_process failed to run or exited non-zero
  principal_changed,  // refreshed credentials carry another principal and the policy rejects it
  internal,           // an OpenSSL or libcurl call failed unexpectedly
};

constexpr std::string_view to_string(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::not_configured: return "not_configured";
    case ErrorKind::invalid_argument: return "invalid_argument";
    case ErrorKind::expired: return "expired";
    case ErrorKind::io: return "io";
    case ErrorKind::timeout: return "timeout";
    case ErrorKind::transport: return "transport";
    case ErrorKind::http_status: return "http_status";
    case ErrorKind::bad_document: return "bad_document";
    case ErrorKind::service_error: return "service_error";
    case ErrorKind::process: return "process";
    case ErrorKind::principal_changed: return "principal_changed";
    case ErrorKind::internal: return "internal";
  }
  return "unknown";
}

class Error : public std::runtime_error {
 public:
  // `code` is a service's own error code when there is one (STS `Throttling`, HTTP `503`).
  Error(ErrorKind kind, std::string source, const std::string& message, std::string code = {})
      : std::runtime_error(format(source, kind, message)),
        kind_(kind),
        source_(std::move(source)),
        message_(message),
        code_(std::move(code)) {}

  ErrorKind kind() const noexcept { return kind_; }
  const std::string& source() const noexcept { return source_; }
  const std::string& code() const noexcept { return code_; }
  // The cause alone, without the `source: kind: ` prefix of what().
  const std::string& message() const noexcept { return message_; }

  // Worth trying again later: the cause is on the way or on the other side, not in the input.
  bool retryable() const noexcept {
    return kind_ == ErrorKind::timeout || kind_ == ErrorKind::transport ||
           kind_ == ErrorKind::http_status || kind_ == ErrorKind::service_error;
  }

 private:
  static std::string format(const std::string& source, ErrorKind kind, const std::string& message) {
    std::string text = source;
    text += ": ";
    text += to_string(kind);
    text += ": ";
    text += message;
    return text;
  }

  ErrorKind kind_;
  std::string source_;
  std::string message_;
  std::string code_;
};

MSKIAM_END_NAMESPACE
