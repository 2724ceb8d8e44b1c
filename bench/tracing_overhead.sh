#!/usr/bin/env bash
# Tracing overhead of `dte serve`: two workers on the same model, one recording every request
# (--trace-sample-ratio 1: a worker.request span plus its engine.* / cache.* spans into the
# in-memory trace store), one recording none (--trace-sample-ratio 0: the engine still takes
# its timestamps, nothing is built), driven alternately by the same `dte bench` closed loop.
# Prints the output tok/s of each by round and the median of the per-round ratios
# sampled/unsampled (the two runs of a round are back to back, so the ratio cancels slow drifts);
# progress on stderr; raw JSON reports in $OUT. The workers run without the state cache by default:
# every round repeats the same prompts, and cache hits would make later rounds faster.
#
#   bench/tracing_overhead.sh [options] [MODEL]     (default models/tiny-rwkv-5v2-730K-FP16.bin)
#     -r N   rounds, each runs both workers once, order alternating (5)
#     -c N   concurrent users (64)          -d S  seconds per run (10)
#     -w N   prompt words (20)              -n N  max tokens (32)
#     --dte-args "..."  extra `dte serve` flags for both (default "--threads 1 --no-cache")
#   env DTE (default build/dte)
set -uo pipefail

dte=${DTE:-build/dte}
model=models/tiny-rwkv-5v2-730K-FP16.bin
rounds=5 users=64 duration=10 words=20 tokens=32 dte_args="--threads 1 --no-cache"
while [[ $# -gt 0 ]]; do
  case $1 in
    -r) rounds=$2; shift 2 ;;
    -c) users=$2; shift 2 ;;
    -d) duration=$2; shift 2 ;;
    -w) words=$2; shift 2 ;;
    -n) tokens=$2; shift 2 ;;
    --dte-args) dte_args=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) model=$1; shift ;;
  esac
done
[[ -x $dte ]] || { echo "dte binary not found: $dte (set DTE)" >&2; exit 2; }
[[ -f $model ]] || { echo "model not found: $model" >&2; exit 2; }
out=${OUT:-$(mktemp -d /tmp/tracing_overhead.XXXXXX)}
mkdir -p "$out"
echo "raw reports in $out" >&2
base=$((20000 + RANDOM % 20000))
declare -A port=([sampled]=$base [unsampled]=$((base + 1)))
declare -A ratio=([sampled]=1 [unsampled]=0)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; }
trap cleanup EXIT

for name in sampled unsampled; do
  # shellcheck disable=SC2086  # $dte_args holds several flags
  "$dte" serve --model "$model" --model-name demo --port "${port[$name]}" --log-level warning \
    --trace-sample-ratio "${ratio[$name]}" $dte_args >"$out/$name.log" 2>&1 &
  pids+=($!)
done
for name in sampled unsampled; do
  ok=0
  for _ in $(seq 1 300); do
    curl -sf "http://127.0.0.1:${port[$name]}/health" >/dev/null 2>&1 && { ok=1; break; }
    sleep 0.2
  done
  [[ $ok == 1 ]] || { echo "[$name] did not become ready; see $out/$name.log" >&2; exit 1; }
done

drive() {  # name json|-
  "$dte" bench --url "http://127.0.0.1:${port[$1]}" --users "$users" --duration "$3" \
    --prompt-words "$words" --max-tokens "$tokens" --temperature 0 -q --json "$2"
}
for name in sampled unsampled; do drive "$name" /dev/null 3 >/dev/null 2>&1; done  # warm-up
for ((r = 1; r <= rounds; r++)); do
  order=(sampled unsampled)
  ((r % 2 == 0)) && order=(unsampled sampled)
  for name in "${order[@]}"; do
    echo "[$name] round $r/$rounds (${duration}s; load $(cut -d' ' -f1 /proc/loadavg))" >&2
    drive "$name" "$out/$name-r$r.json" "$duration"
  done
done
spans=$(curl -s "http://127.0.0.1:${port[sampled]}/v1/traces?limit=1" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["stored_spans"])' 2>/dev/null)
echo "sampled worker's trace store holds ${spans:-?} spans" >&2

python3 - "$out" "$rounds" <<'PY'
import json, os, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
reps = {name: [json.load(open(os.path.join(out, f"{name}-r{r}.json"))) for r in range(1, rounds + 1)]
        for name in ("sampled", "unsampled")}
# The two workers of a round ran back to back, so their ratio cancels slow drifts of the machine;
# the median over rounds is the figure to quote.
pair = [s["output_tokens_per_s"] / u["output_tokens_per_s"]
        for s, u in zip(reps["sampled"], reps["unsampled"])]
print("| workers | runs | output tok/s (median; by round) | requests/s (median) | errors |")
print("|---|---:|---|---:|---:|")
for name, label in (("sampled", "--trace-sample-ratio 1"), ("unsampled", "--trace-sample-ratio 0")):
    tok = [r["output_tokens_per_s"] for r in reps[name]]
    rps = [r["requests_per_s"] for r in reps[name]]
    print(f"| {label} | {len(tok)} | {statistics.median(tok):.0f} ({', '.join(f'{x:.0f}' for x in tok)}) "
          f"| {statistics.median(rps):.1f} | {sum(r['errors'] for r in reps[name])} |")
print(f"| sampled / unsampled, per round | | {', '.join(f'{x:.3f}' for x in pair)} | "
      f"median **{statistics.median(pair):.3f}** | |")
PY
