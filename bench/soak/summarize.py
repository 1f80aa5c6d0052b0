"""Summarises a soak run (bench/soak/soak.sh): growth of RSS, threads, descriptors and GC heap between the first
and the last minute of churn, the parked gauge against the known live polls, and the handoff outcomes."""
import collections
import csv
import sys

out = sys.argv[1]
samples = list(csv.DictReader(open(f"{out}/samples.csv")))
# The first minute is warm-up (connections opening, pools and JIT filling): growth is judged after it.
churn = [s for s in samples if s["phase"] == "churn" and int(s["seconds"]) >= 60]


def mean(rows, field):
    return sum(float(r[field]) for r in rows) / max(len(rows), 1)


window = max(1, len(churn) // 5)
print(f"samples: {len(samples)} ({len(churn)} during churn after its first minute)")
for field, unit in (("rss_kb", "kB"), ("threads", ""), ("fds", "")):
    first, last = mean(churn[:window], field), mean(churn[-window:], field)
    peak = max(float(r[field]) for r in churn)
    print(f"{field:8} first {first:10.0f} last {last:10.0f} peak {peak:10.0f} {unit}  change {last - first:+.0f}")
print("after churn:", ", ".join(f"{s['phase']} rss={s['rss_kb']} threads={s['threads']} fds={s['fds']}" for s in samples if s["phase"] != "churn"))

series = collections.defaultdict(list)
totals = collections.Counter()
for row in csv.DictReader(open(f"{out}/counters.csv")):
    name, value = row["Counter Name"], float(row["Mean/Increment"] or 0)
    series[name].append((row["Timestamp"], value))
    if row["Counter Type"] == "Rate" and "firestarter.handoffs" in name:
        totals[name.split("outcome=")[-1].rstrip("]")] += value

for name in sorted(series):
    if any(k in name for k in ("gc.last_collection.heap.size", "memory.working_set", "controllers.parked ")):
        values = [v for _, v in series[name]]
        n = max(1, len(values) // 5)
        print(f"{name}: first {sum(values[:n]) / n:,.0f} last-churn-window/tail {sum(values[-n:]) / n:,.0f} (samples {len(values)})")
parked = [v for _, v in series.get("firestarter.controllers.parked ({controller})", [])]
print("parked gauge, last 8 samples (fixed controllers, then idle):", [int(v) for v in parked[-8:]])
print("handoffs:", dict(totals))
