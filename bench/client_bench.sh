#!/usr/bin/env bash
# Client benchmark: how many small non-streaming requests per second one core of `dte bench`
# drives on loopback, next to `wrk` against the same trivial endpoint in the same run.
# The server is pinned to one core and both clients to another, so they do not share a core
# with what they measure. Prints a markdown table (medians) on stdout, progress on stderr.
#
#   bench/client_bench.sh [options]
#     -d S        seconds per measurement (5)         -r N   repetitions, alternating (3)
#     -c N        connections / closed-loop users (32)
#     --rate R    also an open-loop dte bench run at R requests/s, constant arrivals (30000)
#     --server trivial|dte   the endpoint: a 60-line epoll HTTP server compiled from this
#                 script (default; it answers far faster than any client) or `dte serve`'s
#                 GET /health (then the server, not the client, is usually the limit)
#     --server-core N / --client-core N   (1 / 0)
#   env DTE (default build/dte), CC (default cc), MODEL (for --server dte; the bundled demo model)
#
# "cpu us/req" is the client's own CPU time (user + system, from /usr/bin/time) per request:
# on a shared machine the wall-clock rate depends on what else runs, this much less.
set -uo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
dte=${DTE:-$here/build/dte}
model=${MODEL:-$here/models/tiny-rwkv-5v2-730K-FP16.bin}
seconds=5 repeat=3 conns=32 rate=30000 server=trivial server_core=1 client_core=0
while [[ $# -gt 0 ]]; do
  case $1 in
    -d) seconds=$2; shift 2 ;;
    -r) repeat=$2; shift 2 ;;
    -c) conns=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --server) server=$2; shift 2 ;;
    --server-core) server_core=$2; shift 2 ;;
    --client-core) client_core=$2; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[[ -x $dte ]] || { echo "dte binary not found: $dte (set DTE)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk not found" >&2; exit 2; }
work=$(mktemp -d /tmp/client_bench.XXXXXX)
trap 'kill $server_pid 2>/dev/null; wait $server_pid 2>/dev/null; rm -rf "$work"' EXIT
port=$((20000 + RANDOM % 20000))

if [[ $server == trivial ]]; then
  cat >"$work/trivial_http.c" <<'C'
// Every request (no body expected) gets the same small 200 response; keep-alive, pipelining.
#define _GNU_SOURCE
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
static const char kReply[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n";
typedef struct { int fd, matched; } Conn;
int main(int argc, char** argv) {
  int one = 1, ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons(atoi(argv[1]));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(ls, (struct sockaddr*)&a, sizeof a) || listen(ls, 4096)) { perror("bind"); return 1; }
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL}, evs[256];
  epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
  static char in[65536], out[65536 * 2];
  const size_t n_reply = sizeof kReply - 1;
  for (;;) {
    int n = epoll_wait(ep, evs, 256, -1);
    for (int i = 0; i < n; ++i) {
      Conn* c = evs[i].data.ptr;
      if (!c) {
        int fd;
        while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          Conn* nc = calloc(1, sizeof(Conn));
          nc->fd = fd;
          struct epoll_event ce = {.events = EPOLLIN, .data.ptr = nc};
          epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ce);
        }
        continue;
      }
      ssize_t got = read(c->fd, in, sizeof in);
      if (got <= 0) { close(c->fd); free(c); continue; }
      size_t len = 0;  // one reply per "\r\n\r\n", also across reads
      for (ssize_t k = 0; k < got; ++k) {
        if (in[k] == "\r\n\r\n"[c->matched]) {
          if (++c->matched == 4) {
            c->matched = 0;
            if (len + n_reply <= sizeof out) { memcpy(out + len, kReply, n_reply); len += n_reply; }
          }
        } else {
          c->matched = in[k] == '\r';
        }
      }
      if (len && write(c->fd, out, len) < 0) { close(c->fd); free(c); }
    }
  }
}
C
  "${CC:-cc}" -O2 -o "$work/trivial_http" "$work/trivial_http.c" || exit 1
  taskset -c "$server_core" "$work/trivial_http" "$port" &
  server_pid=$!
else
  taskset -c "$server_core" "$dte" serve --model "$model" --model-name demo --port "$port" \
    --log-level warning >"$work/serve.log" 2>&1 &
  server_pid=$!
fi
for _ in $(seq 1 300); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$port/health" >/dev/null || { echo "server did not start" >&2; exit 1; }
url="http://127.0.0.1:$port"

measure() {  # name command... ; appends "name rate cpu_us_per_req" to $work/results
  local name=$1 rate_seen requests cpu
  shift
  /usr/bin/time -f "%U %S" -o "$work/time" taskset -c "$client_core" "$@" >"$work/out" 2>"$work/err"
  if [[ $name == wrk ]]; then
    rate_seen=$(awk '/^Requests\/sec:/ {print $2}' "$work/out")
    requests=$(awk '/requests in/ {print $1}' "$work/out")
  else
    read -r rate_seen requests < <(python3 -c 'import json,sys; j=json.load(open(sys.argv[1]))
print(j["requests_per_s"], j["successes"])' "$work/report.json")
  fi
  cpu=$(awk -v n="$requests" '{printf "%.2f", ($1 + $2) / n * 1e6}' "$work/time")
  echo "$name $rate_seen $cpu" >>"$work/results"
  echo "[$name] $rate_seen req/s, $cpu us CPU/request (load $(cut -d' ' -f1 /proc/loadavg))" >&2
}

for ((r = 1; r <= repeat; r++)); do
  measure wrk wrk -t1 -c"$conns" -d"${seconds}s" "$url/health"
  measure dte-closed "$dte" bench --url "$url" --path /health --users "$conns" \
    --duration "$seconds" --max-requests 100000000 -q --json "$work/report.json"
  if [[ $rate != 0 ]]; then
    measure dte-open "$dte" bench --url "$url" --path /health --rate "$rate" --arrival constant \
      --max-in-flight "$conns" --duration "$seconds" --max-requests 100000000 -q \
      --json "$work/report.json"
  fi
done

python3 - "$work/results" "$conns" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
print("| client | connections | runs | requests/s (median) | client CPU us/request (median) |")
print("|---|---:|---:|---:|---:|")
for name in ("wrk", "dte-closed", "dte-open"):
    mine = [r for r in rows if r[0] == name]
    if mine:
        print(f"| {name} | {sys.argv[2]} | {len(mine)} "
              f"| {statistics.median(float(r[1]) for r in mine):.0f} "
              f"| {statistics.median(float(r[2]) for r in mine):.2f} |")
PY
echo "server: $server on core $server_core; clients on core $client_core; ${seconds}s each;" \
  "$(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
