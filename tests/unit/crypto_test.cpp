// mskiam/detail/crypto.hpp: SHA-256 and HMAC-SHA256 against the published vectors (FIPS 180-2,
// RFC 4231) and against OpenSSL's own HMAC() for every key length around the block size; the
// prepared HmacKey against the one-shot; contexts nested, and shared keys across threads.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "catch.hpp"
#include "mskiam/detail/crypto.hpp"

namespace {

using mskiam::detail::Digest;
using mskiam::detail::HmacKey;
using mskiam::detail::hex;
using mskiam::detail::hmac_sha256;
using mskiam::detail::sha256;

std::string bytes(std::size_t n, unsigned char value) {
  return std::string(n, static_cast<char>(value));
}

const unsigned char* data(const std::string& s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

std::string hmac_raw(const std::string& key, std::string_view message) {
  return hex(hmac_sha256(data(key), key.size(), message));
}

std::string hmac_prepared(const std::string& key, std::string_view message) {
  return hex(hmac_sha256(HmacKey(data(key), key.size()), message));
}

std::string openssl_hmac(const std::string& key, std::string_view message) {
  Digest out{};
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(), &size);
  REQUIRE(size == 32);
  return hex(out);
}

struct Rfc4231Case {
  const char* name;
  std::string key, message;
  const char* mac;
};

std::vector<Rfc4231Case> rfc4231_cases() {
  std::string key4;
  for (unsigned char b = 1; b <= 25; ++b) key4 += static_cast<char>(b);
  return {
      {"1", bytes(20, 0x0b), "Hi There",
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {"2", "Jefe", "what do ya want for nothing?",
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {"3", bytes(20, 0xaa), bytes(50, 0xdd),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {"4", key4, bytes(50, 0xcd),
       "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
      {"6 (131-byte key)", bytes(131, 0xaa), "Test Using Larger Than Block-Size Key - Hash Key First",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {"7 (131-byte key, long data)", bytes(131, 0xaa),
       "This is a test using a larger than block-size key and a larger than block-size data. The "
       "key needs to be hashed before being used by the HMAC algorithm.",
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
  };
}

}  // namespace

TEST_CASE("crypto: SHA-256 gives the FIPS 180-2 digests") {
  CHECK(hex(sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(hex(sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(hex(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(hex(sha256(std::string(1000000, 'a'))) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("crypto: HMAC-SHA256 gives the RFC 4231 MACs - from the raw key and a prepared one") {
  for (const auto& c : rfc4231_cases()) {
    INFO("RFC 4231 case " << c.name);
    CHECK(hmac_raw(c.key, c.message) == c.mac);
    CHECK(hmac_prepared(c.key, c.message) == c.mac);
  }
}

TEST_CASE("crypto: HMAC-SHA256 equals OpenSSL's HMAC() for keys of 0 to 140 bytes") {
  const std::string message = "AWS4-HMAC-SHA256\n20261123T100000Z\n20261123/us-east-1/kafka-cluster";
  for (std::size_t size = 0; size <= 140; ++size) {
    std::string key;
    for (std::size_t i = 0; i < size; ++i) key += static_cast<char>(i * 7 + 1);
    INFO("key of " << size << " bytes");
    const std::string expected = openssl_hmac(key, message);
    CHECK(hmac_raw(key, message) == expected);
    CHECK(hmac_prepared(key, message) == expected);
    CHECK(hmac_prepared(key, "") == openssl_hmac(key, ""));
  }
}

TEST_CASE("crypto: a prepared HMAC key signs many messages - moves - and resets") {
  Digest raw{};
  for (std::size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<unsigned char>(i);
  HmacKey key(raw);
  CHECK_FALSE(key.empty());
  for (const char* message : {"one", "two", "", "three"})
    CHECK(hex(hmac_sha256(key, message)) == hex(hmac_sha256(raw, message)));

  HmacKey moved(std::move(key));
  CHECK(key.empty());  // NOLINT(bugprone-use-after-move): the moved-from state is specified
  CHECK(hex(hmac_sha256(moved, "four")) == hex(hmac_sha256(raw, "four")));
  key = std::move(moved);
  CHECK(hex(hmac_sha256(key, "five")) == hex(hmac_sha256(raw, "five")));

  key.reset();
  CHECK(key.empty());
  CHECK_THROWS_AS(hmac_sha256(key, "six"), mskiam::Error);
  CHECK_THROWS_AS(hmac_sha256(HmacKey(), "seven"), mskiam::Error);
}

TEST_CASE("crypto: digest contexts nest - each call has a context of its own") {
  mskiam::detail::Sha256Context outer;
  outer.init().update("ab", 2);
  {
    mskiam::detail::Sha256Context inner;  // while `outer` is half-way through its message
    Digest d{};
    inner.init().update("abc", 3).final(d.data());
    CHECK(hex(d) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(hex(sha256("abc")) == hex(d));  // a third one, the same way
  }
  Digest d{};
  outer.update("c", 1).final(d.data());
  CHECK(hex(d) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("crypto: SHA-256 and HMAC from many threads - one prepared key shared read-only") {
  Digest raw{};
  raw.fill(0x42);
  const HmacKey shared(raw);
  const std::string expected_mac = hex(hmac_sha256(raw, "message"));
  const std::string expected_hash = hex(sha256("message"));
  // Rounds of short-lived threads (run under ThreadSanitizer by scripts/sanitizers.sh).
  for (int round = 0; round < 3; ++round) {
    std::vector<std::thread> threads;
    std::vector<int> failures(8, 0);
    for (std::size_t t = 0; t < failures.size(); ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 500; ++i) {
          if (hex(hmac_sha256(shared, "message")) != expected_mac) ++failures[t];
          if (hex(hmac_sha256(raw, "message")) != expected_mac) ++failures[t];
          if (hex(sha256("message")) != expected_hash) ++failures[t];
        }
      });
    }
    for (auto& thread : threads) thread.join();
    for (int f : failures) CHECK(f == 0);
  }
}
