# Sourced by ab.sh and diag-rounds.sh. start_pinned NAME COMMAND LOG: starts COMMAND (its $PORT replaced by $port)
# pinned to $server_cpus, sets $pid, and waits until it answers GET /connect; on failure ends it and returns 1.
start_pinned() {
  bash -c "exec taskset -c $server_cpus ${2//\$PORT/$port}" >"$3" 2>&1 &
  pid=$!
  for _ in $(seq 1 200); do curl -sf -o /dev/null "http://127.0.0.1:$port/connect" && return 0; sleep 0.1; done
  echo "$1 did not come up (see $3)" >&2
  kill "$pid" 2>/dev/null; pid=
  return 1
}
