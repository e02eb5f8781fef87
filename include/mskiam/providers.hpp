// TokenProvider over each of the library's own sources: in the compiled mode src/mskiam.cpp
// compiles them once from the list below, and this header (in the umbrella mskiam/mskiam.hpp)
// declares them so, `extern template`. Without it, or over a source of your own (unless passed as
// an AnySource), a file compiles the provider it uses, as in the header-only mode.
#pragma once

#include "mskiam/provider.hpp"
#include "mskiam/sources/any.hpp"
#include "mskiam/sources/container.hpp"
#include "mskiam/sources/default_chain.hpp"
#include "mskiam/sources/environment.hpp"
#include "mskiam/sources/imds.hpp"
#include "mskiam/sources/process.hpp"
#include "mskiam/sources/profile.hpp"
#include "mskiam/sources/static.hpp"
#include "mskiam/sources/web_identity.hpp"

// X(Source) for every source whose TokenProvider the compiled library holds.
#define MSKIAM_FOR_EACH_LIBRARY_SOURCE(X) \
  X(AnySource)                            \
  X(ContainerCredentials)                 \
  X(DefaultChain)                         \
  X(EnvironmentCredentials)               \
  X(InstanceMetadata)                     \
  X(ProcessCredentials)                   \
  X(ProfileCredentials)                   \
  X(StaticCredentials)                    \
  X(WebIdentity)

#if defined(MSKIAM_COMPILED_LIB)
MSKIAM_BEGIN_NAMESPACE
#define MSKIAM_EXTERN_PROVIDER(Source) extern template class TokenProvider<Source>;
MSKIAM_FOR_EACH_LIBRARY_SOURCE(MSKIAM_EXTERN_PROVIDER)
#undef MSKIAM_EXTERN_PROVIDER
MSKIAM_END_NAMESPACE
#endif
