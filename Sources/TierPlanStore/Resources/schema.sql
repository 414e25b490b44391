-- tierplan schema. Applied by `tierplan db migrate`; every statement is safe to run again.
-- Money is bigint minor units (cents). Storage is bigint bytes. Days are UTC calendar days.
-- Every per-account table has a primary key that starts with account_id, so the schema can be
-- distributed by account on Citus (see citus.sql); catalog tables are small reference tables.
-- To change the schema: append idempotent statements (ADD COLUMN IF NOT EXISTS, …) and raise
-- the version at the end of this file and in Schema.swift.

CREATE TABLE IF NOT EXISTS schema_version (
    version    integer PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- ───────────────────────────── Catalog (reference data) ─────────────────────────────

-- The catalog as a whole: its currency, policy overrides and when it was loaded.
CREATE TABLE IF NOT EXISTS catalog (
    id         boolean PRIMARY KEY DEFAULT true CHECK (id),      -- exactly one row
    currency   char(3) NOT NULL,
    policy     jsonb   NOT NULL DEFAULT '{}',                    -- overrides of the policy defaults
    source     text,                                             -- file it was loaded from
    loaded_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS features (
    key  text PRIMARY KEY,
    name text NOT NULL
);

-- Tiers; rank is the position in the catalog file, 0 = lowest.
CREATE TABLE IF NOT EXISTS tiers (
    code          text PRIMARY KEY,
    name          text    NOT NULL,
    rank          integer NOT NULL,
    price_monthly bigint  NOT NULL CHECK (price_monthly >= 0),
    storage_gb    bigint  NOT NULL CHECK (storage_gb >= 0),
    seats         integer NOT NULL CHECK (seats >= 0)
);

CREATE TABLE IF NOT EXISTS tier_features (
    tier_code   text NOT NULL REFERENCES tiers (code) ON DELETE CASCADE,
    feature_key text NOT NULL REFERENCES features (key),
    PRIMARY KEY (tier_code, feature_key)
);

-- Add-ons: storage and seat packs, feature add-ons, one-time services.
CREATE TABLE IF NOT EXISTS addons (
    code          text PRIMARY KEY,
    name          text    NOT NULL,
    kind          text    NOT NULL CONSTRAINT addons_kind_check CHECK (kind IN ('storage', 'seats', 'feature', 'service', 'bundle')),
    storage_gb    bigint  NOT NULL DEFAULT 0 CHECK (storage_gb >= 0),
    seats         integer NOT NULL DEFAULT 0 CHECK (seats >= 0),
    feature_key   text REFERENCES features (key),
    price_monthly bigint  NOT NULL DEFAULT 0 CHECK (price_monthly >= 0),
    price_once    bigint  NOT NULL DEFAULT 0 CHECK (price_once >= 0),
    available_on  text[]                                         -- NULL: every tier
);

-- ───────────────────────────── Accounts ─────────────────────────────

CREATE TABLE IF NOT EXISTS accounts (
    account_id   text PRIMARY KEY,
    name         text        NOT NULL,
    tier_code    text        NOT NULL REFERENCES tiers (code),
    status       text        NOT NULL CHECK (status IN ('active', 'trialing', 'past_due', 'canceled')),
    created_at   timestamptz NOT NULL,
    discount_bp  integer     NOT NULL DEFAULT 0 CHECK (discount_bp BETWEEN 0 AND 10000), -- 1250 = 12.5 %
    segment      text        NOT NULL DEFAULT '',
    owner        text        NOT NULL DEFAULT '',
    canceled_at  timestamptz,
    mrr          bigint      NOT NULL CHECK (mrr >= 0),          -- as priced at the last import
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS account_addons (
    account_id text    NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
    addon_code text    NOT NULL REFERENCES addons (code),
    quantity   integer NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (account_id, addon_code)
);

-- Every change of tier, add-ons, discount, status or MRR, with the day it took effect.
-- One row per account and day: a second import for the same day replaces that day's state.
CREATE TABLE IF NOT EXISTS account_history (
    account_id   text    NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
    effective_on date    NOT NULL,
    tier_code    text    NOT NULL,
    addons       text    NOT NULL DEFAULT '',                    -- code:qty;… sorted by code
    discount_bp  integer NOT NULL,
    status       text    NOT NULL,
    mrr          bigint  NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, effective_on)
);

-- ───────────────────────────── Usage ─────────────────────────────

-- Raw events (version 4: usage_events, below) and the rollups planning reads, kept in step by
-- ingest in the same transaction. Planning reads only rollups, so its cost follows accounts × days
-- (storage) and accounts × keys × months (features and users), not events.

-- Per account and month (version 5): the days with storage samples, and for each of those days, in day
-- order, the largest sample (growth trend), the latest one (usage on a day: its time and value) and
-- how many there were. One row per account and month instead of one per day: the ingest's upsert and
-- the run's read follow accounts × months, not samples. The view `daily_storage` (below) shows it a
-- row per day, as before version 5.
CREATE TABLE IF NOT EXISTS storage_months (
    account_id text          NOT NULL,
    month      date          NOT NULL CHECK (extract(day FROM month) = 1),
    days       smallint[]    NOT NULL,   -- days of the month, ascending
    max_bytes  bigint[]      NOT NULL,
    last_at    timestamptz[] NOT NULL,
    last_bytes bigint[]      NOT NULL,
    samples    integer[]     NOT NULL,
    PRIMARY KEY (account_id, month),
    CHECK (cardinality(days) BETWEEN 1 AND 31 AND cardinality(max_bytes) = cardinality(days) AND cardinality(last_at) = cardinality(days)
           AND cardinality(last_bytes) = cardinality(days) AND cardinality(samples) = cardinality(days))
);

-- ───────────────────────────── Runs and offers ─────────────────────────────

-- One row per `plan`/`run`: what it was asked and what it did.
CREATE TABLE IF NOT EXISTS runs (
    run_id           uuid PRIMARY KEY,
    command          text        NOT NULL,
    as_of            date        NOT NULL,
    started_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    accounts_scanned integer,
    accounts_flagged integer,
    offers_created   integer,
    offers_refreshed integer,
    offers_expired   integer
);

-- Priced suggestions. Only one open (proposed/approved) offer per account, kind and target.
CREATE TABLE IF NOT EXISTS offers (
    account_id             text        NOT NULL REFERENCES accounts (account_id),
    offer_id               uuid        NOT NULL,
    run_id                 uuid        NOT NULL,
    as_of                  date        NOT NULL,
    kind                   text        NOT NULL CONSTRAINT offers_kind_check CHECK (kind IN ('tier_upgrade', 'addon', 'adoption', 'trial_conversion')),
    rank                   integer     NOT NULL,                 -- 1 primary, 2 alternative
    status                 text        NOT NULL CHECK (status IN ('proposed', 'approved', 'rejected', 'snoozed',
                                                                   'expired', 'held_out', 'accepted', 'declined')),
    target                 text        NOT NULL,                 -- canonical to_tier + add-ons, for de-duplication
    from_tier              text        NOT NULL,
    to_tier                text        NOT NULL,
    add_items              jsonb       NOT NULL DEFAULT '[]',    -- [{"addon":…, "quantity":…}]
    remove_items           jsonb       NOT NULL DEFAULT '[]',
    current_mrr            bigint      NOT NULL,
    new_mrr                bigint      NOT NULL,
    delta_mrr              bigint      NOT NULL,
    one_time               bigint      NOT NULL DEFAULT 0,
    acceptance_probability double precision NOT NULL,
    expected_delta_mrr     double precision NOT NULL,
    reasons                text[]      NOT NULL,
    rationale              text        NOT NULL,
    evidence               jsonb       NOT NULL DEFAULT '{}',    -- the signals it was built on
    snoozed_until          date,
    version                integer     NOT NULL DEFAULT 1,       -- raised by every change (optimistic locking)
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, offer_id)
);
CREATE INDEX IF NOT EXISTS offers_offer_id ON offers (offer_id);
CREATE UNIQUE INDEX IF NOT EXISTS offers_one_open_per_target ON offers (account_id, kind, target)
    WHERE status IN ('proposed', 'approved');
CREATE INDEX IF NOT EXISTS offers_status ON offers (status);
-- The review queue: proposed offers, highest expected delta first.
CREATE INDEX IF NOT EXISTS offers_queue ON offers (status, expected_delta_mrr DESC, account_id, rank);

-- Append-only audit of every offer change: who, when, why. Never updated, never deleted.
CREATE TABLE IF NOT EXISTS offer_events (
    account_id  text        NOT NULL,
    offer_id    uuid        NOT NULL,
    seq         bigserial   NOT NULL,
    from_status text,
    to_status   text        NOT NULL,
    actor       text        NOT NULL,
    reason      text,
    at          timestamptz NOT NULL DEFAULT now(),
    run_id      uuid,
    PRIMARY KEY (account_id, offer_id, seq)
);

CREATE OR REPLACE FUNCTION offer_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'offer_events is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
DROP TRIGGER IF EXISTS offer_events_no_change ON offer_events;
CREATE TRIGGER offer_events_no_change BEFORE UPDATE OR DELETE ON offer_events
    FOR EACH ROW EXECUTE FUNCTION offer_events_append_only();

-- ───────────────────────────── People and access (review page, API) ─────────────────────────────

-- People who sign in to the review page. Passwords are bcrypt hashes, never stored in clear.
CREATE TABLE IF NOT EXISTS users (
    name          text PRIMARY KEY,
    role          text NOT NULL CHECK (role IN ('viewer', 'reviewer', 'admin')),
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Bearer tokens for jobs; only the SHA-256 of the token is kept (it is shown once, at creation).
CREATE TABLE IF NOT EXISTS api_tokens (
    token_hash   text PRIMARY KEY,
    name         text NOT NULL,
    role         text NOT NULL CHECK (role IN ('viewer', 'reviewer', 'admin')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz
);

-- Signed-in browser sessions: the SHA-256 of the cookie value, with the CSRF token of its forms.
CREATE TABLE IF NOT EXISTS sessions (
    session_hash text PRIMARY KEY,
    user_name    text NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);

-- ───────────────────────────── Version 3: learning from outcomes (issue 13) ─────────────────────────────

-- Why a customer declined (contract: Offer life); set on declined events only.
ALTER TABLE offer_events ADD COLUMN IF NOT EXISTS reason_code text;
DO $$ BEGIN
    ALTER TABLE offer_events ADD CONSTRAINT offer_events_reason_code
        CHECK (reason_code IN ('price', 'budget', 'timing', 'no_need', 'competitor', 'other'));
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;

-- The kind-level probability next to the grouped one the offer carries (calibration compares them),
-- and the experiment and arm of the offer's account.
ALTER TABLE offers ADD COLUMN IF NOT EXISTS kind_probability double precision;
ALTER TABLE offers ADD COLUMN IF NOT EXISTS experiment text;
ALTER TABLE offers ADD COLUMN IF NOT EXISTS arm text;
DO $$ BEGIN
    ALTER TABLE offers ADD CONSTRAINT offers_arm CHECK (arm IS NULL OR (arm IN ('treatment', 'control') AND experiment IS NOT NULL));
EXCEPTION WHEN duplicate_object THEN NULL;
END $$;

-- Who signed in (or failed to, from which address), and every change of users and tokens. Append-only
-- like offer_events; sign-in throttling counts the recent failures here.
CREATE TABLE IF NOT EXISTS audit_log (
    seq     bigserial   PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT now(),
    action  text        NOT NULL CHECK (action IN ('sign_in', 'sign_in_failed', 'sign_in_throttled', 'sign_out',
                                                   'user_added', 'token_created')),
    actor   text        NOT NULL,                                -- who did it (the name tried, for sign-ins)
    subject text,                                                -- the user or token it concerns
    address text                                                 -- the client's address, for sign-ins
);
CREATE INDEX IF NOT EXISTS audit_log_sign_in_failures ON audit_log (actor, at) WHERE action = 'sign_in_failed';
CREATE INDEX IF NOT EXISTS audit_log_address_failures ON audit_log (address, at) WHERE action = 'sign_in_failed';
DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION offer_events_append_only();

-- ───────────────────────────── Version 4: usage kept compact (issue 15) ─────────────────────────────

-- Raw events of both kinds in one table, unique per time, account and event id across kinds (ingest
-- is idempotent on it; version 8 put the time first, see below). The key compares bytes (COLLATE "C").
-- `ingest` numbers the ingest that stored the row, so the rollups read exactly its new rows (BRIN:
-- the rows of one ingest are appended together). Kept for `policy.raw_retention_days` (`tierplan
-- usage prune`); the rollups hold what planning needs for good.
CREATE SEQUENCE IF NOT EXISTS usage_ingests;
CREATE TABLE IF NOT EXISTS usage_events (
    account_id  text        COLLATE "C" NOT NULL,
    id          text        COLLATE "C" NOT NULL,
    kind        text        NOT NULL CHECK (kind IN ('storage', 'feature')),
    at          timestamptz NOT NULL,
    bytes       bigint      CHECK (bytes >= 0),                  -- storage
    user_id     text,                                            -- feature
    feature_key text,                                            -- feature
    count       bigint      CHECK (count >= 1),                  -- feature
    ingest      bigint      NOT NULL DEFAULT 0,
    PRIMARY KEY (at, account_id, id),
    CHECK (CASE kind WHEN 'storage' THEN bytes IS NOT NULL
                     ELSE user_id IS NOT NULL AND feature_key IS NOT NULL AND count IS NOT NULL END)
);

CREATE INDEX IF NOT EXISTS usage_events_ingest ON usage_events USING brin (ingest);

-- Per account, feature and month: the days of the month it was used, bit d−1 for day d. One row per
-- account × feature × month instead of one per day: "used on ≥ 3 days of the window" is a bit_count.
CREATE TABLE IF NOT EXISTS feature_days (
    account_id  text    NOT NULL,
    feature_key text    NOT NULL,
    month       date    NOT NULL CHECK (extract(day FROM month) = 1),
    days        integer NOT NULL,
    PRIMARY KEY (account_id, feature_key, month)
);

-- Per account, user and month: the days of the month the user had feature events (active users).
CREATE TABLE IF NOT EXISTS user_days (
    account_id text    NOT NULL,
    user_id    text    NOT NULL,
    month      date    NOT NULL CHECK (extract(day FROM month) = 1),
    days       integer NOT NULL,
    PRIMARY KEY (account_id, user_id, month)
);

-- The bit of `day` in its month's day set.
CREATE OR REPLACE FUNCTION day_bit(day date) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN (1::bigint << (extract(day FROM day)::int - 1))::integer;

-- The days of `month` (its first day) that lie between `first` and `last`, as a day set.
CREATE OR REPLACE FUNCTION window_days(month date, first date, last date) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE WHEN least(last, (month + interval '1 month' - interval '1 day')::date) < greatest(first, month) THEN 0
                ELSE ((1::bigint << (least(last, (month + interval '1 month' - interval '1 day')::date) - month + 1))
                      - (1::bigint << (greatest(first, month) - month)))::integer END;

-- From version 3: the two raw tables and the two daily rollups become the tables above, exactly
-- (a day set is the set of days the daily rows had).
DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'storage_samples') THEN
        INSERT INTO usage_events (account_id, id, kind, at, bytes)
            SELECT account_id, id, 'storage', at, bytes FROM storage_samples ON CONFLICT DO NOTHING;
        INSERT INTO usage_events (account_id, id, kind, at, user_id, feature_key, count)
            SELECT account_id, id, 'feature', at, user_id, feature_key, count FROM feature_events ON CONFLICT DO NOTHING;
        DROP TABLE storage_samples, feature_events;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'daily_feature_usage') THEN
        INSERT INTO feature_days (account_id, feature_key, month, days)
            SELECT account_id, feature_key, date_trunc('month', day)::date, bit_or(day_bit(day))
            FROM daily_feature_usage GROUP BY 1, 2, 3 ON CONFLICT DO NOTHING;
        INSERT INTO user_days (account_id, user_id, month, days)
            SELECT account_id, user_id, date_trunc('month', day)::date, bit_or(day_bit(day))
            FROM daily_active_users GROUP BY 1, 2, 3 ON CONFLICT DO NOTHING;
        DROP TABLE daily_feature_usage, daily_active_users;
    END IF;
END $$;

-- From version 4: the daily storage rows become month rows, exactly.
DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'daily_storage') THEN
        INSERT INTO storage_months (account_id, month, days, max_bytes, last_at, last_bytes, samples)
            SELECT account_id, date_trunc('month', day)::date, array_agg(extract(day FROM day)::smallint ORDER BY day),
                   array_agg(max_bytes ORDER BY day), array_agg(last_at ORDER BY day), array_agg(last_bytes ORDER BY day),
                   array_agg(samples ORDER BY day)
            FROM daily_storage GROUP BY 1, 2 ON CONFLICT DO NOTHING;
        DROP TABLE daily_storage;
    END IF;
