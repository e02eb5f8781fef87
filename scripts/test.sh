#!/usr/bin/env bash
# The test command of the README and of CI: installs what is missing, then builds and runs every
# test with g++ (Debug) and clang++ (Release) with -Werror, against Debian's librdkafka 2.0.2,
# and the librdkafka-dependent tests again against 2.8.0 built from Debian 13's source package.
#
#   scripts/test.sh            everything
#   MSKIAM_QUICK=1 scripts/test.sh    one g++ build and its tests only
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs=$(nproc)

bash scripts/setup.sh

stage() { printf '\n=== %s ===\n' "$*"; }

build_and_test() {  # name compiler build-type [extra cmake args...]
  local name=$1 cxx=$2 type=$3
  shift 3
  stage "$name: $cxx $type"
  cmake -S "$root" -B "build/$name" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE="$type" \
    -DMSKIAM_RDKAFKA=ON "$@" >"build/$name.configure.log" 2>&1 || { cat "build/$name.configure.log"; return 1; }
  cmake --build "build/$name" -j "$jobs"
  (cd "build/$name" && ctest --output-on-failure -j "$jobs" --timeout 600)
}

mkdir -p build
if [ "${MSKIAM_QUICK:-0}" = 1 ]; then
  build_and_test gcc-debug g++ Debug
  exit 0
fi

build_and_test clang-release clang++ Release

stage "sanitizers: ASan+UBSan+LSan and TSan"
bash scripts/sanitizers.sh

stage "fuzzing every parser of untrusted input"
MSKIAM_FUZZ_SECONDS=${MSKIAM_FUZZ_SECONDS:-30} bash scripts/fuzz.sh

stage "librdkafka 2.8.0 from Debian 13's source package"
rdkafka_prefix=$(bash scripts/build-librdkafka.sh | tail -1)
MSKIAM_EXPECT_RDKAFKA_VERSION=2.8.0 PKG_CONFIG_PATH="$rdkafka_prefix/lib/pkgconfig" \
  build_and_test gcc-debug-rdkafka-2.8 g++ Debug \
  -DCMAKE_BUILD_RPATH="$rdkafka_prefix/lib" -DCMAKE_PREFIX_PATH="$rdkafka_prefix"

# Last, so that CI reads this run's summary: the full suite with g++ and Debian's librdkafka 2.0.2.
build_and_test gcc-debug g++ Debug
