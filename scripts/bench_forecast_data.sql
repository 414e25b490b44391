-- Data for scripts/bench_forecast.sh: 18 months of account history and offers of a realistic
-- shape, for `tierplan forecast` (history model) and `tierplan forecast backtest`.
--   psql URL -v accounts=100000 -v offers=100000 -v past_offers=6000 -v as_of=2026-11-01 -v seed=0.42 -f scripts/bench_forecast_data.sql
--
-- Needs a migrated database with the catalog of examples/catalog.yaml loaded and no accounts yet.
-- Set-based, seeded (setseed, one process, fixed scan order): the same variables give the same
-- data. Every date derives from as_of (never now()): the history starts 18 months before it.
--
-- Accounts (tiers starter/team/business/enterprise, segments smb/mid/enterprise):
--   ~58 % created before the history starts (2021 onwards), their first history row effective on
--         the first day of the history; 8 % of them were canceled before it (a canceled first row
--         with canceled_at: active from created_at to the day before canceled_at);
--   ~42 % created during the 18 months, more in recent months; 35 % of those start trialing
--         (MRR 0) and convert after 14 days (60 %) or cancel.
-- Each month a paying account may cancel (1.6 %), upgrade a tier (2.2 %; at enterprise: one more
-- seat pack), buy seat packs (1.0 %), downgrade (0.9 %: a tier, a seat pack, or a deeper discount
-- at the bottom) or fall past due (0.8 %: back to active 5–25 days later, 30 % cancel after 30 days).
-- A row is written only when the state changes (as `accounts import` does).
-- Offers: the open ones are `proposed`, made by a daily run for an as_of in the 60 days up to
-- as_of − 7 (more of them recently), each with its creation event; past ones (about 35 % accepted,
-- on the day of an upgrade or seat purchase in the history, 3–60 days after the run that made them;
-- the rest declined) carry their proposed → approved → accepted/declined events, so acceptance lags
-- and offer expansion exist. Every offer's acceptance probability is the one its run would give:
-- per kind, Beta(2, 8) updated by the outcomes dated on or before the run's as_of (README), so the
-- offers of one run and kind share it. Targets are unique per account and kind.
\set ON_ERROR_STOP on
SET max_parallel_workers_per_gather = 0;
SET synchronous_commit = off;
SET work_mem = '256MB';
SELECT (:'as_of'::date - interval '18 months')::date AS start_on, (:'as_of'::date - 7) AS last_run_on \gset
SELECT setseed(:seed) AS seeded \gset

CREATE TEMP TABLE b_price (tier int PRIMARY KEY, code text, price bigint);
INSERT INTO b_price VALUES (0, 'starter', 2900), (1, 'team', 7900), (2, 'business', 19900), (3, 'enterprise', 49900);

-- ───────────────────────────── Accounts, as they started ─────────────────────────────
CREATE TEMP TABLE b_acc AS
SELECT g, 'acct_' || lpad(g::text, 6, '0') AS account_id, created_on, created_at,
       greatest(created_on, :'start_on'::date) AS first_on, cohort, tier0, seats0, disc0, segment, owner,
       CASE WHEN cohort = 'old_canceled' THEN 'canceled' WHEN cohort = 'trial' THEN 'trialing' ELSE 'active' END AS status0,
       CASE WHEN cohort = 'old_canceled'
            THEN created_at + ((:'start_on'::date - created_on - 1) * (0.2 + 0.8 * r_cancel)) * interval '1 day' END AS canceled_before,
       CASE WHEN cohort = 'trial' THEN created_on + 14 END AS trial_end,
       r_trial < 0.6 AS trial_converts
