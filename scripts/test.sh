#!/usr/bin/env bash
# The test command of the README and of CI. Installs what is missing, then:
#   1. clang++ Release, -Werror: unit, hygiene, botocore, CLI, fuzz-corpus and fake self-tests, and
#      the official signers of JS, Python, Go and Java as differential oracles (tests/oracles)
#   1b. the unit tests against Catch2 v3 from Debian 13's source package (scripts/test-catch2-v3.sh)
#   1c. Conan 2: conan create with the system's libraries, test_package run (scripts/conan-create.sh)
#   2. the unit tests under ASan+UBSan+LSan and under TSan (scripts/sanitizers.sh)
#   3. every fuzz harness for a bounded time (scripts/fuzz.sh)
#   4. the benchmarks and the compile cost of the headers, printed (scripts/bench.sh,
#      scripts/compile-cost.sh; timings are never asserted)
#   5. a real Apache Kafka broker (tests/kafka): jars from Maven Central, cached
#   6. g++ Debug against librdkafka 2.8.0 built from Debian 13's source package: everything (the
#      packaging consumers aside: stage 8 builds them), the
#      end-to-end scenarios against the emulator and against Kafka, the chaos experiments (their
#      table printed), the official signers' tokens
#      presented to Kafka, and the incident's own stacks (kafkajs, the Java client) beside mskiam's,
#      printed
#   7. g++ Debug against the newest librdkafka of Debian's source packages: the librdkafka-facing
#      suites (end to end on Kafka, the plugin, the adapter's unit tests), and the plugin under
#      confluent-kafka from PyPI on the librdkafka its wheel bundles (scripts/pypi-confluent-kafka.sh)
#   8. g++ Debug against Debian 12's librdkafka 2.0.2, in the compiled mode (MSKIAM_COMPILED=ON:
#      tests and examples link mskiam::compiled): everything but Kafka, the oracles and chaos
# Each stage that runs CTest fails when it ran fewer tests than it promises (scripts/run-ctest.sh),
# and then sweeps its build tree for every secret its tests issued (tests/secret_sweep.py).
# Each stage prints how long it took; before the last one, a list of them all.
#
#   MSKIAM_QUICK=1 scripts/test.sh    step 8 only
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs=$(nproc)
# The newest librdkafka Debian has as a source package: `MSKIAM_RDKAFKA_VERSION=0
# MSKIAM_DEBIAN_SUITE=sid bash scripts/build-librdkafka.sh` lists what sid has.
readonly newest_rdkafka=${MSKIAM_NEWEST_RDKAFKA:-2.14.2}
readonly newest_rdkafka_suite=${MSKIAM_NEWEST_RDKAFKA_SUITE:-sid}

bash scripts/setup.sh

durations=()
stage_name="" stage_start=$SECONDS
end_stage() {
  [[ -n $stage_name ]] || return 0
  local took=$((SECONDS - stage_start))
  durations+=("$(printf '%4dm%02ds  %s' $((took / 60)) $((took % 60)) "$stage_name")")
  printf '=== %s: %dm%02ds ===\n' "$stage_name" $((took / 60)) $((took % 60))
  stage_name=""
}
stage() {
  end_stage
  stage_name=$*
  stage_start=$SECONDS
  printf '\n=== %s ===\n' "$stage_name"
}
print_durations() {
  end_stage
  printf '\n=== stage durations (total %dm%02ds) ===\n' $((SECONDS / 60)) $((SECONDS % 60))
  printf '%s\n' "${durations[@]}"
}

build_and_test() {  # name compiler build-type min-tests "ctest args" [extra cmake args...]
  local name=$1 cxx=$2 type=$3 min_tests=$4 ctest_args=$5
  shift 5
  stage "$name: $cxx $type"
  cmake -S "$root" -B "build/$name" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE="$type" \
    -DMSKIAM_RDKAFKA=ON "$@" >"build/$name.configure.log" 2>&1 || { cat "build/$name.configure.log"; return 1; }
  cmake --build "build/$name" -j "$jobs"
  rm -rf "build/$name/secret-sweep"  # what the fakes of this run's tests leave for the sweep
  # shellcheck disable=SC2086  # ctest_args is a list of words
  bash scripts/run-ctest.sh "build/$name" "$min_tests" -j "$jobs" --timeout 600 $ctest_args
  /usr/bin/python3 tests/secret_sweep.py "build/$name"
}

