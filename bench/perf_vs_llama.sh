#!/usr/bin/env bash
# `make bench`, second half: the dte-vs-llama.cpp table of docs/performance.md. Builds the
# llama.cpp peer if it is missing (scripts/build_llama_peer.sh), writes the random RWKV-7 models
# if they are missing, then runs bench/compare_llama.sh on them and prints its markdown.
#
#   bench/perf_vs_llama.sh [compare_llama.sh options]      e.g. -t 2 -r 3 --batch 1,8,32,64
#   MODELS=/tmp/dte-models SIZES="0.1b 0.4b" TYPES="f16 q8_0" PEER=/tmp/llama-peer DTE=build/dte
set -euo pipefail
cd "$(dirname "$0")/.."
dte=${DTE:-build/dte}
models_dir=${MODELS:-/tmp/dte-models}
peer=${PEER:-/tmp/llama-peer}
sizes=${SIZES:-0.1b 0.4b}
types=${TYPES:-f16 q8_0}

llama_bench=$peer/src/build/bin/llama-bench
if [[ ! -x $llama_bench || ! -x $peer/src/build/bin/llama-batched-bench ]]; then
  echo "perf_vs_llama: building the llama.cpp peer in $peer (once; several minutes)" >&2
  JOBS=${JOBS:-2} scripts/build_llama_peer.sh "$peer" >&2
fi

mkdir -p "$models_dir"
files=()
for size in $sizes; do
  case $size in
    0.1b) shape=(--layers 12 --embd 768) ;;
    0.4b) shape=(--layers 24 --embd 1024) ;;
    *) echo "unknown size $size (0.1b or 0.4b)" >&2; exit 2 ;;
  esac
  for type in $types; do
    f=$models_dir/rwkv7-$size-$type.gguf
    if [[ ! -s $f ]]; then
      echo "perf_vs_llama: writing $f" >&2
      "$dte" model random --arch rwkv7 "${shape[@]}" --type "$type" --out "$f" >&2
    fi
    files+=("$f")
  done
done

args=("$@")
[[ ${#args[@]} -gt 0 ]] || args=(-t 2 -p 512 -n 128 -r 3 --batch 1,8,32,64)
echo "perf_vs_llama: $dte perf --roofline, then compare_llama.sh ${args[*]} ${files[*]}" >&2
"$dte" perf --roofline --threads 2
echo
LLAMA_BENCH=$llama_bench DTE=$dte bench/compare_llama.sh "${args[@]}" "${files[@]}"