FROM (
    SELECT x.*, y.*, created_at, (created_at AT TIME ZONE 'UTC')::date AS created_on,
           CASE WHEN NOT old THEN (CASE WHEN r_kind < 0.35 THEN 'trial' ELSE 'new' END)
                WHEN r_kind < 0.08 THEN 'old_canceled' ELSE 'old' END AS cohort
    FROM (
        SELECT g, r_age < 0.58 AS old, r_kind, r_cancel, r_trial, r_tier, r_seg, r_seats, r_disc, r_owner, r_day, r_hour,
               CASE WHEN r_tier < 0.40 THEN 0 WHEN r_tier < 0.72 THEN 1 WHEN r_tier < 0.92 THEN 2 ELSE 3 END AS tier0
        FROM (SELECT g, random() AS r_age, random() AS r_kind, random() AS r_cancel, random() AS r_trial, random() AS r_tier,
                     random() AS r_seg, random() AS r_seats, random() AS r_disc, random() AS r_owner, random() AS r_day, random() AS r_hour
              FROM generate_series(1, :accounts) g) r
    ) x
    CROSS JOIN LATERAL (SELECT
        CASE WHEN old THEN (DATE '2021-01-01' + floor(r_day * (:'start_on'::date - DATE '2021-01-01'))::int)::timestamp
             -- more accounts in recent months: density grows linearly over the 18 months
             ELSE (:'start_on'::date + floor(sqrt(r_day) * (:'as_of'::date - :'start_on'::date))::int)::timestamp END
        AT TIME ZONE 'UTC' + floor(r_hour * 86400) * interval '1 second' AS created_at) c
    CROSS JOIN LATERAL (SELECT
        CASE WHEN r_seats < 0.75 THEN 0 WHEN r_seats < 0.92 THEN 1 WHEN r_seats < 0.98 THEN 2 ELSE 4 END AS seats0,
        CASE WHEN r_disc < 0.70 THEN 0 WHEN r_disc < 0.90 THEN 1000 WHEN r_disc < 0.97 THEN 2000 ELSE 2500 END AS disc0,
        CASE tier0 WHEN 0 THEN (CASE WHEN r_seg < 0.9 THEN 'smb' ELSE 'mid' END)
                   WHEN 1 THEN (CASE WHEN r_seg < 0.7 THEN 'smb' ELSE 'mid' END)
                   WHEN 2 THEN (CASE WHEN r_seg < 0.2 THEN 'smb' WHEN r_seg < 0.8 THEN 'mid' ELSE 'enterprise' END)
                   ELSE (CASE WHEN r_seg < 0.2 THEN 'mid' ELSE 'enterprise' END) END AS segment,
        (ARRAY['alice', 'bob', 'carol', 'dave', 'erin'])[1 + floor(r_owner * 5)::int] AS owner) y
) a;
-- A trial whose 14 days end on or after as_of is still trialing; everything stays before as_of.
DELETE FROM b_acc WHERE created_on >= :'as_of'::date;

-- ───────────────────────────── Changes, month by month ─────────────────────────────
CREATE TEMP TABLE b_draw AS
SELECT a.account_id, a.first_on, a.cohort, a.trial_end, a.trial_converts,
       (m.month_start + floor(random() * ((m.month_start + interval '1 month')::date - m.month_start))::int) AS day,
       random() AS r_kind, random() AS r, random() AS r_follow, random() AS r_gap
FROM b_acc a
CROSS JOIN (SELECT (:'start_on'::date + k * interval '1 month')::date AS month_start FROM generate_series(0, 17) k) m
WHERE a.cohort <> 'old_canceled' AND (a.cohort <> 'trial' OR a.trial_converts)
ORDER BY a.g, m.month_start;

CREATE TEMP TABLE b_ev0 (account_id text, day date, kind text, r double precision, prio int);
INSERT INTO b_ev0
SELECT account_id, day,
       CASE WHEN r_kind < 0.016 THEN 'cancel' WHEN r_kind < 0.038 THEN 'upgrade' WHEN r_kind < 0.048 THEN 'seats'
            WHEN r_kind < 0.057 THEN 'downgrade' ELSE 'past_due' END, r, 2
FROM b_draw
WHERE r_kind < 0.065 AND day > first_on AND (trial_end IS NULL OR day > trial_end) AND day < :'as_of'::date;
-- What follows a past-due episode: back to active, or canceled 30 days later.
INSERT INTO b_ev0
SELECT d.account_id, CASE WHEN d.r_follow < 0.7 THEN d.day + 5 + floor(d.r_gap * 21)::int ELSE d.day + 30 END,
       CASE WHEN d.r_follow < 0.7 THEN 'recover' ELSE 'cancel' END, d.r, 3
