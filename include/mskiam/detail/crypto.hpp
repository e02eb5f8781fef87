// SHA-256 and HMAC-SHA256 through OpenSSL, and wiping memory that held a secret.
#pragma once

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
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

// SHA-256, fetched once. OpenSSL 3 resolves EVP_sha256() in its provider store at every
// EVP_Digest or HMAC call (a read lock, name comparisons, reference counting), and its HMAC()
// one-shot also fetches the HMAC MAC and the digest by name: together 2-3x the hashing itself for
// the few hundred bytes of a token. The fetched method is never freed: it stays reachable to exit.
// It follows the default library context as it was at first use (providers loaded later, such as
// FIPS, are not picked up by it).
inline const EVP_MD* sha256_method() noexcept {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
  static const EVP_MD* const md = [] {
    const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched != nullptr ? fetched : EVP_sha256();
  }();
  return md;
#else
  return EVP_sha256();
#endif
}

// One EVP_MD_CTX for the length of a call.
class Sha256Context {
 public:
  Sha256Context() : ctx_(EVP_MD_CTX_new()) {
    if (ctx_ == nullptr)
      throw Error(ErrorKind::internal, "crypto", "OpenSSL EVP_MD_CTX_new failed");
  }
  Sha256Context(const Sha256Context&) = delete;
  Sha256Context& operator=(const Sha256Context&) = delete;
  ~Sha256Context() { EVP_MD_CTX_free(ctx_); }

  Sha256Context& init() { return check(EVP_DigestInit_ex(ctx_, sha256_method(), nullptr)); }
  Sha256Context& update(const void* data, std::size_t size) {
    return check(EVP_DigestUpdate(ctx_, data, size));
  }
  void final(unsigned char* out) {
    unsigned int size = 0;
    check(EVP_DigestFinal_ex(ctx_, out, &size));
    if (size != 32) throw Error(ErrorKind::internal, "crypto", "OpenSSL SHA-256 failed");
  }

 private:
  Sha256Context& check(int ok) {
    if (ok != 1) throw Error(ErrorKind::internal, "crypto", "OpenSSL SHA-256 failed");
    return *this;
  }
  EVP_MD_CTX* ctx_;
};

inline Digest sha256(std::string_view data) {
  Digest out{};
  Sha256Context().init().update(data.data(), data.size()).final(out.data());
  return out;
}

// HMAC-SHA256 (RFC 2104) over the fetched SHA-256: H((K ^ opad) || H((K ^ ipad) || data)).
inline Digest hmac_sha256(const unsigned char* key, std::size_t key_size, std::string_view data) {
  constexpr std::size_t block_size = 64;
  unsigned char block[block_size] = {};
  Digest inner{};
  struct Wipe {  // the padded key and the inner hash are key material: wiped on every exit
    unsigned char* block;
    Digest& inner;
    ~Wipe() {
      cleanse(block, block_size);
      cleanse(inner.data(), inner.size());
    }
  } wipe{block, inner};
  Sha256Context ctx;
  if (key_size > block_size)
    ctx.init().update(key, key_size).final(block);  // a long key is replaced by its hash
  else if (key_size != 0)
    std::memcpy(block, key, key_size);
  for (unsigned char& b : block) b ^= 0x36;
  ctx.init().update(block, block_size).update(data.data(), data.size()).final(inner.data());
  for (unsigned char& b : block) b ^= 0x36 ^ 0x5c;
  Digest out{};
  ctx.init().update(block, block_size).update(inner.data(), inner.size()).final(out.data());
  return out;
}

inline Digest hmac_sha256(const Digest& key, std::string_view data) {
  return hmac_sha256(key.data(), key.size(), data);
}

inline void append_hex(std::string& out, const unsigned char* data, std::size_t size) {
  static constexpr char digits[] = "0123456789abcdef";
  const std::size_t old = out.size();
  out.resize(old + 2 * size);
  char* p = &out[old];
  for (std::size_t i = 0; i < size; ++i) {
    *p++ = digits[data[i] >> 4];
    *p++ = digits[data[i] & 0x0f];
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
