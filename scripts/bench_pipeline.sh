#!/usr/bin/env bash
# Benchmark of the nightly pipeline — `tierplan usage ingest` of a day-by-day usage export, then
# `tierplan run` — next to what a user would do with plain PostgreSQL instead (\copy into two
# tables without keys, then one SQL statement computing the core signals).
#
# For each size (accounts), on a throwaway embedded cluster (destroyed on exit), with data from
# scripts/bench_pipeline_data.py (files: ingest is measured from files):
#   1. ingest: `catalog load` + `accounts import`, then `tierplan usage ingest` of storage.csv
#      (90 days × one sample per account) and of features.csv (≈3.6 events per account and day
#      over the 28-day window), wall time and rows/s; and psql `\copy` of the same rows (COPY text)
#      into two raw tables without keys or indexes. Ratio = raw seconds ÷ tierplan seconds.
#      The server's statement log (log_min_duration_statement=0, on during the ingests only, never
#      during a run) gives the breakdown of where the ingest's time goes on the server.
#   2. VACUUM ANALYZE and CHECKPOINT (untimed: as autovacuum would leave the tables), then
#      `tierplan run --as-of AS_OF` (empty offers table): wall time, peak RSS (/usr/bin/time -v);
#      (a) raw SQL: one statement over the raw tables computing per account the latest storage
#          bytes on or before as_of, the 28-day slope of the daily max (regr_slope over the day),
#          the days each feature was used in the window and the distinct active users, wrapped in
#          `SELECT count(*), sum(…) FROM (…) q` so nothing is sent; best of 3;
#      (b) bare: the store's own signals SQL (`tierplan debug signals-sql`) wrapped the same way
#          (as scripts/bench_run.sh does); best of 3.
#      Ratios run ÷ raw SQL and run ÷ bare.
#   3. seconds of `run` per 1,000 accounts at each size;
#   4. one more day: ingest nextday.csv (as_of + 1: a sample per account and that day's events)
#      and `run --as-of AS_OF+1` on the same database; both wall times and their sum.
# Prints a table (figure, measured, goal). Goals: ingest ratio ≥ 0.25, run ÷ raw SQL ≤ 0.25,
# run ÷ bare ≤ 1.5, one more day (ingest + run) < 10 s. Benchmarks report, they do not enforce:
# exits 0 whether or not the goals are met, non-zero only when something actually fails.
#
#   scripts/bench_pipeline.sh BIN                          e.g. .build/release/tierplan
#   BENCH_PIPELINE_SIZES="25000 100000"                    sizes, accounts (default; the last is the goals' size)
#   BENCH_PIPELINE_ACCOUNTS=100000                         the default largest size when SIZES is not set
#   BENCH_PIPELINE_FORMAT=csv|ndjson                       usage file format given to tierplan (default csv)
#   BENCH_SEED=20261101                                    generator seed (same seed, same bytes)
#   BENCH_KEEP=1                                           keep the cluster, databases and data (prints where)
set -euo pipefail