# The fewest tests each stage must run (skipped ones do not count; scripts/run-ctest.sh): the
# numbers registered when they were set. Raise them with the tests; lower them only on purpose.
# Counted on 2026-12-04 with everything merged: clang 276, 2.8.0 327, newest 52, compiled 336;
# then the plugin's 20 clients sharing a provider, its static librdkafka and confluent-kafka-go
# cases (2.8.0 +5, compiled +4), the shared providers' unit test (+1 each), its PyPI
# confluent-kafka cases (newest +12 with those), the chaos suite (2.8.0 +9) and the renovation's
# unit tests (+5 where the unit tests run); the region from the brokers (unit +13 where the unit
# tests run, plugin +2 where the plugin's tests run).
readonly min_tests_clang_release=288 min_tests_rdkafka_2_8=355 min_tests_rdkafka_newest=62
readonly min_tests_compiled=342

mkdir -p build
if [ "${MSKIAM_QUICK:-0}" = 1 ]; then
  build_and_test gcc-debug g++ Debug "$min_tests_compiled" "-LE kafka|oracles|chaos" -DMSKIAM_COMPILED=ON
  print_durations
  exit 0
fi

build_and_test clang-release clang++ Release "$min_tests_clang_release" "-LE e2e|plugin|packaging|kafka"

stage "Catch2 v3: the unit tests against Debian 13's catch2 3.x, built into a private prefix"
bash scripts/test-catch2-v3.sh

stage "Conan 2: conan create with the system's libraries, test_package run"
bash scripts/conan-create.sh

stage "sanitizers: ASan+UBSan+LSan and TSan"
bash scripts/sanitizers.sh

stage "fuzzing every parser of untrusted input"
MSKIAM_FUZZ_SECONDS=${MSKIAM_FUZZ_SECONDS:-30} bash scripts/fuzz.sh

stage "benchmarks (figures only, never asserted)"
bash scripts/bench.sh || echo "bench: could not run (see above); timings are informational"
MSKIAM_COMPILE_RUNS=3 bash scripts/compile-cost.sh

stage "a real Apache Kafka broker: Java, jars from Maven Central (cached), the validator"
/usr/bin/python3 tests/kafka/broker.py prepare >/dev/null

stage "librdkafka 2.8.0 from Debian 13's source package"
rdkafka_prefix=$(bash scripts/build-librdkafka.sh | tail -1)
rm -f build/gcc-debug-rdkafka-2.8/tests/chaos/outcomes.jsonl  # the chaos table of this run only
MSKIAM_EXPECT_RDKAFKA_VERSION=2.8.0 PKG_CONFIG_PATH="$rdkafka_prefix/lib/pkgconfig" \
  build_and_test gcc-debug-rdkafka-2.8 g++ Debug "$min_tests_rdkafka_2_8" "-E ^oracles\.differential$|^packaging\." \
  -DCMAKE_BUILD_RPATH="$rdkafka_prefix/lib" -DCMAKE_PREFIX_PATH="$rdkafka_prefix"
echo "the chaos experiments of this run (docs/chaos.md):"
/usr/bin/python3 tests/chaos/chaos.py --outcomes build/gcc-debug-rdkafka-2.8/tests/chaos/outcomes.jsonl \
  --table -

stage "the incident's own stacks beside mskiam, against the real Kafka broker (figures, never asserted)"
# kafkajs + the official JS signer, kafka-clients + aws-msk-iam-auth, and mskiam's examples, through
# the same credential rotation; fails only when a stack cannot run at all (docs/comparison.md).
/usr/bin/python3 tests/incident/run.py --work-dir build/incident --json build/incident/incident.json \
  --mskiam-examples build/gcc-debug-rdkafka-2.8/examples

stage "librdkafka $newest_rdkafka from Debian's $newest_rdkafka_suite source package"
newest_prefix=$(MSKIAM_RDKAFKA_VERSION=$newest_rdkafka MSKIAM_DEBIAN_SUITE=$newest_rdkafka_suite \
  bash scripts/build-librdkafka.sh | tail -1)
# The plugin's tests under PyPI's confluent-kafka run here only: they test the wheel's librdkafka,
# whichever this build links.
pypi_python=$(bash scripts/pypi-confluent-kafka.sh | tail -1)
MSKIAM_EXPECT_RDKAFKA_VERSION=$newest_rdkafka PKG_CONFIG_PATH="$newest_prefix/lib/pkgconfig" \
  build_and_test gcc-debug-rdkafka-newest g++ Debug "$min_tests_rdkafka_newest" \
  "-R ^e2e\.kafka\.|^plugin\.|^kafka\.|rdkafka" \
  -DCMAKE_BUILD_RPATH="$newest_prefix/lib" -DCMAKE_PREFIX_PATH="$newest_prefix" \
  -DMSKIAM_PYPI_PYTHON="$pypi_python"

# Last, so that CI reads this run's summary: everything with g++ and Debian's librdkafka 2.0.2,
# and the compiled mode. The real broker ran with 2.8.0 and the newest librdkafka above.
print_durations
build_and_test gcc-debug g++ Debug "$min_tests_compiled" "-LE kafka|oracles|chaos" -DMSKIAM_COMPILED=ON
