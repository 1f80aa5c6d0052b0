#!/bin/bash
# A/B of two or more ways to run the broker (builds, runtime settings) under compare.sh's load, in alternating
# rounds, each pinned and warmed up as compare.sh does; no Bun. For settings whose effect is a few percent, which a
# ratio against Bun (itself noisy) cannot resolve.
#
# Usage: bench/ab.sh 'NAME=COMMAND with $PORT' 'NAME=COMMAND with $PORT' ...
#   e.g. bench/ab.sh 'aot=out/ProxyHost --urls http://127.0.0.1:$PORT' \
#                    'jit=env DOTNET_ReadyToRun=0 /tmp/outjit/ProxyHost --urls http://127.0.0.1:$PORT'
# Env: ROUNDS (3), SECS (8), WARMUP (8), SERVER_CPUS (0), LOAD_CPUS (1), PORT (17072), SHARED_BENCH (../shared/bench)
# Prints a line per measurement (run-pair.sh's line, peak RSS, CPU seconds the server used in all), then per NAME the
# median dispatches/s, p99 and peak RSS.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
shared=${SHARED_BENCH:-$here/../../shared/bench}
[ -x "$shared/run-pair.sh" ] || { echo "no run-pair.sh in $shared (set SHARED_BENCH)" >&2; exit 2; }
[ $# -ge 2 ] || { echo "usage: ab.sh 'NAME=COMMAND with \$PORT' 'NAME=COMMAND with \$PORT' ..." >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is needed (compare.sh installs it)" >&2; exit 2; }
rounds=${ROUNDS:-3}; port=${PORT:-17072}; server_cpus=${SERVER_CPUS:-0}
export LOAD_CPUS=${LOAD_CPUS:-1}
if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/"; then echo "port $port is already in use" >&2; exit 1; fi

pid=
# shellcheck source=start-pinned.sh
. "$here/start-pinned.sh"
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; exit 130' INT TERM
out=$(mktemp)
trap 'rm -f "$out"' EXIT

measure() { # name command
  local name=$1 cmd=$2
  start_pinned "$name" "$cmd" "/tmp/ab-$name.log" || return 1
  [ "${WARMUP:-8}" -gt 0 ] && SECS=${WARMUP:-8} "$shared/run-pair.sh" "http://127.0.0.1:$port" >/dev/null
  local line; line=$("$shared/run-pair.sh" "http://127.0.0.1:$port")
  local rss; rss=$(awk '/VmHWM/{print $2}' "/proc/$pid/status")
  local ticks; ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
  echo "$name $line peak_rss_kb=$rss cpu_s=$(awk -v t="$ticks" -v h="$(getconf CLK_TCK)" 'BEGIN{printf "%.1f", t/h}')"
}

for _ in $(seq 1 "$rounds"); do
  for variant in "$@"; do
    # Not through a pipe: measure must run in this shell, so that Ctrl+C can end the server it started.
    measure "${variant%%=*}" "${variant#*=}" >>"$out"
    tail -n 1 "$out"
  done
done

echo "# medians over $rounds rounds"
median() { # name key
  sed -n "s/^$1 \(.* \)*$2=\([0-9.]*\).*/\2/p" "$out" | sort -n | awk '{a[NR] = $1} END {if (NR) print a[int((NR + 1) / 2)]}'
}
for variant in "$@"; do
  name=${variant%%=*}
  echo "$name dispatches_per_s=$(median "$name" dispatches_per_s) p99_ms=$(median "$name" p99_ms) peak_rss_kb=$(median "$name" peak_rss_kb)"
done
