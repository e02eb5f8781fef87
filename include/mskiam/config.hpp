// How mskiam is built: its namespace, and header-only or compiled mode.
//
// Header-only (the default): every definition is in the headers, `inline`; nothing to build.
//
// Compiled: define MSKIAM_COMPILED_LIB for every file of the program, build src/mskiam.cpp once,
// and src/rdkafka.cpp for the librdkafka adapter (the mskiam::compiled and
// mskiam::rdkafka_compiled CMake targets do all of that). The headers then declare and those files
// define, so a translation unit that includes mskiam parses declarations only and compiles none
// of mskiam's code. Templates (TokenProvider, AssumeRole, the librdkafka adapters) stay in the
// headers; TokenProvider over the library's own sources is instantiated in src/mskiam.cpp and
// declared so in mskiam/providers.hpp.
//
// Every header is written the same way: declarations first; then, under `#if MSKIAM_DEFINITIONS`
// (MSKIAM_RDKAFKA_DEFINITIONS in mskiam/rdkafka.hpp), the includes only the definitions need and
// the definitions, each marked MSKIAM_INLINE.
#pragma once

#include "mskiam/version.hpp"

#if defined(MSKIAM_COMPILED_LIB)
#define MSKIAM_INLINE
#if defined(MSKIAM_COMPILING_LIB)  // src/mskiam.cpp
#define MSKIAM_DEFINITIONS 1
#else
#define MSKIAM_DEFINITIONS 0
#endif
#if defined(MSKIAM_COMPILING_RDKAFKA)  // src/rdkafka.cpp: the librdkafka adapter alone
#define MSKIAM_RDKAFKA_DEFINITIONS 1
#else
#define MSKIAM_RDKAFKA_DEFINITIONS 0
#endif
#else
#define MSKIAM_INLINE inline
#define MSKIAM_DEFINITIONS 1
#define MSKIAM_RDKAFKA_DEFINITIONS 1
#endif

// Every public name lives in mskiam::v0 (inline), so that two major versions linked into one
// program cannot silently mix their types.
#define MSKIAM_BEGIN_NAMESPACE \
  namespace mskiam {           \
  inline namespace v0 {
#define MSKIAM_END_NAMESPACE \
  }                          \
  }
