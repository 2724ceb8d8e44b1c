#!/usr/bin/env bash
# Tracing overhead of `dte serve`: two workers on the same model, one recording every request
# (--trace-sample-ratio 1: a worker.request span plus its engine.* / cache.* spans into the
# in-memory trace store), one recording none (--trace-sample-ratio 0: the engine still takes
# its timestamps, nothing is built), driven alternately by the same `dte bench` closed loop.
# Prints the median output tok/s and requests/s of each and the ratio sampled/unsampled;
# progress on stderr; raw JSON reports in $OUT.
#
#   bench/tracing_overhead.sh [options] [MODEL]     (default models/tiny-rwkv-5v2-730K-FP16.bin)
#     -r N   rounds, each runs both workers once, order alternating (3)
#     -c N   concurrent users (64)          -d S  seconds per run (10)
#     -w N   prompt words (20)              -n N  max tokens (32)
#     --dte-args "..."  extra `dte serve` flags for both (default "--threads 1")
#   env DTE (default build/dte)
set -uo pipefail

dte=${DTE:-build/dte}
model=models/tiny-rwkv-5v2-730K-FP16.bin
rounds=3 users=64 duration=10 words=20 tokens=32 dte_args="--threads 1"
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
import glob, json, os, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
res = {}
for name in ("sampled", "unsampled"):
    reps = [json.load(open(f)) for f in sorted(glob.glob(os.path.join(out, f"{name}-r*.json")))]
    rps = [r["requests_per_s"] for r in reps]
    tok = [r["output_tokens_per_s"] for r in reps]
    res[name] = (statistics.median(tok), statistics.median(rps), tok, rps,
                 sum(r["errors"] for r in reps))
print("| workers | runs | output tok/s (median; runs) | requests/s (median; runs) | errors |")
print("|---|---:|---|---|---:|")
for name, label in (("sampled", "--trace-sample-ratio 1"), ("unsampled", "--trace-sample-ratio 0")):
    t, q, ts, qs, e = res[name]
    print(f"| {label} | {len(ts)} | {t:.0f} ({', '.join(f'{x:.0f}' for x in ts)}) "
          f"| {q:.1f} ({', '.join(f'{x:.1f}' for x in qs)}) | {e} |")
print(f"| ratio sampled / unsampled | | {res['sampled'][0] / res['unsampled'][0]:.3f} "
      f"| {res['sampled'][1] / res['unsampled'][1]:.3f} | |")
PY