BIN=${1:?usage: scripts/bench_pipeline.sh path/to/tierplan}
[[ -x $BIN ]] || { echo "bench_pipeline: $BIN is not an executable (build it first: swift build -c release)" >&2; exit 2; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
cd "$(dirname "$0")/.."

LARGEST=${BENCH_PIPELINE_ACCOUNTS:-100000}
SIZES=${BENCH_PIPELINE_SIZES:-25000 $LARGEST}
FORMAT=${BENCH_PIPELINE_FORMAT:-csv}
SEED=${BENCH_SEED:-20261101}
AS_OF=2026-11-01          # fixed: the generator's data ends on it
NEXT=2026-11-02
WINDOW_FROM=2026-10-05    # as_of − 27 days
REPEAT=3
GOAL_INGEST=0.25
GOAL_RAW=0.25
GOAL_BARE=1.5
GOAL_NEXT=10

PSQL=$(pg_config --bindir 2>/dev/null)/psql
[[ -x $PSQL ]] || PSQL=$(command -v psql || true)
[[ -n $PSQL && -x $PSQL ]] || { echo "bench_pipeline: psql is required" >&2; exit 2; }
for tool in python3 /usr/bin/time; do
    command -v "$tool" >/dev/null 2>&1 || { echo "bench_pipeline: $tool is required (apt-get install -y time python3)" >&2; exit 2; }
done
[[ $FORMAT == csv || $FORMAT == ndjson ]] || { echo "bench_pipeline: BENCH_PIPELINE_FORMAT must be csv or ndjson" >&2; exit 2; }
for n in $SIZES; do
    [[ $n =~ ^[1-9][0-9]*$ && $n -le 9999999 ]] || { echo "bench_pipeline: sizes must be 1..9999999 accounts, got '$n'" >&2; exit 2; }
done

# Only the throwaway cluster: no DATABASE_URL, no libpq variables that would point elsewhere.
unset DATABASE_URL PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGSERVICE PGPASSWORD PGOPTIONS
# Short path: the Unix socket lives in it and must stay under ~100 bytes.
TIERPLAN_HOME=$(mktemp -d /tmp/tpbench.XXXXXX)
export TIERPLAN_HOME
WORK=$(mktemp -d /tmp/tpbench-pipeline.XXXXXX)
HEARTBEAT_PID=

BENCH_NAME=bench_pipeline BENCH_SCRATCH="$WORK" BENCH_KEPT="databases tp_<accounts>, raw_<accounts>; data and outputs in the other folder"
source scripts/bench_common.sh

div() { awk -v a="$1" -v b="$2" -v f="${3:-%.2f}" 'BEGIN { printf f, (b > 0 ? a / b : 0) }'; }
add() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a + b }'; }
json_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
rss_mb() { awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$1"; }
cpu_s() { awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.2f", s }' "$1"; }
meta() { awk -v k="$2" '$1 == k { print $2 }' "$1/meta.txt"; }
met() { awk -v v="$1" -v g="$2" -v op="$3" 'BEGIN { ok = (op == "le") ? (v + 0 <= g + 0) : (op == "lt") ? (v + 0 < g + 0) : (v + 0 >= g + 0); print ok ? "met" : "not met" }'; }

# A line on stderr every 15 s while a long phase runs (the timed command runs in the foreground).
beat_start() {
    local label=$1
    ( s=0; while sleep 15; do s=$((s + 15)); echo "bench_pipeline:   … $label: ${s} s" >&2; done ) &
    HEARTBEAT_PID=$!
}
beat_stop() { [[ -z $HEARTBEAT_PID ]] || { kill "$HEARTBEAT_PID" 2>/dev/null || true; wait "$HEARTBEAT_PID" 2>/dev/null || true; }; HEARTBEAT_PID=; }

# ── The bare query: the run's own signals SQL, aggregated on the server (as scripts/bench_run.sh) ──
bare_sql() {   # as_of
    local signals
    signals=$("$BIN" debug signals-sql --as-of "$1") || fail "could not get the signals SQL from $BIN"
    cat <<SQL
SELECT count(*) AS accounts,
       sum(length(q.account_id) + length(q.name) + length(q.tier_code) + length(q.status) + length(q.segment) + length(q.owner)
           + length(q.addons)) AS text_chars,
       max(q.created_at) AS newest, count(q.canceled_at) AS canceled, sum(q.discount_bp) AS discount_bp,
       sum(coalesce(q.m2_lasts[cardinality(q.m2_lasts)], q.m1_lasts[cardinality(q.m1_lasts)], q.storage_earlier)) AS storage_used, sum(coalesce(cardinality(q.m1_days), 0) + coalesce(cardinality(q.m2_days), 0)) AS storage_days,
       sum(coalesce(cardinality(q.m1_maxes) + cardinality(q.m1_lasts), 0) + coalesce(cardinality(q.m2_maxes) + cardinality(q.m2_lasts), 0)) AS storage_values, sum(cardinality(q.feature_keys)) AS feature_keys,
       sum(cardinality(q.feature_days)) AS feature_days, sum(q.active_users) AS active_users
FROM (
$signals
) q (account_id, name, tier_code, status, created_at, discount_bp, segment, owner, canceled_at, addons,
     storage_earlier, m1_days, m1_maxes, m1_lasts, m2_days, m2_maxes, m2_lasts, feature_keys, feature_days, active_users);
SQL
}
bare_sql "$AS_OF" >"$WORK/bare.sql"

# ── The raw SQL: what a user would write over the two raw tables, aggregated the same way ──
cat >"$WORK/raw.sql" <<SQL
SET timezone = 'UTC';
SELECT count(*) AS accounts, sum(q.storage_bytes) AS storage_used, sum(q.storage_days) AS storage_days,
       sum(q.slope) AS slope, sum(cardinality(q.features)) AS feature_keys,
       sum((SELECT sum(d) FROM unnest(q.feature_days) d)) AS feature_days, sum(q.active_users) AS active_users
FROM (
    WITH latest AS (            -- the latest sample at or before the end of the as_of day
        SELECT DISTINCT ON (account_id) account_id, bytes
        FROM raw_storage
        WHERE at < TIMESTAMPTZ '$NEXT 00:00:00+00'
        ORDER BY account_id, at DESC, bytes DESC
    ), daily AS (               -- each day's largest sample in the window
        SELECT account_id, (at AT TIME ZONE 'UTC')::date AS day, max(bytes) AS max_bytes
        FROM raw_storage
        WHERE at >= TIMESTAMPTZ '$WINDOW_FROM 00:00:00+00' AND at < TIMESTAMPTZ '$NEXT 00:00:00+00'
        GROUP BY 1, 2
    ), trend AS (
        SELECT account_id, regr_slope(max_bytes, day - DATE '$AS_OF') AS slope, count(*) AS days
        FROM daily GROUP BY 1
    ), used AS (                -- days each feature was used in the window
        SELECT account_id, feature_key, count(DISTINCT (at AT TIME ZONE 'UTC')::date) AS days
        FROM raw_features
        WHERE at >= TIMESTAMPTZ '$WINDOW_FROM 00:00:00+00' AND at < TIMESTAMPTZ '$NEXT 00:00:00+00'
        GROUP BY 1, 2
    ), features AS (
        SELECT account_id, array_agg(feature_key ORDER BY feature_key) AS features,
               array_agg(days ORDER BY feature_key) AS feature_days
        FROM used GROUP BY 1
    ), users AS (               -- distinct active users in the window
        SELECT account_id, count(DISTINCT user_id) AS active_users
        FROM raw_features
        WHERE at >= TIMESTAMPTZ '$WINDOW_FROM 00:00:00+00' AND at < TIMESTAMPTZ '$NEXT 00:00:00+00'
        GROUP BY 1
    )
    SELECT l.account_id, l.bytes AS storage_bytes, t.slope, t.days AS storage_days, f.features, f.feature_days,
           coalesce(u.active_users, 0) AS active_users
    FROM latest l
    LEFT JOIN trend t USING (account_id)
    LEFT JOIN features f USING (account_id)
    LEFT JOIN users u USING (account_id)
) q;
SQL

load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
started=$(now)
note "starting a throwaway cluster in $TIERPLAN_HOME"
"$BIN" db up >/dev/null
PGLOG=$TIERPLAN_HOME/postgres.log
url_of() { echo "postgresql:///$1?host=$TIERPLAN_HOME&port=5432&user=postgres"; }
ADMIN_URL=$(url_of postgres)
admin() { "$PSQL" "$ADMIN_URL" -X -q -v ON_ERROR_STOP=1 -At "$@"; }
checkpoint() { admin -c "CHECKPOINT" >/dev/null; }
statement_log() {   # on|off: every statement's duration in the server log, during the ingests only
    if [[ $1 == on ]]; then admin -c "ALTER SYSTEM SET log_min_duration_statement = 0" >/dev/null
    else admin -c "ALTER SYSTEM RESET log_min_duration_statement" >/dev/null; fi
    admin -c "SELECT pg_reload_conf()" >/dev/null
    sleep 0.3   # the postmaster signals the backends; new connections see it at once
}
log_size() { stat -c %s "$PGLOG" 2>/dev/null || echo 0; }

# Seconds of one query file (psql's \timing: server round trip, no connection set-up); the result
# row goes to $3 when given.
query_once() {   # url file [result-file]
    local out
    out=$("$PSQL" "$1" -X -q -v ON_ERROR_STOP=1 -At -F '|' -c '\timing on' -f "$2") || fail "query $2 failed"
    [[ -z ${3:-} ]] || grep -v '^Time: ' <<<"$out" | tail -1 >"$3"
    awk '/^Time: / { t = $2 / 1000; found = 1 } END { if (!found) exit 1; printf "%.3f", t }' <<<"$out" \
        || fail "query $2: no timing in psql output: $out"
}
best_of() {   # label url file result-file
    local best= s k
    for ((k = 1; k <= REPEAT; k++)); do
        s=$(query_once "$2" "$3" "$4")
        note "$1 #$k: $s s"
        best=$(awk -v a="$best" -v b="$s" 'BEGIN { print ((a == "" || b + 0 < a + 0) ? b : a) }')
    done
    echo "$best"
}

# One tierplan command under /usr/bin/time: wall seconds in $WORK/$tag.seconds, JSON in $tag.json.
timed() {   # tag label command...
    local tag=$1 label=$2 t0 t1 rc=0
    shift 2
    beat_start "$label"
    t0=$(now)
    /usr/bin/time -v -o "$WORK/$tag.time" "$@" >"$WORK/$tag.json" 2>"$WORK/$tag.err" || rc=$?
    t1=$(now)
    beat_stop
    if ((rc != 0)); then
        cat "$WORK/$tag.err" >&2
        fail "$label exited with $rc"
    fi
    elapsed "$t0" "$t1" >"$WORK/$tag.seconds"
}
secs() { cat "$WORK/$1.seconds"; }

# psql \copy of a COPY text file into a raw table: wall seconds (psql start included, as for tierplan).
raw_copy() {   # url table file rows tag
    local t0 t1 out
    beat_start "\\copy $2"
    t0=$(now)
    out=$("$PSQL" "$1" -X -v ON_ERROR_STOP=1 -c "\\copy $2 FROM '$3'") || { beat_stop; fail "\\copy $2 failed"; }
    t1=$(now)
    beat_stop
    [[ $out == "COPY $4" ]] || fail "\\copy $2 said '$out', expected 'COPY $4'"
    elapsed "$t0" "$t1" >"$WORK/$5.seconds"
}

# Server time of the statements logged between two offsets of the log, biggest first.
log_breakdown() {   # from to label
    python3 - "$PGLOG" "$1" "$2" "$3" <<'PY'
import re, sys
path, start, end, label = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
with open(path, "rb") as f:
    f.seek(start)
    text = f.read(end - start).decode("utf-8", "replace")
entry = re.compile(r"^\S+ \S+ \S+ \[\d+\] LOG:  duration: ([\d.]+) ms  (statement|execute [^:]*|parse [^:]*|bind [^:]*): (.*)$")
items, cur = [], None
for line in text.splitlines():
    m = entry.match(line)
    if m:
        cur = [float(m.group(1)), m.group(2).split()[0], m.group(3)]
        items.append(cur)
    elif re.match(r"^\d{4}-\d\d-\d\d ", line):
        cur = None
    elif cur is not None:
        cur[2] += " " + line.strip()
def name(sql):
    s = " ".join(sql.split())
    s = re.sub(r"^(BEGIN|COMMIT|ROLLBACK).*", r"\1", s)
    return s[:90]
total = sum(ms for ms, kind, _ in items if kind in ("statement", "execute"))
print(f"server statements during {label}: {total / 1000:.2f} s in {len(items)} logged statements")
for ms, kind, sql in sorted(items, key=lambda x: -x[0]):
    if ms < 20:
        continue
    print(f"  {ms / 1000:8.3f} s  {kind:9} {name(sql)}")
PY
}

declare -a R_N R_GEN R_IMP R_TS R_TF R_RS R_RF R_TT R_RT R_IR R_RUN R_RSS R_RAW R_BARE R_RR R_RB R_PER R_NI R_NR R_NS R_NRSS \
    R_SROWS R_FROWS R_NROWS R_SCAN R_OFFERS R_CHECK R_TCPU
i=0
for n in $SIZES; do
    tp=tp_$n raw=raw_$n
    TP_URL=$(url_of "$tp") RAW_URL=$(url_of "$raw")
    DATA=$WORK/data_$n
    note "── $n accounts"

    note "generating $n accounts, 90 days of storage, 28 days of feature events, one more day (seed $SEED, $FORMAT) in $DATA"
    t0=$(now)
    python3 scripts/bench_pipeline_data.py "$DATA" "$n" "$SEED" --format="$FORMAT" || fail "data generation failed"
    gen_s=$(elapsed "$t0" "$(now)")
    srows=$(meta "$DATA" storage) frows=$(meta "$DATA" features)
    nrows=$(( $(meta "$DATA" next_storage) + $(meta "$DATA" next_features) ))
    note "generated in $gen_s s: $srows storage samples ($(du -h "$DATA/storage.$FORMAT" | cut -f1)), $frows feature events ($(du -h "$DATA/features.$FORMAT" | cut -f1)), next day $nrows rows"

    admin -c "CREATE DATABASE $tp" >/dev/null
    admin -c "CREATE DATABASE $raw" >/dev/null
    "$BIN" db migrate --database-url "$TP_URL" >/dev/null
    "$BIN" catalog load examples/catalog.yaml --database-url "$TP_URL" >/dev/null
    note "accounts import ($n accounts)"
    timed "import_$n" "accounts import" "$BIN" accounts import "$DATA/accounts.csv" --json --database-url "$TP_URL"
    imp_s=$(secs "import_$n")
    "$PSQL" "$TP_URL" -X -q -c "ANALYZE" >/dev/null
    "$PSQL" "$RAW_URL" -X -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE raw_storage (account_id text, id text, at timestamptz, bytes bigint);
CREATE TABLE raw_features (account_id text, id text, user_id text, feature_key text, at timestamptz, count bigint);
SQL

    # 1. Ingest. Raw \copy first (the files are in the page cache for both), a checkpoint before each.
    note "raw \\copy: $srows storage rows"
    checkpoint; raw_copy "$RAW_URL" raw_storage "$DATA/storage.tsv" "$srows" "rawcopy_s_$n"
    note "raw \\copy: $frows feature rows"
    checkpoint; raw_copy "$RAW_URL" raw_features "$DATA/features.tsv" "$frows" "rawcopy_f_$n"
    rs=$(secs "rawcopy_s_$n") rf=$(secs "rawcopy_f_$n")
    note "raw \\copy: storage $rs s, features $rf s"

    statement_log on
    checkpoint
    from=$(log_size)
    note "tierplan usage ingest storage.$FORMAT ($srows rows)"
    timed "ingest_s_$n" "usage ingest storage" "$BIN" usage ingest "$DATA/storage.$FORMAT" --json --database-url "$TP_URL"
    mid=$(log_size)
    checkpoint
    mid2=$(log_size)
    note "tierplan usage ingest features.$FORMAT ($frows rows)"
    timed "ingest_f_$n" "usage ingest features" "$BIN" usage ingest "$DATA/features.$FORMAT" --json --database-url "$TP_URL"
    to=$(log_size)
    statement_log off
    ts=$(secs "ingest_s_$n") tf=$(secs "ingest_f_$n")
    [[ $(json_field "$WORK/ingest_s_$n.json" new) == "$srows" ]] || fail "storage ingest: expected $srows new: $(cat "$WORK/ingest_s_$n.json")"
    [[ $(json_field "$WORK/ingest_f_$n.json" new) == "$frows" ]] || fail "feature ingest: expected $frows new: $(cat "$WORK/ingest_f_$n.json")"
    tcpu=$(awk -v a="$(cpu_s "$WORK/ingest_s_$n.time")" -v b="$(cpu_s "$WORK/ingest_f_$n.time")" 'BEGIN { printf "%.2f", a + b }')
    note "tierplan ingest: storage $ts s, features $tf s (tierplan's own CPU $tcpu s)"
    log_breakdown "$from" "$mid" "ingest of storage.$FORMAT ($n accounts)" >"$WORK/breakdown_s_$n.txt"
    log_breakdown "$mid2" "$to" "ingest of features.$FORMAT ($n accounts)" >"$WORK/breakdown_f_$n.txt"
    tt=$(add "$ts" "$tf") rt=$(add "$rs" "$rf")

    # Untimed: the same rows went in.
    read -r c1 c2 c3 c4 <<<"$("$PSQL" "$TP_URL" -X -At -F ' ' -c "SELECT (SELECT count(*) FROM storage_samples), (SELECT sum(bytes) FROM storage_samples),
        (SELECT count(*) FROM feature_events), (SELECT sum(count) FROM feature_events)")"
    read -r r1 r2 r3 r4 <<<"$("$PSQL" "$RAW_URL" -X -At -F ' ' -c "SELECT (SELECT count(*) FROM raw_storage), (SELECT sum(bytes) FROM raw_storage),
        (SELECT count(*) FROM raw_features), (SELECT sum(count) FROM raw_features)")"
    [[ "$c1 $c2 $c3 $c4" == "$r1 $r2 $r3 $r4" ]] || fail "tierplan stored '$c1 $c2 $c3 $c4', raw '$r1 $r2 $r3 $r4' (samples, Σ bytes, events, Σ count)"

    # 2. Run. As autovacuum would leave the tables, with nothing dirty in the buffers.
    note "VACUUM ANALYZE both databases (untimed)"
    t0=$(now)
    "$PSQL" "$TP_URL" -X -q -c "VACUUM ANALYZE" >/dev/null
    "$PSQL" "$RAW_URL" -X -q -c "VACUUM ANALYZE" >/dev/null
    checkpoint
    note "vacuumed in $(elapsed "$t0" "$(now)") s; warming the cache (bare query once)"
    query_once "$TP_URL" "$WORK/bare.sql" >/dev/null

    note "tierplan run --as-of $AS_OF (first run, empty offers table)"
    timed "run_$n" "run --as-of $AS_OF" "$BIN" run --as-of "$AS_OF" --json --database-url "$TP_URL"
    run_s=$(secs "run_$n") rss=$(rss_mb "$WORK/run_$n.time")
    scanned=$(json_field "$WORK/run_$n.json" accounts_scanned) offers=$(json_field "$WORK/run_$n.json" offers_created)
    note "run: $run_s s, peak RSS $rss MB, $scanned accounts scanned, $offers offers created"

    bare=$(best_of "bare query (signals SQL)" "$TP_URL" "$WORK/bare.sql" "$WORK/bare_$n.out")
    raw_q=$(best_of "raw SQL" "$RAW_URL" "$WORK/raw.sql" "$WORK/raw_$n.out")
    # The same signals: Σ latest bytes and Σ active users agree between the store and the raw SQL (the
    # latest bytes as the last day of the window's month rows: the data ends on as_of).
    IFS='|' read -r _ _ _ _ _ b_used _ _ _ _ b_users <"$WORK/bare_$n.out"
    IFS='|' read -r q_acc q_used _ _ _ _ q_users <"$WORK/raw_$n.out"
    check="Σ storage used and Σ active users agree (raw SQL $q_acc accounts)"
    if [[ "$b_used $b_users" != "$q_used $q_users" ]]; then
        check="MISMATCH: store Σ used $b_used, Σ users $b_users; raw SQL $q_used, $q_users"
        note "warning: $check"
    fi

    # 4. One more day.
    statement_log on
    checkpoint
    from=$(log_size)
    note "tierplan usage ingest nextday.$FORMAT ($nrows rows, $NEXT)"
    timed "next_ingest_$n" "usage ingest nextday" "$BIN" usage ingest "$DATA/nextday.$FORMAT" --json --database-url "$TP_URL"
    to=$(log_size)
    statement_log off
    log_breakdown "$from" "$to" "ingest of nextday.$FORMAT ($n accounts)" >"$WORK/breakdown_n_$n.txt"
    [[ $(json_field "$WORK/next_ingest_$n.json" new) == "$nrows" ]] || fail "next-day ingest: expected $nrows new: $(cat "$WORK/next_ingest_$n.json")"
    note "tierplan run --as-of $NEXT"
    timed "next_run_$n" "run --as-of $NEXT" "$BIN" run --as-of "$NEXT" --json --database-url "$TP_URL"
    ni=$(secs "next_ingest_$n") nr=$(secs "next_run_$n")
    note "one more day: ingest $ni s, run $nr s (peak RSS $(rss_mb "$WORK/next_run_$n.time") MB)"

    R_N[i]=$n R_GEN[i]=$gen_s R_IMP[i]=$imp_s R_TS[i]=$ts R_TF[i]=$tf R_RS[i]=$rs R_RF[i]=$rf R_TT[i]=$tt R_RT[i]=$rt
    R_IR[i]=$(div "$rt" "$tt" %.3f) R_RUN[i]=$run_s R_RSS[i]=$rss R_RAW[i]=$raw_q R_BARE[i]=$bare
    R_RR[i]=$(div "$run_s" "$raw_q") R_RB[i]=$(div "$run_s" "$bare") R_PER[i]=$(awk -v s="$run_s" -v n="$n" 'BEGIN { printf "%.3f", s * 1000 / n }')
    R_NI[i]=$ni R_NR[i]=$nr R_NS[i]=$(add "$ni" "$nr") R_NRSS[i]=$(rss_mb "$WORK/next_run_$n.time")
    R_SROWS[i]=$srows R_FROWS[i]=$frows R_NROWS[i]=$nrows R_SCAN[i]=$scanned R_OFFERS[i]=$offers R_CHECK[i]=$check R_TCPU[i]=$tcpu
    i=$((i + 1))

    if [[ ${BENCH_KEEP:-} != 1 ]]; then
        admin -c "DROP DATABASE $tp" >/dev/null
        admin -c "DROP DATABASE $raw" >/dev/null
        rm -rf "$DATA"
    fi
done

load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
pg_version=$(admin -c "SHOW server_version")
pg_settings=$(admin -c "SELECT string_agg(name || '=' || current_setting(name), ' ' ORDER BY name) FROM pg_settings
                        WHERE name IN ('shared_buffers', 'work_mem', 'fsync', 'synchronous_commit', 'max_wal_size', 'max_parallel_workers_per_gather')")
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null || true)
total_s=$(elapsed "$started" "$(now)")
g() { sed ':a;s/\B[0-9]\{3\}\>/,&/;ta' <<<"$1"; }

echo
echo "tierplan pipeline benchmark: as of $AS_OF, sizes $(echo $SIZES | tr ' ' ','), seed $SEED, usage files $FORMAT; $BIN"
echo "machine: nproc=$(nproc), ${cpu:-unknown CPU}, ${mem:-? GiB}; PostgreSQL $pg_version ($pg_settings)"
echo "load average (1/5/15 min) before: $load_before, after: $load_after (other work on the machine skews the figures)"
echo "data per account: 90 daily storage samples, ≈3.6 feature events a day over the 28-day window; raw: psql \\copy into tables without keys"
echo
for ((k = 0; k < i; k++)); do
    n=${R_N[k]}
    echo "── $n accounts: generated in ${R_GEN[k]} s; accounts import ${R_IMP[k]} s; run scanned ${R_SCAN[k]}, created ${R_OFFERS[k]} offers; check: ${R_CHECK[k]}"
    printf '  %-44s %10s %9s %10s   %-30s %9s %10s\n' ingest rows "tierplan s" rows/s "" "raw s" rows/s
    printf '  %-44s %10s %9s %10s   %-30s %9s %10s\n' "storage.$FORMAT" "${R_SROWS[k]}" "${R_TS[k]}" "$(rate "${R_SROWS[k]}" "${R_TS[k]}")" "" "${R_RS[k]}" "$(rate "${R_SROWS[k]}" "${R_RS[k]}")"
    printf '  %-44s %10s %9s %10s   %-30s %9s %10s\n' "features.$FORMAT" "${R_FROWS[k]}" "${R_TF[k]}" "$(rate "${R_FROWS[k]}" "${R_TF[k]}")" "" "${R_RF[k]}" "$(rate "${R_FROWS[k]}" "${R_RF[k]}")"
    printf '  %-44s %10s %9s %10s   %-30s %9s %10s\n' "both" "$((R_SROWS[k] + R_FROWS[k]))" "${R_TT[k]}" "$(rate "$((R_SROWS[k] + R_FROWS[k]))" "${R_TT[k]}")" "" "${R_RT[k]}" "$(rate "$((R_SROWS[k] + R_FROWS[k]))" "${R_RT[k]}")"
    echo "  tierplan's own CPU over both ingests: ${R_TCPU[k]} s"
    cat "$WORK/breakdown_s_${n}.txt" "$WORK/breakdown_f_${n}.txt" "$WORK/breakdown_n_${n}.txt" | sed 's/^/  /'
done

last=$((i - 1))
L=${R_N[last]}
echo
echo "pipeline summary"
echo "| figure | measured | goal |"
echo "|---|---|---|"
for ((k = 0; k < i; k++)); do
    n=${R_N[k]}
    rows=$((R_SROWS[k] + R_FROWS[k]))
    echo "| pipeline ingest, $(g "$n") accounts ($(g "${R_SROWS[k]}") samples + $(g "${R_FROWS[k]}") events) | tierplan ${R_TT[k]} s ($(g "$(rate "$rows" "${R_TT[k]}")") rows/s; storage ${R_TS[k]} s, features ${R_TF[k]} s) vs raw \\copy ${R_RT[k]} s ($(g "$(rate "$rows" "${R_RT[k]}")") rows/s): ratio ${R_IR[k]} | ≥ $GOAL_INGEST$( ((k == last)) && echo ": $(met "${R_IR[k]}" "$GOAL_INGEST" ge)") |"
    echo "| pipeline run --as-of $AS_OF, $(g "$n") accounts | ${R_RUN[k]} s, peak RSS ${R_RSS[k]} MB; raw SQL ${R_RAW[k]} s (ratio ${R_RR[k]}); bare ${R_BARE[k]} s (ratio ${R_RB[k]}) | raw ≤ $GOAL_RAW$( ((k == last)) && echo ": $(met "${R_RR[k]}" "$GOAL_RAW" le)"), bare ≤ $GOAL_BARE$( ((k == last)) && echo ": $(met "${R_RB[k]}" "$GOAL_BARE" le)") |"
done
per=""
for ((k = 0; k < i; k++)); do per+="${per:+, }${R_PER[k]} s at $(g "${R_N[k]}")"; done
growth=$(awk -v a="${R_PER[0]}" -v b="${R_PER[last]}" 'BEGIN { printf "%.2f", (a > 0 ? b / a : 0) }')
echo "| pipeline run per 1,000 accounts | $per (${growth}×) | linear |"
echo "| pipeline one more day, $(g "$L") accounts ($(g "${R_NROWS[last]}") rows of $NEXT) | ingest ${R_NI[last]} s + run ${R_NR[last]} s = ${R_NS[last]} s (run peak RSS ${R_NRSS[last]} MB) | < $GOAL_NEXT s: $(met "${R_NS[last]}" "$GOAL_NEXT" lt) |"
echo
echo "total benchmark time: $total_s s (generation included)"
