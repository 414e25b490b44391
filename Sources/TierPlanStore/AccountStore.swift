import Foundation
import Postgres
import TierPlanCore

/// What an accounts import did.
public struct AccountImportSummary: Codable, Sendable, Equatable {
    public var rows: Int
    public var inserted: Int
    public var updated: Int
    public var unchanged: Int
    /// Accounts whose tier, add-ons, discount, status or MRR changed (a history row each).
    public var historyChanges: Int
    public var effective: String?
}

/// The SQL of the account tables: upsert from an import, with the history of billing changes.
public enum AccountStore {
    /// Upserts `accounts` in one set-based transaction. Each new account, and each account whose
    /// tier, add-ons, discount, status or MRR changed, gets a history row dated `effective`
    /// (new accounts without `effective`: their creation day; changes without it: today, UTC).
    public static func upsert(_ accounts: [Account], catalog: Catalog, effective: Day?, into db: Connection) throws -> AccountImportSummary {
        let today = Timestamp.now.day
        return try db.transaction { db in
            try db.execute("SELECT pg_advisory_xact_lock(hashtext('tierplan.accounts'))")
            try db.execute("""
                CREATE TEMP TABLE staging_accounts (
                    account_id text PRIMARY KEY, name text, tier_code text, status text, created_at timestamptz,
                    discount_bp integer, segment text, owner text, canceled_at timestamptz, mrr bigint, addons text
                ) ON COMMIT DROP
                """)
            try db.execute("CREATE TEMP TABLE staging_account_addons (account_id text, addon_code text, quantity integer) ON COMMIT DROP")
            try db.copyIn("COPY staging_accounts FROM STDIN") { copy in
                for a in accounts {
                    try copy.writeRow([a.id, a.name, a.tier, a.status.rawValue, a.createdAt.iso, String(a.discount.basisPoints),
                                       a.segment, a.owner, a.canceledAt?.iso, String(a.mrr(in: catalog)), a.addonsText])
                }
            }
            try db.copyIn("COPY staging_account_addons FROM STDIN") { copy in
                for a in accounts {
                    for item in a.addons { try copy.writeRow([a.id, item.addon, String(item.quantity)]) }
                }
            }
            // Classify against the current state before changing it.
            try db.execute("""
                CREATE TEMP TABLE staging_changes ON COMMIT DROP AS
                SELECT s.account_id,
                       a.account_id IS NULL AS is_new,
                       (a.tier_code, a.status, a.discount_bp, a.mrr, coalesce(h.addons, ''))
                           IS DISTINCT FROM (s.tier_code, s.status, s.discount_bp, s.mrr, s.addons) AS billing_changed,
                       (a.name, a.segment, a.owner, a.created_at, a.canceled_at)
                           IS DISTINCT FROM (s.name, s.segment, s.owner, s.created_at, s.canceled_at) AS details_changed
                FROM staging_accounts s
                LEFT JOIN accounts a USING (account_id)
                LEFT JOIN (SELECT account_id, string_agg(addon_code || ':' || quantity, ';' ORDER BY addon_code COLLATE "C") AS addons
                           FROM account_addons GROUP BY account_id) h USING (account_id)
                """)
            try db.execute("""
                INSERT INTO accounts (account_id, name, tier_code, status, created_at, discount_bp, segment, owner, canceled_at, mrr, updated_at)
                SELECT s.account_id, s.name, s.tier_code, s.status, s.created_at, s.discount_bp, s.segment, s.owner, s.canceled_at, s.mrr, now()
                FROM staging_accounts s JOIN staging_changes c USING (account_id)
                WHERE c.is_new OR c.billing_changed OR c.details_changed
                ON CONFLICT (account_id) DO UPDATE SET name = excluded.name, tier_code = excluded.tier_code, status = excluded.status,
                    created_at = excluded.created_at, discount_bp = excluded.discount_bp, segment = excluded.segment,
                    owner = excluded.owner, canceled_at = excluded.canceled_at, mrr = excluded.mrr, updated_at = now()
                """)
            try db.execute("""
                DELETE FROM account_addons x USING staging_changes c
                WHERE x.account_id = c.account_id AND c.billing_changed
                """)
            try db.execute("""
                INSERT INTO account_addons (account_id, addon_code, quantity)
                SELECT s.account_id, s.addon_code, s.quantity FROM staging_account_addons s
                JOIN staging_changes c USING (account_id) WHERE c.billing_changed
                """)
            try db.execute("""
                INSERT INTO account_history (account_id, effective_on, tier_code, addons, discount_bp, status, mrr)
                SELECT s.account_id,
                       CASE WHEN c.is_new THEN coalesce($1::date, (s.created_at AT TIME ZONE 'UTC')::date) ELSE coalesce($1::date, $2::date) END,
                       s.tier_code, s.addons, s.discount_bp, s.status, s.mrr
                FROM staging_accounts s JOIN staging_changes c USING (account_id)
                WHERE c.billing_changed
                ON CONFLICT (account_id, effective_on) DO UPDATE SET tier_code = excluded.tier_code, addons = excluded.addons,
                    discount_bp = excluded.discount_bp, status = excluded.status, mrr = excluded.mrr, recorded_at = now()
                """, [effective?.iso, today.iso])
            let counts = try db.query("""
                SELECT count(*) FILTER (WHERE is_new),
                       count(*) FILTER (WHERE NOT is_new AND (billing_changed OR details_changed)),
                       count(*) FILTER (WHERE NOT is_new AND NOT billing_changed AND NOT details_changed),
                       count(*) FILTER (WHERE billing_changed)
                FROM staging_changes
                """).first!
            return AccountImportSummary(rows: accounts.count, inserted: try counts.decode(0), updated: try counts.decode(1),
                                        unchanged: try counts.decode(2), historyChanges: try counts.decode(3), effective: effective?.iso)
        }
    }