END $$;

-- Storage a row per account and day, as before version 5.
CREATE OR REPLACE VIEW daily_storage AS
    SELECT m.account_id, m.month + (d.day - 1) AS day, d.max_bytes, d.last_at, d.last_bytes, d.samples
    FROM storage_months m, unnest(m.days, m.max_bytes, m.last_at, m.last_bytes, m.samples) AS d (day, max_bytes, last_at, last_bytes, samples);

-- The raw events of each kind, as before version 4 (for queries people already wrote).
CREATE OR REPLACE VIEW storage_samples AS
    SELECT account_id, id, at, bytes FROM usage_events WHERE kind = 'storage';
CREATE OR REPLACE VIEW feature_events AS
    SELECT account_id, id, user_id, feature_key, at, count FROM usage_events WHERE kind = 'feature';

-- ───────────────────────────── Version 5: alerts and webhooks (issue 16) ─────────────────────────────

-- The usage thresholds each account has crossed and not fallen back under, as the latest run saw them
-- (a row per crossed threshold; its resolution deletes it). Runs compare their readings with it.
CREATE TABLE IF NOT EXISTS alert_states (
    account_id text             NOT NULL,
    metric     text             NOT NULL CHECK (metric IN ('storage', 'seats')),
    threshold  double precision NOT NULL,
    value      double precision NOT NULL,                        -- the utilization when it was crossed
    as_of      date             NOT NULL,                        -- the as_of of the run that raised it
    raised_at  timestamptz      NOT NULL,
    PRIMARY KEY (account_id, metric, threshold)
);

