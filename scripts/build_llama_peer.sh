#!/usr/bin/env bash
# Builds llama.cpp's llama-bench and llama-batched-bench, the speed peer of docs/performance.md
# (see ../shared/peers/README.md). Test-time only: nothing of llama.cpp enters the product.
#
# The source comes from the npm registry only: node-llama-cpp ships the llama.cpp tree it was
# built from as a git bundle. Built natively (-DGGML_NATIVE=ON) for this machine's CPU, at nice 19
# so that other builds keep the cores.
#
#   scripts/build_llama_peer.sh [DIR]        DIR defaults to /tmp/llama-peer
#   JOBS=2 scripts/build_llama_peer.sh       parallel jobs (default 1)
#
# Prints the path of llama-bench at the end; pass it to bench/compare_llama.sh.
set -euo pipefail

dir=${1:-/tmp/llama-peer}
jobs=${JOBS:-1}
version=3.21.1

mkdir -p "$dir"
cd "$dir"
if [[ ! -d src ]]; then
  npm pack "node-llama-cpp@$version" "@node-llama-cpp/linux-x64@$version"
  mkdir -p nlc lib
  tar xzf "node-llama-cpp-$version.tgz" -C nlc
  tar xzf "node-llama-cpp-linux-x64-$version.tgz" -C lib
  git clone -q nlc/package/llama/gitRelease.bundle src
fi
cd src
nice -n 19 cmake -B build -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DGGML_NATIVE=ON
nice -n 19 cmake --build build -j"$jobs" --target llama-bench llama-batched-bench
echo "$dir/src/build/bin/llama-bench"
