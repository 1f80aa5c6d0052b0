#!/usr/bin/env bash
# The cluster scenario of issue 13, in seconds: sparse keys (one idle controller per deployment) against one instance,
# then against N instances sharing one Redis, and the same N instances without Redis (each alone). Reports hit rate,
# latency of local and handed-on hits, and the Redis commands per dispatch and per poll (INFO commandstats).
#   bench/cluster.sh                      # N=3 KEYS=150 DISPATCHERS=6 DURATION=5, the JIT Release build
#   HOST='out/ProxyHost' bench/cluster.sh   # the Native AOT publish (dotnet publish src/ProxyHost -c Release -o out)
# Writes bench/results/<date>-cluster.md.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-3} KEYS=${KEYS:-150} DISPATCHERS=${DISPATCHERS:-6} DURATION=${DURATION:-5}
out=bench/results/$(date -u +%Y-%m-%d-%H%M)-cluster.md
work=$(mktemp -d)
pids=()
cleanup() { [ -f "$work/pids" ] && stop_brokers; for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; echo "(work files: $work)" >&2; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

if [ -z "${HOST:-}" ]; then
  dotnet build -c Release -v q -nologo src/ProxyHost >/dev/null
  HOST="dotnet src/ProxyHost/bin/Release/net10.0/ProxyHost.dll"
fi
dotnet build -c Release -v q -nologo bench/Firestarter.LoadTool >/dev/null
tool=bench/Firestarter.LoadTool/bin/Release/net10.0/Firestarter.LoadTool.dll

rport=$(free_port)
redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly no >"$work/redis.log" 2>&1 & pids+=($!)
until redis-cli -p "$rport" ping >/dev/null 2>&1; do sleep 0.1; done

# start_brokers COUNT [extra args]: starts COUNT brokers, prints their comma-separated URLs; their pids go to $work/pids.
start_brokers() {
  local count=$1; shift
  local urls=()
  for _ in $(seq "$count"); do
    local port; port=$(free_port)
    $HOST --urls "http://127.0.0.1:$port" --Logging:LogLevel:Default=Warning \
      --Logging:LogLevel:Microsoft.Hosting.Lifetime=Information \
      --ReverseProxy:Clusters:supervisor:HealthCheck:Active:Enabled=false \
      --ReverseProxy:Clusters:cold-start:HealthCheck:Active:Enabled=false "$@" >"$work/broker-$port.log" 2>&1 &
    echo $! >>"$work/pids"
    until grep -qs "Now listening" "$work/broker-$port.log"; do sleep 0.2; done
    urls+=("http://127.0.0.1:$port")
  done
  (IFS=,; echo "${urls[*]}")
}
stop_brokers() { while read -r p; do kill "$p" 2>/dev/null || true; done <"$work/pids"; rm -f "$work/pids"; sleep 0.5; }

# load TARGETS NAME: one run, its JSON report in $work/NAME.json.
load() {
  dotnet "$tool" --Target "$1" --Controllers "$KEYS" --Keys "$KEYS" --SparseKeys true --Dispatchers "$DISPATCHERS" \
    --Duration "$DURATION" --Warmup 1 --Json true >"$work/$2.json" 2>"$work/$2.txt"
}

row() { # NAME INSTANCES REDIS
  jq -r --arg name "$1" --arg n "$2" --arg redis "$3" '"| \($name) | \($n) | \(.dispatches) | \(.dispatchesPerSecond) | \(.hitRate * 1000 | round / 10)% | \(.localHitLatencyMs.p50) / \(.localHitLatencyMs.p99) | \(.handedOnHits) | \(.handedOnHitLatencyMs.p50) / \(.handedOnHitLatencyMs.p99) | \(.lost) lost, \(.duplicated) duplicated, \(.falseDelivered) false-delivered | \($redis) |"' "$work/$1.json"
}

urls=$(start_brokers 1); load "$urls" one; stop_brokers
urls=$(start_brokers "$N"); load "$urls" alone; stop_brokers
urls=$(start_brokers "$N" --Firestarter:Cluster:Redis=127.0.0.1:"$rport")
sleep 2
redis-cli -p "$rport" config resetstat >/dev/null
sleep "$DURATION"
idle=$(redis-cli -p "$rport" info stats | awk -F: '/^total_commands_processed/ {print $2+0}')
redis-cli -p "$rport" info commandstats | tr -d '\r' | grep '^cmdstat' >"$work/idlestats"
redis-cli -p "$rport" config resetstat >/dev/null
load "$urls" cluster
total=$(redis-cli -p "$rport" info stats | awk -F: '/^total_commands_processed/ {print $2+0}')
redis-cli -p "$rport" info commandstats | tr -d '\r' | grep '^cmdstat' >"$work/commandstats"
# Idle controllers' poll cycles: no dispatches, every poll abandoned after 0..50 ms and sent again (to the same
# instance), as an idle controller's poll times out and is renewed.
redis-cli -p "$rport" config resetstat >/dev/null
dotnet "$tool" --Target "$urls" --Controllers "$KEYS" --Keys "$KEYS" --SparseKeys true --Role controllers --AbortRate 1 \
  --AbortMaxDelayMs 50 --Duration "$DURATION" --Json true >"$work/idle.json" 2>"$work/idle.txt"
redis-cli -p "$rport" info commandstats | tr -d '\r' | grep '^cmdstat' >"$work/idlecycles"
stop_brokers

dispatches=$(jq '.totalDispatches' "$work/cluster.json")
polls=$(jq '.polls' "$work/cluster.json")
seconds=$(jq '.measuredSeconds + .warmupSeconds' "$work/cluster.json")
{
  echo "# Cluster scenario, $(date -u '+%Y-%m-%d %H:%M') UTC, commit $(git rev-parse --short HEAD)"
  echo
  echo "bench/cluster.sh: N=$N instances (\`$HOST\`), $KEYS keys with one controller each (SparseKeys: key k on instance k mod N),"
  echo "$DISPATCHERS dispatchers round-robin over the instances and keys, ${DURATION} s measured after 1 s warm-up; one redis-server $(redis-server --version | awk '{print $3}'). Load average: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "| run | instances | dispatches | /s | hit rate | local hits p50 / p99 ms | handed-on hits | handed-on p50 / p99 ms | exactness | Redis |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"
  row one 1 none
  row alone "$N" none
  row cluster "$N" one
  echo
  echo "Redis, cluster run: $total commands in ${seconds} s for $dispatches dispatches and $polls polls;"
  echo "idle (heartbeats only, the same instances, no load): $idle commands in ${DURATION} s."
  python3 - "$work/commandstats" "$work/idlestats" "$DURATION" "$seconds" "$dispatches" "$polls" "$N" <<'PY'
import re, sys
def calls(path):
    return {m[1]: int(m[2]) for m in re.finditer(r"cmdstat_([^:]+):calls=(\d+)", open(path).read())}
load, idle = calls(sys.argv[1]), calls(sys.argv[2])
idle_s, seconds, dispatches, polls, n = (float(x) for x in sys.argv[3:])
# What the load added beyond the heartbeats (idle rate scaled to the run's length).
extra = {c: load.get(c, 0) - idle.get(c, 0) * seconds / idle_s for c in load}
lookups = extra.get("smembers", 0) + extra.get("evalsha", 0) + extra.get("eval", 0)
writes = extra.get("sadd", 0) + extra.get("srem", 0)
beats = sum(v for c, v in idle.items() if not c.startswith(("config", "info"))) / idle_s
print(f"Per dispatch: {lookups / dispatches:.3f} lookups (SMEMBERS, and EVAL to drop a dead id), made only on a local miss. "
      f"Per poll: {writes / polls:.3f} directory writes (SADD/SREM; a key's first controller and its last, batched every 50 ms). "
      f"Heartbeats: {beats:.1f} commands/s for {n:.0f} instances ({beats / n:.1f} per instance per second, with N-1 lease reads each).")
PY
  python3 - "$work/idlecycles" "$work/idlestats" "$DURATION" "$(jq '.polls' "$work/idle.json")" <<'PY'
import re, sys
def calls(path):
    return {m[1]: int(m[2]) for m in re.finditer(r"cmdstat_([^:]+):calls=(\d+)", open(path).read())}
load, idle = calls(sys.argv[1]), calls(sys.argv[2])
seconds, polls = float(sys.argv[3]), float(sys.argv[4])
writes = sum(load.get(c, 0) - idle.get(c, 0) for c in ("sadd", "srem"))
print(f"Idle poll cycles (every poll abandoned after 0-50 ms and renewed at the same instance, no dispatch): "
      f"{polls:.0f} polls, {writes:.0f} directory writes beyond the heartbeats, {writes / polls:.3f} per poll.")
PY
  echo
  echo '```'
  cat "$work/commandstats"
  echo '```'
  echo
  for name in one alone cluster; do echo "## $name"; echo; echo '```'; cat "$work/$name.txt"; echo '```'; echo; done
} >"$out"
cat "$out"
