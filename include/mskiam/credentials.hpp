// AWS credentials, the redacting type that holds their secrets, and the credential-source contract.
//
// A credential source is any type with `Credentials fetch()`; it may throw mskiam::Error. Sources
// know how to obtain credentials, nothing else: caching, refresh timing and thread safety belong
// to TokenProvider.
#pragma once

#include <chrono>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "mskiam/detail/crypto.hpp"
#include "mskiam/detail/time.hpp"

MSKIAM_BEGIN_NAMESPACE

// A string that is never printed and is wiped from memory when dropped. It converts from
// std::string and exposes its value only through reveal(), so that a secret cannot reach a log
// line by accident: operator<< prints a placeholder.
class Secret {
 public:
  Secret() = default;
  Secret(std::string value) : value_(std::move(value)) {}  // NOLINT: implicit on purpose
  Secret(const char* value) : value_(value) {}            // NOLINT: implicit on purpose
  Secret(const Secret& other) : value_(other.value_) {}
  Secret(Secret&& other) noexcept : value_(std::move(other.value_)) { detail::cleanse(other.value_); }
  Secret& operator=(const Secret& other) {
    if (this != &other) {
      detail::cleanse(value_);
      value_ = other.value_;
    }
    return *this;
  }
  Secret& operator=(Secret&& other) noexcept {
    if (this != &other) {
      detail::cleanse(value_);
      value_ = std::move(other.value_);
      detail::cleanse(other.value_);
    }
    return *this;
  }
  ~Secret() { detail::cleanse(value_); }

  const std::string& reveal() const noexcept { return value_; }
  bool empty() const noexcept { return value_.empty(); }
  std::size_t size() const noexcept { return value_.size(); }
  void clear() noexcept { detail::cleanse(value_); }

  friend bool operator==(const Secret& a, const Secret& b) noexcept {
    return a.value_.size() == b.value_.size() &&
           CRYPTO_memcmp(a.value_.data(), b.value_.data(), a.value_.size()) == 0;
  }
  friend bool operator!=(const Secret& a, const Secret& b) noexcept { return !(a == b); }
  friend std::ostream& operator<<(std::ostream& os, const Secret& s) {
    return os << (s.empty() ? "<empty>" : "<redacted>");
  }

 private:
  std::string value_;
};

struct Credentials {
  std::string access_key_id;
  Secret secret_access_key;
  Secret session_token;  // empty when none
  std::optional<std::chrono::system_clock::time_point> expiration;
  std::string principal;  // IAM ARN when known (STS responses), else empty
  std::string source;     // the source that produced them: `environment`, `web_identity`...

  bool expires() const noexcept { return expiration.has_value(); }
};

// Prints what an operator may see: never the secret key or the session token.
inline std::ostream& operator<<(std::ostream& os, const Credentials& c) {
  os << "Credentials{access_key_id=" << c.access_key_id
     << ", secret_access_key=" << c.secret_access_key << ", session_token=" << c.session_token
     << ", expiration=";
  if (c.expiration)
    os << detail::iso8601(*c.expiration);
  else
    os << "never";
  os << ", principal=" << (c.principal.empty() ? "unknown" : c.principal);
  if (!c.source.empty()) os << ", source=" << c.source;
  return os << '}';
}

// True for any type usable as a credential source: `Credentials fetch()`.
template <class T, class = void>
struct is_credential_source : std::false_type {};
template <class T>
struct is_credential_source<T, std::void_t<decltype(std::declval<T&>().fetch())>>
    : std::is_same<decltype(std::declval<T&>().fetch()), Credentials> {};
template <class T>
inline constexpr bool is_credential_source_v = is_credential_source<T>::value;

namespace detail {
// Sources may name themselves with `name()`: `environment`, `web_identity`...
template <class T, class = void>
struct has_source_name : std::false_type {};
template <class T>
struct has_source_name<T, std::void_t<decltype(std::declval<const T&>().name())>>
    : std::true_type {};
}  // namespace detail

MSKIAM_END_NAMESPACE
