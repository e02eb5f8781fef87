#!/usr/bin/env bash
# The test command of the README and of CI. Installs what is missing, then:
#   1. clang++ Release, -Werror: unit, hygiene, botocore, CLI, fuzz-corpus and fake self-tests
#   2. the unit tests under ASan+UBSan+LSan and under TSan (scripts/sanitizers.sh)
#   3. every fuzz harness for a bounded time (scripts/fuzz.sh)
#   4. the benchmarks and the compile cost of the headers, printed (scripts/bench.sh,
#      scripts/compile-cost.sh; timings are never asserted)
#   5. g++ Debug against librdkafka 2.8.0 built from Debian 13's source package: everything
#      then a sweep of every output the tests left for every secret they issued
#   6. g++ Debug against Debian 12's librdkafka 2.0.2, in the compiled mode (MSKIAM_COMPILED=ON:
#      tests and examples link mskiam::compiled): everything (its summary closes the run)
#
#   MSKIAM_QUICK=1 scripts/test.sh    step 6 only
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs=$(nproc)

bash scripts/setup.sh

stage() { printf '\n=== %s ===\n' "$*"; }

build_and_test() {  # name compiler build-type "ctest args" [extra cmake args...]
  local name=$1 cxx=$2 type=$3 ctest_args=$4
  shift 4
  stage "$name: $cxx $type"
  cmake -S "$root" -B "build/$name" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE="$type" \
    -DMSKIAM_RDKAFKA=ON "$@" >"build/$name.configure.log" 2>&1 || { cat "build/$name.configure.log"; return 1; }
  cmake --build "build/$name" -j "$jobs"
  # shellcheck disable=SC2086  # ctest_args is a list of words
  (cd "build/$name" && ctest --output-on-failure -j "$jobs" --timeout 600 $ctest_args)
}

mkdir -p build
if [ "${MSKIAM_QUICK:-0}" = 1 ]; then
  build_and_test gcc-debug g++ Debug "" -DMSKIAM_COMPILED=ON
  exit 0
fi

build_and_test clang-release clang++ Release "-LE e2e|plugin|packaging"

stage "sanitizers: ASan+UBSan+LSan and TSan"
bash scripts/sanitizers.sh

stage "fuzzing every parser of untrusted input"
MSKIAM_FUZZ_SECONDS=${MSKIAM_FUZZ_SECONDS:-30} bash scripts/fuzz.sh

stage "benchmarks (figures only, never asserted)"
bash scripts/bench.sh || echo "bench: could not run (see above); timings are informational"
MSKIAM_COMPILE_RUNS=3 bash scripts/compile-cost.sh

stage "librdkafka 2.8.0 from Debian 13's source package"
rdkafka_prefix=$(bash scripts/build-librdkafka.sh | tail -1)
MSKIAM_EXPECT_RDKAFKA_VERSION=2.8.0 PKG_CONFIG_PATH="$rdkafka_prefix/lib/pkgconfig" \
  build_and_test gcc-debug-rdkafka-2.8 g++ Debug "" \
  -DCMAKE_BUILD_RPATH="$rdkafka_prefix/lib" -DCMAKE_PREFIX_PATH="$rdkafka_prefix"

stage "secret sweep: no secret issued during the tests appears in any output they left"
/usr/bin/python3 tests/secret_sweep.py build/gcc-debug-rdkafka-2.8 \
  "pLuGiNsEcReT/doNotPrint+0123456789abcdefgh" "e2e-static-secret-not-real" "check-base-secret-value"

# Last, so that CI reads this run's summary: everything with g++ and Debian's librdkafka 2.0.2,
# and the compiled mode.
build_and_test gcc-debug g++ Debug "" -DMSKIAM_COMPILED=ON
