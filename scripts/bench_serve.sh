#!/usr/bin/env bash
# make bench, serving part: requests/s and p99 latency of `tierplan serve` under load.
#
# Puts BENCH_ACCOUNTS (default 100,000) accounts and as many proposed offers in a throwaway
# embedded cluster (scripts/bench_serve_data.sql), starts `tierplan serve` on 127.0.0.1 and runs
# wrk with BENCH_CONNECTIONS (50) concurrent clients for BENCH_DURATION (20 s) against, one after
# the other:
#   /queue                                   the review queue page, signed in (session cookie)
#   /api/v1/offers?status=proposed&limit=50  the JSON API (Authorization: Bearer TOKEN)
# Prints requests/s, latency percentiles and whether the goal (p99 < 100 ms) is met for each.
# Loopback traffic only; the server is stopped and the cluster deleted on exit. Exits 0 whether
# the goal is met or not, non-zero only when something actually fails.
#
#   scripts/bench_serve.sh BIN                  e.g. .build/release/tierplan
#   BENCH_POOL=16 BENCH_DURATION=10 scripts/bench_serve.sh BIN
#   BENCH_ACCOUNTS BENCH_CONNECTIONS BENCH_THREADS BENCH_DURATION BENCH_WARMUP BENCH_POOL BENCH_PORT
#   BENCH_TIMEOUT (wrk's per-request timeout, s)   BENCH_KEEP=1 (keep the cluster; prints where)
set -euo pipefail

