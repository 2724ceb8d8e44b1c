#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) in build-fuzz/, writes their seed corpora
# and runs each target for SECONDS (default 15). Exits non-zero if any target crashes, leaks,
# times out or runs out of memory, and prints the reproducer's path and the command to replay it.
#
#   scripts/fuzz.sh [SECONDS]            all targets
#   FUZZ_TARGETS="gguf_fuzz" scripts/fuzz.sh 60
#
# Directories (all under build-fuzz/): seeds/<corpus>/ (regenerated every run), corpus/<target>/
# (what the fuzzer found interesting; kept between runs so coverage accumulates),
# artifacts/ (crash-*, timeout-*, oom-*, leak-* reproducers). Inputs committed under
# tests/fuzz/regressions/<target>/ (tiny files that once crashed) are replayed every run.
set -uo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-15}
build=${FUZZ_BUILD_DIR:-build-fuzz}
jobs=${JOBS:-2}
targets=(${FUZZ_TARGETS:-rwkvcpp_fuzz gguf_fuzz safetensors_fuzz world_vocab_fuzz})

# Which seed directory and input size limit each target uses.
seed_dir_of() {
  case $1 in
    rwkvcpp_fuzz) echo rwkvcpp ;;
    gguf_fuzz) echo gguf ;;
    safetensors_fuzz) echo safetensors ;;
    world_vocab_fuzz) echo world_vocab ;;
  esac
}
max_len_of() {
  case $1 in
    world_vocab_fuzz) echo 16384 ;;
    *) echo 65536 ;;
  esac
}

if ! command -v clang++ >/dev/null 2>&1; then
  echo "fuzz: clang++ not found (scripts/deps.sh installs clang and libclang-rt-14-dev)" >&2
  exit 1
fi

# Configure only when there is no clang fuzz build yet.
if ! grep -qs '^DTE_BUILD_FUZZ:BOOL=ON' "$build/CMakeCache.txt" ||
   ! grep -qs '^CMAKE_CXX_COMPILER:.*clang' "$build/CMakeCache.txt"; then
  echo "fuzz: configuring $build"
  rm -rf "$build"
  if ! CC=clang CXX=clang++ cmake -S . -B "$build" -DDTE_BUILD_FUZZ=ON -DDTE_BUILD_TESTS=OFF \
      -DDTE_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only" > "$build.cmake.log" 2>&1; then
    cat "$build.cmake.log"
    exit 1
  fi
fi
echo "fuzz: building (-j$jobs)"
if ! cmake --build "$build" -j"$jobs" --target "${targets[@]}" dte_fuzz_seeds > "$build/build.log" 2>&1; then
  tail -50 "$build/build.log"
  echo "fuzz: build failed (full log: $build/build.log)"
  exit 1
fi

fuzz_bin="$build/tests/fuzz"
seeds="$build/seeds"
rm -rf "$seeds"
world_vocab=""
for v in models/rwkv_vocab_v20230424.txt ../shared/tokenizers/rwkv_vocab_v20230424.txt; do
  [ -f "$v" ] && world_vocab=$v && break
done
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
status=0
# The generator reads back, binds and runs every model seed it writes: a failure here means a
# reader no longer accepts a valid file (the fuzzers still run, with what was written).
if ! "$fuzz_bin/dte_fuzz_seeds" "$seeds" $world_vocab; then
  echo "fuzz: FAILED: a seed model does not read back, bind or run (see above)"
  status=1
fi

mkdir -p "$build/artifacts"
for t in "${targets[@]}"; do
  corpus="$build/corpus/$t"
  mkdir -p "$corpus"
  dirs=("$corpus" "$seeds/$(seed_dir_of "$t")")
  [ -d "tests/fuzz/regressions/$t" ] && dirs+=("tests/fuzz/regressions/$t")
  log="$build/$t.log"
  "$fuzz_bin/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len="$(max_len_of "$t")" -print_final_stats=1 \
    -artifact_prefix="$build/artifacts/$t-" "${dirs[@]}" > "$log" 2>&1
  rc=$?
  runs=$(grep -ao 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
  speed=$(grep -ao 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$')
  cov=$(grep -aEo 'cov: [0-9]+' "$log" | tail -1 | grep -o '[0-9]*')
  if [ $rc -eq 0 ]; then
    printf 'fuzz: %-18s ok: %s runs in %ss, %s exec/s, coverage %s edges\n' "$t" "${runs:-?}" \
      "$seconds" "${speed:-?}" "${cov:-?}"
  else
    status=1
    echo "fuzz: $t FAILED (exit $rc); log: $log"
    grep -aE 'ERROR: |fuzz check failed|CHECK failed|runtime error|SUMMARY' "$log" | head -5
    repro=$(grep -ao 'Test unit written to [^ ]*' "$log" | tail -1 | sed 's/Test unit written to //')
    if [ -n "$repro" ]; then
      echo "fuzz: reproducer: $repro"
      echo "fuzz: replay with: $fuzz_bin/$t $repro"
    else
      tail -20 "$log"
    fi
  fi
done
exit $status
