#!/usr/bin/env bash
# make bench: ingest BENCH_EVENTS (default 1,000,000) generated feature events with tierplan and
# compare its rows/s with a raw COPY of the same rows into a plain table of the same columns,
# on a throwaway embedded cluster (destroyed on exit). Prints the figures and whether the goal
# (ratio >= 0.5) is met; exits 0 either way, non-zero only when something actually fails.
#
#   scripts/bench.sh BIN            e.g. .build/release/tierplan
#   BENCH_EVENTS=200000 BENCH_ACCOUNTS=2000 BENCH_SEED=7 scripts/bench.sh BIN
#   BENCH_KEEP=1 …                  keep the cluster and data afterwards (prints where)
set -euo pipefail

BIN=${1:?usage: scripts/bench.sh path/to/tierplan}
[[ -x $BIN ]] || { echo "bench: $BIN is not an executable (build it first: swift build -c release)" >&2; exit 2; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
cd "$(dirname "$0")/.."

EVENTS=${BENCH_EVENTS:-1000000}
ACCOUNTS=${BENCH_ACCOUNTS:-2000}
SEED=${BENCH_SEED:-20261101}
GOAL=0.5

# Only the throwaway cluster: no DATABASE_URL, no libpq variables that would point elsewhere.
unset DATABASE_URL PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGSERVICE PGPASSWORD PGOPTIONS
# Short path: the Unix socket lives in it and must stay under ~100 bytes.
TIERPLAN_HOME=$(mktemp -d /tmp/tpbench.XXXXXX)
export TIERPLAN_HOME
DATA=$(mktemp -d /tmp/tpbench-data.XXXXXX)

BENCH_NAME=bench BENCH_SCRATCH="$DATA"
source scripts/bench_common.sh

json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
note "generating $EVENTS events for $ACCOUNTS accounts (seed $SEED) in $DATA"
t0=$(now)
python3 scripts/bench_data.py "$DATA" "$EVENTS" "$ACCOUNTS" "$SEED"
note "generated in $(elapsed "$t0" "$(now)") s ($(du -h "$DATA/events.ndjson" | cut -f1) NDJSON, $(du -h "$DATA/events.tsv" | cut -f1) TSV)"

note "starting a throwaway cluster in $TIERPLAN_HOME"
"$BIN" db up >/dev/null
URL=$("$BIN" db url)
sql() { psql "$URL" -X -q -v ON_ERROR_STOP=1 -At "$@"; }

note "loading catalog and accounts"
"$BIN" catalog load examples/catalog.yaml >/dev/null
"$BIN" accounts import "$DATA/accounts.csv" --effective 2026-08-01 >/dev/null
sql -c "ANALYZE" >/dev/null

sql <<'SQL'
CREATE TABLE raw_feature_events (
    account_id  text,
    id          text,
    user_id     text,
    feature_key text,
    at          timestamptz,
    count       bigint
);
SQL

# 1. Raw COPY of the same rows into a plain table (no PK, no index): the baseline of the ratio.
note "raw COPY of $EVENTS rows"
sql -c "CHECKPOINT" >/dev/null
t0=$(now)
copy_out=$(psql "$URL" -X -v ON_ERROR_STOP=1 -c "\\copy raw_feature_events FROM '$DATA/events.tsv'")
t1=$(now)
copy_s=$(elapsed "$t0" "$t1")
[[ $copy_out == "COPY $EVENTS" ]] || { echo "bench: raw COPY said '$copy_out', expected 'COPY $EVENTS'" >&2; exit 1; }

# 1b. For reference only (not in the ratio): the same COPY into a copy of feature_events with its
#     primary key, i.e. the least any ingest that keeps (account_id, id) unique has to pay.
note "raw COPY of $EVENTS rows into a table with feature_events' primary key (reference)"
sql -c "CREATE TABLE raw_feature_events_pk (LIKE raw_feature_events, PRIMARY KEY (account_id, id))"
sql -c "CHECKPOINT" >/dev/null
t0=$(now)
pk_out=$(psql "$URL" -X -v ON_ERROR_STOP=1 -c "\\copy raw_feature_events_pk FROM '$DATA/events.tsv'")
t1=$(now)
pk_s=$(elapsed "$t0" "$t1")
[[ $pk_out == "COPY $EVENTS" ]] || { echo "bench: raw COPY (PK) said '$pk_out', expected 'COPY $EVENTS'" >&2; exit 1; }
sql -c "DROP TABLE raw_feature_events_pk"

# 2. tierplan ingest of the NDJSON file: all new.
note "tierplan usage ingest (first run, all new)"
sql -c "CHECKPOINT" >/dev/null
t0=$(now)
ingest_json=$("$BIN" usage ingest "$DATA/events.ndjson" --json)
t1=$(now)
ingest_s=$(elapsed "$t0" "$t1")
ingest_new=$(json_field new <<<"$ingest_json")
ingest_dup=$(json_field duplicates <<<"$ingest_json")
ingest_tool_s=$(json_field seconds <<<"$ingest_json")
[[ $ingest_new == "$EVENTS" && $ingest_dup == 0 ]] \
    || { echo "bench: first ingest: expected $EVENTS new and 0 duplicates, got $ingest_json" >&2; exit 1; }

# 3. The same file again: all duplicates.
note "tierplan usage ingest (second run, all duplicates)"
sql -c "CHECKPOINT" >/dev/null
t0=$(now)
again_json=$("$BIN" usage ingest "$DATA/events.ndjson" --json)
t1=$(now)
again_s=$(elapsed "$t0" "$t1")
again_new=$(json_field new <<<"$again_json")
again_dup=$(json_field duplicates <<<"$again_json")
again_tool_s=$(json_field seconds <<<"$again_json")
[[ $again_new == 0 && $again_dup == "$EVENTS" ]] \
    || { echo "bench: second ingest: expected 0 new and $EVENTS duplicates, got $again_json" >&2; exit 1; }

# Untimed check: tierplan stored exactly the rows the raw COPY stored, and rollups add up.
note "checking feature_events = raw_feature_events"
check=$(sql <<'SQL'
SELECT (SELECT count(*) FROM feature_events) || ' '
    || (SELECT count(*) FROM (SELECT * FROM raw_feature_events EXCEPT ALL SELECT * FROM feature_events) d) || ' '
    || (SELECT count(*) FROM (SELECT * FROM feature_events EXCEPT ALL SELECT * FROM raw_feature_events) d) || ' '
    || (SELECT count(*) FROM (
          SELECT account_id, feature_key, date_trunc('month', (at AT TIME ZONE 'UTC')::date)::date AS month,
                 bit_or(day_bit((at AT TIME ZONE 'UTC')::date)) AS days FROM raw_feature_events GROUP BY 1, 2, 3
        ) r FULL JOIN feature_days d USING (account_id, feature_key, month) WHERE r.days IS DISTINCT FROM d.days) || ' '
    || (SELECT count(*) FROM (
          SELECT account_id, user_id, date_trunc('month', (at AT TIME ZONE 'UTC')::date)::date AS month,
                 bit_or(day_bit((at AT TIME ZONE 'UTC')::date)) AS days FROM raw_feature_events GROUP BY 1, 2, 3
        ) r FULL JOIN user_days d USING (account_id, user_id, month) WHERE r.days IS DISTINCT FROM d.days) || ' '
    || (SELECT count(*) FROM feature_days) || ' '
    || (SELECT count(*) FROM user_days)
SQL
)
read -r stored missing extra feature_wrong user_wrong fd_rows ud_rows <<<"$check"
[[ $stored == "$EVENTS" && $missing == 0 && $extra == 0 && $feature_wrong == 0 && $user_wrong == 0 ]] \
    || { echo "bench: check failed: stored=$stored missing=$missing extra=$extra feature_days wrong=$feature_wrong user_days wrong=$user_wrong" >&2; exit 1; }

load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
pg_version=$(sql -c "SHOW server_version")
pg_settings=$(sql -c "SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ' ' ORDER BY name) FROM pg_settings
                      WHERE name IN ('shared_buffers', 'fsync', 'synchronous_commit', 'wal_level', 'max_wal_size')")
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null || true)

copy_rate=$(rate "$EVENTS" "$copy_s")
ingest_rate=$(rate "$EVENTS" "$ingest_s")
again_rate=$(rate "$EVENTS" "$again_s")
pk_rate=$(rate "$EVENTS" "$pk_s")
ratio=$(awk -v a="$ingest_rate" -v b="$copy_rate" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
met=$(awk -v r="$ratio" -v g="$GOAL" 'BEGIN { print (r + 0 >= g + 0 ? "met" : "not met") }')

echo
echo "tierplan ingest benchmark: $EVENTS feature events, $ACCOUNTS accounts, seed $SEED"
echo "machine: nproc=$(nproc), ${cpu:-unknown CPU}, ${mem:-? GiB}; PostgreSQL $pg_version ($pg_settings)"
echo "load average (1/5/15 min) before: $load_before, after: $load_after (other work on the machine skews the figures)"
echo
printf '%-44s %10s %9s %11s\n' operation rows seconds rows/s
printf '%-44s %10s %9s %11s\n' -------------------------------------------- ---------- --------- -----------
printf '%-44s %10s %9s %11s\n' "raw COPY (psql \\copy, TSV, plain table)" "$EVENTS" "$copy_s" "$copy_rate"
printf '%-44s %10s %9s %11s\n' "  reference: raw COPY into a table with PK" "$EVENTS" "$pk_s" "$pk_rate"
printf '%-44s %10s %9s %11s\n' "tierplan usage ingest NDJSON (all new)" "$EVENTS" "$ingest_s" "$ingest_rate"
printf '%-44s %10s %9s %11s\n' "tierplan usage ingest NDJSON (all duplicates)" "$EVENTS" "$again_s" "$again_rate"
echo
echo "tierplan's own figures: first ingest ${ingest_tool_s} s, second ${again_tool_s} s (wall times above include process start and connect)"
echo "check: feature_events = raw_feature_events ($stored rows); day sets as the raw events say in $fd_rows feature_days and $ud_rows user_days rows"
echo
echo "ingest ratio (tierplan rows/s ÷ raw COPY rows/s): $ratio  (goal ≥ $GOAL: $met)"