FROM b_draw d
WHERE d.r_kind >= 0.057 AND d.r_kind < 0.065 AND d.day > d.first_on AND (d.trial_end IS NULL OR d.day > d.trial_end);
-- Trials end after 14 days: converted or canceled.
INSERT INTO b_ev0
SELECT account_id, trial_end, CASE WHEN trial_converts THEN 'convert' ELSE 'trial_cancel' END, 0, 1
FROM b_acc WHERE cohort = 'trial';
DELETE FROM b_ev0 WHERE day >= :'as_of'::date;

-- One change per account and day; nothing after the first cancellation.
CREATE TEMP TABLE b_ev AS
SELECT account_id, day, kind, r, row_number() OVER (PARTITION BY account_id ORDER BY day)::int AS k
FROM (
    SELECT *, min(day) FILTER (WHERE kind IN ('cancel', 'trial_cancel')) OVER (PARTITION BY account_id) AS canceled_on
    FROM (SELECT DISTINCT ON (account_id, day) * FROM b_ev0 ORDER BY account_id, day, prio, kind) d
) e
WHERE canceled_on IS NULL OR day <= canceled_on;
CREATE INDEX ON b_ev (account_id, k);
ANALYZE b_ev;

-- Each account's state after each change (0: its first row).
CREATE TEMP TABLE b_state AS
WITH RECURSIVE s AS (
    SELECT account_id, 0 AS k, first_on AS day, tier0 AS tier, seats0 AS seats, disc0 AS disc, status0 AS status, ''::text AS kind
    FROM b_acc
    UNION ALL
    SELECT s.account_id, e.k, e.day,
           CASE WHEN e.kind = 'upgrade' AND s.tier < 3 THEN s.tier + 1
                WHEN e.kind = 'downgrade' AND s.tier > 0 AND (e.r < 0.6 OR s.seats = 0) THEN s.tier - 1 ELSE s.tier END,
           CASE WHEN e.kind = 'upgrade' AND s.tier = 3 THEN s.seats + 1
                WHEN e.kind = 'seats' THEN s.seats + 1 + (e.r < 0.3)::int
                WHEN e.kind = 'downgrade' AND s.seats > 0 AND NOT (s.tier > 0 AND e.r < 0.6) THEN s.seats - 1 ELSE s.seats END,
           CASE WHEN e.kind = 'downgrade' AND s.tier = 0 AND s.seats = 0 THEN least(s.disc + 1000, 5000) ELSE s.disc END,
           CASE e.kind WHEN 'convert' THEN 'active' WHEN 'cancel' THEN 'canceled' WHEN 'trial_cancel' THEN 'canceled'
                       WHEN 'past_due' THEN 'past_due' WHEN 'recover' THEN 'active' ELSE s.status END,
           e.kind
    FROM s JOIN b_ev e ON e.account_id = s.account_id AND e.k = s.k + 1
)
SELECT s.account_id, s.k, s.day, s.tier, s.seats, s.disc, s.status, s.kind, p.code AS tier_code,
       CASE WHEN s.seats > 0 THEN 'seats_5:' || s.seats ELSE '' END AS addons,
       CASE WHEN s.status = 'trialing' THEN 0 ELSE round(p.price * (10000 - s.disc) / 10000.0)::bigint + 1500 * s.seats END AS mrr
FROM s JOIN b_price p USING (tier);

-- Rows as an import would write them: only where something billed changed.
CREATE TEMP TABLE b_hist AS
SELECT account_id, k, day, tier, seats, disc, status, kind, tier_code, addons, mrr,
       lag(mrr) OVER w AS prev_mrr, lag(status) OVER w AS prev_status, lag(tier) OVER w AS prev_tier, lag(day) OVER w AS prev_day,
       lead(day) OVER w AS next_day
FROM (
    SELECT *, lag(ROW(tier, seats, disc, status)::text) OVER (PARTITION BY account_id ORDER BY k) AS prev
    FROM b_state
) s
WHERE k = 0 OR prev IS DISTINCT FROM ROW(tier, seats, disc, status)::text
WINDOW w AS (PARTITION BY account_id ORDER BY day);

