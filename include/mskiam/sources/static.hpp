// StaticCredentials: credentials the application already holds (from its own vault, a test).
#pragma once

#include <string_view>
#include <utility>

#include "mskiam/credentials.hpp"

MSKIAM_BEGIN_NAMESPACE

class StaticCredentials {
 public:
  explicit StaticCredentials(Credentials credentials) : credentials_(std::move(credentials)) {
    if (credentials_.source.empty()) credentials_.source = "static";
  }

  Credentials fetch() const { return credentials_; }
  std::string_view name() const noexcept { return "static"; }

 private:
  Credentials credentials_;
};

MSKIAM_END_NAMESPACE
