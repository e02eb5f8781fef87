// One include for Catch2 v2 (Debian's catch2/catch.hpp) and v3 (vcpkg, Conan, newer distributions).
#pragma once

#if __has_include(<catch2/catch_all.hpp>)
#include <catch2/catch_all.hpp>
#define MSKIAM_CATCH_V3 1
#else
#include <catch2/catch.hpp>
#endif

#include <string>

namespace mskiam_test {
// Substring matcher under both names: v2's Contains, v3's ContainsSubstring (in v3, Contains
// matches elements of a range).
#ifdef MSKIAM_CATCH_V3
inline auto contains_substring(const std::string& s) { return Catch::Matchers::ContainsSubstring(s); }
#else
inline auto contains_substring(const std::string& s) { return Catch::Matchers::Contains(s); }
#endif
}  // namespace mskiam_test