-- ───────────────────────────── Tables tierplan reads ─────────────────────────────
INSERT INTO accounts (account_id, name, tier_code, status, created_at, discount_bp, segment, owner, canceled_at, mrr, updated_at)
SELECT a.account_id, 'Account ' || a.g, h.tier_code, h.status, a.created_at, h.disc, a.segment, a.owner,
       CASE WHEN a.cohort = 'old_canceled' THEN a.canceled_before
            WHEN h.status = 'canceled' THEN (h.day + time '14:00') AT TIME ZONE 'UTC' END,
       h.mrr, (h.day + time '23:00') AT TIME ZONE 'UTC'
FROM b_acc a
JOIN (SELECT DISTINCT ON (account_id) * FROM b_hist ORDER BY account_id, day DESC) h USING (account_id)
ORDER BY a.account_id;

INSERT INTO account_addons (account_id, addon_code, quantity)
SELECT account_id, 'seats_5', seats
FROM (SELECT DISTINCT ON (account_id) * FROM b_hist ORDER BY account_id, day DESC) h
WHERE seats > 0 ORDER BY account_id;

INSERT INTO account_history (account_id, effective_on, tier_code, addons, discount_bp, status, mrr, recorded_at)
SELECT account_id, day, tier_code, addons, disc, status, mrr, (day + time '23:00') AT TIME ZONE 'UTC'
FROM b_hist ORDER BY account_id, day;

-- One nightly run a day, from the first day of the history to as_of − 7.
INSERT INTO runs (run_id, command, as_of, started_at, finished_at)
SELECT md5('bench run ' || d::date)::uuid, 'run', d::date, (d::date + time '02:00') AT TIME ZONE 'UTC', (d::date + time '02:05') AT TIME ZONE 'UTC'
FROM generate_series(:'start_on'::date, :'last_run_on'::date, interval '1 day') d;

-- ───────────────────────────── Past offers: accepted and declined ─────────────────────────────
-- Accepted: on the day of an upgrade or seat purchase, made by the run 3–60 days before.
CREATE TEMP TABLE b_past AS
SELECT account_id, kind, from_tier, to_tier, current_mrr, delta, made, approved, decided, outcome, reason,
       row_number() OVER (ORDER BY made, account_id, outcome)::int AS n
FROM (
    SELECT account_id, CASE WHEN tier <> prev_tier THEN 'tier_upgrade' ELSE 'addon' END AS kind,
           (SELECT code FROM b_price WHERE b_price.tier = u.prev_tier) AS from_tier, tier_code AS to_tier, prev_mrr AS current_mrr, mrr - prev_mrr AS delta,
           made, made + floor(r_ap * (day - made) * 0.5)::int AS approved, day AS decided, 'accepted' AS outcome, NULL::text AS reason
    FROM (
        SELECT h.*, day - 3 - floor(power(r_lag, 2) * 58)::int AS made
        FROM (SELECT h.*, random() AS r_pick, random() AS r_lag, random() AS r_ap
              FROM b_hist h WHERE k > 0 AND kind IN ('upgrade', 'seats') AND status IN ('active', 'past_due')
                              AND prev_status IN ('active', 'past_due') AND mrr > prev_mrr ORDER BY account_id, day) h
        ORDER BY r_pick LIMIT (:past_offers * 35 / 100)
    ) u
    WHERE made >= prev_day AND made >= :'start_on'::date AND made <= :'last_run_on'::date
    UNION ALL
    -- Declined: made while the account paid, decided 3–25 days after approval.
    SELECT account_id, CASE WHEN tier < 3 AND r_kind < 0.5 THEN 'tier_upgrade' ELSE 'addon' END, tier_code,
           CASE WHEN tier < 3 AND r_kind < 0.5 THEN (SELECT code FROM b_price WHERE b_price.tier = d.tier + 1) ELSE tier_code END,
           mrr, CASE WHEN tier < 3 AND r_kind < 0.5 THEN 5000 ELSE 1500 END,
           made, made + floor(r_ap * 3)::int, made + floor(r_ap * 3)::int + 3 + floor(r_dec * 20)::int, 'declined',
           (ARRAY['price', 'budget', 'timing', 'no_need', 'competitor', 'other'])[1 + floor(r_reason * 6)::int]
    FROM (
        SELECT h.*, h.day + 1 + floor(r_made * (coalesce(h.next_day, :'as_of'::date) - h.day - 25))::int AS made
        FROM (SELECT h.*, random() AS r_pick, random() AS r_made, random() AS r_kind, random() AS r_ap,
                     random() AS r_dec, random() AS r_reason
              FROM b_hist h WHERE status IN ('active', 'past_due') AND coalesce(next_day, :'as_of'::date) - day >= 26
              ORDER BY account_id, day) h
        ORDER BY r_pick LIMIT (:past_offers * 65 / 100)
    ) d
    WHERE made <= :'last_run_on'::date
) x;