-- Webhook endpoints. The signing secret is kept as given out (it signs every delivery); removal keeps
-- the row (its deliveries stay listed) and ends its pending deliveries.
CREATE SEQUENCE IF NOT EXISTS webhook_endpoint_ids;
CREATE TABLE IF NOT EXISTS webhook_endpoints (
    endpoint_id bigint      PRIMARY KEY DEFAULT nextval('webhook_endpoint_ids'),
    url         text        NOT NULL,
    events      text[]      NOT NULL,
    format      text        NOT NULL CHECK (format IN ('json', 'slack')),
    secret      text        NOT NULL,
    created_at  timestamptz NOT NULL,
    removed_at  timestamptz
);

-- The outbox: every event, written by the transaction of the change that raised it, with the body
-- every delivery of it sends (byte for byte, so a retry carries the same signature input). `seq` is
-- the order of events; deliveries to one endpoint keep it.
CREATE TABLE IF NOT EXISTS webhook_events (
    seq        bigserial   PRIMARY KEY,
    event_id   text        NOT NULL,                             -- evt_… (128 random bits)
    type       text        NOT NULL,
    account_id text,                                             -- NULL for run.completed and tests
    created    timestamptz NOT NULL,
    body       text        NOT NULL,                             -- the JSON event
    summary    text        NOT NULL                              -- the Slack message's text
);

