-- Data set for scripts/bench_run.sh (the `tierplan run` benchmark), generated in SQL:
--
--   psql "$URL" -X -v ON_ERROR_STOP=1 -v accounts=25000 [-v as_of=2026-11-01] [-v seed=0.42] -f scripts/bench_run_data.sql
--
-- Needs a migrated database with the catalog of examples/catalog.yaml loaded and no accounts yet.
-- Writes accounts (a realistic mix of tiers, statuses, ages, segments, owners, discounts and a few
-- add-ons), account_history, one storage sample per account and day over the 90 days ending on
-- as_of, about 100 feature events per account over the same days, and then the daily rollups
-- computed from the raw rows with the same aggregates as `tierplan usage ingest`
-- (Sources/TierPlanStore/UsageIngest.swift). Ends with VACUUM ANALYZE, as autovacuum would
-- have left a database that the nightly job reads. The same accounts/as_of/seed give the same data.
--
-- Behaviours (share of accounts), so the planner has something of every kind to find:
--   growing 15 %   storage ends at 78–95 % of its limit (near limit, filling)
--   flat 33 %      storage at 10–55 %, features adopted, a few users
--   over_limit 5 % storage ends at 102–117 % of its limit
--   seats 10 %     starter/team only, active users at 92–100 % of seats
--   demand 10 %    about a fifth of events on a feature the tier does not include
--   low_adoption 10 %  one or two users, a handful of events
--   trial 7 %      trialing, created 3–22 days before as_of
--   past_due 4 %   past_due
--   churned 6 %    canceled 25–74 days before as_of (usage stops then; the run skips them)
-- Generation settings (synchronous_commit off, large work_mem, primary keys built after the
-- load) are for this session only and do not change the cluster the benchmark then measures.

\set ON_ERROR_STOP on
\if :{?accounts}
\else
  \echo 'bench_run_data.sql: -v accounts=N is required'
  SELECT 1 / 0 AS accounts_variable_missing;
\endif
\if :{?as_of}
\else
  \set as_of 2026-11-01
\endif
\if :{?seed}
\else
  \set seed 0.42
\endif

SET client_min_messages = warning;
SET synchronous_commit = off;
SET work_mem = '1GB';
SET maintenance_work_mem = '1GB';
SET max_parallel_workers_per_gather = 0;   -- one process: random() is drawn in a fixed order (same seed, same data)
SET timezone = 'UTC';

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM accounts) OR EXISTS (SELECT 1 FROM storage_samples) OR EXISTS (SELECT 1 FROM feature_events) THEN
        RAISE EXCEPTION 'bench_run_data.sql: the database already has accounts or usage; use a fresh one';
    END IF;
    IF (SELECT count(*) FROM tiers WHERE code IN ('starter', 'team', 'business', 'enterprise')) <> 4
       OR (SELECT count(*) FROM addons WHERE code IN ('storage_100', 'storage_1000', 'seats_5', 'automation', 'onboarding')) <> 5 THEN
        RAISE EXCEPTION 'bench_run_data.sql: load examples/catalog.yaml first (tierplan catalog load)';
    END IF;
END $$;

SELECT setseed(:seed);

