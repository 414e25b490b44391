#!/usr/bin/env bash
# make demo: load the example catalog, accounts and usage into the embedded cluster and say what is there.
set -euo pipefail
BIN=${1:-.build/debug/tierplan}
cd "$(dirname "$0")/.."
"$BIN" db up >/dev/null
echo "== catalog";  "$BIN" catalog load examples/catalog.yaml
echo "== accounts"; "$BIN" accounts import examples/accounts.csv --effective 2026-10-01
echo "== usage";    "$BIN" usage ingest examples/usage.ndjson
echo
echo "The embedded cluster: $("$BIN" db url)"
echo "Look inside:  psql \"$("$BIN" db url)\""
