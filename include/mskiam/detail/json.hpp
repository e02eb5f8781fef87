// A small, strict JSON parser (RFC 8259) for the credential documents of the container endpoint,
// IMDS and credential_process. Strict on purpose: these documents carry secrets, and a lenient
// parser that guesses is a place for two readers of one document to disagree.
//
// - Objects, arrays, strings (all escapes, \uXXXX with surrogate pairs, UTF-8 validated), numbers
//   (kept as their text; integers readable exactly), true, false, null.
// - Limits: input size and nesting depth, checked before any work; recursion never goes deeper
//   than the depth limit, so a hostile document cannot exhaust the stack.
// - Duplicate member names are an error (two AccessKeyId members: which one is meant?).
// - Errors are mskiam::Error(bad_document, <source>, "invalid JSON: <why> at offset N"). They never
//   quote the input, which may hold a secret key or a session token.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mskiam/detail/encoding.hpp"
#include "mskiam/error.hpp"

MSKIAM_BEGIN_NAMESPACE
namespace detail {
namespace json {

// A credential document is ~2 KiB; HTTP responses are capped at 1 MiB by http.hpp already.
inline constexpr std::size_t default_max_bytes = 1 << 20;
// Credential documents are flat objects; 32 levels is far more than any needs and little stack.
inline constexpr std::size_t default_max_depth = 32;

struct Limits {
  std::size_t max_bytes = default_max_bytes;
  std::size_t max_depth = default_max_depth;  // 1: scalars and one array or object, no nesting
};

class Value {
 public:
  enum class Type { null, boolean, number, string, array, object };

  Value() = default;

  Type type() const noexcept { return type_; }
  bool is_null() const noexcept { return type_ == Type::null; }
  bool is_bool() const noexcept { return type_ == Type::boolean; }
  bool is_number() const noexcept { return type_ == Type::number; }
  bool is_string() const noexcept { return type_ == Type::string; }
  bool is_array() const noexcept { return type_ == Type::array; }
  bool is_object() const noexcept { return type_ == Type::object; }

  bool as_bool() const noexcept { return boolean_; }
  // The string's decoded value; for a number, its text exactly as written (`1`, `-0.5e3`).
  const std::string& text() const noexcept { return text_; }
  // A number written as an integer (no fraction, no exponent) that fits in 64 bits.
  std::optional<std::int64_t> as_integer() const noexcept;

  // Array elements, or object member values (in document order).
  const std::vector<Value>& items() const noexcept { return items_; }
  // Object member names, parallel to items().
  const std::vector<std::string>& keys() const noexcept { return keys_; }
  std::size_t size() const noexcept { return items_.size(); }

  // The member named `key` of an object, nullptr when absent or when this is not an object.
  const Value* find(std::string_view key) const noexcept {
    if (type_ != Type::object) return nullptr;
    for (std::size_t i = 0; i < keys_.size(); ++i)
      if (keys_[i] == key) return &items_[i];
    return nullptr;
  }

 private:
  friend class Parser;
  Type type_ = Type::null;
  bool boolean_ = false;
  std::string text_;
  std::vector<std::string> keys_;
  std::vector<Value> items_;
};

// Parses exactly one JSON value, surrounded by optional whitespace. Throws mskiam::Error
// (bad_document) naming `source`.
inline Value parse(std::string_view input, std::string_view source, Limits limits = {});

// ---------------------------------------------------------------------------------------------
// Details.

inline std::optional<std::int64_t> Value::as_integer() const noexcept {
  if (type_ != Type::number) return std::nullopt;
  std::size_t i = 0;
  const bool negative = !text_.empty() && text_[0] == '-';
  if (negative) i = 1;
  if (i >= text_.size()) return std::nullopt;
  // Magnitudes up to 2^63 (the negative limit) accumulate in unsigned arithmetic: no overflow UB.
  const std::uint64_t limit =
      static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + (negative ? 1U : 0U);
  std::uint64_t magnitude = 0;
  for (; i < text_.size(); ++i) {
    const char c = text_[i];
    if (c < '0' || c > '9') return std::nullopt;  // fraction or exponent
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (magnitude > (limit - digit) / 10) return std::nullopt;
    magnitude = magnitude * 10 + digit;
  }
  if (!negative) return static_cast<std::int64_t>(magnitude);
  if (magnitude == 0) return 0;
  // -(magnitude - 1) - 1 stays within int64 even for 2^63.
  return -static_cast<std::int64_t>(magnitude - 1) - 1;
}

class Parser {
 public:
  Parser(std::string_view input, std::string_view source, Limits limits)
      : in_(input), source_(source), limits_(limits) {}

