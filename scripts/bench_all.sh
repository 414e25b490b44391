#!/usr/bin/env bash
# make bench: every benchmark on the release build, each on its own throwaway cluster, then one
# table of the figures the issues ask for. Benchmarks, not tests: goals are reported, not enforced.
#   scripts/bench_all.sh .build/release/tierplan
#   BENCH_ONLY="ingest forecast" scripts/bench_all.sh BIN     a subset (ingest run forecast serve pipeline webhooks)
set -uo pipefail
BIN=${1:?usage: scripts/bench_all.sh path/to/tierplan}
cd "$(dirname "$0")/.."
LOGS=$(mktemp -d /tmp/tpbench-logs.XXXXXX)
ONLY=${BENCH_ONLY:-ingest run forecast serve pipeline webhooks}
status=0
part() {   # name script
    [[ " $ONLY " == *" $1 "* ]] || return 0
    echo "=== $1: $2 $BIN" >&2
    if ! "$2" "$BIN" 2>&1 | tee "$LOGS/$1.log"; then echo "bench: $1 failed (log: $LOGS/$1.log)" >&2; status=1; fi
}
part ingest scripts/bench.sh
part run scripts/bench_run.sh
part forecast scripts/bench_forecast.sh
part serve scripts/bench_serve.sh
part pipeline scripts/bench_pipeline.sh
part webhooks scripts/bench_webhooks.sh

python3 - "$LOGS" <<'PY'
import os, re, sys
logs = sys.argv[1]
def read(name):
    path = os.path.join(logs, name + ".log")
    return open(path).read() if os.path.exists(path) else ""
rows = []
ingest = read("ingest")
m_raw = re.search(r"raw COPY \(psql.*?\s(\d+)\s+([\d.]+)\s+(\d+)", ingest)
m_new = re.search(r"tierplan usage ingest NDJSON \(all new\)\s+(\d+)\s+([\d.]+)\s+(\d+)", ingest)
m_dup = re.search(r"tierplan usage ingest NDJSON \(all duplicates\)\s+(\d+)\s+([\d.]+)\s+(\d+)", ingest)
m_ratio = re.search(r"ingest ratio.*?:\s*([\d.]+)", ingest)
if m_new and m_raw and m_ratio:
    rows.append(("ingest 1M feature events (all new)", f"{int(m_new.group(3)):,} rows/s vs raw COPY {int(m_raw.group(3)):,} rows/s: ratio {m_ratio.group(1)}", "ratio >= 0.5"))
if m_dup:
    rows.append(("ingest the same 1M again (duplicates)", f"{int(m_dup.group(3)):,} rows/s ({m_dup.group(2)} s)", ""))
run = read("run")
for line in run.splitlines():
    parts = line.split()
    if len(parts) == 11 and parts[0].isdigit():
        acc, events, gen, run_s, rerun_s, bare_s, ratio, rss, rerun_rss, scanned, offers = parts
        rows.append((f"run --as-of, {int(acc):,} accounts ({int(events):,} events)",
                     f"{run_s} s (bare query {bare_s} s, ratio {ratio}), peak RSS {rss} MB; rerun {rerun_s} s", "ratio <= 2, RSS <= 500 MB"))
m_lin = re.search(r"linear: (.*?)\(", run)
if m_lin:
    rows.append(("run time per account, largest vs smallest", m_lin.group(1).strip(), "linear (<= 1.5x)"))
forecast = read("forecast")
m_fc = re.search(r"forecast history model over (\d+) accounts, (\d+) history rows, (\d+) open offers, (\d+) months: best of \d+ = ([\d.]+) s, "
                 r"peak RSS (\S+) MB; raw SQL ([\d.]+) s \(every input ([\d.]+) s\), ratio ([\d.]+)\s+goal < ([\d.]+) s", forecast)
if m_fc:
    acc, hist, offers, months, t, rss, raw, raw_all, ratio, goal = m_fc.groups()
    rows.append((f"forecast {months} months, {int(acc):,} accounts ({int(hist):,} history rows, {int(offers):,} offers)",
                 f"{t} s (raw SQL {raw} s, ratio {ratio}; every input {raw_all} s), peak RSS {rss} MB", f"< {goal} s"))
m_bt = re.search(r"forecast backtest (\d+) as_of days, horizon (\d+): best of \d+ = ([\d.]+) s, peak RSS (\S+) MB; "
                 r"raw SQL ([\d.]+) s, ratio ([\d.]+)\s+goal < ([\d.]+) s", forecast)
if m_bt:
    points, h, t, rss, raw, ratio, goal = m_bt.groups()
    rows.append((f"forecast backtest, {points} as_of days, horizon {h}", f"{t} s (raw SQL {raw} s, ratio {ratio}), peak RSS {rss} MB", f"< {goal} s"))
serve = read("serve")
for label, key in (("serve: queue page, 50 clients", "/queue (session cookie)"), ("serve: offers API, 50 clients", "/api/v1/offers?status=proposed&limit=50")):
    for line in serve.splitlines():
        if line.startswith(key):
            p = line[len(key):].split()
            rows.append((label, f"p99 {p[4]} ms, {p[1]} req/s (p50 {p[2]} ms)", "p99 < 100 ms"))
pipeline = read("pipeline")
if "\npipeline summary\n" in pipeline:
    for line in pipeline.split("\npipeline summary\n", 1)[1].splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if line.startswith("| pipeline ") and len(cells) == 3:
            rows.append(tuple(cells))
for line in read("webhooks").splitlines():
    cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
    if line.startswith("| webhooks: ") and len(cells) == 3:
        rows.append(tuple(cells))
width = max((len(r[0]) for r in rows), default=10)
print()
print("tierplan benchmarks (release build; 2 cores shared by tierplan, PostgreSQL and the load generator)")
print(f"{'figure':<{width}}  {'measured':<75}  goal")
print(f"{'-' * width}  {'-' * 75}  {'-' * 26}")
for name, value, goal in rows:
    print(f"{name:<{width}}  {value:<75}  {goal}")
print(f"\nfull outputs: {logs}")
PY
exit $status
