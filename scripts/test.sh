#!/usr/bin/env bash
# make test: every test (XCTest), then the review page in a real browser
# (Tests/browser/run.sh), then one plain closing line "N passed, N failed"
# counting both. Arguments go to `swift test`.
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
blog=$(mktemp)
trap 'rm -f "$log" "$blog"' EXIT

swift test --disable-swift-testing "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
summary=$(grep -E "^[[:space:]]*Executed [0-9]+ tests?, with [0-9]+ failures?" "$log" | tail -1)
if [ -z "$summary" ]; then
  echo "no test summary found (build failure?)"
  passed=0 failed=1
  status=$(( status == 0 ? 1 : status ))
else
  total=$(echo "$summary" | sed -E 's/.*Executed ([0-9]+) tests?.*/\1/')
  failed=$(echo "$summary" | sed -E 's/.*with ([0-9]+) failures?.*/\1/')
  passed=$((total - failed))
fi

# The browser test: its last line is "browser: N passed, N failed".
./Tests/browser/run.sh "${TIERPLAN_BIN:-.build/debug/tierplan}" 2>&1 | tee "$blog"
bstatus=${PIPESTATUS[0]}
bsummary=$(grep -E "^browser: [0-9]+ passed, [0-9]+ failed" "$blog" | tail -1)
if [ -n "$bsummary" ]; then
  bpassed=$(echo "$bsummary" | sed -E 's/^browser: ([0-9]+) passed.*/\1/')
  bfailed=$(echo "$bsummary" | sed -E 's/^browser: [0-9]+ passed, ([0-9]+) failed.*/\1/')
else
  echo "no browser test summary found"
  bpassed=0 bfailed=1
fi
if [ "$bstatus" -ne 0 ] && [ "$bfailed" -eq 0 ]; then bfailed=1; fi

echo "$((passed + bpassed)) passed, $((failed + bfailed)) failed"
if [ "$status" -ne 0 ]; then exit "$status"; fi
exit "$bstatus"