-- The acceptance probability a run for as_of D gives an offer of a kind (README: Beta(2, 8) prior
-- updated by the outcomes dated <= D): the same for every offer of that kind in that run.
CREATE TEMP TABLE b_prob AS
SELECT k.kind, d::date AS day,
       ((2 + count(*) FILTER (WHERE b.outcome = 'accepted'))::float8 / (10 + count(b.outcome)))::float8 AS p
FROM generate_series(:'start_on'::date, :'last_run_on'::date, interval '1 day') d
CROSS JOIN (VALUES ('addon'), ('tier_upgrade')) k (kind)
LEFT JOIN b_past b ON b.kind = k.kind AND b.decided <= d::date
GROUP BY k.kind, d;
CREATE INDEX ON b_prob (kind, day);

INSERT INTO offers (account_id, offer_id, run_id, as_of, kind, rank, status, target, from_tier, to_tier, current_mrr, new_mrr,
                    delta_mrr, acceptance_probability, expected_delta_mrr, reasons, rationale, version, created_at, updated_at)
SELECT account_id, md5('bench past offer ' || n)::uuid, md5('bench run ' || made)::uuid, made, kind, 1, outcome,
       to_tier || '#past' || n, from_tier, to_tier, current_mrr, current_mrr + delta, delta, pr.p,
       pr.p * delta, ARRAY['storage_near_limit'], 'bench: past offer', 3,
       (made + time '02:01') AT TIME ZONE 'UTC', (decided + time '15:00') AT TIME ZONE 'UTC'
FROM b_past b JOIN LATERAL (SELECT p FROM b_prob WHERE b_prob.kind = b.kind AND b_prob.day = b.made) pr ON true ORDER BY account_id, n;

-- ───────────────────────────── Open offers ─────────────────────────────
-- Candidates on every account paying now that existed at as_of − 7: a tier upgrade below
-- enterprise, and one or two add-ons; rank 1 is the larger expected delta.
CREATE TEMP TABLE b_cand AS
SELECT c.*, row_number() OVER (PARTITION BY c.account_id ORDER BY pr.p * c.delta DESC, c.kind, c.target)::int AS rank
FROM (
    SELECT h.account_id, h.tier_code AS from_tier, x.to_tier, x.kind, x.target, h.mrr AS current_mrr, x.delta, x.reason, a.created_on
    FROM (SELECT DISTINCT ON (account_id) * FROM b_hist ORDER BY account_id, day DESC) h
    JOIN b_acc a USING (account_id)
    CROSS JOIN LATERAL (
        SELECT 'tier_upgrade' AS kind, n.code AS to_tier, n.code AS target,
               round(n.price * (10000 - h.disc) / 10000.0)::bigint - round(c.price * (10000 - h.disc) / 10000.0)::bigint AS delta,
               'storage_near_limit' AS reason
        FROM b_price c JOIN b_price n ON n.tier = c.tier + 1 WHERE c.tier = h.tier
        UNION ALL
        SELECT 'addon', h.tier_code, h.tier_code || '+' || ad.code || ':1', ad.price, ad.reason
        FROM (VALUES ('storage_100', 1000::bigint, 'storage_near_limit', ARRAY[0, 1]),
                     ('seats_5', 1500::bigint, 'seats_near_limit', ARRAY[1, 2, 3]),
                     ('automation', 2000::bigint, 'feature_demand', ARRAY[0]),
                     ('storage_1000', 6000::bigint, 'storage_near_limit', ARRAY[3])) ad (code, price, reason, tiers)
        WHERE h.tier = ANY (ad.tiers)
    ) x
    WHERE h.status IN ('active', 'past_due') AND a.created_on <= :'last_run_on'::date
) c
JOIN LATERAL (SELECT p FROM b_prob WHERE b_prob.kind = c.kind AND b_prob.day = :'last_run_on'::date) pr ON true;

