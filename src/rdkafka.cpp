// mskiam's compiled mode, the librdkafka adapter: every non-template definition of
// mskiam/rdkafka.hpp, built once next to src/mskiam.cpp (kept apart so that the rest of mskiam
// needs no librdkafka). Build it with MSKIAM_COMPILED_LIB defined; see mskiam/config.hpp.
#ifndef MSKIAM_COMPILED_LIB
#define MSKIAM_COMPILED_LIB
#endif
#ifndef MSKIAM_COMPILING_RDKAFKA
#define MSKIAM_COMPILING_RDKAFKA
#endif

#include "mskiam/rdkafka.hpp"
