// Reading the environment: the one place that calls getenv.
#pragma once

#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "mskiam/detail/text.hpp"

MSKIAM_BEGIN_NAMESPACE
namespace detail {

// The value of an environment variable, unless it is unset or empty.
inline std::optional<std::string> getenv_nonempty(std::string_view name) {
  const char* value = std::getenv(std::string(name).c_str());
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

// Whether a variable says `true`, in any case (AWS_EC2_METADATA_DISABLED=TRUE).
inline bool env_is_true(std::string_view name) {
  const auto value = getenv_nonempty(name);
  return value && ascii_lower(*value) == "true";
}

}  // namespace detail
MSKIAM_END_NAMESPACE