    /// One account as stored, with its MRR; nil when unknown.
    public static func account(_ db: Connection, id: String) throws -> (account: Account, mrr: Int)? {
        try accounts(db, id: id).first
    }

    /// Every account as stored (or the one with `id`), with its stored MRR.
    static func accounts(_ db: Connection, id: String? = nil) throws -> [(account: Account, mrr: Int)] {
        try db.query("""
            SELECT a.account_id, a.name, a.tier_code, a.status, a.created_at, a.discount_bp, a.segment, a.owner, a.canceled_at,
                   coalesce((SELECT string_agg(addon_code || ':' || quantity, ';' ORDER BY addon_code COLLATE "C")
                             FROM account_addons x WHERE x.account_id = a.account_id), ''),
                   a.mrr
            FROM accounts a WHERE $1::text IS NULL OR a.account_id = $1
            """, [id]).rows.map { row in (try SignalsStore.decodeAccount(row), try row.decode(10)) }
    }

    /// After a catalog reload that changed prices: every account's MRR is priced again by the
    /// contract's formula, and each one that moved gets a history row dated `day`. Returns how many.
    static func reprice(_ db: Connection, catalog: Catalog, on day: Day) throws -> Int {
        let changed = try accounts(db).compactMap { stored -> (String, Int)? in
            let mrr = stored.account.mrr(in: catalog)
            return mrr == stored.mrr ? nil : (stored.account.id, mrr)
        }
        guard !changed.isEmpty else { return 0 }
        let ids = PostgresArray(changed.map(\.0)), mrrs = PostgresArray(changed.map(\.1))
        try db.execute("""
            UPDATE accounts a SET mrr = u.mrr, updated_at = now()
            FROM unnest($1::text[], $2::bigint[]) AS u(account_id, mrr) WHERE a.account_id = u.account_id
            """, [ids, mrrs])
        try db.execute("""
            INSERT INTO account_history (account_id, effective_on, tier_code, addons, discount_bp, status, mrr)
            SELECT DISTINCT ON (h.account_id) h.account_id, $3::date, h.tier_code, h.addons, h.discount_bp, h.status, u.mrr
            FROM account_history h JOIN unnest($1::text[], $2::bigint[]) AS u(account_id, mrr) USING (account_id)
            WHERE h.effective_on <= $3::date
            ORDER BY h.account_id, h.effective_on DESC
            ON CONFLICT (account_id, effective_on) DO UPDATE SET mrr = excluded.mrr, recorded_at = now()
            """, [ids, mrrs, day.iso])
        return changed.count
    }

    /// Each day's largest storage sample from `from` to `to`, both included.
    public static func storageSeries(_ db: Connection, id: String, from: Day, to: Day) throws -> [(day: Day, bytes: Int64)] {
        try db.query("""
            SELECT day::text, max_bytes FROM daily_storage WHERE account_id = $1 AND day BETWEEN $2::date AND $3::date ORDER BY day
            """, [id, from.iso, to.iso]).rows.map { (Day(iso: try $0.decode(0, as: String.self))!, try $0.decode(1)) }
    }

    /// The billing history of an account, oldest first.
    public static func history(_ db: Connection, id: String) throws -> [(day: String, tier: String, addons: String, status: String, mrr: Int)] {
        try db.query("""
            SELECT effective_on::text, tier_code, addons, status, mrr FROM account_history WHERE account_id = $1 ORDER BY effective_on
            """, [id]).rows.map { (try $0.decode(0), try $0.decode(1), try $0.decode(2), try $0.decode(3), try $0.decode(4)) }
    }

    /// Account names by id, for the ids given (unknown ids are left out).
    public static func names(_ db: Connection, ids: [String]) throws -> [String: String] {
        guard !ids.isEmpty else { return [:] }
        var names: [String: String] = [:]
        for row in try db.query("SELECT account_id, name FROM accounts WHERE account_id = ANY($1::text[])", [PostgresArray(ids)]).rows {
            names[try row.decode(0)] = try row.decode(1)
        }
        return names
    }
}
