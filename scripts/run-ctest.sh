#!/usr/bin/env bash
# Runs ctest in a build directory and fails when the stage ran fewer tests than it promises:
#   scripts/run-ctest.sh BUILD_DIR MIN_TESTS [ctest arguments...]
#
# ctest alone passes a stage that ran nothing, or less than it should: Catch2 v2's discovery
# registers zero test cases, with only a warning, when the test program exits with a positive
# status at start-up (a sanitizer runtime aborting, a shared library missing). So, before ctest:
#   - the unit-test program (BUILD_DIR/tests/mskiam-unit-tests, when it is there) must start and
#     list its test cases, and CTest must have registered exactly as many `unit.*` tests;
# and after it:
#   - at least MIN_TESTS tests must have run (tests CTest skipped or did not run do not count).
# tests/suite/run_ctest_selftest.sh plants the failures this must catch.
set -euo pipefail
[[ $# -ge 2 ]] || { echo "usage: $0 BUILD_DIR MIN_TESTS [ctest args...]" >&2; exit 2; }
build_dir=$1 min_tests=$2
shift 2
readonly unit_program=$build_dir/tests/mskiam-unit-tests unit_prefix='^unit\.'

fail() { printf 'run-ctest: FAIL: %s\n' "$*" >&2; exit 1; }

registered_count() {  # ctest args... -> how many tests CTest has registered for that selection
  local listing
  listing=$(cd "$build_dir" && ctest -N "$@") || fail "ctest -N failed in $build_dir"
  sed -n 's/^Total Tests: \([0-9]*\)$/\1/p' <<<"$listing"
}

check_unit_registration() {
  [[ -e $unit_program ]] || return 0
  local names status=0 listed registered
  # Catch2 v2 exits with the number of test cases listed, capped at 255; v3 with 0. A start-up
  # failure shows as another status (127: a missing library, 134: an abort) and an empty list.
  names=$("$unit_program" --list-test-names-only 2>"$build_dir/unit-listing.err") || status=$?
  listed=$(grep -c . <<<"$names" || true)
  local v2_status=$((listed < 255 ? listed : 255))
  if [[ $listed -eq 0 || ($status -ne 0 && $status -ne $v2_status) ]]; then
    cat "$build_dir/unit-listing.err" >&2
    fail "$unit_program does not start (status $status, $listed test cases listed)"
  fi
  registered=$(registered_count -R "$unit_prefix")
  [[ $registered -eq $listed ]] ||
    fail "CTest registered $registered unit tests, but $unit_program has $listed (rebuild, or look at its discovery)"
  printf 'run-ctest: %d unit test cases, all registered\n' "$listed"
}

ran_count() {  # ctest output -> tests run, those skipped or not run left out
  local total not_run
  total=$(sed -n 's/.*tests passed, [0-9]* tests\{0,1\} failed out of \([0-9]*\)$/\1/p' "$1" | tail -1)
  not_run=$(grep -cE '^[[:space:]]*[0-9]+ - .* \((Skipped|Not Run|Disabled)\)$' "$1" || true)
  echo $(( ${total:-0} - not_run ))
}

check_unit_registration
log=$build_dir/run-ctest.log
(cd "$build_dir" && ctest --output-on-failure --no-tests=error "$@") 2>&1 | tee "$log"
ran=$(ran_count "$log")
[[ $ran -ge $min_tests ]] || fail "$ran tests ran in $build_dir, the stage expects at least $min_tests"
printf 'run-ctest: %d tests ran (at least %d expected)\n' "$ran" "$min_tests"