-- One row per event and endpoint subscribed to its type (made after the event's commit, see version 7),
-- per test event and per redelivery.
-- Pending rows are due from next_attempt_at; an endpoint's next one waits while an earlier one is pending.
-- No foreign keys: the rows are only ever written by the outbox next to the event and endpoint they
-- name, and a run writes thousands (two checks a row were a third of the outbox's cost).
CREATE SEQUENCE IF NOT EXISTS webhook_delivery_ids;
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    delivery_id      bigint      PRIMARY KEY DEFAULT nextval('webhook_delivery_ids'),
    endpoint_id      bigint      NOT NULL,                       -- webhook_endpoints
    event_seq        bigint      NOT NULL,                       -- webhook_events.seq
    status           text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL,
    last_attempt_at  timestamptz,
    last_status_code integer,                                    -- NULL: no answer
    last_latency_ms  integer,
    last_error       text,
    delivered_at     timestamptz,
    redelivery_of    bigint
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_pending ON webhook_deliveries (endpoint_id, event_seq, delivery_id) WHERE status = 'pending';

-- Every attempt of every delivery: when, the answer's status code (NULL: none), latency, error.
CREATE TABLE IF NOT EXISTS webhook_attempts (
    delivery_id bigint      NOT NULL REFERENCES webhook_deliveries (delivery_id),
    attempt     integer     NOT NULL,
    at          timestamptz NOT NULL,
    status_code integer,
    latency_ms  integer     NOT NULL,
    error       text,
    PRIMARY KEY (delivery_id, attempt)
);

-- ───────────────────────────── Version 6: bundles and trial conversion (issue 17) ─────────────────────────────

-- A bundle is an add-on of kind 'bundle' (codes are shared with add-ons, accounts hold it like one)
-- whose contents are other add-ons with their quantities: [{"addon": "storage_100", "quantity": 2}, …].
ALTER TABLE addons ADD COLUMN IF NOT EXISTS contents jsonb NOT NULL DEFAULT '[]';
-- Databases made before version 6 have the older kind checks; widen them once.
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'addons'::regclass AND contype = 'c'
                   AND pg_get_constraintdef(oid) LIKE '%bundle%') THEN
        ALTER TABLE addons DROP CONSTRAINT IF EXISTS addons_kind_check;
        ALTER TABLE addons ADD CONSTRAINT addons_kind_check CHECK (kind IN ('storage', 'seats', 'feature', 'service', 'bundle'));
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'offers'::regclass AND contype = 'c'
                   AND pg_get_constraintdef(oid) LIKE '%trial_conversion%') THEN
        ALTER TABLE offers DROP CONSTRAINT IF EXISTS offers_kind_check;
        ALTER TABLE offers ADD CONSTRAINT offers_kind_check CHECK (kind IN ('tier_upgrade', 'addon', 'adoption', 'trial_conversion'));
    END IF;
