// UTC calendar arithmetic without the C library's time zone state: SigV4 dates and ISO 8601
// timestamps (STS `Expiration`, container and process documents, AWS_CREDENTIAL_EXPIRATION).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "mskiam/config.hpp"

MSKIAM_BEGIN_NAMESPACE
namespace detail {

using SysTime = std::chrono::system_clock::time_point;

// Days since 1970-01-01 of a proleptic Gregorian date (the usual era-based formula).
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct CivilTime {
  std::int64_t year;
  unsigned month, day, hour, minute, second;
};

constexpr CivilTime civil_from_seconds(std::int64_t t) noexcept {
  std::int64_t days = t / 86400;
  std::int64_t rest = t % 86400;
  if (rest < 0) {
    rest += 86400;
    --days;
  }
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
  return {y, m, d, static_cast<unsigned>(rest / 3600), static_cast<unsigned>(rest % 3600 / 60),
          static_cast<unsigned>(rest % 60)};
}

inline std::int64_t to_unix_seconds(SysTime t) noexcept {
  return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}

inline SysTime from_unix_seconds(std::int64_t s) noexcept {
  return SysTime(std::chrono::duration_cast<SysTime::duration>(std::chrono::seconds(s)));
}

inline void append_digits(std::string& out, std::int64_t value, int width) {
  char buf[24];
  int n = 0;
  auto v = value < 0 ? -value : value;
  do {
    buf[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0 || n < width);
  if (value < 0) out += '-';
  while (n > 0) out += buf[--n];
}

// The length of a SigV4 `X-Amz-Date`.
inline constexpr std::size_t amz_date_size = 16;

// SigV4 `X-Amz-Date` into out[0 .. 16), sub-second part dropped (sign_token writes one per
// token, with no string to build). Years 0 to 9999.
inline void write_amz_date(char* out, SysTime t) noexcept {
  const CivilTime c = civil_from_seconds(to_unix_seconds(t));
  auto two = [&out](unsigned v) {
    *out++ = static_cast<char>('0' + v / 10);
    *out++ = static_cast<char>('0' + v % 10);
  };
  const auto year = static_cast<unsigned>(c.year);
  two(year / 100);
  two(year % 100);
  two(c.month);
  two(c.day);
  *out++ = 'T';
  two(c.hour);
  two(c.minute);
  two(c.second);
  *out = 'Z';
}

// SigV4 `X-Amz-Date`: 20240229T235959Z.
inline std::string amz_date(SysTime t) {
  std::string out(amz_date_size, '\0');
  write_amz_date(&out[0], t);
  return out;
}

// ISO 8601 in UTC with a `Z`, sub-second part dropped: 2024-02-29T23:59:59Z.
inline std::string iso8601(SysTime t) {
  const CivilTime c = civil_from_seconds(to_unix_seconds(t));
  std::string out;
  append_digits(out, c.year, 4);
  const std::pair<char, unsigned> parts[] = {
      {'-', c.month}, {'-', c.day}, {'T', c.hour}, {':', c.minute}, {':', c.second}};
  for (const auto& [separator, value] : parts) {
    out += separator;
    append_digits(out, value, 2);
  }
  out += 'Z';
  return out;
}

inline constexpr unsigned min_year = 1900;
inline constexpr unsigned max_year = 2200;

// Parses `YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)`, also with a lower-case `t`/`z` or a space
// between date and time, years 1900 to 2200. Fractions are truncated to seconds. nullopt on
// anything else.
inline std::optional<SysTime> parse_iso8601(std::string_view s) {
  std::size_t i = 0;
  auto number = [&](std::size_t width, unsigned& out) {
    if (i + width > s.size()) return false;
    unsigned v = 0;
    for (std::size_t k = 0; k < width; ++k) {
      const char c = s[i + k];
      if (c < '0' || c > '9') return false;
      v = v * 10 + static_cast<unsigned>(c - '0');
    }
    i += width;
    out = v;
    return true;
  };
  auto expect = [&](char c) {
    if (i >= s.size() || s[i] != c) return false;
    ++i;
    return true;
  };
  unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!number(4, year) || !expect('-') || !number(2, month) || !expect('-') || !number(2, day))
    return std::nullopt;
  if (i >= s.size() || (s[i] != 'T' && s[i] != 't' && s[i] != ' ')) return std::nullopt;
  ++i;
  if (!number(2, hour) || !expect(':') || !number(2, minute) || !expect(':') || !number(2, second))
    return std::nullopt;
  if (i < s.size() && s[i] == '.') {
    ++i;
    const std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == start) return std::nullopt;
  }
  std::int64_t offset = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    const int sign = s[i] == '-' ? -1 : 1;
    ++i;
    unsigned oh = 0, om = 0;
    if (!number(2, oh) || !expect(':') || !number(2, om) || oh > 23 || om > 59) return std::nullopt;
    offset = sign * static_cast<std::int64_t>(oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  // system_clock counts nanoseconds in 64 bits: about 1678 to 2262. Credential expirations
  // outside a narrower window are not real and would overflow the conversion below.
  if (year < min_year || year > max_year) return std::nullopt;
  static constexpr unsigned month_days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > month_days[month - 1] || hour > 23 ||
      minute > 59 || second > 60)
    return std::nullopt;
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month == 2 && day == 29 && !leap) return std::nullopt;
  const std::int64_t days = days_from_civil(year, month, day);
  return from_unix_seconds(days * 86400 + hour * 3600 + minute * 60 + second - offset);
}

}  // namespace detail
MSKIAM_END_NAMESPACE
