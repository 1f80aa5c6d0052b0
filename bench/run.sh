#!/bin/bash
# Firestarter's performance scenarios (issue 3), side by side with the Bun reference broker where it has one.
# Usage, from anywhere:   bench/run.sh [seed] [sparse] [rate] [memory] [scale] [leak]   (no argument: all six;
#                         `throughput` is another name for seed)
# Writes bench/results/YYYY-MM-DD-HHMM-SCENARIOS.md (a table per scenario); raw logs go to bench/results/tmp/ (ignored
# by git). See bench/README.md for what each scenario measures and the quick sizes. Sizes and knobs, as environment
# variables:
#   seed        ROUNDS (7) SECS (8) WARMUP (8)        -> shared/bench/compare.sh, 500 controllers over 10 keys
#   sparse      ROUNDS (7) SECS (8) WARMUP (8)        -> shared/bench/compare.sh, 2,000 controllers over 1,000 keys
#   rate        RATE (5000) RATE_DISPATCHERS (52) RATE_ROUNDS (3) RATE_SECS (10)  -> bench/cpu-per-dispatch.sh at a
#               fixed rate: CPU time per dispatch, Bun and Firestarter alternately
#   memory      MEM_CONTROLLERS (10000) MEM_SETTLE (5)                       parked controllers, per server
#               MEM_CENSUS (unset; 1 adds the broker's heap by type per parked controller) MEM_SERVERS (broker: no Bun)
#   scale       SCALE_CONTROLLERS (19000) SCALE_PROCS (2) SCALE_DISPATCHERS (50) SCALE_SECS (10) SCALE_WARMUP (3)
#   leak        LEAK_CYCLES (1000000) LEAK_CONTROLLERS (500) LEAK_CHUNK_SECS (30) LEAK_ABORT_DELAY_MS (20)
#   all         SERVER_CPUS (0) LOAD_CPUS (1) SKIP_PUBLISH (unset; 1 reuses bench/results/tmp/ProxyHost)
#               SHARED_BENCH (../shared/bench beside the repository) BUN_DIR (/tmp/firestarter-bench-bun)
#               PORT_BASE (17170)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
results=$repo/bench/results
tmp=$results/tmp
mkdir -p "$tmp"
shared=${SHARED_BENCH:-$(cd "$repo/.." && pwd)/shared/bench}
server_cpus=${SERVER_CPUS:-0}
load_cpus=${LOAD_CPUS:-1}
port_base=${PORT_BASE:-17170}
bun_dir=${BUN_DIR:-/tmp/firestarter-bench-bun}
bun=$bun_dir/node_modules/.bin/bun
publish=$tmp/ProxyHost
lt_dll=$repo/bench/Firestarter.LoadTool/bin/Release/net10.0/Firestarter.LoadTool.dll
census_dll=$repo/bench/Firestarter.HeapCensus/bin/Release/net10.0/Firestarter.HeapCensus.dll

scenarios=("$@")
[ ${#scenarios[@]} -eq 0 ] && scenarios=(seed sparse rate memory scale leak)
for i in "${!scenarios[@]}"; do
  [ "${scenarios[$i]}" = throughput ] && scenarios[$i]=seed
  case ${scenarios[$i]} in seed | sparse | rate | memory | scale | leak) ;; *) echo "unknown scenario '${scenarios[$i]}' (seed sparse rate memory scale leak)" >&2; exit 2 ;; esac
done

stamp=$(date -u +%Y-%m-%d-%H%M)
out=$results/$stamp-$(IFS=-; echo "${scenarios[*]}").md
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
emit() { echo "$*" >>"$out"; }
failed() { emit "$1 failed:"; emit '```'; tail -20 "$2" >>"$out"; emit '```'; emit; }

# ---- processes this script started; all are ended on exit ----
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

kb() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }
# Kernel memory, system-wide, in KB: slab (socket, inode, dentry and file objects) plus TCP buffer pages.
kernel_kb() { echo $(($(awk '/^Slab:/ {print $2}' /proc/meminfo) + $(awk '/^TCP:/ {print $NF}' /proc/net/sockstat) * 4)); }
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
wait_up() {
  for _ in $(seq 1 300); do curl -sf -o /dev/null "http://127.0.0.1:$1/connect" && return 0; sleep 0.1; done
  echo "server on port $1 did not come up" >&2; return 1
}

