#!/usr/bin/env bash
# make bench, forecast part: the history-model forecast and its backtest on 18 months of generated
# account history, against the bare SQL a user would write on the same data. On a throwaway
# embedded cluster (destroyed on exit). Benchmarks, not tests: goals are reported, exit 0 either way
# (non-zero only when something actually fails).
#
# Data (scripts/bench_forecast_data.sql, set-based, seeded, dates from as_of — never now()):
# examples/catalog.yaml; 100,000 accounts created over the 18 months before as_of and earlier, with
# their account_history (first rows, then upgrades, seat packs, downgrades, past-due spells,
# cancellations and trial conversions month by month); 100,000 open (proposed) offers made by runs
# up to as_of − 7, each with its creation event; a few thousand past offers accepted or declined
# (proposed → approved → accepted/declined events) so acceptance lags exist. Then VACUUM ANALYZE.
#
# Measured (warm cache, wall clock of the whole command, best of 3; peak RSS from /usr/bin/time -v):
#   - tierplan forecast --as-of AS_OF --months 24 --json              (history model, 10,000 draws)  goal < 2 s
#   - tierplan forecast backtest --from … --to … --months 1 --json    (12 as_of days, both models)    goal < 15 s
#     (--from/--to: the last 12 month ends whose next month ends on or before the latest history date)
#   - raw SQL (psql \timing, best of 3), what a user would write for the same answers:
#       "paying states": paying count and MRR on the days the forecast reads (the 7 lookback month
#       ends and as_of), one DISTINCT ON (account_id) … ORDER BY effective_on DESC per day;
#       "every input": paying on as_of, each lookback month's movements (those states paired month
#       to month, with the accepted offers), the open offers on as_of (each offer's last event) and
#       the acceptance lags; for the backtest the same over every month end it reads and the open
#       offers on each as_of. ratio = tierplan seconds ÷ raw SQL seconds (the first one for the forecast).
# The raw answers are checked against the forecast's JSON (paying accounts, MRR, open offers, every
# field of every lookback month).
#
#   scripts/bench_forecast.sh BIN                       e.g. .build/release/tierplan
#   BENCH_ACCOUNTS=100000 BENCH_OFFERS=100000 BENCH_PAST_OFFERS=6000 BENCH_SEED=0.42 …
#   BENCH_EXPLAIN=1 …      also print where the time goes: each statement's server time (the cluster's log;
#                          the two offer/history scans run at once on two connections sharing a snapshot)
#   BENCH_KEEP=1 …         keep the cluster afterwards (prints where)
set -euo pipefail
shopt -s inherit_errexit
BIN=${1:?usage: scripts/bench_forecast.sh path/to/tierplan}
[[ -x $BIN ]] || { echo "bench_forecast: $BIN is not an executable (build it first: swift build -c release)" >&2; exit 2; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
cd "$(dirname "$0")/.."

ACCOUNTS=${BENCH_ACCOUNTS:-100000}
OFFERS=${BENCH_OFFERS:-${BENCH_OPEN_OFFERS:-100000}}
PAST_OFFERS=${BENCH_PAST_OFFERS:-6000}
SEED=${BENCH_SEED:-0.42}
AS_OF=2026-11-01
MONTHS=24
LOOKBACK=6
BT_MONTHS=1
BT_POINTS=12
REPEAT=3
GOAL_FORECAST=2
GOAL_BACKTEST=15

for tool in psql python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "bench_forecast: $tool is required" >&2; exit 2; }
done
for v in "$ACCOUNTS" "$OFFERS" "$PAST_OFFERS"; do
    [[ $v =~ ^[0-9]+$ ]] || { echo "bench_forecast: sizes must be whole numbers, got '$v'" >&2; exit 2; }
done
HAVE_TIME=0; [[ -x /usr/bin/time ]] && /usr/bin/time -v true >/dev/null 2>&1 && HAVE_TIME=1

# Only the throwaway cluster: no DATABASE_URL, no libpq variables that would point elsewhere.
unset DATABASE_URL PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGSERVICE PGPASSWORD PGOPTIONS
TIERPLAN_HOME=$(mktemp -d /tmp/tpfc.XXXXXX); export TIERPLAN_HOME
WORK=$(mktemp -d /tmp/tpfc-work.XXXXXX)
BENCH_NAME=bench_forecast BENCH_SCRATCH="$WORK"
source scripts/bench_common.sh