CREATE TEMP TABLE b_open AS
SELECT c.*, row_number() OVER (ORDER BY c.account_id, c.rank)::int AS n,
       greatest(c.created_on, :'last_run_on'::date - floor(power(c.r_day, 2) * 60)::int) AS as_of
FROM (SELECT *, random() AS r_day FROM b_cand ORDER BY rank, account_id, kind, target LIMIT :offers) c;

INSERT INTO offers (account_id, offer_id, run_id, as_of, kind, rank, status, target, from_tier, to_tier, add_items, current_mrr, new_mrr,
                    delta_mrr, acceptance_probability, expected_delta_mrr, reasons, rationale, created_at, updated_at)
SELECT account_id, md5('bench open offer ' || n)::uuid, md5('bench run ' || as_of)::uuid, as_of, kind, rank, 'proposed', target,
       from_tier, to_tier,
       CASE WHEN kind = 'addon' THEN jsonb_build_array(jsonb_build_object('addon', split_part(split_part(target, '+', 2), ':', 1), 'quantity', 1))
            ELSE '[]'::jsonb END,
       current_mrr, current_mrr + delta, delta, pr.p, pr.p * delta,
       ARRAY[reason], 'bench: ' || reason, (as_of + time '02:01') AT TIME ZONE 'UTC', (as_of + time '02:01') AT TIME ZONE 'UTC'
FROM b_open o JOIN LATERAL (SELECT p FROM b_prob WHERE b_prob.kind = o.kind AND b_prob.day = o.as_of) pr ON true ORDER BY account_id, n;

-- Events, oldest first (seq follows time): each offer's creation by its run, then the decisions.
INSERT INTO offer_events (account_id, offer_id, from_status, to_status, actor, reason, at, run_id)
SELECT account_id, offer_id, from_status, to_status, actor, reason, at, run_id
FROM (
    SELECT account_id, md5('bench open offer ' || n)::uuid AS offer_id, NULL::text AS from_status, 'proposed' AS to_status,
           'bench' AS actor, 'planned for ' || as_of AS reason, as_of::timestamp AT TIME ZONE 'UTC' AS at,
           md5('bench run ' || as_of)::uuid AS run_id
    FROM b_open
    UNION ALL
    SELECT account_id, md5('bench past offer ' || n)::uuid, NULL, 'proposed', 'bench', 'planned for ' || made,
           made::timestamp AT TIME ZONE 'UTC', md5('bench run ' || made)::uuid
    FROM b_past
    UNION ALL
    SELECT account_id, md5('bench past offer ' || n)::uuid, 'proposed', 'approved', 'reviewer', NULL,
           (approved + time '10:00') AT TIME ZONE 'UTC', NULL
    FROM b_past
    UNION ALL
    SELECT account_id, md5('bench past offer ' || n)::uuid, 'approved', outcome, 'crm', reason,
           (decided + time '15:00') AT TIME ZONE 'UTC', NULL
    FROM b_past
) e
ORDER BY at, account_id, offer_id;

DROP TABLE b_price, b_acc, b_draw, b_ev0, b_ev, b_state, b_hist, b_cand, b_open, b_past, b_prob;
VACUUM ANALYZE accounts;
VACUUM ANALYZE account_addons;
VACUUM ANALYZE account_history;
VACUUM ANALYZE runs;
VACUUM ANALYZE offers;
VACUUM ANALYZE offer_events;