-- ───────────────────────────── Per-account profile ─────────────────────────────
-- Day indexes run 0..89; 89 is as_of, 0 is as_of − 89 days.
CREATE TEMP TABLE bench_profile AS
WITH draw AS (
    SELECT i, random() AS r_beh, random() AS r_tier, random() AS r_s100, random() AS r_s100q, random() AS r_auto,
           random() AS r_seats, random() AS r_s1000, random() AS r_onb, random() AS r_age, random() AS r_cancel,
           random() AS r_disc, random() AS r_discv, random() AS r_owner, random() AS r_seg, random() AS r_end,
           random() AS r_start, random() AS r_growth, random() AS r_users, random() AS r_events, random() AS r_noise,
           random() AS r_time
    FROM generate_series(1, :accounts) i
), behaviour AS (
    SELECT d.*,
           CASE WHEN r_beh < 0.15 THEN 'growing' WHEN r_beh < 0.48 THEN 'flat' WHEN r_beh < 0.53 THEN 'over_limit'
                WHEN r_beh < 0.63 THEN 'seats' WHEN r_beh < 0.73 THEN 'demand' WHEN r_beh < 0.83 THEN 'low_adoption'
                WHEN r_beh < 0.90 THEN 'trial' WHEN r_beh < 0.94 THEN 'past_due' ELSE 'churned' END AS behaviour,
           CASE WHEN r_tier < 0.45 THEN 0 WHEN r_tier < 0.75 THEN 1 WHEN r_tier < 0.93 THEN 2 ELSE 3 END AS tier_raw
    FROM draw d
), shaped AS (
    SELECT b.*,
           CASE behaviour WHEN 'seats' THEN least(tier_raw, 1) WHEN 'demand' THEN least(tier_raw, 2) ELSE tier_raw END AS t,
           CASE behaviour WHEN 'trial' THEN 3 + floor(r_age * 20)::int
                          WHEN 'low_adoption' THEN 60 + floor(r_age * 500)::int
                          ELSE 30 + floor(r_age * 700)::int END AS age_days,
           CASE WHEN behaviour = 'churned' THEN 25 + floor(r_cancel * 50)::int END AS canceled_days_ago
    FROM behaviour b
), addons AS (
    SELECT s.*,
           CASE WHEN t <= 1 AND r_s100 < 0.15 THEN 1 + floor(r_s100q * 2)::int ELSE 0 END AS q_s100,
           CASE WHEN t >= 2 AND r_s1000 < 0.05 THEN 1 ELSE 0 END AS q_s1000,
           CASE WHEN t = 1 AND r_auto < 0.10 THEN 1 ELSE 0 END AS q_auto,
           CASE WHEN r_seats < 0.08 THEN 1 ELSE 0 END AS q_seats,
           CASE WHEN r_onb < 0.03 THEN 1 ELSE 0 END AS q_onb
    FROM shaped s
), tiered AS (
    SELECT a.*, tier.code AS tier_code, tier.price_monthly, tier.features AS tier_features,
           (tier.storage_gb + 100 * q_s100 + 1000 * q_s1000)::double precision * 1e9 AS limit_bytes,
           tier.seats + 5 * q_seats AS seats
    FROM addons a
    JOIN (VALUES (0, 'starter', 2900, 100, 5, ARRAY['reports']),
                 (1, 'team', 7900, 500, 20, ARRAY['reports', 'sharing']),
                 (2, 'business', 19900, 2000, 50, ARRAY['reports', 'sharing', 'automation']),
                 (3, 'enterprise', 49900, 10000, 200, ARRAY['reports', 'sharing', 'automation', 'sso']))
         AS tier (rank, code, price_monthly, storage_gb, seats, features) ON tier.rank = a.t
)
SELECT i,
       'acct-' || lpad(i::text, 6, '0') AS account_id,
       behaviour, tier_code, t, price_monthly, q_s100, q_s1000, q_auto, q_seats, q_onb, limit_bytes, seats,
       CASE behaviour WHEN 'trial' THEN 'trialing' WHEN 'past_due' THEN 'past_due' WHEN 'churned' THEN 'canceled' ELSE 'active' END AS status,
       (:'as_of'::date - age_days)::timestamptz + floor(r_time * 86400) * interval '1 second' AS created_at,
       CASE WHEN canceled_days_ago IS NOT NULL
            THEN (:'as_of'::date - canceled_days_ago)::timestamptz + interval '12 hours' END AS canceled_at,
       CASE WHEN r_disc < 0.2 THEN (ARRAY[500, 1000, 1250, 1500, 2000])[1 + floor(r_discv * 5)::int] ELSE 0 END AS discount_bp,
       CASE t WHEN 0 THEN 'smb' WHEN 1 THEN CASE WHEN r_seg < 0.5 THEN 'smb' ELSE 'mid' END WHEN 2 THEN 'mid' ELSE 'enterprise' END AS segment,
       (ARRAY['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi'])[1 + floor(r_owner * 8)::int] AS owner,
       greatest(0, 89 - age_days) AS first_day,
       89 - coalesce(canceled_days_ago, 0) AS last_day,
       -- Storage: bytes on day d = start + growth × d (+ noise); see the behaviours above.
       CASE behaviour
            WHEN 'growing' THEN limit_bytes * ((0.78 + r_end * 0.17) - 0.25 - r_start * 0.1)
            WHEN 'over_limit' THEN limit_bytes * ((1.02 + r_end * 0.15) - 0.2)
            ELSE limit_bytes * (0.1 + r_start * 0.45) END AS storage_start,
       CASE behaviour
            WHEN 'growing' THEN limit_bytes * (0.25 + r_start * 0.1) / 89
            WHEN 'over_limit' THEN limit_bytes * 0.2 / 89
            ELSE limit_bytes * (r_growth * 0.001 - 0.0003) END AS storage_growth,
       -- Users u1..uN: crowding accounts fill their seats, the rest use a part of them.
       CASE behaviour
            WHEN 'seats' THEN ceil(seats * (0.92 + r_users * 0.08))::int
            WHEN 'low_adoption' THEN 1 + floor(r_users * 2)::int
            ELSE greatest(1, least(25, floor(seats * (0.25 + r_users * 0.4))::int)) END AS users,
       -- Feature events over the 90 days: about 100 per account on average.
       CASE behaviour
            WHEN 'low_adoption' THEN 4 + floor(r_events * 6)::int
            WHEN 'trial' THEN 10 + floor(r_events * 20)::int
            WHEN 'seats' THEN greatest(14 * seats, floor((ARRAY[60, 100, 160, 240])[t + 1] * (0.5 + r_events))::int)
            ELSE floor((ARRAY[60, 100, 160, 240])[t + 1] * (0.5 + r_events))::int END AS n_events,
       -- Included features (tier plus the automation add-on), most used first.
       tier_features || CASE WHEN q_auto > 0 THEN ARRAY['automation'] ELSE ARRAY[]::text[] END AS included,
       -- A feature the account does not have: real demand for the demand behaviour, a stray use otherwise.
       CASE WHEN behaviour = 'demand' THEN (ARRAY['sharing', CASE WHEN q_auto > 0 THEN 'sso' ELSE 'automation' END, 'sso'])[t + 1]
            WHEN t < 3 THEN (ARRAY['sharing', 'automation', 'sso', NULL])[t + 1 + floor(r_noise * (3 - t))::int] END AS demanded,
       CASE WHEN behaviour = 'demand' THEN 0.2 ELSE 0.008 END AS demand_share
