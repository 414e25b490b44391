#!/usr/bin/env bash
# Benchmark of the nightly job, `tierplan run --as-of D`, at 25k, 50k and 100k accounts, each with
# 90 days of daily storage samples and about 100 feature events per account (≈10M at 100k),
# generated in SQL by scripts/bench_run_data.sql on a throwaway embedded cluster (destroyed on exit).
#
# For each size, in a fresh database: migrate, load examples/catalog.yaml, generate (timed apart,
# not the measured figure), then
#   - warm the cache: the bare query once (it reads every page the run's signals query reads);
#   - `run` on an empty offers table (the nightly job's real cost): wall time and peak RSS
#     (`/usr/bin/time -v`, "Maximum resident set size") of the tierplan process;
#   - the bare query, best of 3: the run's signals SQL (`tierplan debug signals-sql`: the store's
#     own query, parameters as literals) wrapped in
#     `SELECT count(*), sum(…) FROM (…) q`, so the server reads and aggregates the same rollups but
#     sends nothing and nothing is planned or written; timed by psql (\timing, server round trip);
#   - `run` again for the same as_of (idempotent: writes nothing);
#   - bundles (issue 17): a copy of the generated database (CREATE DATABASE … TEMPLATE, before the
#     first run) with examples/catalog_bundles.yaml loaded — the same catalog plus three bundles —
#     gets the same first `run`; and `plan --dry-run` alternates between the two databases twice
#     (best of each): planning with bundles should be at most 15 % slower (BENCH_RUN_BUNDLES=0 skips);
#     then `whatif --catalog examples/catalog_bundles.yaml` on the database without them (time, RSS).
# Prints one table and whether the goals are met: run ÷ bare ≤ 2, peak RSS ≤ 500 MB, and linear
# growth (seconds per account at the largest size within 1.5× of the smallest). Exits 0 either way,
# non-zero only when something actually fails.
#
#   scripts/bench_run.sh BIN                         e.g. .build/release/tierplan
#   BENCH_RUN_SIZES="10000 20000" scripts/bench_run.sh BIN   other sizes (first and last for linearity)
#   BENCH_AS_OF=2026-11-01 BENCH_SEED=0.42 …         as_of and generator seed (same seed, same data)
#   BENCH_KEEP=1 …                                   keep the cluster and databases afterwards (prints where)
set -euo pipefail

