#!/usr/bin/env bash
# Routing policies on a shared-prefix workload: for each policy, 4 fresh `dte serve` workers
# (--threads 1, state cache on) behind a fresh `dte route --policy P`, driven by
# `dte bench --prefixes N --prefix-words L` (closed loop). Prints a markdown table on stdout:
# policy, prompt-token hit ratio, TTFT p50/p99, req/s, output tok/s, errors. Progress on stderr;
# raw outputs (bench JSON reports, worker /metrics, logs) are kept in $OUT (default: a mktemp dir).
#
#   bench/route_prefix_bench.sh [options] [MODEL]
#     MODEL              model file (default: the demo model models/tiny-rwkv-5v2-730K-FP16.bin)
#     --dte PATH         dte binary (env DTE; default <repo>/build/dte)
#     --policies "..."   policies in order (default "round_robin least_outstanding prefix auto";
#                        auto is the default policy: session affinity when a request has a
#                        session_id or user, else prefix — the bench sends neither). An entry
#                        may carry router flags: "prefix:--prefix-balance-abs=4,--prefix-balance-rel=2"
#     -u N               closed-loop users (8)
#     -n N               requests per policy (800)
#     --prefixes N       shared system prompts (32)
#     --prefix-words L   words in each (400)
#     --prompt-words W   words after the prefix, different in every request (8)
#     --max-tokens N     tokens generated per request (4)
#     --checkpoint-interval K  the workers' prefix checkpoint interval in prompt tokens (128; the
#                        default 2048 is longer than these prompts, and a completion prompt is
#                        otherwise checkpointed only at its end, which no other request shares)
#     --worker-args "..."  extra `dte serve` flags
#     --route-args "..."   extra `dte route` flags (e.g. "--prefix-balance-abs 4")
#     -r N               repetitions of the whole policy list (1); every run is a table row
#
# Hit ratio = Σ dte_cache_prefix_hit_tokens_total / Σ dte_prompt_tokens_total over the 4 workers'
# /metrics after the run (fresh workers: the totals are this run's), i.e. the share of prompt
# tokens that were not prefilled because a cached prefix state was resumed. The bench report
# does not carry cached tokens; this is the same number as Σ usage.prompt_tokens_details.
# cached_tokens / Σ prompt_tokens over the responses.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dte=${DTE:-$repo/build/dte}
model=$repo/models/tiny-rwkv-5v2-730K-FP16.bin
policies="round_robin least_outstanding prefix auto"
users=8 requests=800 prefixes=32 prefix_words=400 prompt_words=8 max_tokens=4 interval=128 reps=1
worker_args="" route_args=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --dte) dte=$2; shift 2 ;;
    --policies) policies=$2; shift 2 ;;
    -u) users=$2; shift 2 ;;
    -n) requests=$2; shift 2 ;;
    --prefixes) prefixes=$2; shift 2 ;;
    --prefix-words) prefix_words=$2; shift 2 ;;
    --prompt-words) prompt_words=$2; shift 2 ;;
    --max-tokens) max_tokens=$2; shift 2 ;;
    --checkpoint-interval) interval=$2; shift 2 ;;
    --worker-args) worker_args=$2; shift 2 ;;
    --route-args) route_args=$2; shift 2 ;;
    -r) reps=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set /{/^#/p}' "$0"; exit 0 ;;
    -*) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    *) model=$1; shift ;;
  esac
done
[[ -f $model ]] || { echo "model not found: $model" >&2; exit 2; }
[[ -x $dte ]] || { echo "dte binary not found: $dte (set DTE or --dte)" >&2; exit 2; }
command -v curl >/dev/null || { echo "curl is needed" >&2; exit 2; }
OUT=${OUT:-$(mktemp -d /tmp/route_prefix_bench.XXXXXX)}
mkdir -p "$OUT"

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  pids=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck source=bench/dte_process.sh
source "$repo/bench/dte_process.sh"

