#!/bin/bash
# Where a dispatch's CPU goes, side by side with the Bun reference: user and kernel CPU time per dispatch (from
# /proc/PID/stat) and system calls per dispatch by kind (perf stat on syscall tracepoints), each server alone on
# SERVER_CPUS under the compare load (shared/bench/run-pair.sh on LOAD_CPUS), after a warm-up run.
# Usage, from the repository root after `dotnet publish src/ProxyHost -c Release -o out`:
#   bench/cpu-per-dispatch.sh 'out/ProxyHost --urls http://127.0.0.1:$PORT'
# With RATE=N the dispatchers are paced (bench/dispatch-at-rate.lua) to about N dispatches/s in all instead of
# saturating the server: the CPU time a dispatch costs at a steady rate, which does not depend on saturation.
# Env: RATE (unset: saturation), DISPATCHERS (50), ROUNDS (2, alternating), SECS (10), WARMUP (6), SERVER_CPUS (0), LOAD_CPUS (1), PORT (17190),
#      SHARED_BENCH (../shared/bench), BUN_DIR (/tmp/firestarter-bench-bun; compare.sh installs Bun there).
# Needs perf (linux-perf) for the system-call counts; without it only the CPU times are printed.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED_BENCH:-$(cd "$repo/.." && pwd)/shared/bench}
cmd=${1:?usage: cpu-per-dispatch.sh 'COMMAND with \$PORT'}
rounds=${ROUNDS:-2}; secs=${SECS:-10}; warmup=${WARMUP:-6}; server_cpus=${SERVER_CPUS:-0}
export LOAD_CPUS=${LOAD_CPUS:-1}
export PORT=${PORT:-17190}
bun=${BUN_DIR:-/tmp/firestarter-bench-bun}/node_modules/.bin/bun
[ -x "$bun" ] || { echo "Bun is not installed at $bun: run shared/bench/compare.sh once first" >&2; exit 1; }
tck=$(getconf CLK_TCK)
syscalls=(recvfrom sendto getsockopt dup close epoll_wait epoll_pwait futex)
events=raw_syscalls:sys_enter
for s in "${syscalls[@]}"; do events+=",syscalls:sys_enter_$s"; done
have_perf=1; perf stat -e raw_syscalls:sys_enter -- true >/dev/null 2>&1 || have_perf=0

# One load run, as shared/bench/run-pair.sh, with the dispatchers paced to RATE.
pair_at_rate() { # url
  local url=$1 t; t=$(mktemp -d)
  local disp=${DISPATCHERS:-50}
  local delay_ms; delay_ms=$(awk -v d="$disp" -v r="$RATE" 'BEGIN{printf "%d", d * 1000 / r}')
  taskset -c "$LOAD_CPUS" wrk -t1 -c"${CONTROLLERS:-500}" -d$((SECS + 4))s --timeout 60s -s "$shared/poll.lua" "$url" >/dev/null 2>&1 &
  local pw=$!
  sleep 1.5
  DISPATCH_LUA=$shared/dispatch.lua DELAY_MS=$delay_ms taskset -c "$LOAD_CPUS" wrk -t1 -c"$disp" -d"${SECS}"s --timeout 10s \
    -s "$repo/bench/dispatch-at-rate.lua" "$url" >"$t/disp" 2>&1
  wait "$pw" || true
  local hits misses; hits=$(sed -n 's/.*hits=\([0-9]*\).*/\1/p' "$t/disp"); misses=$(sed -n 's/.*misses=\([0-9]*\).*/\1/p' "$t/disp")
  echo "dispatches_per_s=$(awk -v h="$hits" -v m="$misses" -v s="$SECS" 'BEGIN{printf "%.0f", (h + m) / s}') $(sed -n 's/^DISPATCH //p' "$t/disp")"
  rm -rf "$t"
}
pair() { # url
  if [ -n "${RATE:-}" ]; then pair_at_rate "$1"; else "$shared/run-pair.sh" "$1"; fi
}

measure() { # name command...
  local name=$1; shift
  taskset -c "$server_cpus" "$@" >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/connect" && break; sleep 0.1; done
  SECS=$warmup pair "http://127.0.0.1:$PORT" >/dev/null
  local tmp; tmp=$(mktemp -d)
  SECS=$secs pair "http://127.0.0.1:$PORT" >"$tmp/pair" &
  local load=$!
  # Measure a window inside the dispatch load: it starts 1.5 s after the controllers and lasts SECS.
  sleep 3
  local window=$((secs - 4))
  read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$pid/stat")
  local d1; d1=$(date +%s.%N)
  if [ "$have_perf" = 1 ]; then
    perf stat -x, -e "$events" -p "$pid" -o "$tmp/perf" -- sleep "$window" 2>/dev/null
  else
    sleep "$window"
  fi
  read -r u2 s2 < <(awk '{print $14, $15}' "/proc/$pid/stat")
  local d2; d2=$(date +%s.%N)
  wait "$load"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  local rps; rps=$(sed -n 's/.*dispatches_per_s=\([0-9]*\).*/\1/p' "$tmp/pair")
  # Dispatches in the window, from the run's average rate.
  local n; n=$(awk -v r="$rps" -v a="$d1" -v b="$d2" 'BEGIN{printf "%.0f", r * (b - a)}')
  local line; line=$(awk -v u=$((u2 - u1)) -v s=$((s2 - s1)) -v t="$tck" -v n="$n" -v r="$rps" -v name="$name" \
    'BEGIN{printf "%-7s dispatches_per_s=%d user_us=%.1f kernel_us=%.1f total_us=%.1f", name, r, u/t*1e6/n, s/t*1e6/n, (u+s)/t*1e6/n}')
  if [ "$have_perf" = 1 ]; then
    line+=$(awk -F, -v n="$n" '/^[0-9]/ {name=$3; sub(/.*sys_enter_?/, "", name); if (name == "") name="all"; printf " %s=%.2f", name, $1/n}' "$tmp/perf")
  fi
  echo "$line"
  rm -rf "$tmp"
}

for _ in $(seq 1 "$rounds"); do
  measure bun "$bun" "$shared/firestarter-bun.ts"
  measure broker bash -c "exec ${cmd//\$PORT/$PORT}"
done
echo "(CPU times per dispatch; system calls per dispatch: all = every system call, then by kind)"
