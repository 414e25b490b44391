#!/usr/bin/env bash
# make bench, forecast part: `tierplan forecast` over 100,000 open offers (goal: under 1 second),
# on a throwaway embedded cluster. Prints the figures; exits 0 whether the goal is met or not.
set -euo pipefail
BIN=${1:?usage: scripts/bench_forecast.sh path/to/tierplan}
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
cd "$(dirname "$0")/.."
OFFERS=${BENCH_OFFERS:-100000}
unset DATABASE_URL PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGSERVICE PGPASSWORD PGOPTIONS
TIERPLAN_HOME=$(mktemp -d /tmp/tpfc.XXXXXX); export TIERPLAN_HOME
trap '"$BIN" db down --destroy >/dev/null 2>&1 || true; rm -rf "$TIERPLAN_HOME"' EXIT
"$BIN" db up >/dev/null 2>&1
URL=$("$BIN" db url)
"$BIN" catalog load examples/catalog.yaml >/dev/null
psql -q -v ON_ERROR_STOP=1 "$URL" -v n="$OFFERS" >/dev/null <<'SQL'
INSERT INTO accounts (account_id, name, tier_code, status, created_at, segment, owner, mrr)
SELECT 'a' || g, 'Account ' || g, (ARRAY['starter','team','business','enterprise'])[1 + g % 4],
       CASE WHEN g % 50 = 0 THEN 'canceled' WHEN g % 20 = 0 THEN 'past_due' ELSE 'active' END,
       TIMESTAMPTZ '2026-11-01 00:00Z' - (g % 700) * interval '1 day', 'smb', 'alice', (ARRAY[2900, 7900, 19900, 49900])[1 + g % 4]
FROM generate_series(1, :n) g;
UPDATE accounts SET canceled_at = TIMESTAMPTZ '2026-11-01 00:00Z' - (hashtext(account_id) % 80 + 80) % 80 * interval '1 day' WHERE status = 'canceled';
INSERT INTO offers (account_id, offer_id, run_id, as_of, kind, rank, status, target, from_tier, to_tier, current_mrr, new_mrr, delta_mrr,
                    acceptance_probability, expected_delta_mrr, reasons, rationale)
SELECT account_id, gen_random_uuid(), gen_random_uuid(), '2026-11-01', k, 1, 'proposed', 'bench|' || account_id, tier_code, tier_code,
       mrr, mrr + d, d, p, p * d, '{storage_near_limit}', 'bench'
FROM (SELECT account_id, tier_code, mrr, (ARRAY['addon','tier_upgrade'])[1 + hashtext(account_id) % 2 * hashtext(account_id) % 2] AS k,
             1000 * (1 + abs(hashtext(account_id)) % 40) AS d,
             (ARRAY[0.2, 0.27])[1 + abs(hashtext(account_id)) % 2] AS p
      FROM accounts) x;
ANALYZE;
SQL
count=$(psql -At "$URL" -c "SELECT count(*) FROM offers")
best=999
for i in 1 2 3; do
  s=$(date +%s.%N); "$BIN" forecast --as-of 2026-11-01 --months 12 --json >/tmp/tpfc-out.json; e=$(date +%s.%N)
  t=$(awk -v a="$s" -v b="$e" 'BEGIN { printf "%.3f", b - a }')
  best=$(awk -v a="$best" -v b="$t" 'BEGIN { print (b < a ? b : a) }')
done
quantiles=$(python3 -c 'import json; print(json.load(open("/tmp/tpfc-out.json"))["quantiles"])')
rm -f /tmp/tpfc-out.json
echo "forecast over $count open offers, 12 months ($quantiles): best of 3 = ${best} s (whole command, incl. process start and query)  goal < 1 s: $(awk -v t="$best" 'BEGIN { print (t < 1 ? "met" : "not met") }')"
