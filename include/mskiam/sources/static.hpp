// StaticCredentials: credentials the application already holds (from its own vault, a test).
#pragma once

#include <string>
#include <string_view>

#include "mskiam/credentials.hpp"

MSKIAM_BEGIN_NAMESPACE

class StaticCredentials {
 public:
  static constexpr std::string_view source = "static";

  explicit StaticCredentials(Credentials credentials);

  Credentials fetch() const { return credentials_; }
  std::string_view name() const noexcept { return source; }

 private:
  Credentials credentials_;
};

MSKIAM_END_NAMESPACE

#if MSKIAM_DEFINITIONS
#include <utility>

MSKIAM_BEGIN_NAMESPACE

MSKIAM_INLINE StaticCredentials::StaticCredentials(Credentials credentials)
    : credentials_(std::move(credentials)) {
  if (credentials_.source.empty()) credentials_.source = std::string(source);
}

MSKIAM_END_NAMESPACE
#endif  // MSKIAM_DEFINITIONS
