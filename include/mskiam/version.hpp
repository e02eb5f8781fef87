// The one place the version of mskiam is written. CMake parses these three lines.
#pragma once

#define MSKIAM_VERSION_MAJOR 0
#define MSKIAM_VERSION_MINOR 1
#define MSKIAM_VERSION_PATCH 0

#define MSKIAM_STRINGIFY_(x) #x
#define MSKIAM_STRINGIFY(x) MSKIAM_STRINGIFY_(x)
#define MSKIAM_VERSION_STRING                                                    \
  MSKIAM_STRINGIFY(MSKIAM_VERSION_MAJOR)                                         \
  "." MSKIAM_STRINGIFY(MSKIAM_VERSION_MINOR) "." MSKIAM_STRINGIFY(MSKIAM_VERSION_PATCH)
// One number for comparisons: 10203 is 1.2.3.
#define MSKIAM_VERSION \
  (MSKIAM_VERSION_MAJOR * 10000 + MSKIAM_VERSION_MINOR * 100 + MSKIAM_VERSION_PATCH)
