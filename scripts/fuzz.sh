#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer) of tierplan's three input parsers: usage lines, catalog
# YAML, accounts CSV. Builds the package in Fuzz/tierplan-fuzz into .build-fuzz/, then runs each
# target for FUZZ_SECONDS seconds, one after the other, on its corpus Fuzz/corpus/<target>/ plus
# the hand-made seeds in Fuzz/seeds/<target>/. New inputs go to .build-fuzz/corpus/<target>/;
# `FUZZ_MERGE=1` then minimises all of them into Fuzz/corpus/<target>/ (-merge=1). Crashes, hangs
# and out-of-memory inputs go to .build-fuzz/crashes/. Exits non-zero when any target found one.
#
#   scripts/fuzz.sh                 # all three, 600 s each
#   FUZZ_SECONDS=60 scripts/fuzz.sh usage
#   scripts/fuzz.sh --build-only
#   .build-fuzz/debug/FuzzUsage .build-fuzz/crashes/usage-crash-…   # replay one input
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SWIFT=${SWIFT:-swift}
FUZZ_SECONDS=${FUZZ_SECONDS:-600}
FUZZ_MERGE=${FUZZ_MERGE:-0}
FUZZ_ARGS=${FUZZ_ARGS:-}
BUILD=$ROOT/.build-fuzz
CRASHES=$BUILD/crashes

# libFuzzer without its main(): SwiftPM gives each executable its own entry point, and each
# target's @main calls LLVMFuzzerRunDriver (see Fuzz/tierplan-fuzz/Package.swift).
RT=$(dirname "$(readlink -f "$(command -v "$SWIFT")")")/../lib/clang
NO_MAIN=$(ls "$RT"/*/lib/linux/libclang_rt.fuzzer_no_main-x86_64.a 2>/dev/null | head -n1 || true)
[ -n "$NO_MAIN" ] || { echo "fuzz: libclang_rt.fuzzer_no_main not found under $RT" >&2; exit 2; }

build() {
    # Swift code gets coverage instrumentation from the frontend flag alone (the driver's
    # -sanitize=fuzzer would also link libFuzzer's main); C code (libyaml in Yams) from clang's.
    nice -n 19 "$SWIFT" build --package-path Fuzz/tierplan-fuzz --build-path "$BUILD" \
        -Xswiftc -Xfrontend -Xswiftc -sanitize=fuzzer \
        -Xcc -fsanitize=fuzzer-no-link \
        -Xlinker "$NO_MAIN" -Xlinker -lstdc++ -Xlinker -lm
}

declare -A TARGET=([usage]=FuzzUsage [catalog]=FuzzCatalog [accounts]=FuzzAccounts)
declare -A MAXLEN=([usage]=4096 [catalog]=8192 [accounts]=8192)

if [ "${1:-}" = "--build-only" ]; then build; exit 0; fi
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(usage catalog accounts)
for name in "${names[@]}"; do
    [ -n "${TARGET[$name]:-}" ] || { echo "fuzz: unknown target $name (usage, catalog, accounts)" >&2; exit 2; }
done

build
mkdir -p "$CRASHES"
failed=0
for name in "${names[@]}"; do
    bin=$BUILD/debug/${TARGET[$name]}
    corpus=$ROOT/Fuzz/corpus/$name
    seeds=$ROOT/Fuzz/seeds/$name
    work=$BUILD/corpus/$name
    mkdir -p "$corpus" "$work"
    echo "== fuzz $name: ${FUZZ_SECONDS}s, corpus $corpus ($(ls "$corpus" | wc -l) inputs), seeds $seeds, scratch $work"
    # New inputs go to a scratch corpus first (the committed one is only changed by a merge).
    # The Swift runtime's backtracer is off so that libFuzzer's handler writes the crash input.
    set +e
    SWIFT_BACKTRACE=enable=no nice -n 19 "$bin" "$work" "$corpus" "$seeds" \
        -max_total_time="$FUZZ_SECONDS" -max_len="${MAXLEN[$name]}" -timeout=10 -rss_limit_mb=2048 \
        -dict="$ROOT/Fuzz/dict/$name.dict" -print_final_stats=1 -artifact_prefix="$CRASHES/$name-" $FUZZ_ARGS 2>&1 | tee "$BUILD/$name.log" | grep -E "^#[0-9]+ +(INITED|DONE|pulse)|^(stat::|==|SUMMARY|artifact_prefix)|Test unit written"
    status=${PIPESTATUS[0]}
    set -e
    if [ "$status" != 0 ]; then echo "fuzz $name: FAILED (status $status), see $BUILD/$name.log and $CRASHES/" >&2; failed=1; continue; fi
    if [ "$FUZZ_MERGE" = 1 ]; then
        merged=$BUILD/merged/$name
        rm -rf "$merged"; mkdir -p "$merged"
        SWIFT_BACKTRACE=enable=no nice -n 19 "$bin" -merge=1 -max_len="${MAXLEN[$name]}" "$merged" "$corpus" "$seeds" "$work" 2>&1 | grep -E "MERGE-OUTER: [0-9]+ new files" || true
        rm -rf "$corpus"; mv "$merged" "$corpus"
        echo "fuzz $name: corpus minimised to $(ls "$corpus" | wc -l) inputs, $(du -sb "$corpus" | cut -f1) bytes"
    fi
done
exit $failed