# start_server bun|broker PORT -> sets $server_pid
start_server() {
  local name=$1 port=$2
  case $name in
    bun) PORT=$port taskset -c "$server_cpus" "$bun" "$shared/firestarter-bun.ts" >"$tmp/$name-$port.log" 2>&1 & ;;
    broker) taskset -c "$server_cpus" "$publish/ProxyHost" --urls "http://127.0.0.1:$port" >"$tmp/$name-$port.log" 2>&1 & ;;
  esac
  server_pid=$!
  pids+=("$server_pid")
  wait_up "$port"
}
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# The load tool as a plain command (not a function), so that "${lt[@]}" ... & leaves $! on the tool itself.
lt=(taskset -c "$load_cpus" dotnet "$lt_dll")

# Starts a controllers-only load tool process and waits until all its controllers have a poll on the wire.
# start_controllers PORT COUNT NAME [extra args] -> sets $ctl_pid
start_controllers() {
  local port=$1 n=$2 name=$3; shift 3
  rm -f "$tmp/$name.err" "$tmp/$name.log"
  "${lt[@]}" --Target "http://127.0.0.1:$port" --Role controllers --Controllers "$n" --Duration 3600 \
    --ReceivedLog "$tmp/$name.log" --Json true "$@" >"$tmp/$name.json" 2>"$tmp/$name.err" &
  ctl_pid=$!
  pids+=("$ctl_pid")
  for _ in $(seq 1 1200); do
    grep -q 'controllers polling' "$tmp/$name.err" 2>/dev/null && return 0
    kill -0 "$ctl_pid" 2>/dev/null || { echo "controllers $name exited:" >&2; tail -5 "$tmp/$name.err" >&2; return 1; }
    sleep 0.25
  done
  echo "controllers $name did not all start polling" >&2; return 1
}

have_bun() {
  if [ ! -x "$bun" ]; then
    mkdir -p "$bun_dir" && (cd "$bun_dir" && npm init -y >/dev/null && npm install --no-audit --no-fund bun@1.4.4 >/dev/null 2>&1) || true
  fi
  [ -x "$bun" ]
}

# The live managed heap of a .NET process after a full blocking GC, by the heap census (bench/Firestarter.HeapCensus:
# it induces the GC through EventPipe and sums the runtime's walk of the heap; it names Native AOT types from the
# executable's symbols). Sets heap_kb to the heap's total and pool_kb to what of it is Kestrel's pooled I/O buffers
# (each MemoryPoolBlock holds a pinned 4 KiB array): a cache that grows to the most buffers in use at once and is
# evicted while idle, not state the cycles leave behind. Both n/a if the census fails. The whole census (every type)
# is written to the file given second, for comparing two of them.
heap_census() {
  local pid=$1 json
  heap_kb=n/a pool_kb=n/a
  json=$(timeout 90 dotnet "$census_dll" --pid "$pid" --symbols "$publish/ProxyHost.dbg" --top 1000000 --select MemoryPoolBlock --json true 2>/dev/null) || return 0
  printf '%s' "$json" >"$2"
  heap_kb=$(jq -r '.heapBytes / 1024 | floor' <<<"$json")
  pool_kb=$(jq -r '[.selected[] | select(.name | endswith("MemoryPoolBlock"))] | (.[0].count // 0) * (4096 + 24) / 1024 | floor' <<<"$json")
}

# ---- build ----
if [ "${SKIP_PUBLISH:-}" != 1 ] || [ ! -x "$publish/ProxyHost" ]; then
  log "publishing src/ProxyHost (Release) to $publish"
  dotnet publish "$repo/src/ProxyHost" -c Release -o "$publish" >"$tmp/publish.log" 2>&1 || { tail -20 "$tmp/publish.log"; exit 1; }
