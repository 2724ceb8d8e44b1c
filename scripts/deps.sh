#!/usr/bin/env bash
# Installs every Debian bookworm package Deep Tree Echo needs to build and test; with --test,
# also the npm packages the tests use (the official openai client, and llama.cpp as a peer).
# Idempotent: prints nothing and changes nothing when everything is already present.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake pkg-config git
  libboost1.81-dev          # Beast + Asio (1.81, not the default 1.74)
  nlohmann-json3-dev libfmt-dev libcli11-dev
  libzstd-dev liblz4-dev libxxhash-dev
  libsqlite3-dev libhiredis-dev redis-server
  prometheus-cpp-dev        # metrics (core library only)
  prometheus                # promtool, for checking /metrics and rule files in tests
  libgtest-dev libgmock-dev libbenchmark-dev librapidcheck-dev
  clang libclang-rt-14-dev  # libFuzzer targets
  chromium                  # headless browser for the HTML report and dashboard tests
  wrk                       # HTTP load peer for the dte bench client benchmark
  python3 python3-yaml      # test helpers (reference tokenizer, Kubernetes manifest checks)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v node >/dev/null 2>&1; then
  echo "deps: node (20+) is needed for the system tests; installing Debian's nodejs" >&2
  export DEBIAN_FRONTEND=noninteractive
  ${sudo_cmd:-} apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi

if [ "${1:-}" = "--test" ]; then
  # The openai client, pinned by tests/system/openai/package-lock.json.
  stamp=tests/system/openai/node_modules/.dte-lock-sha256
  want=$(sha256sum tests/system/openai/package-lock.json | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "deps: installing the openai npm client for the system tests"
    (cd tests/system/openai && npm ci --no-audit --no-fund --silent)
    echo "$want" > "$stamp"
  fi
  # llama.cpp's prebuilt library and headers from npm (exit 2: registry unreachable; the peer
  # test then reports SKIP).
  scripts/llama_peer.sh build/peers >/dev/null || [ $? -eq 2 ]
fi
