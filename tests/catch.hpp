// One include for Catch2 v2 (Debian's catch2/catch.hpp) and v3 (vcpkg, Conan, newer distributions).
#pragma once

#if __has_include(<catch2/catch_all.hpp>)
#include <catch2/catch_all.hpp>
#define MSKIAM_CATCH_V3 1
#else
#include <catch2/catch.hpp>
#endif
