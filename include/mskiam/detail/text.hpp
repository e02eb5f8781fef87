// Small ASCII text helpers: lower-casing, prefixes, and text from outside made safe to quote.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "mskiam/config.hpp"

MSKIAM_BEGIN_NAMESPACE
namespace detail {

constexpr char ascii_lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}

constexpr bool starts_with(std::string_view s, std::string_view prefix) noexcept {
  return s.substr(0, prefix.size()) == prefix;
}

// Text from a service or a configuration as it may appear in a message: control characters
// replaced by spaces, at most `max` characters.
inline std::string printable(std::string_view text, std::size_t max = 512) {
  std::string out;
  for (char c : text.substr(0, max))
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
  if (text.size() > max) out += "...";
  return out;
}

}  // namespace detail
MSKIAM_END_NAMESPACE
