#!/bin/bash
# Per-round evidence for a throughput difference between rounds of the same broker: runs each NAME=COMMAND (as ab.sh)
# pinned to SERVER_CPUS under compare.sh's load on LOAD_CPUS, alternating, and inside each measured window records
# dispatches/s; the server's CPU and context switches per thread (by thread name, from /proc/PID/task); each CPU's
# busy share and the share of it that was the server's, the load generator's or anything else's; and, for a broker, the
# deltas of its runtime metrics (GC collections, thread-pool threads and work items, lock contentions) from /metrics.
# Usage: bench/diag-rounds.sh 'NAME=COMMAND with $PORT' ...
# Env: PERF (a folder: also a perf profile of each window, split by component, and its top symbols there),
#      ROUNDS (3), SECS (8), WARMUP (4), SERVER_CPUS (0), LOAD_CPUS (1), PORT (17073), SHARED_BENCH, and the load's
#      CONTROLLERS, DISPATCHERS, KEYS.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
shared=${SHARED_BENCH:-$here/../../shared/bench}
rounds=${ROUNDS:-3}; port=${PORT:-17073}; server_cpus=${SERVER_CPUS:-0}; secs=${SECS:-8}
export LOAD_CPUS=${LOAD_CPUS:-1}
tck=$(getconf CLK_TCK)
pid=
# shellcheck source=start-pinned.sh
. "$here/start-pinned.sh"
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; exit 130' INT TERM

threads() { # pid -> "tid name utime stime voluntary nonvoluntary" per thread
  local t
  for t in /proc/"$1"/task/*; do
    [ -r "$t/stat" ] || continue
    awk -v tid="${t##*/}" '{ s = $0; sub(/^[0-9]+ \(/, "", s); name = substr(s, 1, index(s, ") ") - 1); rest = substr(s, index(s, ") ") + 2);
      split(rest, f, " "); gsub(/ /, "_", name); printf "%s %s %d %d", tid, name, f[12], f[13] }' "$t/stat" 2>/dev/null || continue
    awk '/^voluntary_ctxt_switches/{v=$2} /^nonvoluntary_ctxt_switches/{n=$2} END{printf " %d %d\n", v, n}' "$t/status" 2>/dev/null
  done
}
cpustat() { awk '/^cpu[0-9]/{busy=$2+$3+$4+$7+$8; print $1, busy, busy+$5+$6+$9, $9}' /proc/stat; }
procticks() { # pids... -> sum of utime+stime
  local s=0 p
  for p in "$@"; do [ -r /proc/$p/stat ] && s=$((s + $(awk '{print $14 + $15}' /proc/$p/stat))); done
  echo $s
}
metrics() {
  curl -sf --max-time 2 "http://127.0.0.1:$port/metrics" 2>/dev/null | awk '
    /^dotnet_gc_collections_total/ { g = $0; sub(/.*gc_heap_generation="/, "", g); sub(/".*/, "", g); gc[g] = $NF }
    /^dotnet_thread_pool_thread_count/ { tp = $NF }
    /^dotnet_thread_pool_work_item_count_total/ { wi = $NF }
    /^dotnet_monitor_lock_contentions_total/ { lc = $NF }
    /^dotnet_gc_heap_total_allocated_bytes_total/ { al = $NF }
    /^dotnet_gc_pause_time_seconds_total/ { gp = $NF }
    END { printf "gen0=%s gen1=%s gen2=%s tp_threads=%s work_items=%s lock_contentions=%s alloc_bytes=%s gc_pause_s=%s\n", gc["gen0"], gc["gen1"], gc["gen2"], tp, wi, lc, al, gp }'
}
delta_metrics() { # before after
  awk -v a="$1" -v b="$2" 'BEGIN { n = split(a, x, " "); split(b, y, " "); out = "";
    for (i = 1; i <= n; i++) { split(x[i], p, "="); split(y[i], q, "="); if (p[1] == "tp_threads") out = out " tp_threads=" q[2]; else out = out sprintf(" d_%s=%g", p[1], q[2] - p[2]) }
    print out }'
}

