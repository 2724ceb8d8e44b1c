#!/usr/bin/env bash
# Paired A/B of two dte builds on decode speed, for kernel work on a noisy machine: the host's
# memory bandwidth here swings between ~50 and ~90 GB/s within minutes (docs/performance.md,
# "Noise"), far more than most kernel changes. So the two binaries run alternately, short runs,
# round after round, and the verdict is the median of the per-round ratios B/A, which the
# swings move much less than the medians of either side.
#
#   bench/ab_decode.sh [-r ROUNDS] [-n GEN_TOKENS] [-t THREADS] [--batch 2,4,8] A/dte B/dte M.gguf...
#
# Prints a progress line per round, then per model and batch size the median tok/s of A and B
# and the median paired ratio B/A (batch 1 is dte perf's single-sequence decode; --batch adds
# ForwardBatch steps of that many sequences).
set -euo pipefail
rounds=8 gen=64 threads=2 batch=""
while [[ $# -gt 0 ]]; do
  case $1 in
    -r) rounds=$2; shift 2 ;;
    -n) gen=$2; shift 2 ;;
    -t) threads=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) break ;;
  esac
done
if [[ $# -lt 3 ]]; then
  echo "usage: bench/ab_decode.sh [-r ROUNDS] [-n GEN] [-t THREADS] [--batch B,...] A B MODEL..." >&2
  exit 2
fi
a=$1 b=$2; shift 2
for bin in "$a" "$b"; do [[ -x $bin ]] || { echo "ab_decode: $bin is not executable" >&2; exit 2; }; done
extra=()
[[ -n $batch ]] && extra=(--batch "$batch")

results=$(mktemp)
trap 'rm -f "$results"' EXIT
for ((round = 1; round <= rounds; ++round)); do
  echo "ab_decode: round $round/$rounds" >&2
  for model in "$@"; do
    for side in A B; do
      bin=$a
      [[ $side == B ]] && bin=$b
      json=$("$bin" perf --model "$model" --prompt-tokens 8 --gen-tokens "$gen" --threads "$threads" \
               --repeat 1 "${extra[@]}" --json 2>/dev/null | tr -d '\n')
      echo "$round $(basename "$model") $side $json" >> "$results"
    done
  done
done

python3 - "$results" "$a" "$b" <<'PY'
import json, statistics, sys
from collections import defaultdict
path, a, b = sys.argv[1:4]
runs = defaultdict(dict)  # (model, side) -> round -> {batch: tok/s}
for line in open(path):
    rnd, model, side, js = line.split(" ", 3)
    d = json.loads(js)
    rates = {1: d["decode_tok_s"]}
    rates.update({int(k): v for k, v in d.get("batch_decode_tok_s", {}).items() if int(k) != 1})
    runs[(model, side)][rnd] = rates
print(f"A = {a}\nB = {b}\n")
print("| model | batch | A tok/s | B tok/s | B/A (median of paired rounds) |")
print("|---|---:|---:|---:|---:|")
for model in sorted({m for m, _ in runs}):
    ra, rb = runs[(model, "A")], runs[(model, "B")]
    for batch in sorted(next(iter(ra.values()))):
        va = [r[batch] for r in ra.values()]
        vb = [r[batch] for r in rb.values()]
        ratio = [rb[k][batch] / ra[k][batch] for k in ra if k in rb]
        print(f"| {model} | {batch} | {statistics.median(va):.1f} | {statistics.median(vb):.1f} "
              f"| {statistics.median(ratio):.3f} |")
PY
