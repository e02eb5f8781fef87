#!/usr/bin/env bash
# Builds and runs the unit tests against Catch2 v3 (Debian 13's 3.7.1, from scripts/build-catch2.sh),
# in one configuration: g++ Debug with Debian 12's librdkafka. The other builds use Debian 12's
# Catch2 2.13; this one compiles tests/catch.hpp's v3 branch, as vcpkg and Conan users get it.
#
#   scripts/test-catch2-v3.sh          build directory build/catch2-v3 (MSKIAM_CATCH2_V3_BUILD)
set -euo pipefail
cd "$(dirname "$0")/.."
readonly build=${MSKIAM_CATCH2_V3_BUILD:-build/catch2-v3}
jobs=$(nproc)

prefix=$(bash scripts/build-catch2.sh | tail -1)
mkdir -p "$(dirname "$build")"
cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=g++ -DCMAKE_BUILD_TYPE=Debug -DMSKIAM_RDKAFKA=ON \
  -DCMAKE_PREFIX_PATH="$prefix" >"$build.configure.log" 2>&1 || { cat "$build.configure.log"; exit 1; }
cmake --build "$build" -j "$jobs" --target mskiam-unit-tests
# Debian's Catch2 2.x is installed too: the program must say which Catch2 it was built with.
identity=$("$build/tests/mskiam-unit-tests" --libidentify)
if ! grep -qxE 'version: +3\.[0-9.]+' <<<"$identity"; then
  printf 'test-catch2-v3: the unit tests were not built with Catch2 v3:\n%s\n' "$identity" >&2
  exit 1
fi
(cd "$build" && ctest --output-on-failure --no-tests=error -j "$jobs" --timeout 600 -R '^unit\.')
