// Splitting a URL just enough to check it: scheme, authority, host, and the rest.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "mskiam/detail/text.hpp"

MSKIAM_BEGIN_NAMESPACE
namespace detail {

struct UrlParts {
  std::string scheme;        // lower case
  std::string_view authority;  // host[:port] as written
  std::string host;          // without the brackets of an IPv6 literal
  bool ipv6_literal = false;
  std::string_view rest;     // path, query and fragment as written: empty or from `/`, `?`, `#`
};

// `scheme://host[:port][rest]`; nullopt without a scheme or a host, with user info (`user@`) or
// a port that is not 1-5 digits. The views point into `url`.
inline std::optional<UrlParts> split_url(std::string_view url) {
  const std::size_t colon = url.find("://");
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  UrlParts parts;
  parts.scheme = ascii_lower(url.substr(0, colon));
  std::string_view rest = url.substr(colon + 3);
  const std::size_t end = rest.find_first_of("/?#");
  parts.authority = rest.substr(0, end);
  parts.rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  std::string_view authority = parts.authority;
  if (authority.find('@') != std::string_view::npos) return std::nullopt;  // user info
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    parts.host = std::string(authority.substr(1, close - 1));
    parts.ipv6_literal = true;
    authority.remove_prefix(close + 1);
  } else {
    const std::size_t port = authority.find(':');
    parts.host = std::string(authority.substr(0, port));
    authority.remove_prefix(port == std::string_view::npos ? authority.size() : port);
  }
  if (!authority.empty()) {  // `:port`
    if (authority.front() != ':' || authority.size() < 2 || authority.size() > 6) return std::nullopt;
    for (char c : authority.substr(1))
      if (c < '0' || c > '9') return std::nullopt;
  }
  if (parts.host.empty()) return std::nullopt;
  return parts;
}

}  // namespace detail
MSKIAM_END_NAMESPACE
