#!/usr/bin/env bash
# scripts/run-ctest.sh must fail a stage in each way a stage can run less than it promises, and
# pass one that ran everything. Each case plants a build directory: three CTest tests (two of them
# `unit.*`) and a stand-in for the unit-test program that behaves as the case says.
#   tests/suite/run_ctest_selftest.sh [path/to/run-ctest.sh]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
run_ctest=${1:-$here/../../scripts/run-ctest.sh}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

plant() {  # case-name unit-program-body [extra CTest lines]
  local dir=$work/$1
  mkdir -p "$dir/tests"
  printf '#!/bin/sh\n%s\n' "$2" >"$dir/tests/mskiam-unit-tests"
  chmod +x "$dir/tests/mskiam-unit-tests"
  cat >"$dir/CTestTestfile.cmake" <<CTEST
add_test(unit.first "/bin/true")
add_test(unit.second "/bin/true")
add_test(other "/bin/true")
${3:-}
CTEST
  echo "$dir"
}

expect() {  # pass|fail case-name min-tests unit-program-body [extra CTest lines]
  local want=$1 name=$2 min=$3 dir got=pass
  dir=$(plant "$name" "$4" "${5:-}")
  bash "$run_ctest" "$dir" "$min" >"$dir.out" 2>&1 || got=fail
  if [[ $got == "$want" ]]; then
    printf 'ok    %-48s (%s as expected)\n' "$name" "$got"
  else
    printf 'FAIL  %-48s expected to %s, did %s:\n' "$name" "$want" "$got"
    sed 's/^/      /' "$dir.out"
    failures=$((failures + 1))
  fi
}

lists_two='printf "first\nsecond\n"; exit 2'
expect pass everything_registered_and_run 3 "$lists_two"
expect fail program_exits_positive_at_start_up 3 'echo "error while loading shared libraries" >&2; exit 127'
expect fail program_aborts_at_start_up 3 'echo "AddressSanitizer: CHECK failed" >&2; kill -ABRT $$'
expect fail program_lists_nothing 3 'exit 0'
expect fail discovery_registered_fewer_than_the_program_has 3 'printf "first\nsecond\nthird\n"; exit 3'
expect fail fewer_tests_ran_than_the_floor 4 "$lists_two"
expect fail a_skipped_test_does_not_count 4 "$lists_two" \
  'add_test(skips "/bin/sh" "-c" "exit 77")
set_tests_properties(skips PROPERTIES SKIP_RETURN_CODE 77)'
expect fail a_failing_test_fails_the_stage 3 "$lists_two" 'add_test(fails "/bin/false")'
# A stage whose selection matches nothing fails even with no floor (ctest --no-tests=error).
empty=$work/no_test_at_all
mkdir -p "$empty" && : >"$empty/CTestTestfile.cmake"
if bash "$run_ctest" "$empty" 0 >"$empty.out" 2>&1; then
  echo "FAIL  no_test_at_all: passed"; failures=$((failures + 1))
else
  printf 'ok    %-48s (fail as expected)\n' no_test_at_all
fi
[[ $failures -eq 0 ]] || { echo "run-ctest self-test: $failures case(s) wrong"; exit 1; }
echo "run-ctest self-test: every planted failure failed the stage"
