// The encodings of SigV4 and of the token: RFC 3986 percent-encoding and base64url.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mskiam/config.hpp"

MSKIAM_BEGIN_NAMESPACE
namespace detail {

constexpr bool is_unreserved(unsigned char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

// SigV4 URI encoding: unreserved characters as they are, every other byte as %XX, upper-case hex.
// Sized first, then written through a pointer: a token encodes about a kilobyte, and a
// capacity check per character was the largest cost of sign_token after the hashing.
inline void append_uri_encoded(std::string& out, std::string_view in) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::size_t size = in.size();
  for (char ch : in)
    if (!is_unreserved(static_cast<unsigned char>(ch))) size += 2;
  const std::size_t old = out.size();
  out.resize(old + size);
  char* p = &out[old];
  for (char ch : in) {
    const auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c)) {
      *p++ = ch;
    } else {
      *p++ = '%';
      *p++ = digits[c >> 4];
      *p++ = digits[c & 0x0f];
    }
  }
}

inline std::string uri_encode(std::string_view in) {
  std::string out;
  out.reserve(in.size() * 3);
  append_uri_encoded(out, in);
  return out;
}

// Percent-decoding; `+` stays `+` (SigV4 never encodes space as `+`). nullopt on a bad escape.
inline std::optional<std::string> uri_decode(std::string_view in) {
  auto value = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return std::nullopt;
    const int hi = value(in[i + 1]);
    const int lo = value(in[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

// One code point as UTF-8 (for \uXXXX in JSON and &#N; in XML; callers reject surrogates).
inline void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// base64url (RFC 4648 §5) without `=` padding, as MSK expects the token, of several pieces
// written one after the other as if they were one string: sign_token encodes its URL from the
// parts it keeps, without first copying them together. `out` must have room for
// base64url_size(total size of the pieces). The up to two bytes carried from one piece to the
// next are wiped by finish() (a token's URL holds its signature and session token).
class Base64urlWriter {
 public:
  explicit Base64urlWriter(char* out) noexcept : p_(out) {}
  Base64urlWriter(const Base64urlWriter&) = delete;
  Base64urlWriter& operator=(const Base64urlWriter&) = delete;

  void append(std::string_view in) noexcept {
    const char* data = in.data();
    std::size_t i = 0;
    while (carried_ != 0 && carried_ < 3 && i < in.size()) carry_[carried_++] = byte(data, i++);
    if (carried_ == 3) {
      p_ = put(p_, (carry_[0] << 16) | (carry_[1] << 8) | carry_[2]);
      carried_ = 0;
    }
    if (carried_ != 0) return;  // `in` ended before a whole group
    // Through a local pointer: a store through the member `p_` (a char*) could alias `p_` itself,
    // and the compiler would reload it after every character.
    char* p = p_;
    for (; i + 3 <= in.size(); i += 3)
      p = put(p, (byte(data, i) << 16) | (byte(data, i + 1) << 8) | byte(data, i + 2));
    p_ = p;
    while (i < in.size()) carry_[carried_++] = byte(data, i++);
  }

  // How many bytes wait for the rest of their 3-byte group (0, 1 or 2).
  std::size_t carried() const noexcept { return carried_; }

  // Appends output encoded beforehand (base64url of whole 3-byte groups): only when carried() is
  // 0, where the encoding of what follows does not depend on what came before.
  void append_encoded(std::string_view encoded) noexcept {
    for (char c : encoded) *p_++ = c;
  }

  // Writes the last partial group; returns the end of the output.
  char* finish() noexcept {
    if (carried_ != 0) {
      const unsigned v = (carry_[0] << 16) | (carried_ == 2 ? carry_[1] << 8 : 0u);
      *p_++ = alphabet[(v >> 18) & 63];
      *p_++ = alphabet[(v >> 12) & 63];
      if (carried_ == 2) *p_++ = alphabet[(v >> 6) & 63];
    }
    volatile unsigned* wipe = carry_;
    wipe[0] = wipe[1] = wipe[2] = 0;
    carried_ = 0;
    return p_;
  }

 private:
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  static unsigned byte(const char* in, std::size_t k) noexcept {
    return static_cast<unsigned char>(in[k]);
  }
  // Writes the four characters of the 3-byte group `v` at `p`; returns the end.
  static char* put(char* p, unsigned v) noexcept {
    p[0] = alphabet[(v >> 18) & 63];
    p[1] = alphabet[(v >> 12) & 63];
    p[2] = alphabet[(v >> 6) & 63];
    p[3] = alphabet[v & 63];
    return p + 4;
  }

  char* p_;
  unsigned carry_[3] = {};
  std::size_t carried_ = 0;
};

// The size of the unpadded base64url of `n` bytes.
constexpr std::size_t base64url_size(std::size_t n) noexcept {
  return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}

inline std::string base64url_encode(std::string_view in) {
  std::string out(base64url_size(in.size()), '\0');
  Base64urlWriter writer(&out[0]);
  writer.append(in);
  writer.finish();
  return out;
}

// Accepts base64url with or without padding; nullopt on any other character or a bad length.
inline std::optional<std::string> base64url_decode(std::string_view in) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  if (in.size() % 4 == 1) return std::nullopt;
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
  };
  std::string out;
  out.reserve(in.size() / 4 * 3 + 2);
  unsigned buffer = 0;
  int bits = 0;
  for (char c : in) {
    const int v = value(c);
    if (v < 0) return std::nullopt;
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  return out;
}

}  // namespace detail
MSKIAM_END_NAMESPACE
