#!/usr/bin/env bash
# dte perf against llama.cpp (llama-bench, and llama-batched-bench with --batch) on the same GGUF
# files, in the same run, plus a quick STREAM-style triad for the memory bandwidth. Prints markdown on
# stdout (for docs/performance.md); progress on stderr; raw outputs kept in $OUT (default: a mktemp dir).
#
#   bench/compare_llama.sh [options] MODEL.gguf...
#     --llama-bench PATH   llama-bench binary (or env LLAMA_BENCH; scripts/build_llama_peer.sh makes it)
#     --dte PATH           dte binary (or env DTE; default build/dte)
#     -t N[,N...]  threads (2; a list runs each)   -p N  prompt tokens (512)
#     -n N  generated tokens (128)    -r N  repetitions (3)
#     --no-stream          skip the triad
#     --batch B[,B...]     also aggregate decode with B sequences at once: dte perf --batch against
#                          llama-batched-bench (env LLAMA_BATCHED_BENCH; default: beside llama-bench)
#
# Both tools: one untimed warm-up, then N repetitions from a fresh state with seeded/random ids;
# prefill = one batch of -p tokens (logits for the last only), decode = -n single-token steps.
# Medians are quoted (llama-bench's own table shows means). A peer that crashes (e.g. "Illegal
# instruction") is reported as such in the table, not hidden. How busy the machine was just before
# each pair is printed with it: on a shared machine, threads that wait on each other (both tools)
# suffer from other work far more than a single thread does.
# Batched decode: dte advances B fresh states with one ForwardBatch call per step; llama-batched-bench
# prefills 128 tokens per sequence (untimed for S_TG), then decodes -n steps of B tokens. RWKV's
# cost per step does not depend on the position, so the two measure the same work. llama-batched-
# bench has no repetitions: it is run -r times and the median S_TG is quoted.
set -uo pipefail

llama_bench=${LLAMA_BENCH:-}
dte=${DTE:-build/dte}
threads=2 prompt=512 gen=128 repeat=3 stream=1 batch=""
llama_batched=${LLAMA_BATCHED_BENCH:-}
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
    --batch) batch=$2; shift 2 ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) models+=("$1"); shift ;;
  esac