  Value document() {
    if (in_.size() > limits_.max_bytes)
      throw Error(ErrorKind::bad_document, std::string(source_),
                  "invalid JSON: document of " + std::to_string(in_.size()) +
                      " bytes is larger than the limit of " + std::to_string(limits_.max_bytes) +
                      " bytes");
    skip_whitespace();
    if (pos_ >= in_.size()) fail("empty document");
    Value v = value(0);
    skip_whitespace();
    if (pos_ != in_.size()) fail("unexpected data after the document");
    return v;
  }

 private:
  [[noreturn]] void fail(const char* why) const { fail_at(why, pos_); }
  [[noreturn]] void fail_at(const char* why, std::size_t offset) const {
    throw Error(ErrorKind::bad_document, std::string(source_),
                std::string("invalid JSON: ") + why + " at offset " + std::to_string(offset));
  }

  void skip_whitespace() noexcept {
    while (pos_ < in_.size()) {
      const char c = in_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
      ++pos_;
    }
  }

  bool consume_literal(std::string_view word) noexcept {
    if (in_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  // `depth` counts the arrays and objects enclosing this value.
  Value value(std::size_t depth) {
    if (pos_ >= in_.size()) fail("unexpected end of document");
    Value v;
    const char c = in_[pos_];
    switch (c) {
      case '{':
      case '[':
        if (depth >= limits_.max_depth) fail("nesting deeper than the limit");
        if (c == '{')
          object(v, depth + 1);
        else
          array(v, depth + 1);
        return v;
      case '"':
        v.type_ = Value::Type::string;
        v.text_ = string();
        return v;
      case 't':
      case 'f':
      case 'n':
        if (consume_literal("true")) {
          v.type_ = Value::Type::boolean;
          v.boolean_ = true;
        } else if (consume_literal("false")) {
          v.type_ = Value::Type::boolean;
        } else if (!consume_literal("null")) {
          fail("invalid literal");
        }
        return v;
      default:
        if (c == '-' || (c >= '0' && c <= '9')) {
          v.type_ = Value::Type::number;
          v.text_ = number();
          return v;
        }
        fail("unexpected character");
    }
  }

  void object(Value& v, std::size_t depth) {
    v.type_ = Value::Type::object;
    ++pos_;  // '{'
    skip_whitespace();
    if (pos_ < in_.size() && in_[pos_] == '}') {
      ++pos_;
      return;
    }
    for (;;) {
      skip_whitespace();
      if (pos_ >= in_.size()) fail("unexpected end of document in an object");
      if (in_[pos_] != '"') fail("expected a member name");
      v.keys_.push_back(string());
      skip_whitespace();
      if (pos_ >= in_.size() || in_[pos_] != ':') fail("expected ':' after a member name");
      ++pos_;
      skip_whitespace();
      v.items_.push_back(value(depth));
      skip_whitespace();
      if (pos_ >= in_.size()) fail("unexpected end of document in an object");
      if (in_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (in_[pos_] != '}') fail("expected ',' or '}' in an object");
      ++pos_;
      break;
    }
    // Sorting a copy keeps the check O(n log n) for objects with many members.
    std::vector<std::string_view> names(v.keys_.begin(), v.keys_.end());
    std::sort(names.begin(), names.end());
    if (std::adjacent_find(names.begin(), names.end()) != names.end())
      fail_at("duplicate member name in the object ending", pos_ - 1);
  }

  void array(Value& v, std::size_t depth) {
    v.type_ = Value::Type::array;
    ++pos_;  // '['
    skip_whitespace();
    if (pos_ < in_.size() && in_[pos_] == ']') {
      ++pos_;
      return;
    }
    for (;;) {
      skip_whitespace();
      v.items_.push_back(value(depth));
      skip_whitespace();
      if (pos_ >= in_.size()) fail("unexpected end of document in an array");
      if (in_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (in_[pos_] != ']') fail("expected ',' or ']' in an array");
      ++pos_;
      return;
    }
  }

  std::string number() {
    const std::size_t start = pos_;
    auto digits = [&] {
      const std::size_t from = pos_;
      while (pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9') ++pos_;
      return pos_ - from;
    };
    if (in_[pos_] == '-') ++pos_;
    if (pos_ >= in_.size()) fail("expected a digit");
    if (in_[pos_] == '0') {
      ++pos_;  // no leading zeros: `01` is not JSON
    } else if (digits() == 0) {
      fail("expected a digit");
    }
    if (pos_ < in_.size() && in_[pos_] == '.') {
      ++pos_;
      if (digits() == 0) fail("expected a digit after '.'");
    }
    if (pos_ < in_.size() && (in_[pos_] == 'e' || in_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < in_.size() && (in_[pos_] == '+' || in_[pos_] == '-')) ++pos_;
      if (digits() == 0) fail("expected a digit in the exponent");
    }
    return std::string(in_.substr(start, pos_ - start));
  }

  unsigned hex4() {
    if (in_.size() - pos_ < 4) fail("truncated \\u escape");
    unsigned v = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = in_[pos_];
      unsigned d = 0;
      if (c >= '0' && c <= '9')
        d = static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f')
        d = static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        d = static_cast<unsigned>(c - 'A' + 10);
      else
        fail("invalid hex digit in a \\u escape");
      v = v * 16 + d;
      ++pos_;
    }
    return v;
  }

  // Length of the well-formed UTF-8 sequence at pos_ (RFC 3629: no overlong forms, no
  // surrogates, nothing above U+10FFFF), 0 when it is not one.
  std::size_t utf8_sequence() const noexcept {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(in_[pos_ + k]); };
    const unsigned char b0 = byte(0);
    std::size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      n = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      n = 3;
      if (b0 == 0xE0) lo = 0xA0;
      if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      n = 4;
      if (b0 == 0xF0) lo = 0x90;
      if (b0 == 0xF4) hi = 0x8F;
    } else {
      return 0;
    }
    if (in_.size() - pos_ < n) return 0;
    if (byte(1) < lo || byte(1) > hi) return 0;
    for (std::size_t k = 2; k < n; ++k)
      if (byte(k) < 0x80 || byte(k) > 0xBF) return 0;
    return n;
  }

  std::string string() {
    ++pos_;  // opening quote
    std::string out;
    for (;;) {
      if (pos_ >= in_.size()) fail("unterminated string");
      const auto c = static_cast<unsigned char>(in_[pos_]);
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c < 0x20) fail("control character in a string");
      if (c == '\\') {
        const std::size_t escape_at = pos_;
        ++pos_;
        if (pos_ >= in_.size()) fail("unterminated string");
        const char e = in_[pos_++];
        switch (e) {
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          case '/': out += '/'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'n': out += '\n'; break;
          case 'r': out += '\r'; break;
          case 't': out += '\t'; break;
          case 'u': {
            std::uint32_t cp = hex4();
            if (cp >= 0xDC00 && cp <= 0xDFFF) fail_at("lone low surrogate", escape_at);
            if (cp >= 0xD800 && cp <= 0xDBFF) {
              if (in_.size() - pos_ < 2 || in_[pos_] != '\\' || in_[pos_ + 1] != 'u')
                fail_at("high surrogate without a low surrogate", escape_at);
              pos_ += 2;
              const std::uint32_t low = hex4();
              if (low < 0xDC00 || low > 0xDFFF)
                fail_at("high surrogate without a low surrogate", escape_at);
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            }
            append_utf8(out, cp);
            break;
          }
          default:
            fail_at("invalid escape", escape_at);
        }
        continue;
      }
      if (c < 0x80) {
        out += static_cast<char>(c);
        ++pos_;
        continue;
      }
      const std::size_t n = utf8_sequence();
      if (n == 0) fail("invalid UTF-8 in a string");
      out.append(in_.data() + pos_, n);
      pos_ += n;
    }
  }

  std::string_view in_;
  std::string_view source_;
  Limits limits_;
  std::size_t pos_ = 0;
};

inline Value parse(std::string_view input, std::string_view source, Limits limits) {
  return Parser(input, source, limits).document();
}

}  // namespace json
}  // namespace detail
MSKIAM_END_NAMESPACE
