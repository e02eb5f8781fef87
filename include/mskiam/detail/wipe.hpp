// The one guard that wipes memory which held a secret when a scope ends, however it ends
// (detail::cleanse, declared with Secret in mskiam/credentials.hpp, does the wiping).
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "mskiam/credentials.hpp"

MSKIAM_BEGIN_NAMESPACE
namespace detail {

class WipeOnExit {
 public:
  using Headers = std::vector<std::pair<std::string, std::string>>;

  // A string's whole buffer (a request body, a response, a file's content).
  explicit WipeOnExit(std::string& text) noexcept : text_(&text) {}
  // The values of HTTP headers (a session token, an Authorization header).
  explicit WipeOnExit(Headers& headers) noexcept : headers_(&headers) {}
  // Bytes: a derived key, an inner hash, a read buffer.
  WipeOnExit(void* data, std::size_t size) noexcept : data_(data), size_(size) {}
  template <class T, std::size_t N>
  explicit WipeOnExit(std::array<T, N>& bytes) noexcept : WipeOnExit(bytes.data(), sizeof bytes) {}
  template <class T, std::size_t N>
  explicit WipeOnExit(T (&bytes)[N]) noexcept : WipeOnExit(bytes, sizeof bytes) {}

  WipeOnExit(const WipeOnExit&) = delete;
  WipeOnExit& operator=(const WipeOnExit&) = delete;

  ~WipeOnExit() {
    if (text_ != nullptr) cleanse(*text_);
    if (headers_ != nullptr)
      for (auto& header : *headers_) cleanse(header.second);
    if (data_ != nullptr) cleanse(data_, size_);
  }

 private:
  std::string* text_ = nullptr;
  Headers* headers_ = nullptr;
  void* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace detail
MSKIAM_END_NAMESPACE
