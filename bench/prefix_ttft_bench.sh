#!/usr/bin/env bash
# Time to first token (TTFT) of requests that share a long system prompt, cold and warm, for
# `dte serve` (state cache: L1 in RAM, L3 on disk across a restart, Redis across workers) beside
# llama.cpp's `llama-server` (its in-process prompt cache) on the same GGUF file, in the same run.
# Prints a markdown table on stdout; progress on stderr; raw outputs (one JSON line per request,
# server logs, /v1/cache/stats snapshots) kept in $OUT (default: a mktemp dir).
#
#   bench/prefix_ttft_bench.sh [options]
#     --model F          GGUF file (default /tmp/rwkv7-0.1b-f16.gguf)
#     --dte PATH         dte binary (env DTE; default <repo>/build/dte)
#     --llama-server P   llama-server binary (env LLAMA_SERVER; default
#                        /tmp/llama-peer/src/build/bin/llama-server; scripts/build_llama_peer.sh)
#     -t N               threads for both servers (2)
#     -n N               warm requests per server; the median is quoted (8)
#     -w N               words in the shared system prompt (1500)
#     --max-tokens N     tokens generated per request (8)
#     --dte-args "..."   extra `dte serve` flags for every dte process (e.g. "--checkpoint-interval 512")
#     --llama-args "..." extra llama-server flags (e.g. "-ub 64": its checkpoints are taken 4 and
#                        4 + n_ubatch tokens before a prompt's end, so a smaller ubatch re-processes
#                        less of a warm prompt, at some cost in cold prefill speed)
#     --api chat|completions  what dte gets (chat): chat = system + user message (a checkpoint is
#                        taken at each message end); completions = /v1/completions with the same
#                        rendered text as llama-server (checkpoints only at the prompt end and
#                        every --checkpoint-interval tokens)
#     --no-llama         dte only          --no-redis   skip the other-worker phase
#
# Workload: one deterministic system prompt of -w words, and a distinct short user question per
# request. dte gets streamed chat completions (system + user message; --api completions: the
# rendered text on /v1/completions instead). llama-server has no chat
# template for this file, so it gets streamed /completion requests with the text dte's RWKV World
# template renders ("System: ...\n\nUser: ...\n\nAssistant:"), stop "\n\n"; both report their
# prompt token counts (they tokenize chat messages separately / the whole text, so the counts may
# differ by a token or two). temperature 0, max_tokens 8, a fresh connection per request.
# TTFT = from sending the request to the first SSE event that carries a token (dte: the first
# chunk, whose text may be empty as dte drops the space after "Assistant:"; llama-server: the
# first /completion chunk), measured by the client in this script.
# Every server start is followed by one untimed short request on an unrelated prompt (page faults,
# thread pools) before anything is measured, so "cold" is prefill work, not process start-up.
# Phases, in this order:
#   dte L3:    serve --cache-dir D: cold (first request with the system prompt), warm (-n
#              requests, new user text each), SIGTERM, serve again with the same D, first request
#              with new user text = "after restart".
#   llama:     llama-server -np 1 -c 4096 (prompt cache and context checkpoints at their
#              defaults): cold, warm (-n requests).
#   dte Redis: redis-server on a free port (no persistence); workers A and B with --redis and no
#              --cache-dir; one request on A (its cold), then the first request on B with new
#              user text = "other worker".
# Before each warm / restart / other-worker request the script waits (at most 5 s) until dte's
# /v1/cache/stats shows no checkpoint bytes pending, so the previous request's checkpoints are in
# the cache; requests are sequential. usage.prompt_tokens_details.cached_tokens (dte) and
# timings.cache_n (llama-server) are printed beside each TTFT to show that the cache was used.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
model=/tmp/rwkv7-0.1b-f16.gguf
dte=${DTE:-$repo/build/dte}
llama_server=${LLAMA_SERVER:-/tmp/llama-peer/src/build/bin/llama-server}
threads=2 warm_n=8 words=1500 max_tokens=8 llama=1 redis=1 dte_args="" llama_args="" dte_kind=dte
cmdline=$(printf "%q " "$0" "$@"); cmdline=${cmdline% }
while [[ $# -gt 0 ]]; do
  case $1 in
    --model) model=$2; shift 2 ;;
    --dte) dte=$2; shift 2 ;;
    --llama-server) llama_server=$2; shift 2 ;;
    -t) threads=$2; shift 2 ;;
    -n) warm_n=$2; shift 2 ;;
    -w) words=$2; shift 2 ;;
    --max-tokens) max_tokens=$2; shift 2 ;;
    --dte-args) dte_args=$2; shift 2 ;;
    --llama-args) llama_args=$2; shift 2 ;;
    --api) case $2 in chat) dte_kind=dte ;; completions) dte_kind=dtec ;;
             *) echo "--api: chat or completions" >&2; exit 2 ;; esac; shift 2 ;;
    --no-llama) llama=0; shift ;;
    --no-redis) redis=0; shift ;;
    -h|--help) sed -n '2,/^set /{/^#/p}' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ -f $model ]] || { echo "model not found: $model" >&2; exit 2; }
