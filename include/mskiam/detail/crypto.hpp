// SHA-256 and HMAC-SHA256 through OpenSSL. Wiping memory that held a secret (detail::cleanse) is
// declared with Secret, in mskiam/credentials.hpp.
#pragma once

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "mskiam/credentials.hpp"
#include "mskiam/detail/wipe.hpp"
#include "mskiam/error.hpp"

MSKIAM_BEGIN_NAMESPACE
namespace detail {

using Digest = std::array<unsigned char, 32>;

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
  // Starts from a saved state instead of the initial one (an HmacKey's absorbed padded key).
  Sha256Context& init_from(const EVP_MD_CTX* state) {
    return check(EVP_MD_CTX_copy_ex(ctx_, state));
  }
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

// The HMAC key block of RFC 2104: the key, or its SHA-256 when it is longer than a block,
// zero-padded to 64 bytes, XORed with ipad; to_outer() turns it into the block XORed with opad.
// Key material: wiped on destruction.
class HmacBlock {
 public:
  static constexpr std::size_t size = 64;

  HmacBlock(const unsigned char* key, std::size_t key_size) {
    if (key_size > size)
      Sha256Context().init().update(key, key_size).final(bytes);
    else if (key_size != 0)
      std::memcpy(bytes, key, key_size);
    for (unsigned char& b : bytes) b ^= 0x36;
  }
  HmacBlock(const HmacBlock&) = delete;
  HmacBlock& operator=(const HmacBlock&) = delete;
  ~HmacBlock() { cleanse(bytes, size); }

  void to_outer() noexcept {
    for (unsigned char& b : bytes) b ^= 0x36 ^ 0x5c;
  }

  unsigned char bytes[size] = {};
};

// HMAC-SHA256 (RFC 2104) over the fetched SHA-256: H((K ^ opad) || H((K ^ ipad) || data)).
inline Digest hmac_sha256(const unsigned char* key, std::size_t key_size, std::string_view data) {
  HmacBlock block(key, key_size);
  Digest inner{};
  const WipeOnExit wipe_inner{inner};
  Sha256Context ctx;
  ctx.init().update(block.bytes, block.size).update(data.data(), data.size()).final(inner.data());
  block.to_outer();
  Digest out{};
  ctx.init().update(block.bytes, block.size).update(inner.data(), inner.size()).final(out.data());
  return out;
}

inline Digest hmac_sha256(const Digest& key, std::string_view data) {
  return hmac_sha256(key.data(), key.size(), data);
}

// An HMAC-SHA256 key made ready for many messages: the SHA-256 states after absorbing K ^ ipad
// and K ^ opad, computed once. Each MAC then copies them instead of hashing the two padded
// blocks again: two compressions and two inits fewer, for a key that signs many messages (the
// SigV4 signing key, fixed for a day). The states are key material: the contexts are freed with
// EVP_MD_CTX_free, which wipes them, on destruction and reset(). Not copyable; movable.
// hmac_sha256(key, data) only reads the states: one HmacKey may sign from several threads at once,
// as long as none of them assigns or resets it meanwhile.
class HmacKey {
 public:
  HmacKey() noexcept = default;
  HmacKey(const unsigned char* key, std::size_t key_size) {
    HmacBlock block(key, key_size);
    inner_ = absorbed(block.bytes, block.size);
    block.to_outer();
    outer_ = absorbed(block.bytes, block.size);
  }
  explicit HmacKey(const Digest& key) : HmacKey(key.data(), key.size()) {}

  HmacKey(const HmacKey&) = delete;
  HmacKey& operator=(const HmacKey&) = delete;
  HmacKey(HmacKey&& other) noexcept = default;
  HmacKey& operator=(HmacKey&& other) noexcept = default;
  ~HmacKey() = default;

  bool empty() const noexcept { return inner_ == nullptr; }
  void reset() noexcept {
    inner_.reset();
    outer_.reset();
  }

 private:
  struct FreeContext {
    void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
  };
  using ContextPtr = std::unique_ptr<EVP_MD_CTX, FreeContext>;

  static ContextPtr absorbed(const unsigned char* block, std::size_t size) {
    ContextPtr ctx(EVP_MD_CTX_new());
    if (ctx == nullptr)
      throw Error(ErrorKind::internal, "crypto", "OpenSSL EVP_MD_CTX_new failed");
    if (EVP_DigestInit_ex(ctx.get(), sha256_method(), nullptr) != 1 ||
        EVP_DigestUpdate(ctx.get(), block, size) != 1)
      throw Error(ErrorKind::internal, "crypto", "OpenSSL SHA-256 failed");
    return ctx;
  }

  ContextPtr inner_, outer_;

  friend Digest hmac_sha256(const HmacKey& key, std::string_view data, Sha256Context& ctx);
};

// The same MAC as hmac_sha256(raw key, data), from the prepared states, hashed in `ctx` (a
// caller that signs many messages keeps one context instead of allocating one per MAC).
inline Digest hmac_sha256(const HmacKey& key, std::string_view data, Sha256Context& ctx) {
  if (key.empty()) throw Error(ErrorKind::internal, "crypto", "HMAC key used before it was set");
  Digest inner{};
  const WipeOnExit wipe_inner{inner};
  ctx.init_from(key.inner_.get()).update(data.data(), data.size()).final(inner.data());
  Digest out{};
  ctx.init_from(key.outer_.get()).update(inner.data(), inner.size()).final(out.data());
  return out;
}

inline Digest hmac_sha256(const HmacKey& key, std::string_view data) {
  Sha256Context ctx;
  return hmac_sha256(key, data, ctx);
}

// Lower-case hex of `size` bytes into out[0 .. 2 * size).
inline void write_hex(char* out, const unsigned char* data, std::size_t size) noexcept {
  static constexpr char digits[] = "0123456789abcdef";
  for (std::size_t i = 0; i < size; ++i) {
    *out++ = digits[data[i] >> 4];
    *out++ = digits[data[i] & 0x0f];
  }
}

inline void append_hex(std::string& out, const unsigned char* data, std::size_t size) {
  const std::size_t old = out.size();
  out.resize(old + 2 * size);
  write_hex(&out[old], data, size);
}

inline std::string hex(const Digest& digest) {
  std::string out;
  out.reserve(digest.size() * 2);
  append_hex(out, digest.data(), digest.size());
  return out;
}

}  // namespace detail
MSKIAM_END_NAMESPACE
