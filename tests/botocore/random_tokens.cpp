// Prints N random signing cases as JSON lines on stdout for verify_tokens.py, which recomputes
// every signature with botocore. Inputs stress the edges: keys and session tokens full of + / =,
// signing times a second around midnight, leap days and year ends, expirations shorter than the
// lifetime. The secrets are random test values; the verifier never prints them.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>

#include "mskiam/token.hpp"

namespace {

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const int count = argc > 1 ? std::atoi(argv[1]) : 400;
  std::mt19937_64 rng(argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 20231114);
  auto pick = [&](std::uint64_t n) { return static_cast<std::size_t>(rng() % n); };
  auto text = [&](const std::string& alphabet, std::size_t min, std::size_t max) {
    std::string s;
    const std::size_t len = min + pick(max - min + 1);
    for (std::size_t i = 0; i < len; ++i) s += alphabet[pick(alphabet.size())];
    return s;
  };
  const std::string upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const std::string b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
  const char* regions[] = {"us-east-1", "us-west-2", "eu-central-1", "ap-southeast-2", "sa-east-1",
                           "us-gov-west-1", "cn-north-1", "cn-northwest-1", "me-central-1",
                           "il-central-1", "eu-isoe-west-1", "ca-west-1"};
  // Instants that stress the calendar: midnights, a leap day, year ends, a century.
  const std::int64_t edges[] = {1709251199, 1709251200, 1709164800, 1704067199, 1704067200,
                                1735689599, 1582934400, 951782400,  4107542399, 1700000000};

  for (int i = 0; i < count; ++i) {
    mskiam::Credentials c;
    c.access_key_id = (pick(2) ? "ASIA" : "AKIA") + text(upper, 16, 16);
    c.secret_access_key = text(b64, 40, 40);
    if (pick(3) != 0) c.session_token = text(b64, 20, 600);
    const std::int64_t now_ms = (edges[pick(std::size(edges))] + static_cast<std::int64_t>(pick(5)) - 2) * 1000 +
                                static_cast<std::int64_t>(pick(1000));
    const auto now = std::chrono::system_clock::time_point(std::chrono::milliseconds(now_ms));
    std::int64_t expiration_ms = -1;
    if (pick(2)) {
      expiration_ms = now_ms + 1000 + static_cast<std::int64_t>(pick(3600 * 1000));
      c.expiration = std::chrono::system_clock::time_point(std::chrono::milliseconds(expiration_ms));
    }
    mskiam::TokenOptions o;
    o.region = regions[pick(std::size(regions))];
    o.lifetime = std::chrono::seconds(1 + static_cast<long>(pick(900)));
    const auto token = mskiam::sign_token(c, o, now);
    std::cout << "{\"access_key\":\"" << c.access_key_id << "\",\"secret\":\""
              << json_escape(c.secret_access_key.reveal()) << "\",\"session_token\":\""
              << json_escape(c.session_token.reveal()) << "\",\"region\":\"" << o.region
              << "\",\"now_ms\":" << now_ms << ",\"expiration_ms\":" << expiration_ms
              << ",\"lifetime\":" << o.lifetime.count() << ",\"token\":\"" << token.value
              << "\",\"expires_at_ms\":"
              << std::chrono::duration_cast<std::chrono::milliseconds>(token.expires_at.time_since_epoch()).count()
              << "}\n";
  }
  return 0;
}
