#!/usr/bin/env bash
# Serving benchmark: `dte serve` and (when its binary exists) llama.cpp's `llama-server` on the
# same GGUF file, driven by `dte bench` with the same closed-loop load, in the same run.
# Prints a markdown table of medians on stdout; progress on stderr; raw JSON reports in $OUT.
#
#   bench/serve_bench.sh [options] MODEL.gguf
#     -c N[,N...]   concurrent streams (1,16,64)      -r N  repetitions per level (3)
#     -w N          prompt words (100)                -n N  output tokens (64)
#     -d S[,S...]   seconds per level, one per -c entry or one for all (30)
#     --dte-args "..."     extra `dte serve` flags (default "--threads 2 --max-batch 64")
#     --llama-args "..."   extra llama-server flags (default "-np 16 -t 2 -c 16384")
#     --bench-args "..."   extra `dte bench` flags for every run (e.g. "--temperature 0")
#     --no-llama           dte only
#   env DTE (default build/dte), LLAMA_SERVER (default /tmp/llama-peer/src/build/bin/llama-server)
#
# Each server gets one untimed 5 s warm-up at the first level before its measured runs.
# Requests are streamed completions with ignore_eos, so every one generates exactly -n tokens.
set -uo pipefail

dte=${DTE:-build/dte}
llama_server=${LLAMA_SERVER:-/tmp/llama-peer/src/build/bin/llama-server}
levels=1,16,64 repeat=3 words=100 tokens=64 durations=30 llama=1
dte_args="--threads 2 --max-batch 64" llama_args="-np 16 -t 2 -c 16384" bench_args=""
model=""
while [[ $# -gt 0 ]]; do
  case $1 in
    -c) levels=$2; shift 2 ;;
    -r) repeat=$2; shift 2 ;;
    -w) words=$2; shift 2 ;;
    -n) tokens=$2; shift 2 ;;
    -d) durations=$2; shift 2 ;;
    --dte-args) dte_args=$2; shift 2 ;;
    --llama-args) llama_args=$2; shift 2 ;;
    --bench-args) bench_args=$2; shift 2 ;;
    --no-llama) llama=0; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) model=$1; shift ;;
  esac
done
[[ -n $model ]] || { echo "usage: $0 [options] MODEL.gguf" >&2; exit 2; }
[[ -x $dte ]] || { echo "dte binary not found: $dte (set DTE)" >&2; exit 2; }
if [[ $llama == 1 && ! -x $llama_server ]]; then
  echo "llama-server not found at $llama_server: dte only" >&2
  llama=0
fi
out=${OUT:-$(mktemp -d /tmp/serve_bench.XXXXXX)}
mkdir -p "$out"
echo "raw reports in $out" >&2
IFS=, read -ra level_list <<<"$levels"
IFS=, read -ra duration_list <<<"$durations"
port=$((20000 + RANDOM % 20000))

wait_ready() {  # url
  for _ in $(seq 1 600); do
    curl -sf "$1" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  return 1
}

# shellcheck disable=SC2086  # $bench_args holds several flags
run_levels() {  # name
  local name=$1 i c d
  "$dte" bench --url "http://127.0.0.1:$port" --users "${level_list[0]}" --duration 5 \
    --prompt-words "$words" --max-tokens "$tokens" -q $bench_args >/dev/null 2>&1  # warm-up
  for ((r = 1; r <= repeat; r++)); do
    for i in "${!level_list[@]}"; do
      c=${level_list[$i]}
      d=${duration_list[$i]:-${duration_list[0]}}
      echo "[$name] $c streams, run $r/$repeat (${d}s; load $(cut -d' ' -f1 /proc/loadavg))" >&2
      "$dte" bench --url "http://127.0.0.1:$port" --users "$c" --duration "$d" \
        --prompt-words "$words" --max-tokens "$tokens" -q $bench_args --json "$out/$name-c$c-r$r.json"
    done
  done
}

serve() {  # name command...
  local name=$1
  shift
  "$@" >"$out/$name.log" 2>&1 &
  local pid=$!
  if wait_ready "http://127.0.0.1:$port/health"; then
    run_levels "$name"
  else
    echo "[$name] did not become ready; see $out/$name.log" >&2
  fi
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  port=$((port + 1))
}

# shellcheck disable=SC2086  # the extra flags are meant to split
serve dte "$dte" serve --model "$model" --port "$port" --log-level warning $dte_args
if [[ $llama == 1 ]]; then
  # shellcheck disable=SC2086
  serve llama "$llama_server" -m "$model" --port "$port" $llama_args
fi

python3 - "$out" "$levels" "$repeat" <<'PY'
import glob, json, os, statistics, sys
out, levels, repeat = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3])
def med(xs):
    return statistics.median(xs) if xs else float("nan")
print("| server | streams | runs | requests | errors | output tok/s | TTFT p50 (s) | TTFT p99 (s) | TPOT p50 (ms) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for name in ("dte", "llama"):
    for c in levels:
        reps = [json.load(open(f)) for f in sorted(glob.glob(os.path.join(out, f"{name}-c{c}-r*.json")))]
        if not reps:
            continue
        print(f"| {name} | {c} | {len(reps)} | {med([r['requests'] for r in reps]):.0f} "
              f"| {sum(r['errors'] for r in reps)} "
              f"| {med([r['output_tokens_per_s'] for r in reps]):.1f} "
              f"| {med([r['ttft_ms']['p50'] for r in reps]) / 1e3:.3f} "
              f"| {med([r['ttft_ms']['p99'] for r in reps]) / 1e3:.3f} "
              f"| {med([r['tpot_ms']['p50'] for r in reps]):.2f} |")
PY
