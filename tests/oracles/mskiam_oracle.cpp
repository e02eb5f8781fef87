// mskiam's side of the differential test: reads signing cases as JSON lines on stdin, answers one
// JSON line per case on stdout, in order: {"id", "token", "expiry_ms"} or {"id", "error"}.
// A case: {"id", "access_key", "secret", "session_token" ("" for none), "region", "now_ms",
// "expiration_ms" (-1 for none), "lifetime"}. The clock is the case's now_ms, passed to sign_token.
#include <chrono>
#include <cstdint>
#include <iostream>
#include <string>

#include "mskiam/detail/json.hpp"
#include "mskiam/token.hpp"

namespace {

using std::chrono::milliseconds;
using std::chrono::system_clock;

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    out += c;
  }
  return out + "\"";
}

const std::string& text(const mskiam::detail::json::Value& v, const char* key) {
  static const std::string none;
  const auto* member = v.find(key);
  return member && member->is_string() ? member->text() : none;
}

std::int64_t integer(const mskiam::detail::json::Value& v, const char* key) {
  const auto* member = v.find(key);
  return member ? member->as_integer().value_or(0) : 0;
}

}  // namespace

int main() {
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    const auto c = mskiam::detail::json::parse(line, "case");
    std::cout << "{\"id\":" << integer(c, "id");
    try {
      mskiam::Credentials credentials;
      credentials.access_key_id = text(c, "access_key");
      credentials.secret_access_key = text(c, "secret");
      credentials.session_token = text(c, "session_token");
      if (integer(c, "expiration_ms") >= 0)
        credentials.expiration = system_clock::time_point(milliseconds(integer(c, "expiration_ms")));
      mskiam::TokenOptions options;
      options.region = text(c, "region");
      options.lifetime = std::chrono::seconds(integer(c, "lifetime"));
      const auto now = system_clock::time_point(milliseconds(integer(c, "now_ms")));
      const auto token = mskiam::sign_token(credentials, options, now);
      std::cout << ",\"token\":" << json_string(token.value) << ",\"expiry_ms\":"
                << std::chrono::duration_cast<milliseconds>(token.expires_at.time_since_epoch()).count();
    } catch (const mskiam::Error& e) {  // mskiam's messages never carry a secret
      std::cout << ",\"error\":" << json_string(e.what());
    }
    std::cout << "}\n";
  }
  return 0;
}
