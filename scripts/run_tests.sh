#!/usr/bin/env bash
# Runs every test tier after a build: ctest (unit, golden, system), the libFuzzer targets for a
# short while each, and the llama.cpp peer check. Prints one closing line "tests: N passed, N failed"
# (ctest's tests, plus one for each other stage).
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
passed=0
failed=0
failures=()

stage() {  # stage NAME COMMAND...
  local name=$1
  shift
  echo "== $name"
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    failures+=("$name")
  fi
}

ctest_log=$(mktemp)
echo "== ctest"
ctest --test-dir "$build" --output-on-failure -j2 --timeout 600 2>&1 | tee "$ctest_log"
# "100% tests passed, 0 tests failed out of 212"
if summary=$(grep -Eo '[0-9]+ tests failed out of [0-9]+' "$ctest_log" | tail -1) && [ -n "$summary" ]; then
  ctest_failed=$(echo "$summary" | awk '{print $1}')
  ctest_total=$(echo "$summary" | awk '{print $NF}')
  passed=$((passed + ctest_total - ctest_failed))
  failed=$((failed + ctest_failed))
  [ "$ctest_failed" -eq 0 ] || failures+=("ctest")
else
  failed=$((failed + 1))
  failures+=("ctest (no summary)")
fi
rm -f "$ctest_log"
if [ -x scripts/fuzz.sh ]; then
  stage "fuzz" scripts/fuzz.sh "${FUZZ_SECONDS:-15}"
fi
openai_tests() {  # the official openai npm client against a real `dte serve`
  (cd tests/system/openai && DTE_BINARY="$(cd ../../.. && pwd)/$build/dte" node --test --test-concurrency=1)
}
stage "openai client" openai_tests
if [ -x tests/peer/run_peer_test.sh ]; then
  stage "llama.cpp peer" tests/peer/run_peer_test.sh "$build/dte" "$build/peers"
fi

if [ ${#failures[@]} -gt 0 ]; then
  echo "failed stages: ${failures[*]}"
fi
echo "tests: ${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