FROM tiered;

-- ───────────────────────────── Accounts ─────────────────────────────
INSERT INTO accounts (account_id, name, tier_code, status, created_at, discount_bp, segment, owner, canceled_at, mrr, updated_at)
SELECT p.account_id,
       (ARRAY['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Vandelay', 'Stark', 'Wayne', 'Tyrell', 'Soylent'])[1 + i % 10]
           || ' ' || (ARRAY['Labs', 'Systems', 'Studio', 'Partners', 'Works', 'Group', 'Cloud'])[1 + (i / 10) % 7] || ' ' || i,
       p.tier_code, p.status, p.created_at, p.discount_bp, p.segment, p.owner, p.canceled_at,
       -- Pricing.mrr: round-half-up((tier + Σ add-on monthly × qty) × (1 − discount)).
       ((p.price_monthly + 1000 * p.q_s100 + 6000 * p.q_s1000 + 2000 * p.q_auto + 1500 * p.q_seats)::bigint
            * (10000 - p.discount_bp) + 5000) / 10000,
       p.created_at
FROM bench_profile p ORDER BY p.i;

INSERT INTO account_addons (account_id, addon_code, quantity)
SELECT account_id, code, qty
FROM bench_profile p
CROSS JOIN LATERAL (VALUES ('storage_100', p.q_s100), ('storage_1000', p.q_s1000), ('automation', p.q_auto),
                           ('seats_5', p.q_seats), ('onboarding', p.q_onb)) AS x (code, qty)
WHERE qty > 0 ORDER BY account_id, code;

INSERT INTO account_history (account_id, effective_on, tier_code, addons, discount_bp, status, mrr)
SELECT a.account_id, (a.created_at AT TIME ZONE 'UTC')::date, a.tier_code,
       coalesce((SELECT string_agg(addon_code || ':' || quantity, ';' ORDER BY addon_code) FROM account_addons x
                 WHERE x.account_id = a.account_id), ''),
       a.discount_bp, a.status, a.mrr
FROM accounts a ORDER BY a.account_id;

