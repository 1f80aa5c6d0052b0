#!/usr/bin/env bash
# Soak: the published host under controller churn for N minutes, sampling memory, handles, threads, GC heap and the
# parked gauge; then checks that the gauge returns to the real number of live polls.
#
#   bench/soak/soak.sh [minutes]        (env: PORT, CONTROLLERS, DISPATCHERS, ABORT_RATE, FIXED, OUT, SAMPLE_SECONDS)
#
# Phases: "churn" (the load tool with CONTROLLERS controllers abandoning ABORT_RATE of their polls and DISPATCHERS
# dispatchers, for the given minutes; its exactness report goes to OUT/churn-report.txt), "fixed" (FIXED controllers
# that only wait: the parked gauge must read exactly FIXED), "idle" (nobody: the gauge must read 0). OUT/samples.csv
# has RSS, threads and descriptors from /proc; OUT/counters.csv has dotnet-counters' System.Runtime and Firestarter
# meters; OUT/summary.txt compares the first and last fifth of the churn.
set -euo pipefail

MINUTES=${1:-5}
PORT=${PORT:-18441}
CONTROLLERS=${CONTROLLERS:-500}
DISPATCHERS=${DISPATCHERS:-50}
ABORT_RATE=${ABORT_RATE:-0.33}
FIXED=${FIXED:-200}            # controllers parked after the churn, with no dispatches: the gauge must read exactly this
SAMPLE_SECONDS=${SAMPLE_SECONDS:-10}
OUT=${OUT:-/tmp/firestarter-soak}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
COUNTERS=${COUNTERS:-$HOME/.dotnet/tools/dotnet-counters}

mkdir -p "$OUT"
rm -f "$OUT"/*.csv "$OUT"/*.txt "$OUT"/*.log
dotnet publish "$ROOT/src/ProxyHost" -c Release -o "$OUT/host" -v q --nologo >/dev/null
dotnet build "$ROOT/bench/Firestarter.LoadTool" -c Release -v q --nologo >/dev/null
LT="dotnet $ROOT/bench/Firestarter.LoadTool/bin/Release/net10.0/Firestarter.LoadTool.dll"
TARGET=http://127.0.0.1:$PORT

dotnet "$OUT/host/ProxyHost.dll" --urls "$TARGET" --Logging:LogLevel:Default=Warning >"$OUT/host.log" 2>&1 &
HOST=$!
trap 'kill $HOST 2>/dev/null || true; kill $SAMPLER 2>/dev/null || true; kill -INT $COLLECTOR 2>/dev/null || true' EXIT
until curl -fs "$TARGET/connect" >/dev/null; do sleep 0.2; done

"$COUNTERS" collect -p "$HOST" --counters System.Runtime,Firestarter --format csv -o "$OUT/counters.csv" \
    --refresh-interval "$SAMPLE_SECONDS" >/dev/null 2>&1 &
COLLECTOR=$!

# RSS (kB), threads and open descriptors of the host, from /proc, every SAMPLE_SECONDS.
(
    echo "seconds,phase,rss_kb,threads,fds"
    start=$(date +%s)
    while kill -0 $HOST 2>/dev/null; do
        phase=$(cat "$OUT/phase" 2>/dev/null || echo start)
        rss=$(awk '/^VmRSS/ {print $2}' /proc/$HOST/status)
        threads=$(awk '/^Threads/ {print $2}' /proc/$HOST/status)
        fds=$(ls /proc/$HOST/fd | wc -l)
        echo "$(( $(date +%s) - start )),$phase,$rss,$threads,$fds"
        sleep "$SAMPLE_SECONDS"
    done
) >"$OUT/samples.csv" &
SAMPLER=$!

echo churn >"$OUT/phase"
$LT --Target "$TARGET" --Controllers "$CONTROLLERS" --Dispatchers "$DISPATCHERS" --AbortRate "$ABORT_RATE" \
    --Warmup 5 --Duration $(( MINUTES * 60 )) --AllowAbortRace true >"$OUT/churn-report.txt" 2>"$OUT/churn.log" || true

# After the churn: FIXED controllers that only wait. Then the gauge must read FIXED, and 0 once they are gone.
echo fixed >"$OUT/phase"
$LT --Target "$TARGET" --Role controllers --Controllers "$FIXED" --Duration $(( 3 * SAMPLE_SECONDS )) \
    --RunIdPrefix run_fixed_ >"$OUT/fixed-report.txt" 2>"$OUT/fixed.log" || true
echo idle >"$OUT/phase"
sleep $(( 3 * SAMPLE_SECONDS ))

# dotnet-counters, not on a terminal, ignores SIGINT until its target exits: stop the host first.
kill -INT $COLLECTOR 2>/dev/null || true
kill -TERM $HOST; wait $HOST 2>/dev/null || true
wait $COLLECTOR 2>/dev/null || true
wait $SAMPLER 2>/dev/null || true
trap - EXIT
python3 "$(dirname "$0")/summarize.py" "$OUT" | tee "$OUT/summary.txt"