fi
# The load tool and the heap census serve memory, scale and leak only.
needs_tools=; for s in "${scenarios[@]}"; do case $s in memory | scale | leak) needs_tools=1 ;; esac; done
if [ -n "$needs_tools" ] && { [ "${SKIP_PUBLISH:-}" != 1 ] || [ ! -f "$lt_dll" ] || [ ! -f "$census_dll" ]; }; then
  log "building the load tool and the heap census (Release)"
  for p in Firestarter.LoadTool Firestarter.HeapCensus; do
    dotnet build -c Release "$repo/bench/$p" >"$tmp/$p-build.log" 2>&1 || { tail -20 "$tmp/$p-build.log"; exit 1; }
  done
fi

{
  echo "# Firestarter bench run $stamp UTC"
  echo
  echo "- commit: $(git -C "$repo" rev-parse --short HEAD)$([ -z "$(git -C "$repo" status --porcelain -- src appsettings.json bench/run.sh bench/Firestarter.LoadTool)" ] || echo ' (with uncommitted changes to src, appsettings.json or the bench tools)')"
  echo "- machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r); \`ulimit -Hn\` $(ulimit -Hn)"
  echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other processes on the machine skew every number)"
  echo "- servers pinned to CPU $server_cpus, load to CPU $load_cpus; the machine is shared: compare ratios from one run, not absolute numbers across runs."
  echo "- scenarios: ${scenarios[*]}"
  echo
} >"$out"

# ---- (a) throughput: shared/bench/compare.sh, the seed and the sparse shape ----
# compare NAME CONTROLLERS KEYS PORT_OFFSET
compare() {
  local name=$1 controllers=$2 keys=$3 offset=$4 rounds=${ROUNDS:-7}
  log "$name: compare.sh, $rounds rounds, $controllers controllers over $keys keys"
  emit "## Throughput, $name: $controllers controllers over $keys keys (shared/bench/compare.sh)"
  emit
  if ! have_bun; then
    emit "Not run: bun is not installed and could not be installed from npm ($bun)."; emit; return
  fi
  local raw=$tmp/compare-$name.out port_args="--urls http://127.0.0.1:\$PORT"
  if ! ROUNDS=$rounds CONTROLLERS=$controllers KEYS=$keys BUN_DIR=$bun_dir BUN_PORT=$((port_base + offset)) \
    BROKER_PORT=$((port_base + offset + 1)) SERVER_CPUS=$server_cpus LOAD_CPUS=$load_cpus \
    "$shared/compare.sh" "$publish/ProxyHost $port_args" >"$raw" 2>"$tmp/compare-$name.err"; then
    failed compare.sh "$tmp/compare-$name.err"; return
  fi
  emit "ROUNDS=$rounds SECS=${SECS:-8} WARMUP=${WARMUP:-8}, $controllers controllers (wrk), 50 dispatchers (wrk), $keys keys; load average after: $(cut -d' ' -f1-3 /proc/loadavg)."
  emit
  emit "| round | server | dispatches/s | hits | misses | p50 ms | p99 ms | max ms | peak RSS MB |"
  emit "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  awk '/^(bun|broker) /{ if ($1 == "bun") r++; for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "| %d | %s | %s | %s | %s | %s | %s | %s | %.0f |\n", r, $1, v["dispatches_per_s"], v["hits"], v["misses"], v["p50_ms"], v["p99_ms"], v["max_ms"], v["peak_rss_kb"] / 1024 }' \
    "$raw" >>"$out"
  emit
  # Medians over rounds: throughput ratio (compare.sh's own), p99 of each, peak RSS of each; the spread of each
  # server's rounds (slowest over fastest); and the rounds whose p99 is no worse than Bun's in the same round.
  local summary
  summary=$(awk '
    function median(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }; return a[int((n + 1) / 2)] }
    /^(bun|broker) /{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      if ($1 == "bun") { nb++; bp[nb] = v["p99_ms"]; br[nb] = v["peak_rss_kb"]; bd[nb] = v["dispatches_per_s"] }
      else { nc++; cp[nc] = v["p99_ms"]; cr[nc] = v["peak_rss_kb"]; cd[nc] = v["dispatches_per_s"]; if (cp[nc] + 0 <= bp[nc] + 0) ok++ } }
    END { for (i = 1; i <= nc; i++) { if (!bmin || bd[i] + 0 < bmin) bmin = bd[i] + 0; if (bd[i] + 0 > bmax) bmax = bd[i] + 0
                                      if (!cmin || cd[i] + 0 < cmin) cmin = cd[i] + 0; if (cd[i] + 0 > cmax) cmax = cd[i] + 0 }
      printf "| slowest round / fastest round | %.2f | %.2f | (each ≥ 0.85) |\n", cmin / cmax, bmin / bmax
      printf "| rounds with p99 no worse than Bun'"'"'s in the same round | %d of %d | | |\n", ok, nc
      mbp = median(bp, nb); mcp = median(cp, nc); mbr = median(br, nb); mcr = median(cr, nc)
      printf "| p99 ms, median over rounds | %s | %s | **%.2f** (≤ 1.0) |\n", mcp, mbp, (mbp > 0 ? mcp / mbp : 0)
      printf "| peak RSS MB, median over rounds | %.0f | %.0f | **%.2f** (≤ 1.5) |\n", mcr / 1024, mbr / 1024, (mbr > 0 ? mcr / mbr : 0) }' "$raw")
  local ratio; ratio=$(sed -n 's/^ratio_dispatches_per_s=//p' "$raw")
  emit "| measure | Firestarter | Bun reference | Firestarter / Bun (target) |"
  emit "| --- | ---: | ---: | ---: |"
  emit "| dispatches/s, median of the per-round ratios | | | **$ratio** (≥ 1.0) |"
  emit "$summary"
  emit
  log "$name: ratio $ratio"
}
seed() { compare seed 500 10 0; }
sparse() { compare sparse 2000 1000 0; }

