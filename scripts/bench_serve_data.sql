-- Data for scripts/bench_serve.sh: :accounts accounts (default run: 100,000) and as many proposed
-- offers, generated in SQL on a throwaway cluster that already has the schema and the example
-- catalog (examples/catalog.yaml). Run with
--   psql "$URL" -X -v ON_ERROR_STOP=1 -v accounts=100000 -f scripts/bench_serve_data.sql
-- Deterministic apart from the uuids (setseed): the same figures every run.
--
-- Offers per account: every 5th account (g % 5 = 0) has two (rank 1 and an alternative of the other
-- kind, rank 2), every 5th plus one (g % 5 = 1) none, the others one: 0.2·2 + 0.6·1 = 1 offer per
-- account on average, i.e. exactly :accounts offers. About 5 % of offers are adoption offers
-- (low_adoption, one-time onboarding, expected delta 0), like the planner makes.

\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SELECT setseed(0.20261101) AS seeded \gset

CREATE TEMPORARY TABLE bench_accounts ON COMMIT PRESERVE ROWS AS
SELECT g,
       'acct-' || lpad(g::text, 6, '0') AS account_id,
       x.tier_code,
       x.discount_bp,
       x.segment,
       (ARRAY['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi'])[1 + (g * 7) % 8] AS owner,
       x.seats_packs,
       x.storage_packs
FROM generate_series(1, :accounts) g
CROSS JOIN LATERAL (
    SELECT CASE WHEN r < 0.45 THEN 'starter' WHEN r < 0.75 THEN 'team' WHEN r < 0.93 THEN 'business' ELSE 'enterprise' END AS tier_code,
           CASE WHEN random() < 0.8 THEN 0 ELSE (ARRAY[500, 1000, 1500, 2000])[1 + floor(random() * 4)::int] END AS discount_bp,
           CASE WHEN r < 0.55 THEN 'smb' WHEN r < 0.90 THEN 'mid' ELSE 'enterprise' END AS segment,
           CASE WHEN random() < 0.3 THEN 1 + floor(random() * 3)::int ELSE 0 END AS seats_packs,
           CASE WHEN random() < 0.2 THEN 1 ELSE 0 END AS storage_packs
    FROM (SELECT random() + 0 * g AS r) r
) x;

INSERT INTO accounts (account_id, name, tier_code, status, created_at, discount_bp, segment, owner, mrr)
SELECT b.account_id,
       'Bench Account ' || b.g,
       b.tier_code,
       CASE WHEN random() < 0.90 THEN 'active' WHEN random() < 0.6 THEN 'trialing' ELSE 'past_due' END,
       TIMESTAMPTZ '2026-11-01 00:00Z' - (30 + floor(random() * 1500)) * interval '1 day',   -- before the as_of, whatever today is
       b.discount_bp, b.segment, b.owner,
       round((t.price_monthly + 1500 * b.seats_packs
              + b.storage_packs * (CASE WHEN t.rank <= 1 THEN 1000 ELSE 6000 END)) * (10000 - b.discount_bp) / 10000.0)::bigint
FROM bench_accounts b JOIN tiers t ON t.code = b.tier_code;

-- One row per offer to make: account, rank and kind.
CREATE TEMPORARY TABLE bench_offer_plan ON COMMIT PRESERVE ROWS AS
WITH firsts AS (
    SELECT b.*, a.mrr, t.rank AS tier_rank,
           CASE WHEN random() < 0.05 THEN 'adoption'
                WHEN b.tier_code = 'enterprise' THEN 'addon'
                WHEN random() < 0.6 THEN 'tier_upgrade' ELSE 'addon' END AS kind1
    FROM bench_accounts b JOIN accounts a USING (account_id) JOIN tiers t ON t.code = b.tier_code
    WHERE b.g % 5 <> 1
)
SELECT f.*, 1 AS rank, f.kind1 AS kind FROM firsts f
UNION ALL
SELECT f.*, 2, CASE WHEN f.kind1 = 'tier_upgrade' THEN 'addon'
                    WHEN f.kind1 = 'addon' AND f.tier_code <> 'enterprise' THEN 'tier_upgrade'
                    WHEN f.kind1 = 'addon' THEN 'adoption'
                    ELSE 'addon' END
FROM firsts f WHERE f.g % 5 = 0;

INSERT INTO offers (account_id, offer_id, run_id, as_of, kind, rank, status, target, from_tier, to_tier,
                    add_items, remove_items, current_mrr, new_mrr, delta_mrr, one_time,
                    acceptance_probability, expected_delta_mrr, reasons, rationale, evidence, version)
