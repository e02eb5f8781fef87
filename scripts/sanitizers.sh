#!/usr/bin/env bash
# The unit tests (stress test included) and the fuzz corpus replays under AddressSanitizer +
# UndefinedBehaviorSanitizer (LeakSanitizer on), the unit tests under ThreadSanitizer; each run
# followed by the secret sweep of its build tree. clang 14, Debian's libclang-rt-14-dev.
# TSan skips the tests that drive librdkafka: its threads are not instrumented, so TSan would
# report librdkafka's own synchronisation, not ours.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
bash scripts/setup.sh

# The fewest tests each run must run (scripts/run-ctest.sh), as registered when set: under ASan
# every unit test and every fuzz corpus replay, under TSan the unit tests but those that drive
# librdkafka.
readonly min_tests_asan=268 min_tests_tsan=251  # +13: mskiam/brokers.hpp
replays=()
for harness in tests/fuzz/fuzz_*.cpp; do replays+=("mskiam-$(basename "$harness" .cpp)-replay"); done

run() {  # name sanitizer-flags min-tests "targets" ctest-regex ctest-args...
  local name=$1 flags=$2 min_tests=$3 targets=$4 tests=$5
  shift 5
  printf '\n=== sanitizers: %s ===\n' "$name"
  cmake -S . -B "build/$name" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DMSKIAM_BUILD_EXAMPLES=OFF -DCMAKE_CXX_FLAGS="$flags -fno-omit-frame-pointer" \
    -DCMAKE_EXE_LINKER_FLAGS="$flags" >"build/$name.configure.log" 2>&1 \
    || { cat "build/$name.configure.log"; return 1; }
  # shellcheck disable=SC2086  # targets is a list of words
  cmake --build "build/$name" -j "$jobs" --target $targets
  rm -rf "build/$name/secret-sweep"  # what the fakes of this run's tests leave for the sweep
  bash scripts/run-ctest.sh "build/$name" "$min_tests" -j "$jobs" -R "$tests" "$@"
  /usr/bin/python3 tests/secret_sweep.py "build/$name"
}

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
run asan-ubsan "-fsanitize=address,undefined -fno-sanitize-recover=all" "$min_tests_asan" \
  "mskiam-unit-tests ${replays[*]}" '^(unit\.|fuzz\..*\.replay$)'
run tsan "-fsanitize=thread" "$min_tests_tsan" mskiam-unit-tests '^unit\.' -E 'rdkafka|librdkafka'
