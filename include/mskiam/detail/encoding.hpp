// The encodings of SigV4 and of the token: RFC 3986 percent-encoding and base64url.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mskiam/version.hpp"

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

// base64url (RFC 4648 §5) without `=` padding, as MSK expects the token.
inline std::string base64url_encode(std::string_view in) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const std::size_t rest = in.size() % 3;
  std::string out(in.size() / 3 * 4 + (rest == 0 ? 0 : rest + 1), '\0');
  char* p = &out[0];
  auto byte = [&](std::size_t k) { return static_cast<unsigned>(static_cast<unsigned char>(in[k])); };
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    *p++ = alphabet[(v >> 18) & 63];
    *p++ = alphabet[(v >> 12) & 63];
    *p++ = alphabet[(v >> 6) & 63];
    *p++ = alphabet[v & 63];
  }
  if (rest != 0) {
    const unsigned v = (byte(i) << 16) | (rest == 2 ? byte(i + 1) << 8 : 0u);
    *p++ = alphabet[(v >> 18) & 63];
    *p++ = alphabet[(v >> 12) & 63];
    if (rest == 2) *p++ = alphabet[(v >> 6) & 63];
  }
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
