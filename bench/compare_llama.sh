#!/usr/bin/env bash
# dte perf against llama.cpp's llama-bench on the same GGUF files, in the same run, plus a quick
# STREAM-style triad for the machine's memory bandwidth. Prints markdown on stdout (paste it into
# docs/performance.md); progress on stderr; raw outputs kept in $OUT.
#
#   bench/compare_llama.sh [options] MODEL.gguf...
#     --llama-bench PATH   llama-bench binary (or env LLAMA_BENCH; scripts/build_llama_peer.sh makes it)
#     --dte PATH           dte binary (or env DTE; default build/dte)
#     -t N[,N...]  threads (2; a list runs each)   -p N  prompt tokens (512)
#     -n N  generated tokens (128)    -r N  repetitions (3)
#     --no-stream          skip the triad
#
# Both tools: one untimed warm-up, then N repetitions from a fresh state with seeded/random ids;
# prefill = one batch of -p tokens (logits for the last only), decode = -n single-token steps.
# Medians are quoted (llama-bench's own table shows means). A peer that crashes (e.g. "Illegal
# instruction") is reported as such in the table, not hidden. The load average is printed before
# each run: on a shared machine, threads that wait on each other (both tools) suffer from other
# work far more than a single thread does.
set -uo pipefail

llama_bench=${LLAMA_BENCH:-}
dte=${DTE:-build/dte}
threads=2 prompt=512 gen=128 repeat=3 stream=1
models=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --llama-bench) llama_bench=$2; shift 2 ;;
    --dte) dte=$2; shift 2 ;;
    -t) threads=$2; shift 2 ;;
    -p) prompt=$2; shift 2 ;;
    -n) gen=$2; shift 2 ;;
    -r) repeat=$2; shift 2 ;;
    --no-stream) stream=0; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) models+=("$1"); shift ;;
  esac