measure() { # name command
  local name=$1 cmd=$2
  start_pinned "$name" "$cmd" "/tmp/diag-$name.log" || return 1
  [ "${WARMUP:-4}" -gt 0 ] && SECS=${WARMUP:-4} "$shared/run-pair.sh" "http://127.0.0.1:$port" >/dev/null
  local tmp; tmp=$(mktemp -d)
  SECS=$secs "$shared/run-pair.sh" "http://127.0.0.1:$port" >"$tmp/pair" &
  local load=$!
  sleep 3   # the dispatchers start 1.5 s after the controllers
  local window=$((secs - 4))
  local wrks; wrks=$(pgrep -x wrk | tr '\n' ' ')
  threads "$pid" >"$tmp/t1"; cpustat >"$tmp/c1"; local m1; m1=$(metrics)
  local s1; s1=$(procticks "$pid"); local w1; w1=$(procticks $wrks); local d1; d1=$(date +%s.%N)
  [ -n "${PERF:-}" ] && perf record -q -F 999 -g -p "$pid" -o "$tmp/perf.data" -- sleep "$window" >/dev/null 2>&1 &
  local rec=$!
  # System-wide, per CPU: wake-ups, the interrupts that deliver them to another CPU, idle entries, epoll waits.
  perf stat -a -A -x, -o "$tmp/stat" -e "$stat_events" -- sleep "$window" >/dev/null 2>&1 || sleep "$window"
  threads "$pid" >"$tmp/t2"; cpustat >"$tmp/c2"; local m2; m2=$(metrics)
  local s2; s2=$(procticks "$pid"); local w2; w2=$(procticks $wrks); local d2; d2=$(date +%s.%N)
  window=$(awk -v a="$d1" -v b="$d2" 'BEGIN{printf "%.3f", b - a}')
  [ -n "${PERF:-}" ] && wait "$rec"
  wait "$load"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
  local rps; rps=$(sed -n 's/.*dispatches_per_s=\([0-9]*\).*/\1/p' "$tmp/pair")
  local p99; p99=$(sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p' "$tmp/pair")
  # CPUs: busy share of each, over the window.
  local cpus; cpus=$(paste "$tmp/c1" "$tmp/c2" | awk '{printf "%s_busy=%.0f%% %s_steal=%.0f%% ", $1, 100 * ($6 - $2) / ($7 - $3), $1, 100 * ($8 - $4) / ($7 - $3)}')
  local srv; srv=$(awk -v a="$s1" -v b="$s2" -v t="$tck" -v w="$window" 'BEGIN{printf "%.0f%%", 100 * (b - a) / t / w}')
  local wl; wl=$(awk -v a="$w1" -v b="$w2" -v t="$tck" -v w="$window" 'BEGIN{printf "%.0f%%", 100 * (b - a) / t / w}')
  local us; us=$(awk -v a="$s1" -v b="$s2" -v t="$tck" -v r="$rps" -v w="$window" 'BEGIN{printf "%.1f", (b - a) / t * 1e6 / (r * w)}')
  echo "$name dispatches_per_s=$rps p99_ms=$p99 server_cpu=$srv wrk_cpu=$wl cpu_us_per_dispatch=$us $cpus"
  # Per thread name: CPU share, voluntary and involuntary switches per second; threads counted.
  join -a2 <(sort "$tmp/t1") <(sort "$tmp/t2") | awk -v t="$tck" -v w="$window" '
    NF >= 11 { n = $2; cpu[n] += ($8 + $9) - ($3 + $4); v[n] += $10 - $5; nv[n] += $11 - $6; c[n]++ }
    NF == 6  { n = $2; cpu[n] += $3 + $4; v[n] += $5; nv[n] += $6; c[n]++; new[n]++ }
    END { for (n in c) if (cpu[n] > 0 || v[n] > 0) printf "   thread %-16s x%-2d cpu=%3.0f%% vcs/s=%6.0f ivcs/s=%5.0f%s\n", n, c[n], 100 * cpu[n] / t / w, v[n] / w, nv[n] / w, (new[n] ? " new=" new[n] : "") }' | sort -t= -k2 -nr
  [ -s "$tmp/stat" ] && awk -F, -v r="$rps" -v w="$window" '/^CPU/ { e = $4; sub(/.*:/, "", e); sub(/sys_enter_/, "", e); sub(/_entry$/, "", e); line[$1] = line[$1] sprintf(" %s=%.2f", e, $2 / (r * w)) }
    END { for (c in line) printf "   per dispatch on %s:%s\n", c, line[c] }' "$tmp/stat" | sort
  echo "   threads_total=$(wc -l <"$tmp/t2")$( [ -n "$m1" ] && delta_metrics "$m1" "$m2")"
  if [ -n "${PERF:-}" ]; then
    local n=$((++perf_n))
    perf script -i "$tmp/perf.data" -F ip,sym 2>/dev/null | "$here/perf-components.py" >"$PERF/$n-$name-components.txt" 2>&1 || true
    perf report -i "$tmp/perf.data" --no-children --stdio --sort sym 2>/dev/null | grep -v '^#' | grep '%' | head -25 >"$PERF/$n-$name-top.txt" || true
    echo "   profile: $PERF/$n-$name-*.txt"
  fi
  rm -rf "$tmp"
}
perf_n=0
stat_events=sched:sched_wakeup,sched:sched_switch,irq_vectors:reschedule_entry,irq_vectors:call_function_single_entry,power:cpu_idle,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_epoll_pwait,syscalls:sys_enter_sendto,syscalls:sys_enter_recvfrom

for _ in $(seq 1 "$rounds"); do
  for variant in "$@"; do measure "${variant%%=*}" "${variant#*=}"; done
done