[[ -x $dte ]] || { echo "dte binary not found: $dte (set DTE or --dte)" >&2; exit 2; }
if [[ $llama == 1 && ! -x $llama_server ]]; then
  echo "llama-server not found at $llama_server: dte only" >&2; llama=0
fi
if [[ $redis == 1 ]] && ! command -v redis-server >/dev/null; then
  echo "redis-server not installed: no other-worker phase" >&2; redis=0
fi
out=${OUT:-$(mktemp -d /tmp/prefix_ttft.XXXXXX)}
mkdir -p "$out"
echo "raw outputs in $out" >&2
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)

# --- the client (python3 stdlib only) ------------------------------------------------------
cat > "$out/client.py" <<'PY'
"""TTFT client: one streamed request per call of `one`; prints one JSON line per request."""
import http.client, json, random, sys, time

def system_prompt(words):
    rng = random.Random(20261127)
    vocab = ("state cache prefix token model server worker request answer river mountain city "
             "library garden window morning evening signal network memory record archive policy "
             "customer support order invoice shipment return refund account password security "
             "schedule meeting report summary detail example question reason method result "
             "careful polite clear short helpful accurate always never please must should may "
             "the a an of to in on for with from by about under over between before after and or "
             "but because while when where which that this these those it they we you").split()
    out, n, sentence = [], 0, []
    while n < words:
        w = rng.choice(vocab)
        sentence.append(w)
        n += 1
        if len(sentence) >= rng.randint(8, 16) or n == words:
            s = " ".join(sentence)
            out.append(s[0].upper() + s[1:] + ".")
            sentence = []
    return "You are the assistant of the Deep Tree Echo benchmark. Rules: " + " ".join(out)

def question(i):
    topics = ["refund", "shipment", "password", "meeting", "invoice", "archive", "garden", "river"]
    return "Request %d: in one line, what should I do about my %s number %d?" % (
        i, topics[i % len(topics)], 1000 + 37 * i)