END $$;

-- ───────────────────────────── Version 7: deliveries made by the deliverer (issue 16) ─────────────────────────────

-- A run's transaction writes its events only; each endpoint's deliveries are made from the outbox
-- afterwards, outside it, by whoever reads them first (the deliverer, a listing): the events after
-- `fanned_seq` that the endpoint takes. This is safe because writers of events take one lock
-- (`pg_advisory_xact_lock(hashtext('tierplan.outbox'), 0)`) before their first sequence number and
-- hold it to their commit: events become visible in `seq` order, so nothing can appear later below a
-- number already seen. Endpoints that existed before version 7 had their deliveries made with the events.
ALTER TABLE webhook_endpoints ADD COLUMN IF NOT EXISTS fanned_seq bigint;
UPDATE webhook_endpoints SET fanned_seq = (SELECT coalesce(max(seq), 0) FROM webhook_events) WHERE fanned_seq IS NULL;
ALTER TABLE webhook_endpoints ALTER COLUMN fanned_seq SET NOT NULL;
-- A run's `offer.proposed` events are written without their body (most of the outbox's bytes): it is
-- the offer as proposed, made from the offer's row (`offer_id`) before anything changes that row or
-- when the event is first fanned out, whichever comes first. NULL body: not made yet (and never, when
-- no endpoint takes it). Those still to be made lie after the lowest `fanned_seq`: found by the key.
ALTER TABLE webhook_events ADD COLUMN IF NOT EXISTS offer_id uuid;
ALTER TABLE webhook_events ALTER COLUMN body DROP NOT NULL;

