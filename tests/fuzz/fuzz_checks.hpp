// What every fuzz harness asserts of an mskiam::Error: its kind is one the parser may throw, and
// its message holds no secret: neither one the harness handed the code (a base secret key, a web
// identity token) nor one the untrusted input carried (the value of a SecretAccessKey, Token or
// aws_secret_access_key field). A breach aborts, which libFuzzer reports as a finding and the
// replay test as a failure. What is searched for is a secret's whole value, or any 16-byte run
// of it without a blank (a message that quotes a cut value leaks it too). A run the input holds in
// more than one place is not searched for: the message may cite it from the other place (a
// profile named like a secret, an STS <Message> that repeats a key), and the input that leaks it
// from its own field alone is the one to find.
#pragma once

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string_view>
#include <vector>

#include "mskiam/error.hpp"

namespace fuzz {

using Secrets = std::vector<std::string_view>;
// Text the messages legitimately hold whatever the input (a role ARN, an endpoint URL the harness
// put in the request): a run of a secret found in one of these is chance, not a leak.
using Known = std::initializer_list<std::string_view>;

[[noreturn]] inline void finding(const char* what, std::string_view detail) {
  std::fprintf(stderr, "fuzz finding: %s: %.*s\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

// Byte by byte, in a function libFuzzer does not instrument: a library call (memcmp) or an
// instrumented comparison here would feed the message's text to the fuzzer, which would soon
// write it into the input's secret fields and report its own echo as a leak.
#if defined(__clang__)
#define FUZZ_UNGUIDED __attribute__((no_sanitize("coverage")))
#else
#define FUZZ_UNGUIDED
#endif
FUZZ_UNGUIDED inline bool holds(std::string_view text, std::string_view piece) {
  for (std::size_t i = 0; i + piece.size() <= text.size(); ++i) {
    std::size_t j = 0;
    while (j < piece.size() && text[i + j] == piece[j]) ++j;
    if (j == piece.size()) return true;
  }
  return false;
}

FUZZ_UNGUIDED inline bool held_twice(std::string_view text, std::string_view piece) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i + piece.size() <= text.size(); ++i) {
    std::size_t j = 0;
    while (j < piece.size() && text[i + j] == piece[j]) ++j;
    if (j == piece.size() && ++seen == 2) return true;
  }
  return false;
}

FUZZ_UNGUIDED inline bool leaks(std::string_view message, std::string_view secret, Known known,
                                std::string_view input) {
  constexpr std::size_t min_secret = 8, run = 16;
  if (secret.size() < min_secret) return false;
  const auto counts = [&](std::string_view piece) {
    for (char c : piece)  // message templates are words and spaces; secrets never hold a blank
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') return false;
    for (std::string_view k : known)
      if (holds(k, piece)) return false;
    if (held_twice(input, piece)) return false;
    return holds(message, piece);
  };
  if (secret.size() <= run) return counts(secret);
  for (std::size_t i = 0; i + run <= secret.size(); ++i)
    if (counts(secret.substr(i, run))) return true;
  return false;
}

// `input`: the untrusted input the secrets came from (empty: none).
inline void check_message(std::string_view message, const Secrets& secrets, Known known = {},
                          std::string_view input = {}) {
  for (std::string_view secret : secrets)
    if (leaks(message, secret, known, input)) finding("a secret in the message", "(not shown)");
}

inline void check_error(const mskiam::Error& e, std::initializer_list<mskiam::ErrorKind> allowed,
                        const Secrets& secrets, Known known = {}, std::string_view input = {}) {
  bool expected = false;
  for (mskiam::ErrorKind kind : allowed) expected = expected || e.kind() == kind;
  if (!expected) finding("unexpected error kind", mskiam::to_string(e.kind()));
  check_message(e.what(), secrets, known, input);
}

// Every text between `open` and the next `close` or `<`: the values of an XML element (an element
// never closed has no value a parser would take, and its text ends where markup begins).
inline void add_between(Secrets& out, std::string_view input, std::string_view open, std::string_view close) {
  for (std::size_t at = input.find(open); at != std::string_view::npos; at = input.find(open, at + 1)) {
    const std::size_t start = at + open.size();
    const std::size_t end = input.find(close, start);
    if (end == std::string_view::npos) continue;
    const std::string_view text = input.substr(start, end - start);
    out.push_back(text.substr(0, text.find('<')));
  }
}

// Every string value of a JSON member named `key`, as it stands in the input (escapes and all).
inline void add_json_values(Secrets& out, std::string_view input, std::string_view key) {
  const std::string quoted = "\"" + std::string(key) + "\"";
  for (std::size_t at = input.find(quoted); at != std::string_view::npos; at = input.find(quoted, at + 1)) {
    std::size_t i = at + quoted.size();
    while (i < input.size() && (input[i] == ' ' || input[i] == '\t' || input[i] == '\n' || input[i] == '\r' ||
                                input[i] == ':'))
      ++i;
    if (i >= input.size() || input[i] != '"') continue;
    std::size_t end = i + 1;
    while (end < input.size() && input[end] != '"') end += input[end] == '\\' ? 2 : 1;
    if (end < input.size()) out.push_back(input.substr(i + 1, end - i - 1));
  }
}

// The secrets a credential document (JSON) or an STS answer (XML) carries.
inline Secrets secrets_of_document(std::string_view input) {
  Secrets out;
  add_json_values(out, input, "SecretAccessKey");
  add_json_values(out, input, "Token");
  add_json_values(out, input, "SessionToken");
  add_between(out, input, "<SecretAccessKey>", "</SecretAccessKey>");
  add_between(out, input, "<SessionToken>", "</SessionToken>");
  return out;
}

}  // namespace fuzz