def post_stream(port, path, body):
    """Returns (ttft_s, total_s, events) for a streamed POST; events = parsed data objects."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    data = json.dumps(body).encode()
    t0 = time.perf_counter()
    conn.request("POST", path, body=data, headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    if resp.status != 200:
        raise SystemExit("HTTP %d from %s: %s" % (resp.status, path, resp.read()[:500]))
    ttft, events = None, []
    while True:
        line = resp.readline()
        if not line:
            break
        line = line.strip()
        if not line.startswith(b"data:"):
            continue
        payload = line[5:].strip()
        if payload == b"[DONE]":
            break
        ev = json.loads(payload)
        if ttft is None and token_event(ev):
            ttft = time.perf_counter() - t0
        events.append(ev)
    total = time.perf_counter() - t0
    conn.close()
    return ttft, total, events

def token_event(ev):
    if "choices" in ev:            # dte (OpenAI chunk): the first chunk with a choice is a token
        return len(ev["choices"]) > 0
    return "content" in ev          # llama-server /completion chunk

def one(kind, port, idx, words, max_tokens, label):
    sysp = system_prompt(words)
    q = question(idx) if idx >= 0 else "Say hello."
    if idx < 0:
        sysp = "You are terse."
    rec = {"label": label, "kind": kind, "port": port, "question": idx}
    if kind == "dtec":
        body = {"model": "bench", "stream": True, "stream_options": {"include_usage": True},
                "max_tokens": max_tokens, "temperature": 0,
                "prompt": "System: %s\n\nUser: %s\n\nAssistant:" % (sysp, q)}
        ttft, total, evs = post_stream(port, "/v1/completions", body)
        usage = next((e["usage"] for e in evs if e.get("usage")), {})
        rec.update(prompt_tokens=usage.get("prompt_tokens"),
                   cached_tokens=(usage.get("prompt_tokens_details") or {}).get("cached_tokens"),
                   completion_tokens=usage.get("completion_tokens"))
        rec["text"] = "".join(c.get("text") or "" for e in evs for c in e.get("choices", []))
    elif kind == "dte":
        body = {"model": "bench", "stream": True, "stream_options": {"include_usage": True},
                "max_tokens": max_tokens, "temperature": 0,
                "messages": [{"role": "system", "content": sysp}, {"role": "user", "content": q}]}
        ttft, total, evs = post_stream(port, "/v1/chat/completions", body)
        usage = next((e["usage"] for e in evs if e.get("usage")), {})
        rec.update(prompt_tokens=usage.get("prompt_tokens"),
                   cached_tokens=(usage.get("prompt_tokens_details") or {}).get("cached_tokens"),
                   completion_tokens=usage.get("completion_tokens"))
        rec["text"] = "".join((c.get("delta") or {}).get("content") or ""
                              for e in evs for c in e.get("choices", []))
    else:
        text = "System: %s\n\nUser: %s\n\nAssistant:" % (sysp, q)
        body = {"prompt": text, "n_predict": max_tokens, "temperature": 0, "stream": True,
                "cache_prompt": True, "stop": ["\n\n"]}
        ttft, total, evs = post_stream(port, "/completion", body)
        last = evs[-1] if evs else {}
        tim = last.get("timings") or {}
        rec.update(prompt_tokens=last.get("tokens_evaluated"), cached_tokens=tim.get("cache_n"),
                   prompt_processed=tim.get("prompt_n"), prompt_ms=tim.get("prompt_ms"),
                   completion_tokens=tim.get("predicted_n"))
        rec["text"] = "".join(e.get("content", "") for e in evs)
    rec.update(ttft_s=ttft, total_s=total)
    print(json.dumps(rec), flush=True)

def get(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path)
    r = conn.getresponse()
    return r.status, r.read()

def wait_ready(port, path, seconds):
    end = time.time() + seconds
    while time.time() < end:
        try:
            if get(port, path)[0] == 200:
                return 0
        except OSError:
            pass
        time.sleep(0.2)
    return 1

def settle(port, seconds):
    """Waits until dte has no checkpoint bytes pending; prints the stats it ended with."""
    end, stats = time.time() + seconds, {}
    while time.time() < end:
        stats = json.loads(get(port, "/v1/cache/stats")[1])
        if (stats.get("checkpoints") or {}).get("pending_bytes", 0) == 0:
            break
        time.sleep(0.05)
    print(json.dumps(stats))

def summary(path):
    """Markdown-friendly summary of a JSONL file of requests: label ttft cached/prompt."""
    for line in open(path):
        r = json.loads(line)
        print("%-14s ttft=%s cached=%s/%s" % (r["label"], "%.3f" % r["ttft_s"] if r["ttft_s"] else "-",
                                            r.get("cached_tokens"), r.get("prompt_tokens")))

def free_port():
    import socket
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); print(p)

if __name__ == "__main__":
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "one":
        one(a[0], int(a[1]), int(a[2]), int(a[3]), int(a[4]), a[5])
    elif cmd == "ready":
        sys.exit(wait_ready(int(a[0]), a[1], float(a[2])))
    elif cmd == "settle":
        settle(int(a[0]), float(a[1]))
    elif cmd == "stats":
        print(get(int(a[0]), "/v1/cache/stats")[1].decode())
    elif cmd == "free_port":
        free_port()
    elif cmd == "words":
        print(len(system_prompt(int(a[0])).split()))
PY
client() { python3 "$out/client.py" "$@"; }

# --- process control (only what this script started) ---------------------------------------
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
}
trap cleanup EXIT
start_dte() {  # name port extra-args...
  local name=$1 port=$2; shift 2
  echo "== start dte serve ($name) on :$port $*" >&2
  "$dte" serve --model "$model" --model-name bench --host 127.0.0.1 --port "$port" \
    --threads "$threads" $dte_args "$@" >>"$out/dte_$name.log" 2>&1 &
  pids+=($!); last_pid=$!
  client ready "$port" /ready 300 || { echo "dte ($name) did not become ready; see $out/dte_$name.log" >&2; exit 1; }
}
stop_pid() {  # pid: SIGTERM and wait for the exit (dte flushes its cache on SIGTERM)
  kill -TERM "$1" 2>/dev/null; wait "$1" 2>/dev/null
  local rc=$? p rest=()
  for p in "${pids[@]}"; do [[ $p == "$1" ]] || rest+=("$p"); done
  pids=("${rest[@]}")
  echo "   pid $1 exited with $rc" >&2
}
# req KIND PORT QUESTION LABEL FILE: one measured request, appended to FILE and echoed to stderr.
req() {
  client one "$1" "$2" "$3" "$words" "$max_tokens" "$4" | tee -a "$5" |
    python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); print("   %-13s ttft %s s  cached %s / prompt %s tokens" % (r["label"], "%.3f" % r["ttft_s"] if r["ttft_s"] is not None else "-", r.get("cached_tokens"), r.get("prompt_tokens")))' >&2
}
warmup() { client one "$1" "$2" -1 "$words" "$max_tokens" warmup >>"$out/warmup.jsonl"; }
settle() { client settle "$1" 5 >>"$out/stats_$2.jsonl"; }

echo "system prompt: $(client words "$words") words" >&2

# --- dte: cold, warm, after restart (L3) ---------------------------------------------------
port=$(client free_port)
start_dte l3a "$port" --cache-dir "$out/l3"
warmup $dte_kind "$port"
req $dte_kind "$port" 0 cold "$out/dte.jsonl"
for i in $(seq 1 "$warm_n"); do
  settle "$port" l3a
  req $dte_kind "$port" "$i" warm "$out/dte.jsonl"
done
settle "$port" l3a
client stats "$port" >"$out/stats_l3a_final.json"
stop_pid "$last_pid"
port=$(client free_port)
start_dte l3b "$port" --cache-dir "$out/l3"
warmup $dte_kind "$port"
settle "$port" l3b
req $dte_kind "$port" $((warm_n + 1)) restart "$out/dte.jsonl"
settle "$port" l3b
client stats "$port" >"$out/stats_l3b_final.json"
stop_pid "$last_pid"

# --- llama-server: cold, warm ----------------------------------------------------------------
if [[ $llama == 1 ]]; then
  lport=$(client free_port)
  echo "== start llama-server on :$lport" >&2
  llama_cmd=("$llama_server" -m "$model" --host 127.0.0.1 --port "$lport" -np 1 -c 4096 -t "$threads" $llama_args)
  "${llama_cmd[@]}" >"$out/llama.log" 2>&1 &
  pids+=($!); lpid=$!
  if client ready "$lport" /health 300; then
    warmup llama "$lport"
    req llama "$lport" 0 cold "$out/llama.jsonl"
    for i in $(seq 1 "$warm_n"); do req llama "$lport" "$i" warm "$out/llama.jsonl"; done
  else
    echo "llama-server did not become ready; see $out/llama.log" >&2
  fi
  stop_pid "$lpid"
fi

# --- dte: two workers sharing one Redis ------------------------------------------------------
if [[ $redis == 1 ]]; then
  rport=$(client free_port)
  echo "== start redis-server on :$rport" >&2
  redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly no >"$out/redis.log" 2>&1 &
  pids+=($!); rpid=$!
  for _ in $(seq 1 50); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.1; done
  pa=$(client free_port)
  start_dte redisA "$pa" --redis "redis://127.0.0.1:$rport"; apid=$last_pid
  pb=$(client free_port)
  start_dte redisB "$pb" --redis "redis://127.0.0.1:$rport"; bpid=$last_pid
  warmup $dte_kind "$pa"; warmup $dte_kind "$pb"
  req $dte_kind "$pa" $((warm_n + 2)) workerA "$out/dte.jsonl"
  settle "$pa" redisA
  echo "   redis keys after worker A: $(redis-cli -p "$rport" dbsize 2>/dev/null)" >&2
  req $dte_kind "$pb" $((warm_n + 3)) workerB "$out/dte.jsonl"
  settle "$pb" redisB
  client stats "$pa" >"$out/stats_redisA_final.json"
  client stats "$pb" >"$out/stats_redisB_final.json"
  stop_pid "$apid"; stop_pid "$bpid"; stop_pid "$rpid"
fi

# --- report ----------------------------------------------------------------------------------
python3 - "$out" "$warm_n" "$llama" "$redis" <<'PY' >"$out/table.md"
import json, os, statistics, sys
out, warm_n, llama, redis = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4] == "1"
def rows(name):
    p = os.path.join(out, name)
    return [json.loads(l) for l in open(p)] if os.path.exists(p) else []
def pick(rs, label):
    return [r for r in rs if r["label"] == label and r["ttft_s"] is not None]
def cell(rs, median=False):
    if not rs: return "–"
    t = statistics.median(r["ttft_s"] for r in rs) if median else rs[0]["ttft_s"]
    c = sorted({r.get("cached_tokens") or 0 for r in rs})
    cached = str(c[0]) if len(c) == 1 else "%d–%d" % (c[0], c[-1])
    return "%.3f s (cached %s/%s)" % (t, cached, rs[0].get("prompt_tokens"))
d, l = rows("dte.jsonl"), rows("llama.jsonl")
print("| server | cold | warm (median of %d) | after restart (L3) | other worker (Redis) |" % warm_n)
print("|---|---|---|---|---|")
print("| dte serve | %s | %s | %s | %s |" % (cell(pick(d, "cold")), cell(pick(d, "warm"), True),
      cell(pick(d, "restart")), cell(pick(d, "workerB")) if redis else "not run"))
if llama:
    print("| llama-server | %s | %s | cannot | cannot |" % (cell(pick(l, "cold")), cell(pick(l, "warm"), True)))
dw, lw = pick(d, "warm"), pick(l, "warm")
if dw and lw:
    a, b = statistics.median(r["ttft_s"] for r in dw), statistics.median(r["ttft_s"] for r in lw)
    print("\nwarm TTFT ratio dte / llama-server: **%.2f** (goal ≤ 0.5)" % (a / b))
if redis and pick(d, "workerA"):
    print("\nworker A (first request with the prompt on the Redis workers): %s" % cell(pick(d, "workerA")))
if l:
    w = pick(l, "warm")
    if w:
        print("\nllama-server warm requests re-processed %s prompt tokens each (timings.prompt_n)" %
              sorted({r.get("prompt_processed") for r in w}))
if d and l:  # greedy outputs for the same questions: the cache must not change them
    lt = {r["question"]: r["text"].strip() for r in l}
    pairs = [(r["question"], r["text"].strip() == lt[r["question"]]) for r in d if r["question"] in lt]
    same = sum(ok for _, ok in pairs)
    print("\ngreedy text identical to llama-server's for the same question: %d of %d dte requests%s" %
          (same, len(pairs), "" if same == len(pairs) else
           " (differs for questions %s)" % [q for q, ok in pairs if not ok]))
print("\n(cached a/b = usage.prompt_tokens_details.cached_tokens / prompt_tokens for dte, "
      "timings.cache_n / tokens_evaluated for llama-server.)")
PY

echo "## Prefix TTFT: shared ${words}-word system prompt, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "* machine: $(lscpu | sed -n 's/^Model name:\s*//p' | head -1), $(nproc) logical CPUs; load average at start $load_at_start"
echo "* model: $model; threads $threads; max_tokens $max_tokens; temperature 0; dte API: $([[ $dte_kind == dte ]] && echo chat || echo completions); dte serve extra flags: ${dte_args:-none}"
echo "* dte binary: $dte (modified $(date -u -r "$dte" '+%Y-%m-%d %H:%M UTC'))"
[[ $llama == 1 ]] && echo "* llama-server: \`$llama_server -m MODEL -np 1 -c 4096 -t $threads${llama_args:+ $llama_args}\` (prompt cache and checkpoints at their defaults otherwise)"
echo "* command: \`$cmdline\`"
echo "* raw outputs: $out"
echo
cat "$out/table.md"
