#!/bin/bash
# Where each server's CPU goes per dispatch, side by side: the broker and the Bun reference in turn under compare.sh's
# load (pinned and warmed up as compare.sh does), each profiled with perf for PERF_SECS in the middle of its measured
# run, its CPU time over that window read from /proc. Prints, per server, the run's line, CPU µs per dispatch and the
# split by system call and user space (bench/perf-split.py); for the broker also by component (perf-components.py).
#
# Usage: bench/profile-pair.sh ['COMMAND with $PORT' for the broker]   (default: results/tmp/publish/ProxyHost)
# Env: ROUNDS (1), SECS (12), WARMUP (8), PERF_SECS (5), SERVER_CPUS (0), LOAD_CPUS (1), PORT (17073),
#      SHARED_BENCH (../shared/bench), BUN (compare.sh's bun), KEEP (a folder to keep each perf.data in),
#      KEYS/CONTROLLERS/DISPATCHERS as run-pair.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
shared=${SHARED_BENCH:-$here/../../shared/bench}
broker=${1:-$here/results/tmp/publish/ProxyHost --urls http://127.0.0.1:\$PORT}
bun=${BUN:-/tmp/firestarter-bench-bun/node_modules/.bin/bun}
[ -x "$bun" ] || { echo "no bun at $bun: run ../shared/bench/compare.sh once, or set BUN" >&2; exit 2; }
command -v perf >/dev/null || { echo "perf is needed (Debian: linux-perf)" >&2; exit 2; }
rounds=${ROUNDS:-1}; port=${PORT:-17073}; server_cpus=${SERVER_CPUS:-0}; secs=${SECS:-12}; perf_secs=${PERF_SECS:-5}
export LOAD_CPUS=${LOAD_CPUS:-1}
pid=
# shellcheck source=start-pinned.sh
. "$here/start-pinned.sh"
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; exit 130' INT TERM
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
hz=$(getconf CLK_TCK)

profile() { # name command
  local name=$1 cmd=$2
  start_pinned "$name" "$cmd" "$tmp/$name.log" || return 1
  [ "${WARMUP:-8}" -gt 0 ] && SECS=${WARMUP:-8} "$shared/run-pair.sh" "http://127.0.0.1:$port" >/dev/null
  SECS=$secs "$shared/run-pair.sh" "http://127.0.0.1:$port" >"$tmp/line" &
  local load=$!
  sleep $(((secs - perf_secs) / 2 + 2))
  local t0 t1; t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  perf record -q -F 2000 -g -p "$pid" -o "$tmp/$name.data" -- sleep "$perf_secs" 2>/dev/null
  t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  wait "$load"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
  local line rate us
  line=$(cat "$tmp/line"); rate=$(sed -n 's/.*dispatches_per_s=\([0-9]*\).*/\1/p' <<<"$line")
  # CPU time over the perf window divided by the dispatches the run's rate puts in it.
  us=$(awk -v a="$t0" -v b="$t1" -v h="$hz" -v r="$rate" -v s="$perf_secs" 'BEGIN{printf "%.1f", (b - a) / h * 1e6 / (r * s)}')
  echo "## $name: $line cpu_us_per_dispatch=$us"
  echo
  echo '```'
  perf script -i "$tmp/$name.data" -F ip,sym,dso 2>/dev/null | python3 "$here/perf-split.py" --us-per-dispatch "$us"
  if [ "$name" = broker ]; then
    echo
    perf script -i "$tmp/$name.data" -F ip,sym 2>/dev/null | python3 "$here/perf-components.py"
  fi
  echo '```'
  echo
  if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP" && cp "$tmp/$name.data" "$KEEP/$name-$(date +%H%M%S).data"; fi
}

for _ in $(seq 1 "$rounds"); do
  profile bun "env PORT=\$PORT $bun $shared/firestarter-bun.ts"
  profile broker "$broker"
done