BIN=${1:?usage: scripts/bench_serve.sh path/to/tierplan}
[[ -x $BIN ]] || { echo "bench_serve: $BIN is not an executable (build it first: swift build -c release)" >&2; exit 2; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
cd "$(dirname "$0")/.."

ACCOUNTS=${BENCH_ACCOUNTS:-100000}
CONNECTIONS=${BENCH_CONNECTIONS:-50}
THREADS=${BENCH_THREADS:-2}
DURATION=${BENCH_DURATION:-20}
WARMUP=${BENCH_WARMUP:-3}
POOL=${BENCH_POOL:-8}
TIMEOUT=${BENCH_TIMEOUT:-10}
GOAL_MS=100
HOST=127.0.0.1
for v in ACCOUNTS CONNECTIONS THREADS DURATION WARMUP POOL TIMEOUT; do
    [[ ${!v} =~ ^[0-9]+$ ]] || { echo "bench_serve: BENCH_$v must be a whole number, got '${!v}'" >&2; exit 2; }
done
(( CONNECTIONS >= THREADS && THREADS >= 1 && DURATION >= 1 && POOL >= 1 && ACCOUNTS >= 1 )) \
    || { echo "bench_serve: need BENCH_CONNECTIONS >= BENCH_THREADS >= 1, BENCH_DURATION, BENCH_POOL, BENCH_ACCOUNTS >= 1" >&2; exit 2; }

note() { echo "bench_serve: $*" >&2; }
fail() { echo "bench_serve: $*" >&2; exit 1; }

# Tools: wrk (Debian package), curl and psql.
SUDO=; [[ $(id -u) == 0 ]] || SUDO=sudo
need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v psql >/dev/null 2>&1 || need+=(postgresql-client)
if (( ${#need[@]} )); then
    note "installing ${need[*]}"
    { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"; } >&2 \
        || fail "could not install ${need[*]} (apt-get install ${need[*]})"
fi

# Only the throwaway cluster: no DATABASE_URL, no libpq variables that would point elsewhere.
unset DATABASE_URL PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGSERVICE PGPASSWORD PGOPTIONS
# Short path: the Unix socket lives in it and must stay under ~100 bytes.
TIERPLAN_HOME=$(mktemp -d /tmp/tpserve.XXXX)
export TIERPLAN_HOME
WORK=$(mktemp -d /tmp/tpserve-run.XXXX)
SERVER_PID=

stop_server() {
    [[ -n $SERVER_PID ]] || return 0
    if kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        if kill -0 "$SERVER_PID" 2>/dev/null; then
            note "server $SERVER_PID did not stop within 10 s; killing it"
            kill -KILL "$SERVER_PID" 2>/dev/null || true
        fi
    fi
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_server
    if [[ ${BENCH_KEEP:-} == 1 ]]; then
        note "kept TIERPLAN_HOME=$TIERPLAN_HOME (stop it with: TIERPLAN_HOME=$TIERPLAN_HOME $BIN db down --destroy) and $WORK"
    else
        "$BIN" db down --destroy >/dev/null 2>&1 || note "warning: db down --destroy failed for $TIERPLAN_HOME"
        rm -rf "$TIERPLAN_HOME" "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null \
        || echo $(( 20000 + RANDOM % 20000 ))
}
PORT=${BENCH_PORT:-$(free_port)}
BASE="http://$HOST:$PORT"

# CPU accounting from /proc: the whole machine, the server process, the PostgreSQL processes.
machine_jiffies() { awk '/^cpu / { idle = $5 + $6; total = 0; for (i = 2; i <= NF; i++) total += $i; print total - idle, total; exit }' /proc/stat; }
proc_jiffies() {   # utime+stime of the pids given, plus cutime+cstime (finished children, e.g. parallel workers)
    local total=0 pid f
    for pid in "$@"; do
        f=$(cut -d')' -f2- "/proc/$pid/stat" 2>/dev/null) || continue
        total=$(( total + $(awk '{ print $12 + $13 + $14 + $15 }' <<<"$f") ))
    done
    echo "$total"
}
postgres_pids() {
    local pm
    pm=$(head -1 "$TIERPLAN_HOME/data/postmaster.pid" 2>/dev/null) || return 0
    echo "$pm"; pgrep -P "$pm" 2>/dev/null || true
}
HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)

# ───────────── cluster and data ─────────────
load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
note "starting a throwaway cluster in $TIERPLAN_HOME"
"$BIN" db up >/dev/null
URL=$("$BIN" db url)
sql() { psql "$URL" -X -q -v ON_ERROR_STOP=1 -At "$@"; }
"$BIN" catalog load examples/catalog.yaml >/dev/null

note "generating $ACCOUNTS accounts and their proposed offers (scripts/bench_serve_data.sql)"
t0=$(date +%s.%N)
psql "$URL" -X -q -v ON_ERROR_STOP=1 -v accounts="$ACCOUNTS" -f scripts/bench_serve_data.sql >/dev/null
gen_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
read -r n_accounts n_offers n_proposed <<<"$(sql -F' ' -c "SELECT (SELECT count(*) FROM accounts), (SELECT count(*) FROM offers),
                                                               (SELECT count(*) FROM offers WHERE status = 'proposed')")"
[[ $n_accounts == "$ACCOUNTS" && $n_proposed == "$ACCOUNTS" ]] \
    || fail "data: expected $ACCOUNTS accounts and proposed offers, got $n_accounts accounts and $n_proposed proposed offers"
note "loaded $n_accounts accounts and $n_offers offers in $gen_s s"

printf '%s\n' 'bench-pass-123' | "$BIN" users add bench --role reviewer >/dev/null
TOKEN=$("$BIN" tokens create --role viewer --name bench 2>/dev/null | tail -1)
[[ $TOKEN =~ ^[A-Za-z0-9_]+$ ]] || fail "tokens create printed no token"

# ───────────── server ─────────────
note "starting tierplan serve on $BASE (pool $POOL)"
"$BIN" serve --host "$HOST" --port "$PORT" --pool "$POOL" >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 300); do
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/serve.log" >&2; fail "tierplan serve exited before answering /healthz"; }
    [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$BASE/healthz" || true) == 200 ]] && break
    sleep 0.1
done
[[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$BASE/healthz" || true) == 200 ]] \
    || { cat "$WORK/serve.log" >&2; fail "tierplan serve did not answer /healthz with 200 within 30 s"; }

# The sign-in form carries a CSRF token that must match the cookie set with it.
LOGIN_PAGE=$(curl -s -i --max-time 10 "$BASE/login" | tr -d '\r')
LOGIN_COOKIE=$(sed -n 's/^[Ss]et-[Cc]ookie: *\(tierplan_login_csrf=[^;]*\).*/\1/p' <<<"$LOGIN_PAGE" | head -1)
LOGIN_TOKEN=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' <<<"$LOGIN_PAGE" | head -1)
COOKIE=$(curl -s -i --max-time 10 -H "Cookie: $LOGIN_COOKIE" -d "name=bench&password=bench-pass-123&next=/queue&csrf=$LOGIN_TOKEN" "$BASE/login" \
         | tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: *\(tierplan_session=[^;]*\).*/\1/p' | head -1)
[[ $COOKIE == tierplan_session=?* ]] || fail "sign-in as bench gave no session cookie"

QUEUE_URL="$BASE/queue"
API_URL="$BASE/api/v1/offers?status=proposed&limit=50"
QUEUE_HEADER="Cookie: $COOKIE"
API_HEADER="Authorization: Bearer $TOKEN"

# The responses are the real thing (200, the right totals), not a sign-in redirect or an error;
# also one unloaded request each, for reference.
check_endpoint() {   # name url header -> prints seconds of one request
    local name=$1 url=$2 header=$3 out code secs
    out=$(curl -s -o "$WORK/$name.body" -w '%{http_code} %{time_total}' --max-time 30 -H "$header" "$url") || fail "$name: request failed"
    read -r code secs <<<"$out"
    [[ $code == 200 ]] || fail "$name: HTTP $code from $url (expected 200)"
    echo "$secs"
}
check_endpoint queue "$QUEUE_URL" "$QUEUE_HEADER" >/dev/null      # first requests open pool connections
check_endpoint api "$API_URL" "$API_HEADER" >/dev/null
queue_single=$(check_endpoint queue "$QUEUE_URL" "$QUEUE_HEADER")
api_single=$(check_endpoint api "$API_URL" "$API_HEADER")
# Totals are counted up to 1,001: the page says "More than 1,000" beyond, the API total_is_lower_bound.
if (( ACCOUNTS > 1000 )); then EXPECTED_TOTAL=1001; QUEUE_TEXT="More than 1,000 proposed offer"; else EXPECTED_TOTAL=$ACCOUNTS; QUEUE_TEXT="$ACCOUNTS proposed offer"; fi
grep -q "$QUEUE_TEXT" "$WORK/queue.body" || fail "queue: the page does not say '$QUEUE_TEXT(s)'"
api_check=$(python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(d["total"], len(d["offers"]))' "$WORK/api.body") \
    || fail "api: response is not the expected JSON"
[[ $api_check == "$EXPECTED_TOTAL 50" ]] || fail "api: expected total $EXPECTED_TOTAL and 50 offers, got '$api_check'"

# Server-side request counts per status for a route, from /metrics (wrk counts 3xx as success,
# so a lost session, answered with 303 to /login, would otherwise go unnoticed).
route_counts() {   # route -> "ok other"
    curl -s --max-time 10 "$BASE/metrics" | awk -v r="route=\"$1\"" '
        /^tierplan_http_requests_total\{/ && index($0, r) {
            if (index($0, "status=\"200\"")) ok += $NF; else other += $NF
        }
        END { printf "%d %d\n", ok, other }'
}

to_ms() {   # wrk durations: 512.00us 12.34ms 1.02s 1.50m
    awk -v t="$1" 'BEGIN {
        if (t ~ /us$/) { sub(/us$/, "", t); printf "%.2f", t / 1000 }
        else if (t ~ /ms$/) { sub(/ms$/, "", t); printf "%.2f", t }
        else if (t ~ /m$/) { sub(/m$/, "", t); printf "%.2f", t * 60000 }
        else if (t ~ /h$/) { sub(/h$/, "", t); printf "%.2f", t * 3600000 }
        else if (t ~ /s$/) { sub(/s$/, "", t); printf "%.2f", t * 1000 }
        else print "?" }'
}

# When wrk stops, the requests it had in flight are still queued in the server: wait until a
# /healthz (which queues behind them for a pool connection) is answered, so runs don't overlap.
drain() {
    curl -s -o /dev/null --max-time 60 "$BASE/healthz" || true
    sleep 1
}

# Runs wrk against one endpoint; sets R_* with the figures.
run_wrk() {   # name route url header
    local name=$1 route=$2 url=$3 header=$4 out before after m0 m1 s0 s1 p0 p1
    drain
    if (( WARMUP > 0 )); then
        note "$name: warm-up, $WARMUP s"
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" --timeout "${TIMEOUT}s" -H "$header" "$url" >/dev/null
        drain
    fi
    note "$name: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency $url"
    before=$(route_counts "$route")
    m0=$(machine_jiffies); s0=$(proc_jiffies "$SERVER_PID"); p0=$(proc_jiffies $(postgres_pids))
    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout "${TIMEOUT}s" --latency -H "$header" "$url") \
        || { echo "$out" >&2; fail "$name: wrk failed"; }
    m1=$(machine_jiffies); s1=$(proc_jiffies "$SERVER_PID"); p1=$(proc_jiffies $(postgres_pids))
    drain
    after=$(route_counts "$route")
    echo "$out" >"$WORK/wrk-$name.txt"
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/serve.log" >&2; fail "$name: tierplan serve died during the run"; }

    R_RPS=$(awk '/^Requests\/sec:/ { printf "%.1f", $2 }' <<<"$out")
    R_REQS=$(awk '/requests in/ { print $1 }' <<<"$out")
    R_P50=$(to_ms "$(awk '$1 == "50%" { print $2 }' <<<"$out")")
    R_P90=$(to_ms "$(awk '$1 == "90%" { print $2 }' <<<"$out")")
    R_P99=$(to_ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
    R_MAX=$(to_ms "$(awk '$1 == "Latency" && NF >= 4 { print $4; exit }' <<<"$out")")
    R_TIMEOUTS=$(awk '/Socket errors:/ { gsub(",", ""); print $NF }' <<<"$out"); R_TIMEOUTS=${R_TIMEOUTS:-0}
    R_SOCKERR=$(awk '/Socket errors:/ { gsub(",", ""); print $4 + $6 + $8 }' <<<"$out"); R_SOCKERR=${R_SOCKERR:-0}
    R_NON2XX=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' <<<"$out"); R_NON2XX=${R_NON2XX:-0}
    [[ -n $R_RPS && -n $R_REQS && $R_P99 != "?" && -n $R_P99 ]] || { echo "$out" >&2; fail "$name: could not read wrk's output"; }
    read -r b_ok b_other <<<"$before"; read -r a_ok a_other <<<"$after"
    R_OK=$(( a_ok - b_ok )); R_NOT200=$(( a_other - b_other ))
    R_CPU=$(awk -v a="${m0% *}" -v b="${m1% *}" -v ta="${m0#* }" -v tb="${m1#* }" 'BEGIN { printf "%.0f", (tb > ta ? 100 * (b - a) / (tb - ta) : 0) }')
    R_SRV_CPU=$(awk -v a="$s0" -v b="$s1" -v hz="$HZ" -v d="$DURATION" 'BEGIN { printf "%.2f", (b - a) / hz / d }')
    R_PG_CPU=$(awk -v a="$p0" -v b="$p1" -v hz="$HZ" -v d="$DURATION" 'BEGIN { printf "%.2f", (b - a) / hz / d }')
    R_MET=$(awk -v p="$R_P99" -v g="$GOAL_MS" -v t="$R_TIMEOUTS" -v e="$R_NOT200" 'BEGIN { print (p + 0 < g + 0 && t == 0 && e == 0 ? "met" : "not met") }')
}

run_wrk queue /queue "$QUEUE_URL" "$QUEUE_HEADER"
Q=("$R_RPS" "$R_REQS" "$R_P50" "$R_P90" "$R_P99" "$R_MAX" "$R_TIMEOUTS" "$R_SOCKERR" "$R_NOT200" "$R_CPU" "$R_SRV_CPU" "$R_PG_CPU" "$R_MET" "$R_OK")
run_wrk api /api/v1/offers "$API_URL" "$API_HEADER"
A=("$R_RPS" "$R_REQS" "$R_P50" "$R_P90" "$R_P99" "$R_MAX" "$R_TIMEOUTS" "$R_SOCKERR" "$R_NOT200" "$R_CPU" "$R_SRV_CPU" "$R_PG_CPU" "$R_MET" "$R_OK")

# After the load: the session still works (the figures were of the real page).
[[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 30 -H "$QUEUE_HEADER" "$QUEUE_URL") == 200 ]] \
    || fail "queue: the session no longer gives 200 after the run"

# For reference: the queries behind both endpoints, alone (server idle), from EXPLAIN ANALYZE.
explain_ms() { sql -c "EXPLAIN (ANALYZE, FORMAT JSON) $1" | python3 -c 'import json, sys; print("%.1f" % json.load(sys.stdin)[0]["Execution Time"])'; }
count_ms=$(explain_ms "SELECT count(*) FROM offers o JOIN accounts a USING (account_id) WHERE o.status = 'proposed'")
page_ms=$(explain_ms "SELECT o.offer_id::text, o.account_id, o.kind, o.rank, o.from_tier, o.to_tier, o.add_items::text,
                             o.remove_items::text, o.current_mrr, o.new_mrr, o.delta_mrr, o.one_time, o.acceptance_probability,
                             o.expected_delta_mrr, o.reasons, o.rationale, o.status, o.as_of::text, o.snoozed_until::text, o.version
                      FROM offers o JOIN accounts a USING (account_id) WHERE o.status = 'proposed'
                      ORDER BY o.expected_delta_mrr DESC, o.account_id, o.rank, o.offer_id LIMIT 50 OFFSET 0")
facets_ms=$(awk -v a="$(explain_ms "SELECT DISTINCT owner FROM accounts WHERE owner <> '' ORDER BY 1")" \
                -v b="$(explain_ms "SELECT DISTINCT segment FROM accounts WHERE segment <> '' ORDER BY 1")" 'BEGIN { printf "%.1f", a + b }')

load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
pg_version=$(sql -c "SHOW server_version")
pg_settings=$(sql -c "SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ' ' ORDER BY name) FROM pg_settings
                      WHERE name IN ('shared_buffers', 'work_mem', 'fsync', 'synchronous_commit', 'max_parallel_workers_per_gather')")
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null || true)
cores=$(nproc)

ms() { awk -v s="$1" 'BEGIN { printf "%.1f", s * 1000 }'; }
echo
echo "tierplan serve benchmark: $n_accounts accounts, $n_proposed proposed offers; tierplan serve --pool $POOL on $HOST:$PORT"
echo "load: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency (after a ${WARMUP} s warm-up), one endpoint at a time"
echo "machine: nproc=$cores, ${cpu:-unknown CPU}, ${mem:-? GiB}; PostgreSQL $pg_version ($pg_settings)"
echo "note: tierplan serve, PostgreSQL and wrk itself share these $cores cores, so the figures are a lower bound for a"
echo "      server with its own cores; load average (1/5/15 min) before: $load_before, after: $load_after"
echo
fmt='%-40s %9s %8s %8s %8s %9s %9s %9s %8s\n'
printf "$fmt" endpoint requests "req/s" "p50 ms" "p90 ms" "p99 ms" "max ms" "errors" "p99 goal"
printf "$fmt" ---------------------------------------- --------- -------- -------- -------- --------- --------- --------- --------
row() {   # label rps requests p50 p90 p99 max timeouts socket-errors non-200 … met
    printf "$fmt" "$1" "$3" "$2" "$4" "$5" "$6" "$7" "$(( $8 + $9 + ${10} ))" "${14}"
}
row "/queue (session cookie)" "${Q[@]}"
row "/api/v1/offers?status=proposed&limit=50" "${A[@]}"
echo
echo "errors = wrk timeouts (> ${TIMEOUT} s, left out of wrk's percentiles) + socket errors + responses other than 200"
echo "(counted by the server's /metrics, which also counts the requests still in flight when wrk stopped)"
printf '%-40s %s\n' "  /queue:" "timeouts ${Q[6]}, socket errors ${Q[7]}, non-200 ${Q[8]}; 200 responses ${Q[13]}"
printf '%-40s %s\n' "  /api/v1/offers:" "timeouts ${A[6]}, socket errors ${A[7]}, non-200 ${A[8]}; 200 responses ${A[13]}"
echo
echo "CPU during each run (machine busy %; CPU-seconds per second of tierplan serve and of all PostgreSQL processes, of $cores):"
printf '%-40s %s\n' "  /queue:" "machine ${Q[9]} % busy; tierplan serve ${Q[10]}, PostgreSQL ${Q[11]}"
printf '%-40s %s\n' "  /api/v1/offers:" "machine ${A[9]} % busy; tierplan serve ${A[10]}, PostgreSQL ${A[11]}"
echo
echo "one request alone, before the load: /queue $(ms "$queue_single") ms, /api/v1/offers $(ms "$api_single") ms"
echo "their queries alone (EXPLAIN ANALYZE, server idle): total count(*) of proposed offers ⋈ accounts ${count_ms} ms,"
echo "  page of 50 ${page_ms} ms, queue's owner+segment facets (SELECT DISTINCT over accounts) ${facets_ms} ms"
echo
echo "goal p99 < ${GOAL_MS} ms under ${CONNECTIONS} clients: /queue ${Q[12]} (p99 ${Q[4]} ms), /api/v1/offers ${A[12]} (p99 ${A[4]} ms)"
