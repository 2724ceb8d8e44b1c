#!/usr/bin/env bash
# Fetches llama.cpp as a test peer (npm registry only; see ../shared/peers/README.md) and builds
# the logits harness tests/peer/llama_logits.cc against it. Idempotent: an existing download or
# an up-to-date harness is reused.
#
#   scripts/llama_peer.sh [PEER_DIR]     (default: <repo>/build/peers)
#
# Prints the harness path and the library directory on stdout as two lines:
#   HARNESS=<dir>/llama_logits
#   BINS=<dir>/lib/package/bins/linux-x64
# Exit status: 0 ready, 2 npm registry unreachable (callers skip), 1 anything else.
set -euo pipefail

VERSION=3.21.1
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${1:-$REPO/build/peers}"
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
BINS="$DIR/lib/package/bins/linux-x64"
SRC="$DIR/src"
log() { echo "llama_peer: $*" >&2; }

if [[ ! -f "$DIR/.fetched-$VERSION" ]]; then
  command -v npm >/dev/null || { log "npm is not installed"; exit 2; }
  log "fetching node-llama-cpp@$VERSION and @node-llama-cpp/linux-x64@$VERSION from npm into $DIR"
  if ! (cd "$DIR" && timeout 600 npm pack --silent "node-llama-cpp@$VERSION" "@node-llama-cpp/linux-x64@$VERSION" >/dev/null); then
    log "npm pack failed (registry unreachable?)"
    exit 2
  fi
  rm -rf "$DIR/nlc" "$DIR/lib" "$SRC"
  mkdir -p "$DIR/nlc" "$DIR/lib"
  tar xzf "$DIR/node-llama-cpp-$VERSION.tgz" -C "$DIR/nlc"
  tar xzf "$DIR/node-llama-cpp-linux-x64-$VERSION.tgz" -C "$DIR/lib"
  git clone -q "$DIR/nlc/package/llama/gitRelease.bundle" "$SRC" 2>/dev/null
  touch "$DIR/.fetched-$VERSION"
fi

LLAMA_SO="$(ls "$BINS"/libllama.*so 2>/dev/null | grep -v common | head -1)"
GGML_SO="$(ls "$BINS"/libggml.*so 2>/dev/null | head -1)"
[[ -n "$LLAMA_SO" && -n "$GGML_SO" && -f "$SRC/include/llama.h" ]] || { log "incomplete download in $DIR (delete it and rerun)"; exit 1; }

HARNESS="$DIR/llama_logits"
SOURCE="$REPO/tests/peer/llama_logits.cc"
if [[ ! -x "$HARNESS" || "$SOURCE" -nt "$HARNESS" ]]; then
  log "building $HARNESS"
  g++ -std=c++17 -O2 -o "$HARNESS" "$SOURCE" -I"$SRC/include" -I"$SRC/ggml/include" \
    "$LLAMA_SO" "$GGML_SO" "$BINS/libggml-base.so" -Wl,-rpath,"$BINS"
fi
echo "HARNESS=$HARNESS"
echo "BINS=$BINS"
