#!/usr/bin/env bash
# The unit tests (stress test included) under AddressSanitizer + UndefinedBehaviorSanitizer
# (LeakSanitizer on), and under ThreadSanitizer, each followed by the secret sweep of its build
# tree. clang 14, Debian's libclang-rt-14-dev.
# TSan skips the tests that drive librdkafka: its threads are not instrumented, so TSan would
# report librdkafka's own synchronisation, not ours.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
bash scripts/setup.sh

# The fewest unit tests each run must run (scripts/run-ctest.sh), as registered when set: all of
# them under ASan, all but those that drive librdkafka under TSan.
readonly min_tests_asan=240 min_tests_tsan=230

run() {  # name sanitizer-flags min-tests ctest-args...
  local name=$1 flags=$2 min_tests=$3
  shift 3
  printf '\n=== sanitizers: %s ===\n' "$name"
  cmake -S . -B "build/$name" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DMSKIAM_BUILD_EXAMPLES=OFF -DCMAKE_CXX_FLAGS="$flags -fno-omit-frame-pointer" \
    -DCMAKE_EXE_LINKER_FLAGS="$flags" >"build/$name.configure.log" 2>&1 \
    || { cat "build/$name.configure.log"; return 1; }
  cmake --build "build/$name" -j "$jobs" --target mskiam-unit-tests
  rm -rf "build/$name/secret-sweep"  # what the fakes of this run's tests leave for the sweep
  bash scripts/run-ctest.sh "build/$name" "$min_tests" -j "$jobs" -R '^unit\.' "$@"
  /usr/bin/python3 tests/secret_sweep.py "build/$name"
}

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
run asan-ubsan "-fsanitize=address,undefined -fno-sanitize-recover=all" "$min_tests_asan"
run tsan "-fsanitize=thread" "$min_tests_tsan" -E 'rdkafka|librdkafka'
