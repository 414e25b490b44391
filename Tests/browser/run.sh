#!/usr/bin/env bash
# The review page in a real browser (headless Chromium + Selenium), against a
# throwaway PostgreSQL cluster and `tierplan serve` that this script starts and
# always stops.
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

caller_dir=$PWD
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

bin=${TIERPLAN_BIN:-.build/debug/tierplan}
if [ $# -gt 0 ] && [[ "$1" != -* ]]; then
  bin=$1
  shift
  case "$bin" in /*) ;; *) [ -e "$caller_dir/$bin" ] && bin="$caller_dir/$bin" ;; esac
fi
case "$bin" in /*) ;; *) bin="$root/$bin" ;; esac

out="$root/.build/browser"
shots="$root/.build/screenshots"
report="$out/report.xml"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo

mkdir -p "$out" "$shots"

say() { echo "browser-test: $*"; }

# Setup failures: report one failed test and stop (the EXIT trap cleans up).
fail_setup() {
  say "$*" >&2
  echo "browser: 0 passed, 1 failed"
  exit 2
}

apt_install() {
  say "installing Debian packages: $*"
  $SUDO apt-get update -qq &&
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

[ -x "$bin" ] || fail_setup "no tierplan binary at $bin (build it: swift build)"

# --- the browser and its driver (Debian's, matching each other) -------------
if [ ! -x "$CHROMIUM" ] || [ ! -x "$CHROMEDRIVER" ]; then
  apt_install chromium chromium-driver || fail_setup "could not install chromium and chromium-driver"
fi
[ -x "$CHROMIUM" ] || fail_setup "no browser at $CHROMIUM"
[ -x "$CHROMEDRIVER" ] || fail_setup "no driver at $CHROMEDRIVER"

# --- Python with selenium and pytest ----------------------------------------
PYTHON=${PYTHON:-python3}
venv="$root/.build/browser-venv"
has_modules() { "$1" -c 'import selenium, pytest' >/dev/null 2>&1; }
pip_install() {  # interpreter, extra pip options...
  local py=$1
  shift
  "$py" -m pip install -q --disable-pip-version-check "$@" 'selenium>=4.11' 'pytest>=7'
}

if ! command -v "$PYTHON" >/dev/null 2>&1; then
  apt_install python3 || fail_setup "could not install python3"
fi
if has_modules "$PYTHON"; then
  py=$PYTHON
elif [ -x "$venv/bin/python" ] && has_modules "$venv/bin/python"; then
  py="$venv/bin/python"
else
  py=""
  # Straight into the interpreter's site-packages when root or inside a venv,
  # into the user's site-packages otherwise; a system pip may refuse both
  # (PEP 668, no pip), and then a venv under .build/ does it.
  if "$PYTHON" -m pip --version >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] || "$PYTHON" -c 'import sys; sys.exit(sys.prefix == sys.base_prefix)'; then
      say "pip install selenium pytest"
      pip_install "$PYTHON" 2>"$out/pip.log" && has_modules "$PYTHON" && py=$PYTHON
    else
      say "pip install --user selenium pytest"
      pip_install "$PYTHON" --user 2>"$out/pip.log" && has_modules "$PYTHON" && py=$PYTHON
    fi
    [ -n "$py" ] || say "pip refused ($(grep -m1 -o -i -E 'externally-managed-environment|error: .*' "$out/pip.log" | head -c 120))"
  fi
  if [ -z "$py" ]; then
    say "making a venv at ${venv#"$root"/}"
    rm -rf "$venv"
    if ! "$PYTHON" -m venv "$venv" >/dev/null 2>&1; then
      rm -rf "$venv"
      apt_install python3-venv || fail_setup "could not install python3-venv"
      "$PYTHON" -m venv "$venv" || fail_setup "could not make a venv at $venv"
    fi
    pip_install "$venv/bin/python" && has_modules "$venv/bin/python" ||
      fail_setup "could not install selenium and pytest into $venv"
    py="$venv/bin/python"
  fi
fi

# --- a throwaway cluster with the example data ------------------------------
unset DATABASE_URL
for var in $(compgen -e | grep '^PG'); do unset "$var"; done

rm -f "$shots"/*.png "$report"
home=$(mktemp -d /tmp/tpbrowser.XXXX) || fail_setup "mktemp failed"
export TIERPLAN_HOME=$home
server_pid=""
test_pid=""

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ -n "$test_pid" ] && kill -0 "$test_pid" 2>/dev/null; then
    kill "$test_pid" 2>/dev/null  # timeout passes it on to pytest
    wait "$test_pid" 2>/dev/null
  fi
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
  fi
  if [ -d "$home" ]; then
    "$bin" db down --destroy >/dev/null 2>&1 || say "tierplan db down --destroy failed" >&2
    rm -rf "$home"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step() {  # runs a tierplan command, quietly unless it fails
  local log="$out/setup.log"
  echo "+ tierplan $*" >>"$log"
  "$bin" "$@" >>"$log" 2>&1 || { tail -20 "$log" >&2; fail_setup "tierplan $* failed"; }
}
: >"$out/setup.log"
say "cluster at $home"
step db up
step catalog load examples/catalog.yaml
step accounts import examples/accounts.csv
step usage ingest examples/usage.ndjson
step run --as-of 2026-11-01
password=browser-pass-1
step users add rita --role reviewer <<<"$password"  # password on stdin

# --- the server on a free port -----------------------------------------------
# Decisions made on the page are dated by tierplan's one clock: fixed, so the tests read the same day's figures whatever the date.
export TIERPLAN_NOW=2026-11-03T10:00:00Z
free_port() {
  "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
healthy() {
  "$py" - "$1" <<'EOF' >/dev/null 2>&1
import sys, urllib.request
with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=2) as r:
    sys.exit(0 if r.status == 200 else 1)
EOF
}
port=""
for attempt in 1 2 3; do
  candidate=$(free_port) || fail_setup "could not find a free port"
  "$bin" serve --host 127.0.0.1 --port "$candidate" >"$out/serve.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 300); do  # up to 30 s
    if healthy "$candidate"; then port=$candidate; break; fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$port" ] && break
  kill "$server_pid" 2>/dev/null
  wait "$server_pid" 2>/dev/null
  server_pid=""
  say "server did not come up on port $candidate (attempt $attempt):" >&2
  tail -5 "$out/serve.log" >&2
done
[ -n "$port" ] || fail_setup "tierplan serve did not answer /healthz"
say "serving on http://127.0.0.1:$port"

# --- the test -------------------------------------------------------------------
# SE_OFFLINE: Selenium Manager must never fetch anything (the test gives explicit paths anyway).
TIERPLAN_URL="http://127.0.0.1:$port" TIERPLAN_USER=rita TIERPLAN_PASSWORD=$password \
  SCREENSHOT_DIR="$shots" CHROMEDRIVER_LOG="$out/chromedriver.log" CHROMIUM="$CHROMIUM" CHROMEDRIVER="$CHROMEDRIVER" \
  SE_OFFLINE=true PYTHONDONTWRITEBYTECODE=1 \
  timeout 900 "$py" -m pytest -p no:cacheprovider -v --junitxml="$report" Tests/browser "$@" &
test_pid=$!  # in the background so that INT/TERM reach the trap at once
wait "$test_pid"
status=$?
test_pid=""

counts=$("$py" - "$report" <<'EOF' 2>/dev/null
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
EOF
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
