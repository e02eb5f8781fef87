// mskiam's compiled mode: every non-template definition of the library, built once.
// Build this file with MSKIAM_COMPILED_LIB defined, and define it for every file that includes
// mskiam (the mskiam::compiled CMake target does both); see mskiam/config.hpp.
#ifndef MSKIAM_COMPILED_LIB
#define MSKIAM_COMPILED_LIB
#endif
#ifndef MSKIAM_COMPILING_LIB
#define MSKIAM_COMPILING_LIB
#endif

#include "mskiam/mskiam.hpp"
#include "mskiam/providers.hpp"

// TokenProvider over the library's own sources, declared in mskiam/providers.hpp.
MSKIAM_BEGIN_NAMESPACE
#define MSKIAM_PROVIDER(Source) template class TokenProvider<Source>;
MSKIAM_FOR_EACH_LIBRARY_SOURCE(MSKIAM_PROVIDER)
#undef MSKIAM_PROVIDER
MSKIAM_END_NAMESPACE
