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

// TokenProvider over the library's own sources (MSKIAM_EXTERN_PROVIDER in their headers).
MSKIAM_BEGIN_NAMESPACE
template class TokenProvider<AnySource>;
template class TokenProvider<ContainerCredentials>;
template class TokenProvider<DefaultChain>;
template class TokenProvider<EnvironmentCredentials>;
template class TokenProvider<InstanceMetadata>;
template class TokenProvider<ProcessCredentials>;
template class TokenProvider<ProfileCredentials>;
template class TokenProvider<StaticCredentials>;
template class TokenProvider<WebIdentity>;
MSKIAM_END_NAMESPACE