done
[[ ${#models[@]} -gt 0 ]] || { echo "usage: $0 [options] MODEL.gguf..." >&2; exit 2; }
[[ -x $dte ]] || { echo "dte binary not found: $dte (set DTE or --dte)" >&2; exit 2; }
[[ -n $llama_bench && -x $llama_bench ]] || { echo "llama-bench not found: '$llama_bench' (set LLAMA_BENCH or --llama-bench)" >&2; exit 2; }
if [[ -n $batch ]]; then
  llama_batched=${llama_batched:-$(dirname "$llama_bench")/llama-batched-bench}
  [[ -x $llama_batched ]] || { echo "llama-batched-bench not found: '$llama_batched' (set LLAMA_BATCHED_BENCH)" >&2; exit 2; }
fi
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
# Share of all CPUs busy (with anything: other people's builds) over one second, while this
# script itself sleeps: how much the machine was already in use before a pair of runs.
busy_pct() {
  local a b
  read -ra a < <(grep '^cpu ' /proc/stat); sleep 1; read -ra b < <(grep '^cpu ' /proc/stat)
  local total=0 idle=$(( (b[4] + b[5]) - (a[4] + a[5]) ))
  for i in 1 2 3 4 5 6 7 8; do total=$(( total + b[i] - a[i] )); done
  echo $(( total > 0 ? 100 * (total - idle) / total : 0 ))
}
max_rss() { sed -n 's/^\s*Maximum resident set size (kbytes): \([0-9]*\)/\1/p' "$1" 2>/dev/null | awk '{printf "%.0f", $1/1024}'; }

# --- machine -----------------------------------------------------------------------------
cpu=$(lscpu | sed -n 's/^Model name:\s*//p' | head -1)
flags=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|fma|f16c|avx512f|avx512bw|avx512vl|avx512_bf16|avx512_vnni|avx512_fp16|avx_vnni|amx_tile|amx_bf16|amx_int8)$' | tr '\n' ' ')
echo "## Run of $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "* machine: $cpu (family $(lscpu | sed -n 's/^CPU family:\s*//p'), model $(lscpu | sed -n 's/^Model:\s*//p')), $(nproc) logical CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, $(uname -r)"
echo "* ISA flags: $flags"
echo "* dte binary: $dte (modified $(date -u -r "$dte" '+%Y-%m-%d %H:%M UTC'), sha256 $(sha256sum "$dte" | cut -c1-12))"
echo "* source tree at run time: commit $(git -C "$(dirname "$0")/.." rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$(dirname "$0")/.." diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
echo "* command: \`$0 -t $threads -p $prompt -n $gen -r $repeat${batch:+ --batch $batch} ${models[*]}\`"
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
      busy=$(busy_pct)
      triad[$t]=$(OMP_NUM_THREADS=$t "$out/triad")
      echo "* memory bandwidth: triad ${triad[$t]} GB/s with $t thread(s), machine $busy% busy before (best of 10; \`gcc -O3 -march=native -fopenmp\`, source in the script)"
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

# Aggregate decode for each batch size: dte perf --batch and llama-batched-bench, back to back.
batch_rows=()
batch_pair() {  # model threads
  local m=$1 t=$2 name tag busy max_b ctx rc i
  name=$(basename "$m") tag="$(basename "$m").t$t"
  max_b=$(tr ',' '\n' <<<"$batch" | sort -n | tail -1)
  ctx=$(( max_b * (128 + gen) ))
  busy="$(busy_pct)%"
  echo "== dte perf --batch $batch $name -t $t (machine busy $busy before)" >&2
  "$dte" perf --model "$m" --prompt-tokens 1 --gen-tokens "$gen" --threads "$t" --repeat "$repeat" \
    --batch "$batch" --json >"$out/$tag.dte-batch.json" 2>"$out/$tag.dte-batch.err"
  echo "== llama-batched-bench $name -t $t (x$repeat)" >&2
  : >"$out/$tag.llama-batch.jsonl"
  for ((i = 0; i < repeat; ++i)); do
    "$llama_batched" -m "$m" -c "$ctx" -b 2048 -ub 512 -npp 128 -ntg "$gen" -npl "$batch" -t "$t" \
      --output-format jsonl >"$out/$tag.llama-batch.$i.log" 2>&1
    rc=$?
    grep '^{"n_kv_max"' "$out/$tag.llama-batch.$i.log" >>"$out/$tag.llama-batch.jsonl"
    [[ $rc == 0 ]] || echo "{\"failed\": $rc}" >>"$out/$tag.llama-batch.jsonl"
  done
  while read -r line; do batch_rows+=("$line"); done < <(python3 - "$out/$tag.dte-batch.json" "$out/$tag.llama-batch.jsonl" "$name" "$t" "$busy" "$batch" <<'PY'
import json, statistics, sys
dte_path, llama_path, name, t, busy, batches = sys.argv[1:]
try:
    dte = {b["batch"]: b["decode_tok_s"] for b in json.load(open(dte_path))["batch_decode"]}
except Exception:
    dte = {}
llama, failed = {}, None
for line in open(llama_path):
    r = json.loads(line)
    if "failed" in r:
        failed = r["failed"]
    else:
        llama.setdefault(r["pl"], []).append(r["speed_tg"])
for b in [int(x) for x in batches.split(",")]:
    d = dte.get(b)
    l = statistics.median(llama[b]) if b in llama else None
    ds = "%.2f" % d if d is not None else "failed"
    ls = "%.2f" % l if l is not None else ("failed (rc %s)" % failed if failed is not None else "-")
    ratio = "%.2f" % (d / l) if d and l else "-"
    print(f"| {name} | {t} | {busy} | {b} | {ds} | {ls} | {ratio} |")
PY
)
}

rows=() details=() llama_build="" dte_isa=""
for t in ${threads//,/ }; do
  for m in "${models[@]}"; do
    name=$(basename "$m") tag="$(basename "$m").t$t"
    busy="$(busy_pct)%"
    echo "== dte perf $name -t $t (machine busy $busy before)" >&2
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
      if [[ -n $why || $llama_rc -gt 128 ]]; then lpp="crashed (rc $llama_rc${why:+, $why})"; else lpp="failed (rc $llama_rc)"; fi
      ltg=$lpp
    fi
    rows+=("| $name | $type | $t | $busy | pp$prompt | $dpp | $lpp | $(calc '"%.2f" % (float(a[0]) / float(a[1]))' "$dpp" "$lpp") |")
    rows+=("| $name | $type | $t | $busy | tg$gen | $dtg | $ltg | $(calc '"%.2f" % (float(a[0]) / float(a[1]))' "$dtg" "$ltg") |")

    bpt=$(jget "$out/$tag.dte.json" weight_bytes_per_token)
    tri=${triad[$t]:-}
    gb() { calc '"%.2f GB/s" % (float(a[0]) * float(a[1]) / 1e9) + ("" if len(a) < 3 or not a[2] else " (%.0f%%)" % (100 * float(a[0]) * float(a[1]) / 1e9 / float(a[2])))' "$bpt" "$1" "$tri"; }
    if [[ -n $batch ]]; then batch_pair "$m" "$t"; fi
    details+=("| $name | $t | $(calc '"%.1f" % (float(a[0]) / 1e6)' "$bpt") | $(gb "$dtg") | $(gb "$ltg") | $(max_rss "$out/$tag.dte.time") | $(max_rss "$out/$tag.llama.time") |")
  done
done

echo "* dte CPU features: ${dte_isa:-no successful run}"
echo "* llama.cpp: ${llama_build:-no successful run}"
echo
echo "Medians of $repeat repetitions; 'busy' is the share of all CPUs in use by other work in the second"
echo "before the pair ran (a snapshot: it says how noisy the run could be, not how noisy it was)."
echo
echo "| model | weights | threads | busy | test | dte tok/s | llama.cpp tok/s | dte / llama.cpp |"
echo "|---|---|---:|---:|---|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
echo
echo "Decode as memory traffic: weight bytes read per token × median decode tokens/s (share of the triad"
echo "bandwidth at the same thread count), and peak RSS of each process (\`/usr/bin/time -v\`):"
echo
echo "| model | threads | MB read per token | dte | llama.cpp | dte peak RSS MiB | llama.cpp peak RSS MiB |"
echo "|---|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${details[@]}"
if [[ -n $batch ]]; then
  echo
  echo "Aggregate decode tokens/s with B sequences decoding together (median of $repeat; dte: one"
  echo "ForwardBatch per step from fresh states; llama.cpp: llama-batched-bench S_TG after -npp 128):"
  echo
  echo "| model | threads | busy | batch | dte tok/s | llama.cpp tok/s | dte / llama.cpp |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  printf '%s\n' "${batch_rows[@]}"
fi
