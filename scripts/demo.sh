#!/usr/bin/env bash
# make demo: load the example catalog, accounts and usage into the embedded cluster, run the
# nightly job on them and show what it found. Safe to run again: every step is idempotent.
set -euo pipefail
BIN=${1:-.build/debug/tierplan}
cd "$(dirname "$0")/.."
AS_OF=${AS_OF:-2026-11-01}
"$BIN" db up >/dev/null
echo "== catalog";  "$BIN" catalog load examples/catalog.yaml
echo "== accounts"; "$BIN" accounts import examples/accounts.csv
echo "== usage";    "$BIN" usage ingest examples/usage.ndjson
echo; echo "== signals as of $AS_OF"; "$BIN" signals --as-of "$AS_OF"
echo; echo "== the nightly job";      "$BIN" run --as-of "$AS_OF"
echo; echo "== the review queue";     "$BIN" offers list --status proposed
echo; echo "== ARPU forecast";        "$BIN" forecast --as-of "$AS_OF" --months 6
echo
echo "The embedded cluster: $("$BIN" db url)"
echo "Look inside with:     psql \"$("$BIN" db url)\""
