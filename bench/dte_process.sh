# Sourced by the bench scripts that start `dte serve` / `dte route` processes in the background.

# The port a `dte` process printed in its "listening on http://host:port" line in file $1
# (waits up to 30 s).
port_of() {
  for _ in $(seq 300); do
    if grep -q '^listening on' "$1" 2>/dev/null; then
      grep -m1 '^listening on' "$1" | grep -o '[0-9]*$'; return 0
    fi
    sleep 0.1
  done
  return 1
}

# Waits up to 30 s for GET /ready on port $1 to answer 200.
wait_ready() {
  for _ in $(seq 300); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/ready") == 200 ]] && return 0
    sleep 0.1
  done
  return 1
}