least() { awk -v a="$1" -v b="$2" 'BEGIN { print ((a == "" || b + 0 < a + 0) ? b : a) }'; }
most() { awk -v a="$1" -v b="$2" 'BEGIN { print ((a == "" || b + 0 > a + 0) ? b : a) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
met() { awk -v v="$1" -v g="$2" 'BEGIN { print (v + 0 < g + 0 ? "met" : "NOT met") }'; }

"$BIN" db up >/dev/null 2>&1 || fail "tierplan db up failed"
URL=$("$BIN" db url)
"$BIN" db migrate >/dev/null
"$BIN" catalog load examples/catalog.yaml >/dev/null
q() { psql "$URL" -X -q -v ON_ERROR_STOP=1 -At "$@"; }

note "generating $ACCOUNTS accounts with 18 months of history, $OFFERS open offers, ~$PAST_OFFERS past offers (seed $SEED, as of $AS_OF)"
t0=$(now)
psql "$URL" -X -q -v ON_ERROR_STOP=1 -v accounts="$ACCOUNTS" -v offers="$OFFERS" -v past_offers="$PAST_OFFERS" \
    -v as_of="$AS_OF" -v seed="$SEED" -f scripts/bench_forecast_data.sql >"$WORK/gen.log" 2>&1 \
    || { cat "$WORK/gen.log" >&2; fail "data generation failed"; }
gen_s=$(elapsed "$t0" "$(now)")
q -c "CHECKPOINT" >/dev/null 2>&1 || true
stats=$(q -F ' ' -c "
    SELECT (SELECT count(*) FROM accounts), (SELECT count(*) FROM account_history),
           (SELECT count(DISTINCT account_id) FROM account_history h WHERE effective_on > (SELECT min(effective_on) FROM account_history x WHERE x.account_id = h.account_id)),
           (SELECT min(effective_on) FROM account_history), (SELECT max(effective_on) FROM account_history),
           (SELECT count(*) FROM offers WHERE status = 'proposed'), (SELECT count(*) FROM offers WHERE status IN ('accepted', 'declined')),
           (SELECT count(*) FROM offers WHERE status = 'accepted'), (SELECT count(*) FROM offers WHERE status = 'declined'),
           (SELECT count(*) FROM offer_events), pg_database_size(current_database()) / 1048576")
read -r n_acc n_hist n_changed first_on latest_on n_open n_past n_acc_off n_dec n_events db_mb <<<"$stats"
note "generated in $gen_s s; history $first_on … $latest_on; database $db_mb MB"

# ── The days read, from the contract: lookback months before as_of's month, month ends ──
days=$(python3 - "$AS_OF" "$LOOKBACK" "$latest_on" "$BT_MONTHS" "$BT_POINTS" "$first_on" <<'PY'
import datetime as dt, sys
as_of, lookback, latest, h, points, first = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
d = dt.date.fromisoformat
def month_end(y, m):  # last day of month (y, m), m may be out of 1..12
    y, m = y + (m - 1) // 12, (m - 1) % 12 + 1
    nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
    return nxt - dt.timedelta(days=1)
a = d(as_of)
# forecast: the end of the month before each usable lookback month, and its own end; and as_of
ends = [month_end(a.year, a.month - k) for k in range(lookback + 1, 0, -1)]
usable = [e for e in ends[1:] if e.replace(day=1) >= d(first)]
days = sorted({month_end(e.year, e.month - 1) for e in usable} | set(usable) | {a})
# backtest: the last `points` month ends whose h-th next month ends on or before the latest history date
lat = d(latest)
k = 0
while month_end(a.year, a.month - k + h) > lat: k += 1
asofs = [month_end(a.year, a.month - k - j) for j in range(points - 1, -1, -1)]
# every month end it reads: from the month before the first lookback month (not before the history
# starts) to the end of the last as_of's h-th month
m = max(month_end(asofs[0].year, asofs[0].month - lookback - 1), month_end(d(first).year, d(first).month - 1))
bt = []
while m <= month_end(asofs[-1].year, asofs[-1].month + h):
    bt.append(m); m = month_end(m.year, m.month + 1)
arr = lambda xs: "{" + ",".join(x.isoformat() for x in xs) + "}"
print(arr(days), asofs[0].isoformat(), asofs[-1].isoformat(), arr(bt), arr(asofs))
PY
)
read -r FC_DAYS BT_FROM BT_TO BT_DAYS BT_ASOFS <<<"$days"

# ── Raw SQL: what a user would write for the same answers ──
states_sql() {   # $1: date[] literal
    cat <<SQL
SELECT 'S', d.day, count(*) AS paying, coalesce(sum(s.mrr), 0) AS mrr
FROM unnest('$1'::date[]) AS d (day)
CROSS JOIN LATERAL (
    SELECT DISTINCT ON (h.account_id) h.status, h.mrr
    FROM account_history h WHERE h.effective_on <= d.day
    ORDER BY h.account_id, h.effective_on DESC
) s
WHERE s.status IN ('active', 'past_due')
GROUP BY d.day ORDER BY d.day;
SQL
}
offers_sql() {   # $1: date[] literal: per day, open upsell offers (one per account, the largest expected delta) and E
    cat <<SQL
SELECT 'O', d.day, count(*) AS open_offers, round(sum(o.p * o.d)::numeric, 2) AS expected
FROM unnest('$1'::date[]) AS d (day)
CROSS JOIN LATERAL (
    SELECT DISTINCT ON (o.account_id) o.acceptance_probability AS p, o.delta_mrr AS d
    FROM (SELECT DISTINCT ON (e.account_id, e.offer_id) e.account_id, e.offer_id, e.to_status
          FROM offer_events e WHERE e.at < (d.day + 1)::timestamp AT TIME ZONE 'UTC'
          ORDER BY e.account_id, e.offer_id, e.at DESC, e.seq DESC) last
    JOIN offers o USING (account_id, offer_id)
    WHERE last.to_status IN ('proposed', 'approved') AND o.kind IN ('addon', 'tier_upgrade')
    ORDER BY o.account_id, o.expected_delta_mrr DESC
) o
GROUP BY d.day ORDER BY d.day;
SQL
}
movements_sql() {   # $1: date[] literal of month ends, in order: each month's movements as the history model counts them
    cat <<SQL
WITH d AS (SELECT day, i FROM unnest('$1'::date[]) WITH ORDINALITY AS d (day, i)),
s AS (
    SELECT d.i, x.account_id, x.mrr
    FROM d CROSS JOIN LATERAL (
        SELECT DISTINCT ON (h.account_id) h.account_id, h.status, h.mrr
        FROM account_history h WHERE h.effective_on <= d.day
        ORDER BY h.account_id, h.effective_on DESC
    ) x
    WHERE x.status IN ('active', 'past_due')
),
pairs AS (
    SELECT coalesce(e.i, b.i + 1) AS i, coalesce(e.account_id, b.account_id) AS account_id, b.mrr AS start_mrr, e.mrr AS end_mrr
    FROM (SELECT * FROM s WHERE i < (SELECT max(i) FROM d)) b
    FULL JOIN (SELECT * FROM s WHERE i > 1) e ON e.account_id = b.account_id AND e.i = b.i + 1
),
accepted AS (
    SELECT DISTINCT e.account_id, d.i
    FROM offer_events e JOIN offers o USING (account_id, offer_id)
    JOIN d ON e.at::date BETWEEN date_trunc('month', d.day)::date AND d.day
    WHERE e.to_status = 'accepted' AND o.kind IN ('addon', 'tier_upgrade')
)
SELECT 'M', d.day, count(start_mrr), coalesce(sum(start_mrr), 0),
       count(*) FILTER (WHERE end_mrr IS NULL), coalesce(sum(start_mrr) FILTER (WHERE end_mrr IS NULL), 0),
       count(*) FILTER (WHERE start_mrr IS NULL), coalesce(sum(end_mrr) FILTER (WHERE start_mrr IS NULL), 0),
       coalesce(sum(end_mrr - start_mrr) FILTER (WHERE end_mrr > start_mrr), 0),
       coalesce(sum(end_mrr - start_mrr) FILTER (WHERE end_mrr > start_mrr AND a.account_id IS NOT NULL), 0),
       coalesce(sum(start_mrr - end_mrr) FILTER (WHERE end_mrr < start_mrr), 0),
       count(end_mrr), coalesce(sum(end_mrr), 0)
FROM pairs JOIN d USING (i) LEFT JOIN accepted a USING (account_id, i)
GROUP BY d.day ORDER BY d.day;
SQL
}
lags_sql() {
    cat <<SQL
SELECT 'L', count(*), avg(accepted - made) FROM (
    SELECT min(e.at::date) FILTER (WHERE e.from_status IS NULL) AS made, min(e.at::date) FILTER (WHERE e.to_status = 'accepted') AS accepted
    FROM offer_events e JOIN offers o USING (account_id, offer_id)
    WHERE o.kind IN ('addon', 'tier_upgrade') AND o.status = 'accepted' GROUP BY e.account_id, e.offer_id
) x;
SQL
}
{ echo "SET TimeZone = 'UTC';"; states_sql "$FC_DAYS"; } >"$WORK/raw_fc_states.sql"
{ echo "SET TimeZone = 'UTC';"; states_sql "{$AS_OF}"; movements_sql "${FC_DAYS/,$AS_OF/}"; offers_sql "{$AS_OF}"; lags_sql; } >"$WORK/raw_fc_all.sql"
{ echo "SET TimeZone = 'UTC';"; movements_sql "$BT_DAYS"; offers_sql "$BT_ASOFS"; lags_sql; } >"$WORK/raw_bt_all.sql"

# Seconds of one psql file: the sum of its statements' \timing (server round trips, no connection set-up).
raw_once() {   # file → seconds; the results in file.out
    local out
    out=$(psql "$URL" -X -q -v ON_ERROR_STOP=1 -At -c '\timing on' -f "$1") || fail "raw SQL $1 failed"
    grep -v '^Time: ' <<<"$out" >"$1.out"
    awk '/^Time: / { s += $2; found = 1 } END { if (!found) exit 1; printf "%.3f", s / 1000 }' <<<"$out" \
        || fail "raw SQL: no timing in psql output: $out"
}
raw_best() {
    local best= s k
    for ((k = 1; k <= REPEAT; k++)); do s=$(raw_once "$1"); best=$(least "$best" "$s"); done
    echo "$best"
}

# One tierplan command: wall seconds in $WORK/$tag.seconds, JSON in $WORK/$tag.json, RSS in $WORK/$tag.time
timed() {   # tag, args…
    local tag=$1 t0 t1 rc=0; shift
    t0=$(now)
    if ((HAVE_TIME)); then
        /usr/bin/time -v -o "$WORK/$tag.time" "$BIN" "$@" >"$WORK/$tag.json" 2>"$WORK/$tag.err" || rc=$?
    else
        "$BIN" "$@" >"$WORK/$tag.json" 2>"$WORK/$tag.err" || rc=$?
    fi
    t1=$(now)
    ((rc == 0)) || { cat "$WORK/$tag.err" >&2; fail "tierplan $* exited with $rc"; }
    elapsed "$t0" "$t1" >"$WORK/$tag.seconds"
}
rss_mb() { [[ -f $1 ]] && awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$1" || echo "n/a"; }
best_of() {   # prefix, args… → "best_seconds max_rss_mb"
    local prefix=$1 best= rss= k; shift
    for ((k = 1; k <= REPEAT; k++)); do
        timed "$prefix$k" "$@"
        best=$(least "$best" "$(cat "$WORK/$prefix$k.seconds")")
        if ((HAVE_TIME)); then rss=$(most "$rss" "$(rss_mb "$WORK/$prefix$k.time")"); fi
    done
    echo "$best ${rss:-n/a}"
}

FC_ARGS=(forecast --as-of "$AS_OF" --months "$MONTHS" --json)
BT_ARGS=(forecast backtest --from "$BT_FROM" --to "$BT_TO" --months "$BT_MONTHS" --json)

note "warming the cache (raw SQL and forecast once)"
raw_once "$WORK/raw_fc_all.sql" >/dev/null
timed warm "${FC_ARGS[@]}"

note "tierplan ${FC_ARGS[*]} ×$REPEAT"
res=$(best_of fc "${FC_ARGS[@]}"); read -r fc_s fc_rss <<<"$res"
note "tierplan ${BT_ARGS[*]} ×$REPEAT"
res=$(best_of bt "${BT_ARGS[@]}"); read -r bt_s bt_rss <<<"$res"
note "raw SQL ×$REPEAT each"
raw_fc_states=$(raw_best "$WORK/raw_fc_states.sql")
raw_fc_all=$(raw_best "$WORK/raw_fc_all.sql")
raw_bt_all=$(raw_best "$WORK/raw_bt_all.sql")

# ── What came out, and whether the raw SQL gives the same answers ──
res=$(python3 - "$WORK" "$AS_OF" "$BT_POINTS" <<'PY'
import json, sys
work, as_of, want_points = sys.argv[1], sys.argv[2], int(sys.argv[3])
fc = json.load(open(f"{work}/fc1.json")); bt = json.load(open(f"{work}/bt1.json"))
import calendar
rows = [l.rstrip("\n").split("|") for l in open(f"{work}/raw_fc_all.sql.out")]
states = {r[1]: (int(r[2]), int(r[3])) for r in rows if r[0] == "S"}
moves = {r[1]: [int(x) for x in r[2:]] for r in rows if r[0] == "M"}
offers = {r[1]: int(r[2]) for r in rows if r[0] == "O"}
problems = []
def same(what, a, b):
    if str(a) != str(b): problems.append(f"{what}: tierplan {a}, raw SQL {b}")
if as_of in states: same("paying on as_of", fc["paying_accounts"], states[as_of][0]); same("MRR on as_of", fc["mrr"], states[as_of][1])
else: problems.append("no raw row for as_of")
same("open offers", fc["open_offers"], offers.get(as_of))
fields = ["start_accounts", "start_mrr", "churned", "churned_mrr", "new", "new_mrr", "expansion", "offer_expansion", "contraction",
          "end_accounts", "end_mrr"]
for m in fc.get("history") or []:
    y, mo = map(int, m["month"].split("-"))
    end = f"{y:04d}-{mo:02d}-{calendar.monthrange(y, mo)[1]:02d}"
    if end not in moves: problems.append(f"no raw movements for {m['month']}"); continue
    for f, v in zip(fields, moves[end]): same(f"{f} {m['month']}", m[f], v)
if len(bt["as_of_days"]) != want_points: problems.append(f"backtest as_of_days has {len(bt['as_of_days'])} entries, not {want_points}")
check = "agree" if not problems else "DISAGREE:" + ";".join(problems).replace(" ", "_")
print(fc["model"], fc.get("quantiles", "?").replace(" ", "_"), fc["paying_accounts"], fc["mrr"], fc["open_offers"],
      len(fc.get("history") or []), len(fc["months"]), len(bt["points"]), len(bt["as_of_days"]), check)
PY
)
read -r fc_model fc_quantiles fc_paying fc_mrr fc_open fc_hist fc_months bt_points bt_asofs check <<<"$res"
[[ $fc_model == history ]] || note "warning: the forecast used model '$fc_model', not history"
[[ $check == agree ]] || note "warning: ${check//_/ }"

# ── Where the time goes (BENCH_EXPLAIN=1): each statement's server time in one forecast and one
# backtest (the cluster's log) ──
EXPLAIN_SUMMARY=
if [[ ${BENCH_EXPLAIN:-} == 1 ]]; then
    LOG=$TIERPLAN_HOME/postgres.log
    cat >"$WORK/statements.py" <<'PY'
import re, sys
tag = sys.argv[1]; total = 0.0; rows = []; entries = []
for line in sys.stdin:   # a statement logged over several lines (the rest start with a tab), then its parameters
    if (line.startswith("\t") or "DETAIL:  parameters:" in line) and entries: entries[-1] += line
    else: entries.append(line)
for entry in entries:
    m = re.search(r"duration: ([\d.]+) ms\s+(parse|bind|execute) [^:]*: (.*)", entry, re.S)
    if not m: continue
    ms = float(m.group(1)); total += ms
    if m.group(2) == "execute" and ms >= 20:
        sql = m.group(3)
        name = ("HistoryStore.upsellOfferTimelines (offers and their events)" if "offer_events e" in sql else
                "HistoryStore.timelines (account_history)" if "FROM account_history" in sql else
                "HistoryStore.timelines (accounts)" if "FROM accounts" in sql else sql[:40])
        rows.append(f"  {tag}: {ms:9.1f} ms  {name}")
wall = float(sys.argv[2]) * 1000
print("\n".join(rows)); print(f"  {tag}: {total:9.1f} ms  all SQL summed (parse, bind, execute; the offer scan overlaps the history scans); wall {wall:.0f} ms")
PY
    statements() {   # tag, args… → one line per statement over 20 ms, then the SQL total
        local tag=$1 n t0 wall; shift
        [[ -f $LOG ]] || { echo "  (no server log at $LOG)"; return 0; }
        n=$(wc -l <"$LOG")
        t0=$(now); "$BIN" "$@" >/dev/null 2>&1; wall=$(elapsed "$t0" "$(now)")
        sleep 0.5
        tail -n +"$((n + 1))" "$LOG" | python3 "$WORK/statements.py" "$tag" "$wall"
    }
    q -c "ALTER SYSTEM SET log_min_duration_statement = 0" -c "SELECT pg_reload_conf()" >/dev/null
    EXPLAIN_SUMMARY+="server time per statement (log_min_duration_statement = 0; ≥ 20 ms shown, in order):"$'\n'
    EXPLAIN_SUMMARY+="$(statements forecast "${FC_ARGS[@]}")"$'\n'
    EXPLAIN_SUMMARY+="$(statements backtest "${BT_ARGS[@]}")"$'\n'
    q -c "ALTER SYSTEM RESET log_min_duration_statement" -c "SELECT pg_reload_conf()" >/dev/null
fi

fc_ratio=$(ratio "$fc_s" "$raw_fc_states"); fc_ratio_all=$(ratio "$fc_s" "$raw_fc_all"); bt_ratio=$(ratio "$bt_s" "$raw_bt_all")
pg_version=$(q -c "SHOW server_version")
echo
echo "tierplan forecast benchmark: as of $AS_OF, seed $SEED; $(basename "$BIN") at $BIN; nproc=$(nproc); PostgreSQL $pg_version"
echo "data: $n_acc accounts ($n_changed with changes), $n_hist account_history rows ($first_on … $latest_on), $n_open open offers," \
     "$n_past past offers ($n_acc_off accepted, $n_dec declined), $n_events offer events; database $db_mb MB; generated in $gen_s s"
echo "forecast: model $fc_model, ${fc_quantiles//_/ }, $fc_hist lookback months, $fc_months months; $fc_paying paying accounts, MRR $fc_mrr, $fc_open open offers counted"
echo "backtest: --from $BT_FROM --to $BT_TO --months $BT_MONTHS: $bt_asofs as_of days, $bt_points points (history and flat)"
echo "raw SQL: paying count and MRR per day by DISTINCT ON (account_id) ... ORDER BY effective_on DESC on the $(tr -cd ',' <<<"$FC_DAYS" | wc -c | awk '{ print $1 + 1 }') days the forecast reads (7 month ends + as_of)"
echo "raw SQL, every input: paying on as_of, each lookback month's movements (the same DISTINCT ON states, paired month to month," \
     "with accepted offers), open offers on as_of (last event of each offer) and acceptance lags; backtest: movements over $(tr -cd ',' <<<"$BT_DAYS" | wc -c | awk '{ print $1 + 1 }') month ends," \
     "open offers on each as_of, lags. Answers vs tierplan's forecast JSON: ${check//_/ }"
echo
printf '%-52s %10s %10s %8s %8s\n' figure "tierplan s" "raw SQL s" ratio "RSS MB"
printf '%-52s %10s %10s %8s %8s\n' ---------------------------------------------------- ---------- ---------- -------- --------
printf '%-52s %10s %10s %8s %8s\n' "forecast --months $MONTHS vs paying states" "$fc_s" "$raw_fc_states" "$fc_ratio" "$fc_rss"
printf '%-52s %10s %10s %8s %8s\n' "forecast --months $MONTHS vs every input" "$fc_s" "$raw_fc_all" "$fc_ratio_all" "$fc_rss"
printf '%-52s %10s %10s %8s %8s\n' "backtest $bt_asofs as_of days --months $BT_MONTHS vs every input" "$bt_s" "$raw_bt_all" "$bt_ratio" "$bt_rss"
echo
if [[ -n $EXPLAIN_SUMMARY ]]; then printf '%s\n' "$EXPLAIN_SUMMARY"; fi
echo "forecast history model over $n_acc accounts, $n_hist history rows, $n_open open offers, $MONTHS months: best of $REPEAT = ${fc_s} s, peak RSS ${fc_rss} MB; raw SQL ${raw_fc_states} s (every input ${raw_fc_all} s), ratio ${fc_ratio}  goal < ${GOAL_FORECAST} s: $(met "$fc_s" "$GOAL_FORECAST")"
echo "forecast backtest $bt_asofs as_of days, horizon $BT_MONTHS: best of $REPEAT = ${bt_s} s, peak RSS ${bt_rss} MB; raw SQL ${raw_bt_all} s, ratio ${bt_ratio}  goal < ${GOAL_BACKTEST} s: $(met "$bt_s" "$GOAL_BACKTEST")"
