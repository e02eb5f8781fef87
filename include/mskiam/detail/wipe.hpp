// The one guard that wipes memory which held a secret when a scope ends, however it ends
// (detail::cleanse, declared with Secret in mskiam/credentials.hpp, does the wiping).
#pragma once

#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "mskiam/credentials.hpp"

MSKIAM_BEGIN_NAMESPACE
namespace detail {

class WipeOnExit {
 public:
  // A string's whole buffer (a request body, a response, a file's content).
  explicit WipeOnExit(std::string& text) noexcept : text_(&text) {}
  // The values of HTTP headers (a session token, an Authorization header).
  explicit WipeOnExit(std::vector<std::pair<std::string, std::string>>& headers) noexcept
      : headers_(&headers) {}
  // Plain bytes: a derived key, an inner hash, a read buffer.
  template <class Bytes, class = std::enable_if_t<std::is_trivially_copyable_v<Bytes>>>
  explicit WipeOnExit(Bytes& bytes) noexcept : data_(&bytes), size_(sizeof bytes) {}
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
  std::vector<std::pair<std::string, std::string>>* headers_ = nullptr;
  void* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace detail
MSKIAM_END_NAMESPACE
