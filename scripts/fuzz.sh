#!/usr/bin/env bash
# Runs every libFuzzer harness (tests/fuzz/fuzz_*.cpp) for a bounded time on a copy of its
# committed seed corpus, under ASan+UBSan. A crash fails the run and leaves the input in
# build/fuzz/findings/<parser>/: add it to tests/fuzz/corpus/<parser>/ with the fix, and the
# replay test keeps it fixed.
#   MSKIAM_FUZZ_SECONDS=30 (per harness)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${MSKIAM_FUZZ_SECONDS:-30}
bash scripts/setup.sh
cmake -S . -B build/fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMSKIAM_BUILD_FUZZERS=ON -DMSKIAM_BUILD_EXAMPLES=OFF >build/fuzz.configure.log 2>&1 \
  || { cat build/fuzz.configure.log; exit 1; }
status=0
for harness in tests/fuzz/fuzz_*.cpp; do
  name=$(basename "$harness" .cpp)
  parser=${name#fuzz_}
  cmake --build build/fuzz --target "mskiam-$name" >/dev/null
  work=build/fuzz/corpus/$parser findings=build/fuzz/findings/$parser
  rm -rf "$work" "$findings"
  mkdir -p "$work" "$findings"
  cp -r "tests/fuzz/corpus/$parser/." "$work/" 2>/dev/null || true
  printf '=== fuzz %s for %ss ===\n' "$parser" "$seconds"
  if ! "build/fuzz/tests/fuzz/mskiam-$name" "$work" -max_total_time="$seconds" -max_len=65536 \
       -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$findings/" -print_final_stats=1 \
       >"build/fuzz/$parser.log" 2>&1; then
    status=1
    tail -40 "build/fuzz/$parser.log"
    echo "fuzz $parser: FAILED, input in $findings"
  else
    grep -E 'stat::number_of_executed_units|cov:' "build/fuzz/$parser.log" | tail -2
    echo "fuzz $parser: ok"
  fi
done
exit $status