-- ───────────────────────────── Raw usage ─────────────────────────────
-- Primary keys are dropped for the bulk load and built again afterwards (same names and columns).
ALTER TABLE usage_events DROP CONSTRAINT usage_events_pkey;
ALTER TABLE storage_months DROP CONSTRAINT storage_months_pkey;
ALTER TABLE feature_days DROP CONSTRAINT feature_days_pkey;
ALTER TABLE user_days DROP CONSTRAINT user_days_pkey;

-- One sample a day at a random time, from the account's creation (or the first day) to its cancellation (or as_of).
INSERT INTO usage_events (account_id, id, kind, at, bytes)
SELECT p.account_id, 's' || d, 'storage',
       (:'as_of'::date - 89 + d)::timestamptz + floor(random() * 86400) * interval '1 second',
       greatest(0, round(p.storage_start + p.storage_growth * d + p.limit_bytes * 0.004 * (random() - 0.5)))::bigint
FROM bench_profile p CROSS JOIN LATERAL generate_series(p.first_day, p.last_day) d;

-- Feature events on random days of the account's active span, by users u1..uN.
INSERT INTO usage_events (account_id, id, kind, user_id, feature_key, at, count)
SELECT p.account_id, 'f' || k, 'feature',
       'u' || (1 + floor(random() * p.users)::int),
       CASE WHEN p.demanded IS NOT NULL AND random() < p.demand_share THEN p.demanded
            ELSE p.included[1 + floor(random() ^ 1.5 * cardinality(p.included))::int] END,
       (:'as_of'::date - 89 + p.first_day + floor(random() * (p.last_day - p.first_day + 1))::int)::timestamptz
           + floor(random() * 86400) * interval '1 second',
       CASE WHEN random() < 0.1 THEN 2 + floor(random() * 4)::int ELSE 1 END
FROM bench_profile p CROSS JOIN LATERAL generate_series(1, p.n_events) k;

-- ───────────────────────────── Rollups (as UsageIngest computes them) ─────────────────────────────
-- Stored in time order, as nightly ingests append them (not clustered by account).
-- last_bytes is ingest's (array_agg(bytes ORDER BY at DESC, bytes DESC))[1], written as the max of
-- (at in microseconds, bytes) pairs: the same value, but the group-by can hash instead of sorting.
INSERT INTO storage_months (account_id, month, days, max_bytes, last_at, last_bytes, samples)
SELECT account_id, date_trunc('month', day)::date, array_agg(extract(day FROM day)::smallint ORDER BY day),
       array_agg(max_bytes ORDER BY day), array_agg(last_at ORDER BY day), array_agg(last_bytes ORDER BY day), array_agg(samples ORDER BY day)
FROM (SELECT account_id, (at AT TIME ZONE 'UTC')::date AS day, max(bytes) AS max_bytes, max(at) AS last_at,
             (max(ARRAY[(extract(epoch FROM at) * 1000000)::bigint, bytes]))[2] AS last_bytes, count(*)::integer AS samples
      FROM storage_samples GROUP BY 1, 2) d
GROUP BY 1, 2
ORDER BY 2;

INSERT INTO feature_days (account_id, feature_key, month, days)
SELECT account_id, feature_key, date_trunc('month', day)::date, bit_or(day_bit(day))
FROM (SELECT account_id, feature_key, (at AT TIME ZONE 'UTC')::date AS day FROM feature_events) e GROUP BY 1, 2, 3
ORDER BY 3;

INSERT INTO user_days (account_id, user_id, month, days)
SELECT account_id, user_id, date_trunc('month', day)::date, bit_or(day_bit(day))
FROM (SELECT account_id, user_id, (at AT TIME ZONE 'UTC')::date AS day FROM feature_events) e GROUP BY 1, 2, 3
ORDER BY 3;

ALTER TABLE usage_events ADD CONSTRAINT usage_events_pkey PRIMARY KEY (account_id, id);
ALTER TABLE storage_months ADD CONSTRAINT storage_months_pkey PRIMARY KEY (account_id, month);
ALTER TABLE feature_days ADD CONSTRAINT feature_days_pkey PRIMARY KEY (account_id, feature_key, month);
ALTER TABLE user_days ADD CONSTRAINT user_days_pkey PRIMARY KEY (account_id, user_id, month);

VACUUM ANALYZE;
