// AWS credentials, the redacting type that holds their secrets, and the credential-source contract.
//
// A credential source is any type with `Credentials fetch()`; it may throw mskiam::Error. Sources
// know how to obtain credentials, nothing else: caching, refresh timing and thread safety belong
// to TokenProvider.
#pragma once

#include <chrono>
#include <cstddef>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "mskiam/config.hpp"

MSKIAM_BEGIN_NAMESPACE

namespace detail {
// Overwrites memory that held a secret, in a way the compiler does not optimise away.
void cleanse(void* data, std::size_t size) noexcept;
// Wipes the whole buffer of `s`, not only its current size (a shrunk string keeps old bytes
// behind it), and empties it.
void cleanse(std::string& s) noexcept;
}  // namespace detail

// A string that is never printed and is wiped from memory when dropped. It converts from
// std::string and exposes its value only through reveal(), so that a secret cannot reach a log
// line by accident: operator<< prints a placeholder.
class Secret {
 public:
  Secret() = default;
  Secret(std::string value) : value_(std::move(value)) {}  // NOLINT: implicit on purpose
  Secret(const char* value) : value_(value) {}            // NOLINT: implicit on purpose
  Secret(const Secret& other) : value_(other.value_) {}
  Secret(Secret&& other) noexcept;
  Secret& operator=(const Secret& other);
  Secret& operator=(Secret&& other) noexcept;
  ~Secret();

  const std::string& reveal() const noexcept { return value_; }
  bool empty() const noexcept { return value_.empty(); }
  std::size_t size() const noexcept { return value_.size(); }
  void clear() noexcept;

  // Constant-time comparison.
  friend bool operator==(const Secret& a, const Secret& b) noexcept { return a.equals(b); }
  friend bool operator!=(const Secret& a, const Secret& b) noexcept { return !a.equals(b); }
  friend std::ostream& operator<<(std::ostream& os, const Secret& s) { return s.print(os); }

 private:
  bool equals(const Secret& other) const noexcept;
  std::ostream& print(std::ostream& os) const;

  std::string value_;
};

struct Credentials {
  std::string access_key_id;
  Secret secret_access_key;
  Secret session_token;  // empty when none
  std::optional<std::chrono::system_clock::time_point> expiration;
  std::string principal;  // IAM ARN when known (STS responses), else empty
  std::string source;     // the source that produced them: `environment`, `web_identity`...
};

// Prints what an operator may see: never the secret key or the session token.
std::ostream& operator<<(std::ostream& os, const Credentials& c);

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

// What a source without `name()` is called.
inline constexpr std::string_view unnamed_source = "source";
}  // namespace detail

MSKIAM_END_NAMESPACE

#if MSKIAM_DEFINITIONS
#include <openssl/crypto.h>

#include <ostream>

#include "mskiam/detail/time.hpp"

MSKIAM_BEGIN_NAMESPACE

MSKIAM_INLINE void detail::cleanse(void* data, std::size_t size) noexcept {
  if (size != 0) OPENSSL_cleanse(data, size);
}

MSKIAM_INLINE void detail::cleanse(std::string& s) noexcept {
  cleanse(&s[0], s.capacity());
  s.clear();
}

MSKIAM_INLINE Secret::Secret(Secret&& other) noexcept : value_(std::move(other.value_)) {
  detail::cleanse(other.value_);
}

MSKIAM_INLINE Secret& Secret::operator=(const Secret& other) {
  if (this != &other) {
    detail::cleanse(value_);
    value_ = other.value_;
  }
  return *this;
}

MSKIAM_INLINE Secret& Secret::operator=(Secret&& other) noexcept {
  if (this != &other) {
    detail::cleanse(value_);
    value_ = std::move(other.value_);
    detail::cleanse(other.value_);
  }
  return *this;
}

MSKIAM_INLINE Secret::~Secret() { detail::cleanse(value_); }

MSKIAM_INLINE void Secret::clear() noexcept { detail::cleanse(value_); }

MSKIAM_INLINE bool Secret::equals(const Secret& other) const noexcept {
  return value_.size() == other.value_.size() &&
         CRYPTO_memcmp(value_.data(), other.value_.data(), value_.size()) == 0;
}

MSKIAM_INLINE std::ostream& Secret::print(std::ostream& os) const {
  return os << (empty() ? "<empty>" : "<redacted>");
}

MSKIAM_INLINE std::ostream& operator<<(std::ostream& os, const Credentials& c) {
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

MSKIAM_END_NAMESPACE
#endif  // MSKIAM_DEFINITIONS