done
[[ ${#models[@]} -gt 0 ]] || { echo "usage: $0 [options] MODEL.gguf..." >&2; exit 2; }
[[ -x $dte ]] || { echo "dte binary not found: $dte (set DTE or --dte)" >&2; exit 2; }
[[ -n $llama_bench && -x $llama_bench ]] || { echo "llama-bench not found: '$llama_bench' (set LLAMA_BENCH or --llama-bench)" >&2; exit 2; }
out=${OUT:-$(mktemp -d /tmp/compare_llama.XXXXXX)}
mkdir -p "$out"
echo "raw outputs in $out" >&2

# Median of llama-bench's per-repetition tokens/s for the test with n_prompt/n_gen as given.
llama_median() {  # json_file n_prompt n_gen
  python3 - "$@" <<'PY'
import json, statistics, sys
path, n_prompt, n_gen = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
try:
    rows = json.load(open(path))
except Exception:
    print("-"); sys.exit()
for r in rows:
    if r["n_prompt"] == n_prompt and r["n_gen"] == n_gen:
        print("%.2f" % statistics.median(r["samples_ts"])); break
else:
    print("-")
PY
}
jget() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2" 2>/dev/null || echo -; }
max_rss() { sed -n 's/^\s*Maximum resident set size (kbytes): \([0-9]*\)/\1/p' "$1" 2>/dev/null | awk '{printf "%.0f", $1/1024}'; }

# --- machine -----------------------------------------------------------------------------
cpu=$(lscpu | sed -n 's/^Model name:\s*//p' | head -1)
flags=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|fma|f16c|avx512f|avx512bw|avx512vl|avx512_bf16|avx512_vnni|avx512_fp16|avx_vnni|amx_tile|amx_bf16|amx_int8)$' | tr '\n' ' ')
echo "## Run of $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "* machine: $cpu (family $(lscpu | sed -n 's/^CPU family:\s*//p'), model $(lscpu | sed -n 's/^Model:\s*//p')), $(nproc) logical CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, $(uname -r)"
echo "* ISA flags: $flags"
echo "* dte: commit $(git -C "$(dirname "$0")/.." rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$(dirname "$0")/.." diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
echo "* command: \`$0 -t $threads -p $prompt -n $gen -r $repeat ${models[*]}\`"
echo

# --- memory bandwidth: STREAM-style triad a[i] = b[i] + s*c[i], 3 x 160 MB arrays ----------
declare -A triad
if [[ $stream == 1 ]]; then
  cat > "$out/triad.c" <<'C'
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
int main(void) {
  const long n = 20L * 1000 * 1000;  /* 160 MB per array, far beyond any cache here */
  double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *c = malloc(n * sizeof *c);
  #pragma omp parallel for
  for (long i = 0; i < n; ++i) { a[i] = 0; b[i] = 1; c[i] = 2; }
  double best = 1e30;
  for (int k = 0; k < 10; ++k) {
    double t = omp_get_wtime();
    #pragma omp parallel for
    for (long i = 0; i < n; ++i) a[i] = b[i] + 3.0 * c[i];
    t = omp_get_wtime() - t;
    if (t < best) best = t;
  }
  /* STREAM counts 3 arrays moved (2 reads + 1 write), not the write-allocate read. */
  printf("%.2f\n", 3.0 * n * sizeof(double) / best / 1e9);
  return a[n / 2] == 7.0 ? 0 : 1;
}
C
  if gcc -O3 -march=native -fopenmp "$out/triad.c" -o "$out/triad" 2>"$out/triad.log"; then
    for t in ${threads//,/ }; do
      triad[$t]=$(OMP_NUM_THREADS=$t "$out/triad")
      echo "* memory bandwidth: triad ${triad[$t]} GB/s with $t thread(s) (best of 10; \`gcc -O3 -march=native -fopenmp\`, source in the script)"
    done
  else
    echo "* memory bandwidth: triad did not build (see $out/triad.log)"
  fi
  echo
fi

# --- the runs -----------------------------------------------------------------------------
calc() { python3 -c "import sys
a = sys.argv[2:]
try: print($1)
except Exception: print('-')" "$@"; }
fmt2() { calc '"%.2f" % float(a[0])' "$1"; }

rows=() details=() llama_build="" dte_isa=""
for t in ${threads//,/ }; do
  for m in "${models[@]}"; do
    name=$(basename "$m") tag="$(basename "$m").t$t"
    load=$(cut -d' ' -f1 /proc/loadavg)
    echo "== dte perf $name -t $t (load $load)" >&2
    /usr/bin/time -v -o "$out/$tag.dte.time" "$dte" perf --model "$m" --prompt-tokens "$prompt" --gen-tokens "$gen" \
      --threads "$t" --repeat "$repeat" --json >"$out/$tag.dte.json" 2>"$out/$tag.dte.err"
    dte_rc=$?
    echo "== llama-bench $name -t $t" >&2
    /usr/bin/time -v -o "$out/$tag.llama.time" "$llama_bench" -m "$m" -p "$prompt" -n "$gen" -t "$t" -r "$repeat" \
      -o json >"$out/$tag.llama.json" 2>"$out/$tag.llama.err"
    llama_rc=$?

    type=$(jget "$out/$tag.dte.json" weight_type)
    dpp=$(fmt2 "$(jget "$out/$tag.dte.json" prefill_tok_s)")
    dtg=$(fmt2 "$(jget "$out/$tag.dte.json" decode_tok_s)")
    [[ -n $dte_isa ]] || dte_isa=$(jget "$out/$tag.dte.json" cpu_features)
    [[ $dte_rc == 0 ]] || { dpp="failed (rc $dte_rc)"; dtg=$dpp; }
    if [[ $llama_rc == 0 ]]; then
      lpp=$(llama_median "$out/$tag.llama.json" "$prompt" 0)
      ltg=$(llama_median "$out/$tag.llama.json" 0 "$gen")
      [[ -n $llama_build ]] || llama_build=$(calc '"%s (build %s), backends %s" % tuple(__import__("json").load(open(a[0]))[0][k] for k in ("build_commit", "build_number", "backends"))' "$out/$tag.llama.json")
    else
      why=$(grep -h -m1 -oE 'Illegal instruction|Segmentation fault|Command terminated by signal [0-9]+' "$out/$tag.llama.time" "$out/$tag.llama.err" | head -1)
      lpp="crashed (rc $llama_rc${why:+, $why})"; ltg=$lpp
    fi
    rows+=("| $name | $type | $t | $load | pp$prompt | $dpp | $lpp | $(calc '"%.2f" % (float(a[0]) / float(a[1]))' "$dpp" "$lpp") |")
    rows+=("| $name | $type | $t | $load | tg$gen | $dtg | $ltg | $(calc '"%.2f" % (float(a[0]) / float(a[1]))' "$dtg" "$ltg") |")

    bpt=$(jget "$out/$tag.dte.json" weight_bytes_per_token)
    tri=${triad[$t]:-}
    gb() { calc '"%.2f GB/s" % (float(a[0]) * float(a[1]) / 1e9) + ("" if len(a) < 3 or not a[2] else " (%.0f%%)" % (100 * float(a[0]) * float(a[1]) / 1e9 / float(a[2])))' "$bpt" "$1" "$tri"; }
    details+=("| $name | $t | $(calc '"%.1f" % (float(a[0]) / 1e6)' "$bpt") | $(gb "$dtg") | $(gb "$ltg") | $(max_rss "$out/$tag.dte.time") | $(max_rss "$out/$tag.llama.time") |")
  done
done

echo "* dte CPU features: ${dte_isa:-no successful run}"
echo "* llama.cpp: ${llama_build:-no successful run}"
echo
echo "Medians of $repeat repetitions; 'load' is the 1-minute load average just before the pair ran."
echo
echo "| model | weights | threads | load | test | dte tok/s | llama.cpp tok/s | dte / llama.cpp |"
echo "|---|---|---:|---:|---|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
echo
echo "Decode as memory traffic: weight bytes read per token × median decode tokens/s (share of the triad"
echo "bandwidth at the same thread count), and peak RSS of each process (\`/usr/bin/time -v\`):"
echo
echo "| model | threads | MB read per token | dte | llama.cpp | dte peak RSS MiB | llama.cpp peak RSS MiB |"
echo "|---|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${details[@]}"