# Σ of every sample of metric $1 in a Prometheus text file $2.
metric_sum() { awk -v m="$1" '$1 == m || index($1, m "{") == 1 { s += $NF } END { printf "%.0f", s }' "$2"; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "workload: $requests requests, $users users, $prefixes prefixes x $prefix_words words + $prompt_words words, max_tokens $max_tokens; checkpoint interval $interval; output in $OUT" >&2
rows=()
for rep in $(seq "$reps"); do
  for spec in $policies; do
    policy=${spec%%:*} extra=""
    [[ $spec == *:* ]] && extra=$(tr ',=' '  ' <<<"${spec#*:}")
    label="\`$policy\`${extra:+ \`$extra\`}"
    tag=$(tr -c 'a-zA-Z0-9_\n' '_' <<<"$spec").$rep
    backends=""
    for i in 1 2 3 4; do
      # shellcheck disable=SC2086
      "$dte" serve --model "$model" --model-name demo --port 0 --threads 1 --log-level warning \
        --checkpoint-interval "$interval" $worker_args >"$OUT/$tag.w$i.out" 2>"$OUT/$tag.w$i.err" &
      pids+=($!)
    done
    wports=()
    for i in 1 2 3 4; do
      p=$(port_of "$OUT/$tag.w$i.out") || { echo "worker $i did not start (see $OUT/$tag.w$i.err)" >&2; exit 1; }
      wait_ready "$p" || { echo "worker $i not ready" >&2; exit 1; }
      wports+=("$p"); backends+="http://127.0.0.1:$p,"
    done
    # shellcheck disable=SC2086
    "$dte" route --listen 127.0.0.1:0 --backends "${backends%,}" --policy "$policy" \
      --log-level warning $route_args $extra >"$OUT/$tag.r.out" 2>"$OUT/$tag.r.err" &
    pids+=($!)
    rport=$(port_of "$OUT/$tag.r.out") || { echo "router did not start (see $OUT/$tag.r.err)" >&2; exit 1; }
    wait_ready "$rport" || { echo "router not ready" >&2; exit 1; }
    echo "[$label, run $rep] workers ${wports[*]}, router $rport: $requests requests ..." >&2
    start=$(date +%s%N)
    "$dte" bench --url "http://127.0.0.1:$rport" --users "$users" --max-requests "$requests" \
      --duration 600 --prefixes "$prefixes" --prefix-words "$prefix_words" \
      --prompt-words "$prompt_words" --max-tokens "$max_tokens" --temperature 0 -q \
      --json "$OUT/$tag.bench.json" 2>"$OUT/$tag.bench.err"
    rc=$?
    prompt=0 hit=0
    for i in 1 2 3 4; do
      curl -s "http://127.0.0.1:${wports[$((i - 1))]}/metrics" >"$OUT/$tag.w$i.metrics"
      prompt=$((prompt + $(metric_sum dte_prompt_tokens_total "$OUT/$tag.w$i.metrics")))
      hit=$((hit + $(metric_sum dte_cache_prefix_hit_tokens_total "$OUT/$tag.w$i.metrics")))
    done
    cleanup
    row=$(python3 - "$OUT/$tag.bench.json" "$label" "$prompt" "$hit" "$rc" <<'EOF'
import json, sys
path, policy, prompt, hit, rc = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
try:
    r = json.load(open(path))
except Exception as e:
    print(f"| {policy} | bench failed (exit {rc}: {e}) | | | | | |"); sys.exit()
ratio = hit / prompt if prompt else 0.0
kinds = ", ".join(f"{k} {v}" for k, v in (r.get("errors_by_kind") or {}).items())
print(f"| {policy} | {ratio:.3f} | {r['ttft_ms']['p50']:.1f} ms | {r['ttft_ms']['p99']:.1f} ms | "
      f"{r['requests_per_s']:.1f} | {r['output_tokens_per_s']:.0f} | {r['errors']}{' (' + kinds + ')' if kinds else ''} |")
EOF
)
    rows+=("$row")
    echo "  $(( ($(date +%s%N) - start) / 1000000 )) ms: $row" >&2
  done
done
echo "load after the runs: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "| policy | hit ratio | TTFT p50 | TTFT p99 | req/s | tok/s | errors |"
echo "|---|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
