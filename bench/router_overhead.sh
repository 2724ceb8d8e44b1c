#!/usr/bin/env bash
# Router overhead: the latency a small request gains by going through `dte route` rather than to
# the same `dte serve` worker directly, in the same run. One worker (--threads 1) and one router
# in front of it; wrk with 1 thread and 1 keep-alive connection (one request in flight), D
# seconds per run; direct and routed runs alternate, R rounds each, for
#   GET /v1/models                                  (no body; the router parses nothing)
#   POST /v1/completions, prompt "Hello", max_tokens 1, temperature 0
# Prints every round's p50 on stderr and a markdown table on stdout: the median of the direct
# p50s, the median of the routed p50s, and the difference (the added latency). Medians of p50s
# only: on a shared machine the tails are noise.
#
#   bench/router_overhead.sh [options] [MODEL]
#     MODEL        model file (default: the demo model models/tiny-rwkv-5v2-730K-FP16.bin)
#     --dte PATH   dte binary (env DTE; default <repo>/build/dte)
#     -d S         seconds per wrk run (3)
#     -r N         rounds (4)
#     --route-args "..."  extra `dte route` flags (e.g. "--trace-sample-ratio 0")
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dte=${DTE:-$repo/build/dte}
model=$repo/models/tiny-rwkv-5v2-730K-FP16.bin
secs=3 rounds=4 route_args=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --dte) dte=$2; shift 2 ;;
    -d) secs=$2; shift 2 ;;
    -r) rounds=$2; shift 2 ;;
    --route-args) route_args=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set /{/^#/p}' "$0"; exit 0 ;;
    -*) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    *) model=$1; shift ;;
  esac
done
[[ -f $model ]] || { echo "model not found: $model" >&2; exit 2; }
[[ -x $dte ]] || { echo "dte binary not found: $dte (set DTE or --dte)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is needed" >&2; exit 2; }
tmp=$(mktemp -d /tmp/router_overhead.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck source=bench/dte_process.sh
source "$repo/bench/dte_process.sh"

"$dte" serve --model "$model" --model-name demo --port 0 --threads 1 --log-level warning \
  >"$tmp/w.out" 2>"$tmp/w.err" &
pids+=($!)
# shellcheck disable=SC2015  # either failing is fatal
wport=$(port_of "$tmp/w.out") && wait_ready "$wport" || { cat "$tmp/w.err" >&2; exit 1; }
# shellcheck disable=SC2086
"$dte" route --listen 127.0.0.1:0 --backends "http://127.0.0.1:$wport" --log-level warning $route_args \
  >"$tmp/r.out" 2>"$tmp/r.err" &
pids+=($!)
# shellcheck disable=SC2015
rport=$(port_of "$tmp/r.out") && wait_ready "$rport" || { cat "$tmp/r.err" >&2; exit 1; }
cat >"$tmp/post.lua" <<'EOF'
wrk.method = "POST"
wrk.body = '{"model":"demo","prompt":"Hello","max_tokens":1,"temperature":0}'
wrk.headers["Content-Type"] = "application/json"
EOF

# wrk's p50 in µs (its "50%" line of --latency: e.g. "50%   52.00us" or "1.02ms").
p50_us() {
  awk '$1 == "50%" { v = $2; u = v; gsub(/[0-9.]/, "", u); gsub(/[a-z]/, "", v);
         f = (u == "us") ? 1 : (u == "ms") ? 1000 : (u == "s") ? 1000000 : 0;
         printf "%.0f", v * f }'
}
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.0f", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "worker :$wport, router :$rport ${route_args:+($route_args)}; wrk -t1 -c1 -d${secs}s, $rounds rounds" >&2
declare -A runs
for round in $(seq "$rounds"); do
  for side in direct routed; do
    port=$wport; [[ $side == routed ]] && port=$rport
    m=$(wrk -t1 -c1 -d"${secs}s" --latency "http://127.0.0.1:$port/v1/models" | p50_us)
    c=$(wrk -t1 -c1 -d"${secs}s" --latency -s "$tmp/post.lua" "http://127.0.0.1:$port/v1/completions" | p50_us)
    runs[models.$side]+="$m "
    runs[completions.$side]+="$c "
    echo "round $round $side: GET /v1/models p50 ${m} µs, POST /v1/completions p50 ${c} µs" >&2
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load after: $load_after" >&2

echo "| request | direct p50 ($rounds rounds) | routed p50 ($rounds rounds) | median added |"
echo "|---|---|---|---|"
# shellcheck disable=SC2016  # the backquotes are markdown
for req in models completions; do
  name='`GET /v1/models`'; [[ $req == completions ]] && name='`POST /v1/completions`, `max_tokens` 1'
  d=$(tr ' ' '\n' <<<"${runs[$req.direct]}" | grep . | median)
  r=$(tr ' ' '\n' <<<"${runs[$req.routed]}" | grep . | median)
  fmt() { tr ' ' '\n' <<<"$1" | grep . | paste -sd, | sed 's/,/, /g'; }
  echo "| $name | $(fmt "${runs[$req.direct]}") µs | $(fmt "${runs[$req.routed]}") µs | **$((r - d)) µs** ($d → $r µs) |"
done
