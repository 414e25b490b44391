#!/usr/bin/env bash
# The JSON API against its own OpenAPI document, with tools nobody here wrote: the served
# /api/openapi.yaml must pass openapi-spec-validator, and Schemathesis (fixed seed, every check,
# examples, coverage, fuzzing and stateful phases, bounded in examples and time) must find nothing
# with a token of each role, against `tierplan serve` on a throwaway cluster with the example data
# (Tests/support/served.sh).
#
#   Tests/api/run.sh [TIERPLAN_BIN]       ST_MAX_EXAMPLES (25), ST_MAX_SECONDS (45 per role), ST_SEED (20261202)
#
# Installs PyPI's schemathesis and openapi-spec-validator when missing. Reports go to .build/api/.
# The last line printed is "api: N passed, N failed" (the validator and one Schemathesis run per role).
set -uo pipefail
NAME=api
source "$(dirname "$0")/../support/served.sh"
served_init "$@"

served_python 'import schemathesis, openapi_spec_validator' 'schemathesis>=4.3,<5' 'openapi-spec-validator>=0.7'
served_cluster
for role in viewer reviewer admin; do
  "$bin" tokens create --role "$role" --name "schemathesis-$role" 2>>"$out/setup.log" | grep '^tp_' >"$out/token-$role" ||
    fail_setup "could not create a $role token"
done
served_server

passed=0 failed=0
check() {  # name, command...: runs it, counts it, keeps its output
  local name=$1
  shift
  if "$@" >"$out/$name.log" 2>&1; then
    passed=$((passed + 1)); say "$name: ok"
  else
    failed=$((failed + 1)); say "$name: FAILED"; tail -40 "$out/$name.log"
  fi
}

url="http://127.0.0.1:$port"
check openapi-spec-validator "$py" - "$url/api/openapi.yaml" <<'PY'
import sys, urllib.request, yaml
from openapi_spec_validator import validate
with urllib.request.urlopen(sys.argv[1], timeout=10) as r:
    validate(yaml.safe_load(r.read()))
print("valid OpenAPI", sys.argv[1])
PY

st=$(dirname "$py")/st
[ -x "$st" ] || st="$py -m schemathesis.cli"
for role in viewer reviewer admin; do
  # timeout: a last resort above Schemathesis' own --max-time.
  check "schemathesis-$role" timeout 600 $st --config-file Tests/api/schemathesis.toml run "$url/api/openapi.yaml" --url "$url" \
    -H "Authorization: Bearer $(cat "$out/token-$role")" --seed "${ST_SEED:-20261202}" --checks all \
    --max-examples "${ST_MAX_EXAMPLES:-25}" --max-time "${ST_MAX_SECONDS:-45}" --phases examples,coverage,fuzzing,stateful \
    --report junit --report-dir "$out/report-$role" --no-color
done
echo "api: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
