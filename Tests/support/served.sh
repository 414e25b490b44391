# Sourced by the test runners that drive a real `tierplan serve` from outside (Tests/browser/run.sh,
# Tests/api/run.sh): a throwaway cluster with the example data, the server on a free port with a fixed
# clock, Python with the packages the runner needs, and a cleanup that always stops both.
#
# The runner sets NAME (its summary line is "NAME: N passed, N failed") and calls, in order:
#   served_init "$@"                 → root, bin (first argument or TIERPLAN_BIN), out=.build/NAME
#   served_python 'import x, y' PIP_SPEC...   → py (installs what is missing)
#   served_cluster                   → home; the examples loaded and `run --as-of 2026-11-01` done
#   served_server                    → port, server_pid (TIERPLAN_NOW fixed)
# and `step ARGS…` runs a tierplan command quietly unless it fails.

served_init() {
  caller_dir=$PWD
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  cd "$root" || exit 2
  bin=${TIERPLAN_BIN:-.build/debug/tierplan}
  served_args=("$@")
  if [ $# -gt 0 ] && [[ "$1" != -* ]]; then
    bin=$1
    served_args=("${@:2}")
    case "$bin" in /*) ;; *) [ -e "$caller_dir/$bin" ] && bin="$caller_dir/$bin" ;; esac
  fi
  case "$bin" in /*) ;; *) bin="$root/$bin" ;; esac
  out="$root/.build/$NAME"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  mkdir -p "$out"
  home="" server_pid="" test_pid=""
  trap served_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  [ -x "$bin" ] || fail_setup "no tierplan binary at $bin (build it: swift build)"
}

say() { echo "$NAME-test: $*"; }

# Setup failures: report one failed test and stop (the EXIT trap cleans up).
fail_setup() {
  say "$*" >&2
  echo "$NAME: 0 passed, 1 failed"
  exit 2
}

apt_install() {
  say "installing Debian packages: $*"
  $SUDO apt-get update -qq &&
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

# served_python 'import a, b' 'a>=1' 'b>=2': an interpreter that imports them, in this order of
# preference: PYTHON (python3) as it is; a venv made before under .build/NAME-venv; PYTHON after pip
# (into site-packages as root or in a venv, --user otherwise); a new venv under .build/.
served_python() {
  local imports=$1
  shift
  local specs=("$@") venv="$root/.build/$NAME-venv"
  PYTHON=${PYTHON:-python3}
  has_modules() { "$1" -c "$imports" >/dev/null 2>&1; }
  pip_install() { local p=$1; shift; "$p" -m pip install -q --disable-pip-version-check "$@" "${specs[@]}"; }
  if ! command -v "$PYTHON" >/dev/null 2>&1; then
    apt_install python3 || fail_setup "could not install python3"
  fi
  if has_modules "$PYTHON"; then py=$PYTHON; return; fi
  if [ -x "$venv/bin/python" ] && has_modules "$venv/bin/python"; then py="$venv/bin/python"; return; fi
  py=""
  if "$PYTHON" -m pip --version >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] || "$PYTHON" -c 'import sys; sys.exit(sys.prefix == sys.base_prefix)'; then
      say "pip install ${specs[*]}"
      pip_install "$PYTHON" 2>"$out/pip.log" && has_modules "$PYTHON" && py=$PYTHON
    else
      say "pip install --user ${specs[*]}"
      pip_install "$PYTHON" --user 2>"$out/pip.log" && has_modules "$PYTHON" && py=$PYTHON
    fi
    [ -n "$py" ] && return
    say "pip refused ($(grep -m1 -o -i -E 'externally-managed-environment|error: .*' "$out/pip.log" | head -c 120))"
  fi
  say "making a venv at ${venv#"$root"/}"
  rm -rf "$venv"
  if ! "$PYTHON" -m venv "$venv" >/dev/null 2>&1; then
    rm -rf "$venv"
    apt_install python3-venv || fail_setup "could not install python3-venv"
    "$PYTHON" -m venv "$venv" || fail_setup "could not make a venv at $venv"
  fi
  pip_install "$venv/bin/python" && has_modules "$venv/bin/python" || fail_setup "could not install ${specs[*]} into $venv"
  py="$venv/bin/python"
}

served_cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ -n "$test_pid" ] && kill -0 "$test_pid" 2>/dev/null; then
    kill "$test_pid" 2>/dev/null  # timeout passes it on to the test
    wait "$test_pid" 2>/dev/null
  fi
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
  fi
  if [ -n "$home" ] && [ -d "$home" ]; then
    "$bin" db down --destroy >/dev/null 2>&1 || say "tierplan db down --destroy failed" >&2
    rm -rf "$home"
  fi
  exit "$status"
}

step() {  # runs a tierplan command, quietly unless it fails
  local log="$out/setup.log"
  echo "+ tierplan $*" >>"$log"
  "$bin" "$@" >>"$log" 2>&1 || { tail -20 "$log" >&2; fail_setup "tierplan $* failed"; }
}

served_cluster() {
  unset DATABASE_URL
  for var in $(compgen -e | grep '^PG'); do unset "$var"; done
  home=$(mktemp -d "/tmp/tp$NAME.XXXX") || fail_setup "mktemp failed"
  export TIERPLAN_HOME=$home
  : >"$out/setup.log"
  say "cluster at $home"
  step db up
  step catalog load examples/catalog.yaml
  step accounts import examples/accounts.csv
  step usage ingest examples/usage.ndjson
  step run --as-of 2026-11-01
}

served_server() {
  # Decisions made through the server are dated by tierplan's one clock: fixed, so the tests read the
  # same day's figures whatever the date.
  export TIERPLAN_NOW=2026-11-03T10:00:00Z
  free_port() {
    "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
  }
  healthy() {
    "$py" - "$1" <<'PY' >/dev/null 2>&1
import sys, urllib.request
with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=2) as r:
    sys.exit(0 if r.status == 200 else 1)
PY
  }
  port=""
  local candidate attempt
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
}
