#!/usr/bin/env bash
# make test: every test (XCTest), then the runners that drive `tierplan serve` from outside
# (Tests/browser/run.sh: the review page in Chromium; Tests/api/run.sh: openapi-spec-validator and
# Schemathesis), then one plain closing line "N passed, N failed" counting all. Arguments go to `swift test`.
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

# The runners that drive `tierplan serve` from outside: each ends with "NAME: N passed, N failed".
# Tests/browser: the review page in Chromium; Tests/api: openapi-spec-validator and Schemathesis.
xpassed=0 xfailed=0 xstatus=0
for runner in browser api; do
  ./Tests/$runner/run.sh "${TIERPLAN_BIN:-.build/debug/tierplan}" 2>&1 | tee "$blog"
  rstatus=${PIPESTATUS[0]}
  rsummary=$(grep -E "^$runner: [0-9]+ passed, [0-9]+ failed" "$blog" | tail -1)
  if [ -n "$rsummary" ]; then
    rpassed=$(echo "$rsummary" | sed -E "s/^$runner: ([0-9]+) passed.*/\\1/")
    rfailed=$(echo "$rsummary" | sed -E "s/^$runner: [0-9]+ passed, ([0-9]+) failed.*/\\1/")
  else
    echo "no $runner test summary found"
    rpassed=0 rfailed=1
  fi
  if [ "$rstatus" -ne 0 ] && [ "$rfailed" -eq 0 ]; then rfailed=1; fi
  xpassed=$((xpassed + rpassed)) xfailed=$((xfailed + rfailed))
  [ "$rstatus" -ne 0 ] && xstatus=$rstatus
done

echo "$((passed + xpassed)) passed, $((failed + xfailed)) failed"
if [ "$status" -ne 0 ]; then exit "$status"; fi
exit "$xstatus"
