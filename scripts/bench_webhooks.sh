#!/usr/bin/env bash
# make bench, webhooks part (issue 16), on a throwaway embedded cluster (durable settings), with a
# receiver on loopback (scripts/bench_webhook_receiver.py) that answers 200 and logs when each event
# arrived:
#   1. throughput: EVENTS events (default 100,000) committed at once for one endpoint, delivered by one
#      `tierplan deliver`; events per second, and commit → delivery latency under that backlog;
#   2. steady state: `tierplan serve` delivering in the background while a producer commits 50 events
#      every 100 ms for STEADY seconds; p50/p99 latency from each event's commit to its arrival;
#   3. the outbox's cost in `run`: RUN_ACCOUNTS accounts (scripts/bench_run_data.sql) with one endpoint
#      taking every event type; the time the run spends writing its events and alerts (measured in the
#      process, TIERPLAN_BENCH_TIMING=1) against the rest of the run, for the first run (every offer and
#      crossing is new) and for the next day's (the nightly job after it). Goal: ≤ 10 %.
#   scripts/bench_webhooks.sh BIN
#   BENCH_WEBHOOK_EVENTS=100000 BENCH_WEBHOOK_STEADY=20 BENCH_WEBHOOK_RUN_ACCOUNTS=50000 …
#   BENCH_WEBHOOK_ONLY="run" …                      some of the parts (burst steady run)
set -euo pipefail

