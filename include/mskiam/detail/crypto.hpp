// SHA-256 and HMAC-SHA256 through OpenSSL, and wiping memory that held a secret.
#pragma once

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "mskiam/error.hpp"

MSKIAM_BEGIN_NAMESPACE
namespace detail {

using Digest = std::array<unsigned char, 32>;

inline void cleanse(void* data, std::size_t size) noexcept {
  if (size != 0) OPENSSL_cleanse(data, size);
}

inline void cleanse(std::string& s) noexcept {
  // Wipe the whole buffer, not only the current size: a shrunk string keeps old bytes behind it.
  cleanse(&s[0], s.capacity());
  s.clear();
}

inline Digest sha256(std::string_view data) {
  Digest out{};
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &size, EVP_sha256(), nullptr) != 1 ||
      size != out.size())
    throw Error(ErrorKind::internal, "crypto", "OpenSSL SHA-256 failed");
  return out;
}

inline Digest hmac_sha256(const unsigned char* key, std::size_t key_size, std::string_view data) {
  Digest out{};
  unsigned int size = 0;
  if (HMAC(EVP_sha256(), key, static_cast<int>(key_size),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(),
           &size) == nullptr ||
      size != out.size())
    throw Error(ErrorKind::internal, "crypto", "OpenSSL HMAC-SHA256 failed");
  return out;
}

inline Digest hmac_sha256(const Digest& key, std::string_view data) {
  return hmac_sha256(key.data(), key.size(), data);
}

inline void append_hex(std::string& out, const unsigned char* data, std::size_t size) {
  static constexpr char digits[] = "0123456789abcdef";
  for (std::size_t i = 0; i < size; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 0x0f];
  }
}

inline std::string hex(const Digest& digest) {
  std::string out;
  out.reserve(digest.size() * 2);
  append_hex(out, digest.data(), digest.size());
  return out;
}

}  // namespace detail
MSKIAM_END_NAMESPACE
