-- Distributes tierplan's schema on Citus: every per-account table by account_id (co-located with
-- accounts, so joins and foreign keys stay on one node), the catalog and access tables as
-- reference tables copied to every node. Run once, on the coordinator, after `tierplan db migrate`
-- and before loading data:
--   psql "$COORDINATOR_URL" -f citus.sql
-- docker compose --profile citus does this with the citus-setup service.

-- The worker(s). In docker compose the coordinator is citus-coordinator and the worker citus-worker.
SELECT citus_set_coordinator_host('citus-coordinator', 5432);
SELECT citus_add_node('citus-worker', 5432);

-- Reference tables: small, read everywhere.
SELECT create_reference_table('schema_version');
SELECT create_reference_table('catalog');
SELECT create_reference_table('features');
SELECT create_reference_table('tiers');
SELECT create_reference_table('tier_features');
SELECT create_reference_table('addons');
SELECT create_reference_table('runs');
SELECT create_reference_table('users');
SELECT create_reference_table('api_tokens');
SELECT create_reference_table('sessions');
SELECT create_reference_table('audit_log');
-- The webhook outbox is one stream for every account, delivered in its order per endpoint.
SELECT create_reference_table('webhook_endpoints');
SELECT create_reference_table('webhook_events');
SELECT create_reference_table('webhook_deliveries');
SELECT create_reference_table('webhook_attempts');

-- Citus refuses row triggers on distributed tables unless told otherwise; keep offer_events
-- append-only by privileges instead (the application role never needs UPDATE or DELETE on it).
DROP TRIGGER IF EXISTS offer_events_no_change ON offer_events;
REVOKE UPDATE, DELETE, TRUNCATE ON offer_events FROM PUBLIC;

-- Per-account tables, distributed by account_id and co-located with accounts.
SELECT create_distributed_table('accounts', 'account_id');
SELECT create_distributed_table('account_addons', 'account_id', colocate_with => 'accounts');
SELECT create_distributed_table('account_history', 'account_id', colocate_with => 'accounts');
SELECT create_distributed_table('usage_events', 'account_id', colocate_with => 'accounts');
SELECT create_distributed_table('storage_months', 'account_id', colocate_with => 'accounts');
SELECT create_distributed_table('feature_days', 'account_id', colocate_with => 'accounts');
SELECT create_distributed_table('user_days', 'account_id', colocate_with => 'accounts');
SELECT create_distributed_table('offers', 'account_id', colocate_with => 'accounts');
SELECT create_distributed_table('offer_events', 'account_id', colocate_with => 'accounts');
SELECT create_distributed_table('alert_states', 'account_id', colocate_with => 'accounts');
