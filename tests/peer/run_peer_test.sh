#!/usr/bin/env bash
# Peer test: GGUF files written by dte load in llama.cpp and give the same logits.
#   1. the tiny trained v7 and v6 models, .bin -> GGUF with `dte convert`, against the float64
#      reference logits (FP32: <= 1e-4; FP16 and Q8_0 copies are reported with looser bounds);
#   2. `dte model random` models (rwkv7 and rwkv6, World vocab, several heads) against dte's
#      own logits for the same tokens (`dte eval`).
#
#   tests/peer/run_peer_test.sh [DTE_BINARY] [PEER_DIR]
# Exit status: 0 pass (or skipped: npm unreachable, printed as SKIP), 1 failure.
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DTE="${1:-$REPO/build/dte}"
PEER_DIR="${2:-$REPO/build/peers}"
TINY="$REPO/../shared/models/tiny"
[[ -x "$DTE" ]] || { echo "FAIL: no dte binary at $DTE (build it, or pass its path)"; exit 1; }

SETUP="$("$REPO/scripts/llama_peer.sh" "$PEER_DIR")"
case $? in
  0) ;;
  2) echo "SKIP: the npm registry is unreachable, so llama.cpp is not available"; exit 0 ;;
  *) echo "FAIL: scripts/llama_peer.sh failed"; exit 1 ;;
esac
eval "$SETUP"  # HARNESS=..., BINS=...

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
failures=0
check() {  # check NAME MODEL REFERENCE TOLERANCE [MODE]
  local name=$1 model=$2 ref=$3 tol=$4 mode=${5:-batch}
  if "$HARNESS" --bins "$BINS" --model "$model" --mode "$mode" --compare "$ref" --tolerance "$tol" >"$WORK/out.json" 2>"$WORK/err"; then
    echo "PASS $name: $(grep -o 'max |diff| = [^ ]*' "$WORK/err")"
  else
    echo "FAIL $name: $(tail -n 3 "$WORK/err")"
    failures=$((failures + 1))
  fi
}

for stem in 7v0-834K 6v0-1m; do
  ref="$TINY/expected-logits-$stem.bin"
  "$DTE" convert "$TINY/tiny-rwkv-$stem-FP32.bin" "$WORK/$stem.gguf" 2>/dev/null || { echo "FAIL convert $stem"; exit 1; }
  check "$stem FP32 -> GGUF (batch)" "$WORK/$stem.gguf" "$ref" 1e-4 batch
  check "$stem FP32 -> GGUF (token by token)" "$WORK/$stem.gguf" "$ref" 1e-4 serial
  "$DTE" convert "$TINY/tiny-rwkv-$stem-FP16.bin" "$WORK/$stem-f16.gguf" 2>/dev/null || { echo "FAIL convert $stem FP16"; exit 1; }
  check "$stem FP16 -> GGUF" "$WORK/$stem-f16.gguf" "$ref" 2e-2
  "$DTE" convert "$TINY/tiny-rwkv-$stem-FP32.bin" "$WORK/$stem-q8.gguf" --type q8_0 2>/dev/null || { echo "FAIL convert $stem q8_0"; exit 1; }
  check "$stem FP32 -> GGUF q8_0" "$WORK/$stem-q8.gguf" "$ref" 0.1
done

# The other direction: GGUFs written by llama.cpp itself (its model saver, from the loaded
# v7 and v6 models) read in dte and give llama.cpp's logits.
for stem in 7v0-834K 6v0-1m; do
  if "$HARNESS" --bins "$BINS" --model "$WORK/$stem.gguf" --save "$WORK/$stem-llama-saved.gguf" >/dev/null 2>"$WORK/err" &&
     "$DTE" eval --model "$WORK/$stem-llama-saved.gguf" --tokens 34,105,110 >"$WORK/dte-saved.json" 2>"$WORK/err"; then
    check "$stem llama.cpp-saved GGUF read by dte (vs llama.cpp)" "$WORK/$stem.gguf" "$WORK/dte-saved.json" 1e-4
  else
    echo "FAIL $stem llama.cpp-saved GGUF: $(tail -n 3 "$WORK/err")"
    failures=$((failures + 1))
  fi
done

tokens="34,105,110,2,17,300,65000,261,11"
for arch in rwkv7 rwkv6; do
  for type in f32 f16; do
    model="$WORK/random-$arch-$type.gguf"
    "$DTE" model random --arch "$arch" --layers 2 --embd 128 --type "$type" --seed 3 --out "$model" 2>/dev/null \
      || { echo "FAIL dte model random --arch $arch"; exit 1; }
    "$DTE" eval --model "$model" --tokens "$tokens" >"$WORK/dte.json" || { echo "FAIL dte eval $arch"; exit 1; }
    tol=1e-4; [[ $type == f16 ]] && tol=2e-2
    if "$HARNESS" --bins "$BINS" --model "$model" --tokens "$tokens" --compare "$WORK/dte.json" --tolerance "$tol" \
        >/dev/null 2>"$WORK/err"; then
      echo "PASS random $arch L2 D128 $type vs dte eval: $(grep -o 'max |diff| = [^ ]*' "$WORK/err")"
    else
      echo "FAIL random $arch L2 D128 $type: $(tail -n 3 "$WORK/err")"
      failures=$((failures + 1))
    fi
  done
done

if ((failures > 0)); then
  echo "peer test: $failures failure(s)"
  exit 1
fi
echo "peer test: all passed"