-- ───────────────────────────── Version 8: the raw events' key leads with the time (issue 15) ─────────────────────────────

-- Events arrive in time order and an export is resent whole, so the key that dedupes them starts with
-- their time: an ingest's inserts go to the right edge of the index, instead of one random page per
-- event of an `(account_id, id)` index several times the cache (that key alone made an ingest's COPY
-- 4–8× slower than a plain one). An event is the same event when its time, account and id are: a
-- resend is a duplicate; an id used again at another time is another event (README, Decisions).
-- Retention (`usage prune`) deletes by the same key's first column.
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'usage_events'::regclass AND contype = 'p'
                   AND pg_get_constraintdef(oid) LIKE 'PRIMARY KEY (at,%') THEN
        ALTER TABLE usage_events DROP CONSTRAINT usage_events_pkey, ADD CONSTRAINT usage_events_pkey PRIMARY KEY (at, account_id, id);
    END IF;
END $$;

INSERT INTO schema_version (version) VALUES (2) ON CONFLICT DO NOTHING;
INSERT INTO schema_version (version) VALUES (3) ON CONFLICT DO NOTHING;
INSERT INTO schema_version (version) VALUES (4) ON CONFLICT DO NOTHING;
INSERT INTO schema_version (version) VALUES (5) ON CONFLICT DO NOTHING;
INSERT INTO schema_version (version) VALUES (6) ON CONFLICT DO NOTHING;
INSERT INTO schema_version (version) VALUES (7) ON CONFLICT DO NOTHING;
INSERT INTO schema_version (version) VALUES (8) ON CONFLICT DO NOTHING;