# ---- (a2) CPU time per dispatch at a fixed rate: bench/cpu-per-dispatch.sh with RATE ----
rate() {
  local r=${RATE:-5000} n=${RATE_ROUNDS:-3}
  log "rate: CPU time per dispatch at $r dispatches/s, $n rounds"
  emit "## CPU time per dispatch at a fixed rate (bench/cpu-per-dispatch.sh, RATE=$r)"
  emit
  if ! have_bun; then
    emit "Not run: bun is not installed and could not be installed from npm ($bun)."; emit; return
  fi
  local raw=$tmp/rate.out
  if ! RATE=$r DISPATCHERS=${RATE_DISPATCHERS:-52} ROUNDS=$n SECS=${RATE_SECS:-10} WARMUP=4 PORT=$((port_base + 2)) BUN_DIR=$bun_dir \
    SERVER_CPUS=$server_cpus LOAD_CPUS=$load_cpus SHARED_BENCH=$shared \
    "$repo/bench/cpu-per-dispatch.sh" "$publish/ProxyHost --urls http://127.0.0.1:\$PORT" >"$raw" 2>"$tmp/rate.err"; then
    failed cpu-per-dispatch.sh "$tmp/rate.err"; return
  fi
  emit "500 controllers (wrk), ${RATE_DISPATCHERS:-52} dispatchers each pausing between dispatches (bench/dispatch-at-rate.lua), 10 keys; each server alone on CPU $server_cpus, alternating; CPU time from /proc/PID/stat over the middle of each run; load average after: $(cut -d' ' -f1-3 /proc/loadavg)."
  emit
  emit "| round | server | dispatches/s | user µs | kernel µs | total µs | system calls |"
  emit "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
  awk '/^(bun|broker) /{ if ($1 == "bun") r++; for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "| %d | %s | %s | %s | %s | %s | %s |\n", r, $1, v["dispatches_per_s"], v["user_us"], v["kernel_us"], v["total_us"], (v["all"] == "" ? "n/a" : v["all"]) }' "$raw" >>"$out"
  emit
  local ratio
  ratio=$(awk '/^(bun|broker) /{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      if ($1 == "bun") b = v["total_us"]; else { n++; x[n] = v["total_us"] / b } }
    END { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (x[j] < x[i]) { t = x[i]; x[i] = x[j]; x[j] = t }; printf "%.2f", x[int((n + 1) / 2)] }' "$raw")
  emit "| measure | Firestarter / Bun (target) |"
  emit "| --- | ---: |"
  emit "| CPU time per dispatch, median of the per-round ratios | **$ratio** (≤ 1.0) |"
  emit
  log "rate: CPU per dispatch ratio $ratio"
}

# ---- (b) memory per parked controller, side by side ----
memory() {
  local n=${MEM_CONTROLLERS:-10000} settle=${MEM_SETTLE:-5}
  log "memory: $n parked controllers per server"
  emit "## Memory with $n parked controllers (side by side, same load)"
  emit
  emit "Each server alone, pinned to CPU $server_cpus; one load-tool process (\`--Role controllers\`, 10 keys) parks $n controllers; RSS read from /proc/PID/status ${settle}s after the last one is polling. Per controller = (RSS parked − RSS idle) / $n. Kernel memory is not in RSS: the last column is the change in Slab (/proc/meminfo) plus TCP buffer pages (/proc/net/sockstat) over the same interval, divided by $n; it is system-wide, so it holds both ends of each loopback connection (the client's socket too) and whatever else the machine did meanwhile."
  emit
  emit "| server | RSS idle MB | RSS with $n parked MB | peak RSS (VmHWM) MB | KB per parked controller | open fds | kernel KB per connection (system-wide, both ends) |"
  emit "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  local servers=(broker)
  if [ "${MEM_SERVERS:-}" = broker ]; then :
  elif have_bun; then servers=(bun broker); else emit "| bun | not run: bun is not installed | | | | | |"; fi
  local port=$((port_base + 2)) per_bun="" per_broker=""
  for name in "${servers[@]}"; do
    start_server "$name" "$port"
    sleep 2
    local idle k0; idle=$(kb "$server_pid" VmRSS); k0=$(kernel_kb)
    start_controllers "$port" "$n" "mem-$name"
    sleep "$settle"
    local parked hwm fd k1
    parked=$(kb "$server_pid" VmRSS); hwm=$(kb "$server_pid" VmHWM); fd=$(fds "$server_pid"); k1=$(kernel_kb)
    stop "$ctl_pid"; stop "$server_pid"
    local per; per=$(awk -v a="$parked" -v b="$idle" -v n="$n" 'BEGIN{printf "%.2f", (a - b) / n}')
    [ "$name" = bun ] && per_bun=$per || per_broker=$per
    emit "| $name | $((idle / 1024)) | $((parked / 1024)) | $((hwm / 1024)) | $per | $fd | $(awk -v a="$k1" -v b="$k0" -v n="$n" 'BEGIN{printf "%.2f", (a - b) / n}') |"
    log "memory: $name idle=${idle}KB parked=${parked}KB per=${per}KB"
    port=$((port + 1))
  done
  emit
  if [ -n "$per_bun" ]; then
    emit "Per parked controller, Firestarter / Bun: **$(awk -v a="$per_broker" -v b="$per_bun" 'BEGIN{printf "%.2f", a / b}')** (target ≤ 2.0, issue 16)."
    emit
  fi
  [ "${MEM_CENSUS:-}" = 1 ] && memory_census "$n" "$settle" "$port"
  return 0
}

# The broker's live managed heap by type, per parked controller: a census idle and one with N parked, on a fresh
# broker (a census forces a full GC and attaches a diagnostics session, so it is kept out of the RSS pass above).
memory_census() {
  local n=$1 settle=$2 port=$3
  start_server broker "$port"
  sleep 2
  heap_census "$server_pid" "$tmp/mem-census-idle.json"
  start_controllers "$port" "$n" mem-census
  sleep "$settle"
  heap_census "$server_pid" "$tmp/mem-census-parked.json"
  stop "$ctl_pid"; stop "$server_pid"
  if [ ! -s "$tmp/mem-census-idle.json" ] || [ ! -s "$tmp/mem-census-parked.json" ]; then
    emit "The heap census failed (needs \`nm\` to name the native executable's types)."; emit; return
  fi
  emit "The broker's live managed heap after a full GC (heap census), idle and with $n parked, on a fresh broker; per parked controller = the change / $n. Types without a symbol are shown by address."
  emit
  jq -r -n --argjson n "$n" --slurpfile a "$tmp/mem-census-idle.json" --slurpfile b "$tmp/mem-census-parked.json" '
    ($a[0].top | map({key: .name, value: .}) | from_entries) as $A
    | ($b[0].top | map({key: .name, value: .}) | from_entries) as $B
    | (($b[0].heapBytes - $a[0].heapBytes) / $n) as $per
    | "Heap: \($a[0].heapBytes / 1048576 * 10 | round / 10) MB idle, \($b[0].heapBytes / 1048576 * 10 | round / 10) MB parked: **\($per | round) B per parked controller** in \(($b[0].objects - $a[0].objects) / $n * 10 | round / 10) objects.",
      "",
      "| type | B per parked controller | objects per parked controller | share |",
      "| --- | ---: | ---: | ---: |",
      ([($A + $B) | keys[] | {name: ., d: (($B[.].bytes // 0) - ($A[.].bytes // 0)), c: (($B[.].count // 0) - ($A[.].count // 0))}]
       | map(select(.d / $n >= 8 or .d / $n <= -8)) | sort_by(-.d)[]
       | "| `\(.name[:110])` | \(.d / $n | round) | \(.c / $n * 100 | round / 100) | \(.d / $n / $per * 1000 | round / 10) % |")' |
    while IFS= read -r l; do emit "$l"; done
  emit
}

# ---- (c) scale: 19,000 parked controllers in one broker, 50 dispatchers ----
scale() {
  local n=${SCALE_CONTROLLERS:-19000} procs=${SCALE_PROCS:-2} disp=${SCALE_DISPATCHERS:-50}
  local secs=${SCALE_SECS:-10} warm=${SCALE_WARMUP:-3} port=$((port_base + 4))
  log "scale: $n controllers over $procs processes, $disp dispatchers"
  emit "## Scale: $n parked controllers in one broker, $disp dispatchers"
  emit
  start_server broker "$port"
  local broker_pid=$server_pid idle; idle=$(kb "$broker_pid" VmRSS)
  local per=$(((n + procs - 1) / procs)) left=$n ctl=() files=()
  for i in $(seq 1 "$procs"); do
    local c=$((left < per ? left : per)); left=$((left - c))
    start_controllers "$port" "$c" "scale-c$i"
    ctl+=("$ctl_pid"); files+=("$tmp/scale-c$i.log")
  done
  local parked fd; parked=$(kb "$broker_pid" VmRSS); fd=$(fds "$broker_pid")
  rm -f "$tmp/scale-d.log"
  "${lt[@]}" --Target "http://127.0.0.1:$port" --Role dispatchers --Dispatchers "$disp" --Warmup "$warm" --Duration "$secs" \
    --RunIdPrefix run_scale_ --DispatchLog "$tmp/scale-d.log" --Json true >"$tmp/scale-d.json" 2>"$tmp/scale-d.err" || true
  local after hwm; after=$(kb "$broker_pid" VmRSS); hwm=$(kb "$broker_pid" VmHWM)
  sleep 2
  for p in "${ctl[@]}"; do stop "$p"; done
  stop "$broker_pid"
  "${lt[@]}" merge --Files "${files[@]}" "$tmp/scale-d.log" --Json true >"$tmp/scale-merge.json" 2>"$tmp/scale-merge.err" || true
  local d="$tmp/scale-d.json" m="$tmp/scale-merge.json"
  emit "Broker pinned to CPU $server_cpus; $procs controller processes ($per each, \`--Role controllers\`) and one dispatcher process, all on CPU $load_cpus; ${warm}s warm-up, ${secs}s measured; exactness over all processes by \`merge\`."
  emit
  emit "| measure | value |"
  emit "| --- | ---: |"
  emit "| controllers polling | $(cat "$tmp"/scale-c*.err | sed -n 's/.*\b\([0-9][0-9]*\) controllers polling.*/\1/p' | awk '{s += $1} END {print s}') |"
  emit "| broker open fds with all parked | $fd |"
  emit "| broker RSS idle / all parked / after dispatching / peak, MB | $((idle / 1024)) / $((parked / 1024)) / $((after / 1024)) / $((hwm / 1024)) |"
  emit "| KB per parked controller | $(awk -v a="$parked" -v b="$idle" -v n="$n" 'BEGIN{printf "%.2f", (a - b) / n}') |"
  if [ -s "$d" ]; then
    emit "| dispatches/s | $(jq -r '.dispatchesPerSecond | floor' "$d") |"
    emit "| hit rate | $(jq -r '.hitRate * 100 | . * 100 | round / 100' "$d") % |"
    emit "| dispatch latency p50 / p99 / max ms (target p99 < 20) | $(jq -r '.dispatchLatencyMs | "\(.p50) / **\(.p99)** / \(.max)"' "$d") |"
    emit "| dispatch errors (http / transport / timeouts) | $(jq -r '"\(.dispatchHttpErrors) / \(.dispatchTransportErrors) / \(.dispatchTimeouts)"' "$d") |"
    emit "| dispatcher client CPU % | $(jq -r '.clientCpuPercent | round' "$d") |"
  else
    emit "| dispatchers | failed: $(tail -3 "$tmp/scale-d.err" | tr '\n' ' ') |"
  fi
  if [ -s "$m" ]; then
    emit "| exactness (merge): lost / duplicated / false-delivered / misrouted / unknown | $(jq -r '"\(.lost) / \(.duplicated) / \(.falseDelivered) / \(.misrouted) / \(.unknownReceived)"' "$m") |"
  else
    emit "| exactness (merge) | failed: $(tail -3 "$tmp/scale-merge.err" | tr '\n' ' ') |"
  fi
  emit
  log "scale: done"
}

# ---- (d) leak: park-then-abort cycles ----
# The broker's firestarter_polls_total{outcome="aborted"} from its /metrics, or nothing if it does not answer.
aborted_polls() {
  curl -sf "http://127.0.0.1:$1/metrics" | awk '/^firestarter_polls_total\{/ && /outcome="aborted"/ {n = $2} END {if (n != "") printf "%d", n}'
}
less_pool() { awk -v h="$1" -v p="$2" 'BEGIN{ if (h + 0 > 0 && p != "n/a") print h - p; else print "n/a" }'; }
change() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a + 0 > 0 && b + 0 > 0) printf "%+.1f %%", (a - b) * 100 / b; else print "n/a" }'; }
leak() {
  local target=${LEAK_CYCLES:-1000000} n=${LEAK_CONTROLLERS:-500} chunk=${LEAK_CHUNK_SECS:-30} delay=${LEAK_ABORT_DELAY_MS:-20}
  local port=$((port_base + 5))
  log "leak: $target park-then-abort cycles"
  emit "## Leak: $target park-then-abort cycles"
  emit
  emit "One broker; a load-tool process with $n controllers that abandon every poll (\`--AbortRate 1 --AbortMaxDelayMs $delay\`: park, then close the connection) and no dispatchers, in ${chunk}s chunks until the broker has counted $target park-then-abort cycles (polls that parked and ended \`aborted\`: its \`firestarter_polls_total{outcome=\"aborted\"}\` read from its own /metrics before and after each chunk, so that no diagnostics session is attached to the process while it is measured; if /metrics does not answer, the polls the clients aborted, some of which never reached the broker). A client aborts a poll 0..${delay} ms after sending it by closing its connection, and the next poll opens a new one. The baseline is taken after a first ${chunk}s chunk, not counted, so that it includes what the first cycles allocate once (JIT, pools, buckets). After each chunk: the live managed heap after a full GC (the heap census, \`bench/Firestarter.HeapCensus\`, induces the GC and sums the runtime's walk of the heap), the part of it that is Kestrel's pooled I/O buffers (4 KiB each; the pool keeps as many as were in use at once and evicts them while idle), then RSS."
  emit
  start_server broker "$port"
  local pid=$server_pid
  "${lt[@]}" --Target "http://127.0.0.1:$port" --Controllers "$n" --Dispatchers 0 --AbortRate 1 --AbortMaxDelayMs "$delay" \
    --Duration "$chunk" --Drain 0 --Json true >"$tmp/leak-warmup.json" 2>"$tmp/leak-warmup.err" || true
  sleep 1
  rm -f "$tmp"/leak-census-*.json
  local heap0 pool0 rss0; heap_census "$pid" "$tmp/leak-census-0.json"; heap0=$heap_kb pool0=$pool_kb; rss0=$(kb "$pid" VmRSS)
  emit "| cycles (broker: parked, then aborted) | polls the clients aborted | connections opened | seconds | cycles/s | RSS MB | managed heap after GC KB | of it Kestrel's buffer pool KB | heap less the pool KB | broker open fds | broker threads |"
  emit "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  emit "| 0 (after a ${chunk}s warm-up chunk) | | | | | $((rss0 / 1024)) | $heap0 | $pool0 | $(less_pool "$heap0" "$pool0") | $(fds "$pid") | $(kb "$pid" Threads) |"
  local done_cycles=0 client=0 conns=0 started=$SECONDS heap=$heap0 pool=$pool0 rss=$rss0 i=0 before after
  # The broker's own count of polls that ended "aborted" (parked, then the client left), from its Prometheus
  # endpoint. Not dotnet-counters: a counters session attached to the process being measured keeps state of its own
  # in it (in one A/B the heap grew 3-6 % per 60-second chunk with one attached, under 1 % without; bench/RESULTS.md).
  before=$(aborted_polls "$port")
  while [ "$done_cycles" -lt "$target" ]; do
    i=$((i + 1))
    "${lt[@]}" --Target "http://127.0.0.1:$port" --Controllers "$n" --Dispatchers 0 --AbortRate 1 --AbortMaxDelayMs "$delay" \
      --Duration "$chunk" --Drain 0 --Json true >"$tmp/leak-$i.json" 2>"$tmp/leak-$i.err" || true
    local c; c=$(jq -r '.pollsAborted // 0' "$tmp/leak-$i.json" 2>/dev/null || echo 0)
    [ "$c" -gt 0 ] || { emit "| chunk $i failed: $(tail -2 "$tmp/leak-$i.err" | tr '\n' ' ') | | | | | | | | | | |"; break; }
    client=$((client + c))
    conns=$((conns + $(jq -r '.controllerConnectionsOpened // 0' "$tmp/leak-$i.json")))
    sleep 1
    local b=$c
    after=$(aborted_polls "$port")
    if [ -n "$before" ] && [ -n "$after" ]; then b=$((after - before)); fi
    before=$after
    done_cycles=$((done_cycles + b))
    heap_census "$pid" "$tmp/leak-census-1.json"; heap=$heap_kb pool=$pool_kb; rss=$(kb "$pid" VmRSS)
    emit "| $done_cycles | $client | $conns | $((SECONDS - started)) | $((b / chunk)) | $((rss / 1024)) | $heap | $pool | $(less_pool "$heap" "$pool") | $(fds "$pid") | $(kb "$pid" Threads) |"
    log "leak: $done_cycles cycles, rss ${rss}KB heap ${heap}KB"
  done
  local hwm; hwm=$(kb "$pid" VmHWM)
  stop "$pid"
  emit
  emit "After $done_cycles cycles: RSS $(change "$rss" "$rss0") vs the baseline, managed heap $(change "$heap" "$heap0") (target: both within ±10 %), the heap less Kestrel's buffer pool $(change "$(less_pool "$heap" "$pool")" "$(less_pool "$heap0" "$pool0")"); peak RSS $((hwm / 1024)) MB."
  emit
  if [ -s "$tmp/leak-census-0.json" ] && [ -s "$tmp/leak-census-1.json" ]; then
    emit "The types whose live bytes changed most between the baseline and the census after the last chunk:"
    emit
    emit "| type | bytes at the baseline | after | change | objects change |"
    emit "| --- | ---: | ---: | ---: | ---: |"
    jq -r -n --slurpfile a "$tmp/leak-census-0.json" --slurpfile b "$tmp/leak-census-1.json" '
      ($a[0].top | map({key: .name, value: .}) | from_entries) as $A
      | ($b[0].top | map({key: .name, value: .}) | from_entries) as $B
      | [($A + $B) | keys[] | {name: ., a: ($A[.].bytes // 0), b: ($B[.].bytes // 0), ca: ($A[.].count // 0), cb: ($B[.].count // 0)}]
      | map(. + {d: (.b - .a)}) | sort_by(-(if .d < 0 then -.d else .d end)) | .[:12][]
      | "| `\(.name[:120])` | \(.a) | \(.b) | \(if .d > 0 then "+" else "" end)\(.d) | \(.cb - .ca) |"' | while read -r l; do emit "$l"; done
  fi
  emit
}

for s in "${scenarios[@]}"; do "$s"; done
log "results: $out"
cat "$out"