SELECT p.account_id, gen_random_uuid(), '5b0e6c1e-0000-4000-8000-000000000001'::uuid, DATE '2026-11-01',
       p.kind, p.rank, 'proposed', o.target, p.tier_code, o.to_tier,
       o.add_items, '[]'::jsonb, p.mrr, p.mrr + o.delta, o.delta, o.one_time,
       o.probability, round((o.probability * o.delta)::numeric, 2)::double precision,
       o.reasons,
       CASE p.kind
           WHEN 'tier_upgrade' THEN 'Moving from ' || p.tier_code || ' to ' || o.to_tier || ' covers the account''s growth; +'
                                    || to_char(o.delta / 100.0, 'FM999990.00') || ' USD a month.'
           WHEN 'addon' THEN 'Adding ' || o.addon_qty || ' × ' || o.addon || ' keeps the account within its limits; +'
                             || to_char(o.delta / 100.0, 'FM999990.00') || ' USD a month.'
           ELSE 'Few users use the features they pay for; guided onboarding once for 499.00 USD.'
       END,
       jsonb_build_object('storage_used_bytes', (1e11 * (1 + random() * 20))::bigint,
                          'active_users', 2 + floor(random() * 60)::int,
                          'growth_bytes_per_day', (1e9 * random() * 5)::bigint),
       1
FROM bench_offer_plan p
CROSS JOIN LATERAL (
    SELECT
        -- next tier for upgrades, the same tier otherwise
        CASE WHEN p.kind = 'tier_upgrade' THEN n.code ELSE p.tier_code END AS to_tier,
        s.addon, s.addon_qty,
        CASE p.kind
            WHEN 'tier_upgrade' THEN n.code || '|'
            WHEN 'addon' THEN p.tier_code || '|' || s.addon || ':' || s.addon_qty
            ELSE 'adoption|onboarding'
        END AS target,
        CASE WHEN p.kind = 'addon' THEN jsonb_build_array(jsonb_build_object('addon', s.addon, 'quantity', s.addon_qty))
             WHEN p.kind = 'adoption' THEN '[{"addon":"onboarding","quantity":1}]'::jsonb
             ELSE '[]'::jsonb END AS add_items,
        CASE p.kind
            WHEN 'tier_upgrade' THEN round((n.price_monthly - t.price_monthly) * (10000 - p.discount_bp) / 10000.0)::bigint
            WHEN 'addon' THEN round(s.addon_price * s.addon_qty * (10000 - p.discount_bp) / 10000.0)::bigint
            ELSE 0::bigint
        END AS delta,
        CASE WHEN p.kind = 'adoption' THEN 49900 ELSE 0 END AS one_time,
        -- acceptance probability: what the model would say per kind, with some spread
        round((CASE p.kind WHEN 'tier_upgrade' THEN 0.12 WHEN 'addon' THEN 0.22 ELSE 0.30 END + random() * 0.15)::numeric, 4)::double precision AS probability,
        CASE p.kind
            WHEN 'adoption' THEN '{low_adoption}'::text[]
            WHEN 'tier_upgrade' THEN (ARRAY['{storage_near_limit}', '{seats_near_limit}', '{feature_demand}',
                                            '{storage_near_limit,seats_near_limit}', '{storage_filling,feature_demand}'])[1 + floor(random() * 5)::int]::text[]
            ELSE CASE WHEN s.addon LIKE 'seats%' THEN '{seats_near_limit}'::text[]
                      ELSE (ARRAY['{storage_near_limit}', '{storage_over_limit}', '{storage_filling}'])[1 + floor(random() * 3)::int]::text[] END
        END AS reasons
    FROM tiers t
    LEFT JOIN tiers n ON n.rank = t.rank + 1
    CROSS JOIN LATERAL (
        SELECT CASE WHEN random() < 0.35 THEN 'seats_5'
                    WHEN t.rank <= 1 THEN 'storage_100' ELSE 'storage_1000' END AS addon,
               1 + floor(random() * 3)::int + 0 * p.g AS addon_qty
    ) s0
    CROSS JOIN LATERAL (SELECT s0.addon, s0.addon_qty, a.price_monthly AS addon_price FROM addons a WHERE a.code = s0.addon) s
    WHERE t.code = p.tier_code
) o;

DROP TABLE bench_offer_plan;
DROP TABLE bench_accounts;

-- Each account's state since its creation (what forecast, metrics and signals read as of a day).
INSERT INTO account_history (account_id, effective_on, tier_code, addons, discount_bp, status, mrr)
SELECT account_id, (created_at AT TIME ZONE 'UTC')::date, tier_code, '', discount_bp, status, mrr FROM accounts;

ANALYZE accounts;
ANALYZE account_history;
ANALYZE offers;
