#!/usr/bin/env bash
# The review page in a real browser (headless Chromium + Selenium), against a
# throwaway PostgreSQL cluster and `tierplan serve` that this script starts and
# always stops (Tests/support/served.sh).
#
#   Tests/browser/run.sh [TIERPLAN_BIN] [pytest arguments...]
#
# TIERPLAN_BIN (argument or environment; default .build/debug/tierplan) is the
# tierplan binary to serve. Installs what is missing: Debian's chromium and
# chromium-driver (apt-get as root, through sudo otherwise), PyPI's selenium
# and pytest (pip, --user when not root, else a venv under .build/). Screenshots
# go to .build/screenshots/, the server's and the driver's logs to .build/browser/.
# The last line printed is "browser: N passed, N failed"; the exit status is
# pytest's (non-zero when the setup itself failed).
set -uo pipefail
NAME=browser
source "$(dirname "$0")/../support/served.sh"
served_init "$@"
set -- "${served_args[@]+"${served_args[@]}"}"

shots="$root/.build/screenshots"
report="$out/report.xml"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}
mkdir -p "$shots"

# --- the browser and its driver (Debian's, matching each other) -------------
if [ ! -x "$CHROMIUM" ] || [ ! -x "$CHROMEDRIVER" ]; then
  apt_install chromium chromium-driver || fail_setup "could not install chromium and chromium-driver"
fi
[ -x "$CHROMIUM" ] || fail_setup "no browser at $CHROMIUM"
[ -x "$CHROMEDRIVER" ] || fail_setup "no driver at $CHROMEDRIVER"

served_python 'import selenium, pytest' 'selenium>=4.11' 'pytest>=7'
rm -f "$shots"/*.png "$report"
served_cluster
password=browser-pass-1
step users add rita --role reviewer <<<"$password"  # password on stdin
admin_password=browser-admin-1
step users add alma --role admin <<<"$admin_password"  # the what-if page needs an admin
served_server

# --- the test -------------------------------------------------------------------
# SE_OFFLINE: Selenium Manager must never fetch anything (the test gives explicit paths anyway).
TIERPLAN_URL="http://127.0.0.1:$port" TIERPLAN_USER=rita TIERPLAN_PASSWORD=$password \
  TIERPLAN_ADMIN=alma TIERPLAN_ADMIN_PASSWORD=$admin_password \
  SCREENSHOT_DIR="$shots" CHROMEDRIVER_LOG="$out/chromedriver.log" CHROMIUM="$CHROMIUM" CHROMEDRIVER="$CHROMEDRIVER" \
  SE_OFFLINE=true PYTHONDONTWRITEBYTECODE=1 \
  timeout 900 "$py" -m pytest -p no:cacheprovider -v --junitxml="$report" Tests/browser "$@" &
test_pid=$!  # in the background so that INT/TERM reach the trap at once
wait "$test_pid"
status=$?
test_pid=""

counts=$("$py" - "$report" <<'PY' 2>/dev/null
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
total = failed = skipped = 0
for s in suites:
    total += int(s.get("tests", 0))
    failed += int(s.get("failures", 0)) + int(s.get("errors", 0))
    skipped += int(s.get("skipped", 0))
print(total - failed - skipped, failed, skipped)
PY
) || counts="0 0 0"
read -r passed failed skipped <<<"$counts"
[ "$status" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
say "screenshots in ${shots#"$root"/}/: $(cd "$shots" && ls *.png 2>/dev/null | tr '\n' ' ')"
if [ "$skipped" -gt 0 ]; then
  echo "browser: $passed passed, $failed failed, $skipped skipped"
else
  echo "browser: $passed passed, $failed failed"
fi
exit "$status"
