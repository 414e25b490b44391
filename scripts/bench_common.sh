# Sourced by the benchmark scripts: messages, timing, and the throwaway cluster's cleanup.
# The script sets BENCH_NAME (its name in messages), BIN, TIERPLAN_HOME, BENCH_SCRATCH (its folders
# besides TIERPLAN_HOME) and, optionally, BENCH_KEPT (what BENCH_KEEP=1 keeps, said when it exits).

note() { echo "$BENCH_NAME: $*" >&2; }
fail() { echo "$BENCH_NAME: $*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }'; }

# The EXIT trap: stops and deletes the cluster and the scratch folders, or with BENCH_KEEP=1 says
# where they are. A background heartbeat (HEARTBEAT_PID) is stopped first.
bench_cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    [[ -z ${HEARTBEAT_PID:-} ]] || kill "$HEARTBEAT_PID" 2>/dev/null || true
    if [[ ${BENCH_KEEP:-} == 1 ]]; then
        echo "$BENCH_NAME: kept TIERPLAN_HOME=$TIERPLAN_HOME${BENCH_KEPT:+ ($BENCH_KEPT)} and $BENCH_SCRATCH" >&2
    else
        "$BIN" db down --destroy >/dev/null 2>&1 || echo "$BENCH_NAME: warning: db down --destroy failed for $TIERPLAN_HOME" >&2
        # shellcheck disable=SC2086  # a list of folders made by mktemp, without spaces
        rm -rf "$TIERPLAN_HOME" $BENCH_SCRATCH
    fi
    exit "$rc"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