BIN=${1:?usage: scripts/bench_run.sh path/to/tierplan}
[[ -x $BIN ]] || { echo "bench_run: $BIN is not an executable (build it first: swift build -c release)" >&2; exit 2; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
cd "$(dirname "$0")/.."

SIZES=${BENCH_RUN_SIZES:-25000 50000 100000}
AS_OF=${BENCH_AS_OF:-2026-11-01}
SEED=${BENCH_SEED:-0.42}
BARE_REPEAT=3
GOAL_RATIO=2
GOAL_RSS_MB=500
GOAL_LINEAR=1.5

for tool in psql python3 /usr/bin/time; do
    command -v "$tool" >/dev/null 2>&1 || { echo "bench_run: $tool is required" >&2; exit 2; }
done
[[ $AS_OF =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]] || { echo "bench_run: BENCH_AS_OF must be YYYY-MM-DD" >&2; exit 2; }
for n in $SIZES; do
    [[ $n =~ ^[1-9][0-9]*$ && $n -le 999999 ]] || { echo "bench_run: sizes must be 1..999999 accounts, got '$n'" >&2; exit 2; }
done

# Only the throwaway cluster: no DATABASE_URL, no libpq variables that would point elsewhere.
unset DATABASE_URL PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGSERVICE PGPASSWORD PGOPTIONS
# Short path: the Unix socket lives in it and must stay under ~100 bytes.
TIERPLAN_HOME=$(mktemp -d /tmp/tprun.XXXXXX)
export TIERPLAN_HOME
WORK=$(mktemp -d /tmp/tprun-work.XXXXXX)

BENCH_NAME=bench_run BENCH_SCRATCH="$WORK" BENCH_KEPT="databases bench_<accounts>"
source scripts/bench_common.sh

json_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
rss_mb() { awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$1"; }

# ── The bare query: the run's own signals SQL, with literal dates, aggregated on the server ──
# The SQL is the store's own (`tierplan debug signals-sql`), never a copy kept here.
SIGNALS_SQL=$("$BIN" debug signals-sql --as-of "$AS_OF") || fail "could not get the signals SQL from $BIN"
# Every output column is aggregated, so the planner can drop no join, subquery or column.
BARE_SQL="SELECT count(*) AS accounts,
       sum(length(q.account_id) + length(q.name) + length(q.tier_code) + length(q.status) + length(q.segment) + length(q.owner)
           + length(q.addons)) AS text_chars,
       max(q.created_at) AS newest, count(q.canceled_at) AS canceled, sum(q.discount_bp) AS discount_bp,
       sum(coalesce(q.m2_lasts[cardinality(q.m2_lasts)], q.m1_lasts[cardinality(q.m1_lasts)], q.storage_earlier)) AS storage_used, sum(coalesce(cardinality(q.m1_days), 0) + coalesce(cardinality(q.m2_days), 0)) AS storage_days,
       sum(coalesce(cardinality(q.m1_maxes) + cardinality(q.m1_lasts), 0) + coalesce(cardinality(q.m2_maxes) + cardinality(q.m2_lasts), 0)) AS storage_values, sum(cardinality(q.feature_keys)) AS feature_keys,
       sum(cardinality(q.feature_days)) AS feature_days, sum(q.active_users) AS active_users
FROM (
$SIGNALS_SQL
) q (account_id, name, tier_code, status, created_at, discount_bp, segment, owner, canceled_at, addons,
     storage_earlier, m1_days, m1_maxes, m1_lasts, m2_days, m2_maxes, m2_lasts, feature_keys, feature_days, active_users)"
printf '%s;\n' "$BARE_SQL" >"$WORK/bare.sql"

load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
started=$(now)
note "starting a throwaway cluster in $TIERPLAN_HOME"
"$BIN" db up >/dev/null
ADMIN_URL="postgresql:///postgres?host=$TIERPLAN_HOME&port=5432&user=postgres"
admin() { psql "$ADMIN_URL" -X -q -v ON_ERROR_STOP=1 -At "$@"; }

# Seconds of one bare query (psql's \timing: server round trip, no connection set-up).
bare_once() {
    local out
    out=$(psql "$1" -X -q -v ON_ERROR_STOP=1 -At -c '\timing on' -f "$WORK/bare.sql") || fail "bare query failed"
    awk '/^Time: / { printf "%.3f", $2 / 1000; found = 1 } END { if (!found) exit 1 }' <<<"$out" \
        || fail "bare query: no timing in psql output: $out"
}

# One `tierplan run`: wall seconds, peak RSS and its JSON in $WORK/$2.*
timed_run() {
    local url=$1 tag=$2 t0 t1 rc=0
    t0=$(now)
    /usr/bin/time -v -o "$WORK/$tag.time" "$BIN" run --as-of "$AS_OF" --json --database-url "$url" \
        >"$WORK/$tag.json" 2>"$WORK/$tag.err" || rc=$?
    t1=$(now)
    if ((rc != 0)); then
        cat "$WORK/$tag.err" >&2
        fail "tierplan run ($tag) exited with $rc"
    fi
    elapsed "$t0" "$t1" >"$WORK/$tag.seconds"
}

declare -a R_ACC R_EVENTS R_GEN R_RUN R_RERUN R_BARE R_RATIO R_RSS R_RERUN_RSS R_SCANNED R_OFFERS R_REOFFERS
declare -a R_BRUN R_DRY R_BDRY R_BOFFERS R_BUSED R_WHATIF R_WHATIF_RSS
BUNDLES=${BENCH_RUN_BUNDLES:-1}
GOAL_BUNDLES=1.15
# Seconds of one `plan --dry-run` (signals and planning, nothing written).
dry_once() {
    local t0
    t0=$(now)
    "$BIN" plan --as-of "$AS_OF" --dry-run --json --database-url "$1" >"$WORK/dry.json" 2>"$WORK/dry.err" \
        || { cat "$WORK/dry.err" >&2; fail "plan --dry-run failed on $1"; }
    elapsed "$t0" "$(now)"
}
best_of() { awk -v a="$1" -v b="$2" 'BEGIN { print ((a == "" || b + 0 < a + 0) ? b : a) }'; }
i=0
for n in $SIZES; do
    db=bench_$n
    url="postgresql:///$db?host=$TIERPLAN_HOME&port=5432&user=postgres"
    note "── $n accounts: database $db"
    admin -c "CREATE DATABASE $db" >/dev/null
    "$BIN" db migrate --database-url "$url" >/dev/null
    "$BIN" catalog load examples/catalog.yaml --database-url "$url" >/dev/null

    note "generating $n accounts, 90 days of storage samples and feature events (seed $SEED, as of $AS_OF)"
    t0=$(now)
    psql "$url" -X -q -v ON_ERROR_STOP=1 -v accounts="$n" -v as_of="$AS_OF" -v seed="$SEED" \
        -f scripts/bench_run_data.sql >"$WORK/gen_$n.log" 2>&1 || { cat "$WORK/gen_$n.log" >&2; fail "data generation failed"; }
    gen_s=$(elapsed "$t0" "$(now)")
    read -r events samples dstorage dfeature dusers addons db_size <<<"$(psql "$url" -X -q -v ON_ERROR_STOP=1 -At -F ' ' -c "
        SELECT (SELECT count(*) FROM feature_events), (SELECT count(*) FROM storage_samples),
               (SELECT count(*) FROM storage_months), (SELECT count(*) FROM feature_days),
               (SELECT count(*) FROM user_days), (SELECT count(*) FROM account_addons),
               pg_database_size(current_database()) / 1048576")"
    note "generated in $gen_s s: $events feature events, $samples storage samples, $addons add-ons;" \
         "rollups $dstorage storage_months, $dfeature feature_days, $dusers user_days rows; database $db_size MB"
    # Generation's dirty pages and WAL are flushed now, not during the measurements.
    admin -c "CHECKPOINT" >/dev/null

    bdb=${db}_bundles
    burl="postgresql:///$bdb?host=$TIERPLAN_HOME&port=5432&user=postgres"
    if [[ $BUNDLES == 1 ]]; then
        note "copying $db to $bdb and loading examples/catalog_bundles.yaml there"
        admin -c "CREATE DATABASE $bdb TEMPLATE $db" >/dev/null
        "$BIN" catalog load examples/catalog_bundles.yaml --database-url "$burl" >/dev/null
    fi

    note "warming the cache (bare query once)"
    bare_once "$url" >/dev/null

    note "tierplan run --as-of $AS_OF (first run, empty offers table)"
    timed_run "$url" "run_$n"
    run_s=$(cat "$WORK/run_$n.seconds")
    rss=$(rss_mb "$WORK/run_$n.time")
    scanned=$(json_field "$WORK/run_$n.json" accounts_scanned)
    offers=$(json_field "$WORK/run_$n.json" offers_created)
    note "run: $run_s s, peak RSS $rss MB, $scanned accounts scanned, $offers offers created"

    best=
    for ((k = 1; k <= BARE_REPEAT; k++)); do
        s=$(bare_once "$url")
        note "bare query #$k: $s s"
        best=$(awk -v a="$best" -v b="$s" 'BEGIN { print ((a == "" || b + 0 < a + 0) ? b : a) }')
    done

    note "tierplan run --as-of $AS_OF again (idempotent rerun)"
    admin -c "CHECKPOINT" >/dev/null
    timed_run "$url" "rerun_$n"
    rerun_s=$(cat "$WORK/rerun_$n.seconds")
    rerun_rss=$(rss_mb "$WORK/rerun_$n.time")
    reoffers=$(json_field "$WORK/rerun_$n.json" offers_created)
    rescanned=$(json_field "$WORK/rerun_$n.json" accounts_scanned)
    note "rerun: $rerun_s s, peak RSS $rerun_rss MB, $reoffers offers created"
    [[ $reoffers == 0 ]] || note "warning: the rerun created $reoffers offers (expected 0: run is meant to be idempotent)"
    [[ $rescanned == "$scanned" ]] || note "warning: the rerun scanned $rescanned accounts, the first run $scanned"

    if [[ $BUNDLES == 1 ]]; then
        note "bundles: warming $bdb, then its first run"
        bare_once "$burl" >/dev/null
        admin -c "CHECKPOINT" >/dev/null
        timed_run "$burl" "brun_$n"
        R_BRUN[i]=$(cat "$WORK/brun_$n.seconds")
        R_BOFFERS[i]=$(json_field "$WORK/brun_$n.json" offers_created)
        R_BUSED[i]=$(psql "$burl" -X -q -At -c "SELECT count(*) FROM offers o WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(o.add_items) x
                                                  JOIN addons a ON a.code = x->>'addon' WHERE a.kind = 'bundle')")
        note "bundles run: ${R_BRUN[i]} s (without: $run_s s), ${R_BOFFERS[i]} offers created, ${R_BUSED[i]} of them with a bundle"
        dry=; bdry=
        for ((k = 1; k <= 2; k++)); do
            dry=$(best_of "$dry" "$(dry_once "$url")"); bdry=$(best_of "$bdry" "$(dry_once "$burl")")
        done
        R_DRY[i]=$dry; R_BDRY[i]=$bdry
        note "plan --dry-run, best of 2: $dry s without bundles, $bdry s with"
        # What if the bundles were sold? Every account planned under both catalogs, nothing written.
        t0=$(now)
        /usr/bin/time -v -o "$WORK/whatif_$n.time" "$BIN" whatif --catalog examples/catalog_bundles.yaml --as-of "$AS_OF" --json \
            --database-url "$url" >"$WORK/whatif_$n.json" 2>"$WORK/whatif_$n.err" || { cat "$WORK/whatif_$n.err" >&2; fail "whatif failed"; }
        R_WHATIF[i]=$(elapsed "$t0" "$(now)")
        R_WHATIF_RSS[i]=$(awk '/Maximum resident set size/ { printf "%d", $NF / 1024 }' "$WORK/whatif_$n.time")
        note "whatif (the same catalog with bundles): ${R_WHATIF[i]} s, peak RSS ${R_WHATIF_RSS[i]} MB"
        [[ ${BENCH_KEEP:-} == 1 ]] || admin -c "DROP DATABASE $bdb" >/dev/null
    fi

    R_ACC[i]=$n; R_EVENTS[i]=$events; R_GEN[i]=$gen_s; R_RUN[i]=$run_s; R_RERUN[i]=$rerun_s; R_BARE[i]=$best
    R_RATIO[i]=$(awk -v a="$run_s" -v b="$best" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
    R_RSS[i]=$rss; R_RERUN_RSS[i]=$rerun_rss; R_SCANNED[i]=$scanned; R_OFFERS[i]=$offers; R_REOFFERS[i]=$reoffers
    i=$((i + 1))

    [[ ${BENCH_KEEP:-} == 1 ]] || admin -c "DROP DATABASE $db" >/dev/null
done

load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
pg_version=$(admin -c "SHOW server_version")
pg_settings=$(admin -c "SELECT string_agg(name || '=' || current_setting(name), ' ' ORDER BY name) FROM pg_settings
                        WHERE name IN ('shared_buffers', 'work_mem', 'jit', 'max_parallel_workers_per_gather', 'effective_cache_size')")
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null || true)
total_s=$(elapsed "$started" "$(now)")

last=$((i - 1))
echo
echo "tierplan run benchmark: as of $AS_OF, sizes $(echo $SIZES | tr ' ' ','), seed $SEED; $(basename "$BIN") at $BIN"
echo "machine: nproc=$(nproc), ${cpu:-unknown CPU}, ${mem:-? GiB}; PostgreSQL $pg_version ($pg_settings)"
echo "load average (1/5/15 min) before: $load_before, after: $load_after (other work on the machine skews the figures)"
echo "data: 90 days of one storage sample per account and day, ~100 feature events per account; rollups built as ingest builds them"
echo "bare query: the run's signals SQL aggregated on the server (best of $BARE_REPEAT, warm cache); run: wall time of the tierplan process"
echo
printf '%9s %11s %8s %8s %8s %8s %6s %8s %8s %9s %8s\n' \
    accounts "feat.events" "gen s" "run s" "rerun s" "bare s" ratio "RSS MB" "rerun MB" "scanned" offers
printf '%9s %11s %8s %8s %8s %8s %6s %8s %8s %9s %8s\n' \
    --------- ----------- -------- -------- -------- -------- ------ -------- -------- --------- --------
for ((k = 0; k <= last; k++)); do
    printf '%9s %11s %8s %8s %8s %8s %6s %8s %8s %9s %8s\n' \
        "${R_ACC[k]}" "${R_EVENTS[k]}" "${R_GEN[k]}" "${R_RUN[k]}" "${R_RERUN[k]}" "${R_BARE[k]}" "${R_RATIO[k]}" \
        "${R_RSS[k]}" "${R_RERUN_RSS[k]}" "${R_SCANNED[k]}" "${R_OFFERS[k]}"
done
echo
for ((k = 0; k <= last; k++)); do
    printf 'run per 1,000 accounts at %7s: %.3f s (rerun %.3f s, bare %.3f s)\n' "${R_ACC[k]}" \
        "$(awk -v s="${R_RUN[k]}" -v n="${R_ACC[k]}" 'BEGIN { print s * 1000 / n }')" \
        "$(awk -v s="${R_RERUN[k]}" -v n="${R_ACC[k]}" 'BEGIN { print s * 1000 / n }')" \
        "$(awk -v s="${R_BARE[k]}" -v n="${R_ACC[k]}" 'BEGIN { print s * 1000 / n }')"
done

ratio=${R_RATIO[last]}
max_rss=0
for ((k = 0; k <= last; k++)); do
    for v in "${R_RSS[k]}" "${R_RERUN_RSS[k]}"; do
        if ((v > max_rss)); then max_rss=$v; fi
    done
done
growth=$(awk -v a="${R_RUN[0]}" -v na="${R_ACC[0]}" -v b="${R_RUN[last]}" -v nb="${R_ACC[last]}" \
    'BEGIN { printf "%.2f", (a > 0 ? (b / nb) / (a / na) : 0) }')
met() { awk -v v="$1" -v g="$2" -v op="$3" 'BEGIN { ok = (op == "le") ? (v + 0 <= g + 0) : (v + 0 >= g + 0); print ok ? "met" : "NOT met" }'; }
echo
echo "goals at ${R_ACC[last]} accounts:" \
     "ratio run ÷ bare $ratio (≤ $GOAL_RATIO: $(met "$ratio" "$GOAL_RATIO" le));" \
     "peak RSS $max_rss MB (≤ $GOAL_RSS_MB MB: $(met "$max_rss" "$GOAL_RSS_MB" le));" \
     "linear: seconds per account at ${R_ACC[last]} = ${growth}× that at ${R_ACC[0]} (≤ ${GOAL_LINEAR}×: $(met "$growth" "$GOAL_LINEAR" le))"
if ((last == 0)); then echo "(one size only: linearity is trivially 1.00)"; fi
if [[ $BUNDLES == 1 ]]; then
    echo
    echo "bundles (examples/catalog_bundles.yaml: the same catalog and three bundles, on a copy of the same data):"
    printf '%9s %10s %10s %6s %10s %10s %6s %9s %12s %9s %9s\n' accounts "run s" "bundles s" ratio "dry-run s" "bundles s" ratio offers "with bundle" "whatif s" "whatif MB"
    for ((k = 0; k <= last; k++)); do
        printf '%9s %10s %10s %6s %10s %10s %6s %9s %12s %9s %9s\n' "${R_ACC[k]}" "${R_RUN[k]}" "${R_BRUN[k]}" \
            "$(awk -v a="${R_BRUN[k]}" -v b="${R_RUN[k]}" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')" \
            "${R_DRY[k]}" "${R_BDRY[k]}" "$(awk -v a="${R_BDRY[k]}" -v b="${R_DRY[k]}" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')" \
            "${R_BOFFERS[k]}" "${R_BUSED[k]}" "${R_WHATIF[k]}" "${R_WHATIF_RSS[k]}"
    done
    # Judged on the dry runs: alternating and best of two, they are steadier than two first runs.
    bratio=$(awk -v a="${R_BDRY[last]}" -v b="${R_DRY[last]}" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
    echo "goal at ${R_ACC[last]} accounts: plan with bundles ÷ without $bratio (≤ $GOAL_BUNDLES: $(met "$bratio" "$GOAL_BUNDLES" le))"
fi
echo "total benchmark time: $total_s s (generation included)"