BIN=${1:?usage: scripts/bench_webhooks.sh path/to/tierplan}
[[ -x $BIN ]] || { echo "bench_webhooks: $BIN is not an executable (build it first: swift build -c release)" >&2; exit 2; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
cd "$(dirname "$0")/.."
EVENTS=${BENCH_WEBHOOK_EVENTS:-100000}
STEADY=${BENCH_WEBHOOK_STEADY:-20}
RUN_ACCOUNTS=${BENCH_WEBHOOK_RUN_ACCOUNTS:-50000}
AS_OF=2026-11-01
ONLY=${BENCH_WEBHOOK_ONLY:-burst steady run}
want() { [[ " $ONLY " == *" $1 "* ]]; }
burst_rate=- burst_s=- burst_got=- burst_n=- burst_p50=- burst_p99=- steady_p50=- steady_p99=- steady_max=- steady_got=- steady_n=-
share=- outbox_s=- run_s=- run_events=- share2=- outbox2_s=- run2_s=- run2_events=- fanout_s=- fanout_n=-
for n in "$EVENTS" "$STEADY" "$RUN_ACCOUNTS"; do
    [[ $n =~ ^[1-9][0-9]*$ && $n -le 1000000 ]] || { echo "bench_webhooks: sizes must be whole numbers 1..1000000, got '$n'" >&2; exit 2; }
done
for tool in psql python3 curl; do
    command -v "$tool" >/dev/null 2>&1 || { echo "bench_webhooks: $tool is required" >&2; exit 2; }
done

unset DATABASE_URL PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGSERVICE PGPASSWORD PGOPTIONS TIERPLAN_NOW
TIERPLAN_HOME=$(mktemp -d /tmp/tpwh.XXXXXX)
export TIERPLAN_HOME
WORK=$(mktemp -d /tmp/tpwh-work.XXXXXX)
BENCH_NAME=bench_webhooks BENCH_SCRATCH="$WORK"
source scripts/bench_common.sh
RECEIVER_PID= SERVE_PID=
trap 'rc=$?; [[ -z $SERVE_PID ]] || kill "$SERVE_PID" 2>/dev/null; [[ -z $RECEIVER_PID ]] || kill "$RECEIVER_PID" 2>/dev/null; (exit $rc); bench_cleanup' EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
"$BIN" db up >/dev/null
ADMIN_URL="postgresql:///postgres?host=$TIERPLAN_HOME&port=5432&user=postgres"
admin() { psql "$ADMIN_URL" -X -q -v ON_ERROR_STOP=1 -At "$@"; }
dburl() { echo "postgresql:///$1?host=$TIERPLAN_HOME&port=5432&user=postgres"; }
newdb() { admin -c "CREATE DATABASE $1" >/dev/null; "$BIN" db migrate --database-url "$(dburl "$1")" >/dev/null; }

PORT=$(free_port)
python3 scripts/bench_webhook_receiver.py "$PORT" "$WORK/received.log" &
RECEIVER_PID=$!
for _ in $(seq 50); do curl -s -o /dev/null -X POST "http://127.0.0.1:$PORT/" && break; sleep 0.1; done
: >"$WORK/received.log"

# Percentiles of (arrival − commit) in ms: commits as "EVENT_ID EPOCH" in $1, arrivals in the receiver's log.
latency() {
    python3 - "$1" "$WORK/received.log" <<'PY'
import sys
commits = dict(line.split() for line in open(sys.argv[1]) if line.strip())
first = {}
for line in open(sys.argv[2]):
    parts = line.split()
    if len(parts) == 2 and parts[0] in commits and parts[0] not in first:
        first[parts[0]] = float(parts[1])
ms = sorted((first[e] - float(commits[e])) * 1000 for e in first)
def q(p): return ms[min(len(ms) - 1, int(p * len(ms)))] if ms else float("nan")
print(f"{len(first)} {len(commits)} {q(0.5):.0f} {q(0.99):.0f} {ms[-1] if ms else float('nan'):.0f}")
PY
}

# ── 1. Throughput: EVENTS events at once ──
if want burst; then
newdb wh_burst
URL=$(dburl wh_burst)
"$BIN" webhooks add "http://127.0.0.1:$PORT/burst" --events '*' --database-url "$URL" >/dev/null 2>&1
note "committing $EVENTS events for one endpoint"
# Written as tierplan's outbox writes (under its lock); `deliver` makes the deliveries, then sends them.
psql "$URL" -X -q -v ON_ERROR_STOP=1 -v events="$EVENTS" <<'SQL'
BEGIN;
DO $$ BEGIN PERFORM pg_advisory_xact_lock(hashtext('tierplan.outbox'), 0); END $$;
INSERT INTO webhook_events (event_id, type, account_id, created, body, summary)
SELECT 'evt_' || md5('burst' || g), 'usage.threshold_crossed', 'acct' || g, now(),
       '{"id":"evt_' || md5('burst' || g) || '","type":"usage.threshold_crossed","created":"2026-11-02T08:00:00Z","data":'
       || '{"account_id":"acct' || g || '","as_of":"2026-11-01","metric":"storage","threshold":0.9,"value":0.9312}}',
       'tierplan: *acct' || g || '* storage at 93% of its limit (crossed 90%) as of 2026-11-01'
FROM generate_series(1, :events) g ORDER BY g;
COMMIT;
CHECKPOINT;
SQL
psql "$URL" -X -q -At -F ' ' -c "SELECT event_id, extract(epoch FROM clock_timestamp()) FROM webhook_events" >"$WORK/burst.commits"
t0=$(now)
"$BIN" deliver --json --database-url "$URL" >"$WORK/burst.json" 2>"$WORK/burst.err" || { cat "$WORK/burst.err" >&2; fail "deliver failed"; }
burst_s=$(elapsed "$t0" "$(now)")
read -r burst_got burst_n burst_p50 burst_p99 burst_max <<<"$(latency "$WORK/burst.commits")"
burst_rate=$(rate "$EVENTS" "$burst_s")
note "burst: $burst_got of $burst_n delivered in $burst_s s ($burst_rate events/s)"
fi

# ── 2. Steady state: serve's background delivery while a producer commits ──
if want steady; then
newdb wh_steady
URL=$(dburl wh_steady)
"$BIN" webhooks add "http://127.0.0.1:$PORT/steady" --events '*' --database-url "$URL" >/dev/null 2>&1
SPORT=$(free_port)
"$BIN" serve --port "$SPORT" --database-url "$URL" >"$WORK/serve.log" 2>&1 &
SERVE_PID=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$SPORT/healthz" && break; sleep 0.1; done
rounds=$((STEADY * 10))
note "producer: 50 events every 100 ms for $STEADY s ($((rounds * 50)) events) while serve delivers"
{
    for ((r = 1; r <= rounds; r++)); do
        echo "BEGIN; DO \$\$ BEGIN PERFORM pg_advisory_xact_lock(hashtext('tierplan.outbox'), 0); END \$\$;
              INSERT INTO webhook_events (event_id, type, account_id, created, body, summary)
              SELECT 'evt_' || md5('steady$r.' || g), 'run.completed', NULL, clock_timestamp(),
                     '{\"id\":\"evt_' || md5('steady$r.' || g) || '\",\"type\":\"run.completed\",\"created\":\"2026-11-02T08:00:00Z\",\"data\":{}}', 'bench'
              FROM generate_series(1, 50) g ORDER BY g; COMMIT;"
        echo "SELECT pg_sleep(0.1);"
    done
} >"$WORK/producer.sql"
psql "$URL" -X -q -v ON_ERROR_STOP=1 -f "$WORK/producer.sql" >/dev/null
for _ in $(seq 600); do
    [[ $(psql "$URL" -X -q -At -c "SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'") -ge $((rounds * 50)) ]] && break
    sleep 0.1
done
psql "$URL" -X -q -At -F ' ' -c "SELECT event_id, extract(epoch FROM created) FROM webhook_events" >"$WORK/steady.commits"
read -r steady_got steady_n steady_p50 steady_p99 steady_max <<<"$(latency "$WORK/steady.commits")"
kill "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null || true; SERVE_PID=
note "steady: $steady_got of $steady_n delivered; p50 $steady_p50 ms, p99 $steady_p99 ms"
fi

# ── 3. The outbox's share of a run ──
if want run; then
newdb wh_run
URL=$(dburl wh_run)
"$BIN" catalog load examples/catalog.yaml --database-url "$URL" >/dev/null
note "generating $RUN_ACCOUNTS accounts (scripts/bench_run_data.sql)"
psql "$URL" -X -q -v ON_ERROR_STOP=1 -v accounts="$RUN_ACCOUNTS" -v as_of="$AS_OF" -v seed=0.42 \
    -f scripts/bench_run_data.sql >"$WORK/gen.log" 2>&1 || { cat "$WORK/gen.log" >&2; fail "data generation failed"; }
"$BIN" webhooks add "http://127.0.0.1:$PORT/run" --events '*' --database-url "$URL" >/dev/null 2>&1
admin -c "CHECKPOINT" >/dev/null
t0=$(now)
TIERPLAN_BENCH_TIMING=1 "$BIN" run --as-of "$AS_OF" --json --database-url "$URL" >"$WORK/run.json" 2>"$WORK/run.err" \
    || { cat "$WORK/run.err" >&2; fail "run failed"; }
run_s=$(elapsed "$t0" "$(now)")
# The outbox's time: writing the events and alerts, plus making the bodies of earlier proposals still
# to be sent (outbox_seal_seconds, before the run changes their offers).
outbox_time() { awk -F= '/^outbox_(seconds|seal_seconds)=/ { t += $2; n++ } END { if (n) printf "%.3f", t }' "$1"; }
outbox_s=$(outbox_time "$WORK/run.err")
[[ -n $outbox_s ]] || fail "the run printed no outbox_seconds (is $BIN this version?)"
grep "^outbox_" "$WORK/run.err" >&2 || true
run_events=$(psql "$URL" -X -q -At -c "SELECT count(*) FROM webhook_events")
share=$(awk -v o="$outbox_s" -v r="$run_s" 'BEGIN { printf "%.1f", (r - o > 0 ? 100 * o / (r - o) : 0) }')
note "run: $run_s s, of which the outbox $outbox_s s ($run_events events): +$share %"
# After the commit, outside the run: the deliveries of its events are made (and the bodies of its
# offer.proposed events), as serve's background task does within a second; `webhooks list` does the same.
t0=$(now)
"$BIN" webhooks list --database-url "$URL" >/dev/null
fanout_s=$(elapsed "$t0" "$(now)")
fanout_n=$(psql "$URL" -X -q -At -c "SELECT count(*) FROM webhook_deliveries")
note "after the run: $fanout_n deliveries made, with their bodies, in $fanout_s s (outside the run)"
# The nightly job after the first: the next day's run on the same data (no new usage), which refreshes
# most offers and raises only what changed.
next_day=$(date -u -d "$AS_OF + 1 day" +%F)
t0=$(now)
TIERPLAN_BENCH_TIMING=1 "$BIN" run --as-of "$next_day" --json --database-url "$URL" >"$WORK/run2.json" 2>"$WORK/run2.err" \
    || { cat "$WORK/run2.err" >&2; fail "next day's run failed"; }
run2_s=$(elapsed "$t0" "$(now)")
outbox2_s=$(outbox_time "$WORK/run2.err")
run2_events=$(( $(psql "$URL" -X -q -At -c "SELECT count(*) FROM webhook_events") - run_events ))
share2=$(awk -v o="$outbox2_s" -v r="$run2_s" 'BEGIN { printf "%.1f", (r - o > 0 ? 100 * o / (r - o) : 0) }')
note "next day's run: $run2_s s, of which the outbox $outbox2_s s ($run2_events events): +$share2 %"
fi

echo
echo "tierplan webhooks benchmark ($(basename "$BIN"); nproc=$(nproc); receiver: Python ThreadingHTTPServer on loopback)"
echo "| webhooks: $EVENTS events, one deliver | $burst_rate events/s ($burst_s s; $burst_got of $burst_n arrived) | |"
echo "| webhooks: commit → delivery behind a $EVENTS-event backlog | p50 $burst_p50 ms, p99 $burst_p99 ms | |"
echo "| webhooks: commit → delivery, serve, 500 events/s | p50 $steady_p50 ms, p99 $steady_p99 ms, max $steady_max ms ($steady_got of $steady_n arrived) | |"
echo "| webhooks: outbox share of run, $RUN_ACCOUNTS accounts | +$share % ($outbox_s s of $run_s s, $run_events events) | <= 10 % |"
echo "| webhooks: the first run's deliveries made after its commit (webhooks list, as serve does) | $fanout_n deliveries in $fanout_s s | |"
echo "| webhooks: outbox share of the next day's run | +$share2 % ($outbox2_s s of $run2_s s, $run2_events events) | <= 10 % |"
