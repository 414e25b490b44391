import Foundation
import Postgres
import TierPlanCore

/// The watcher's SQL: one set-based query over the rollups (storage, feature and user day sets by month) for every account watched on
/// as_of (`AccountStatus.isWatched`) (its state from the account history), streamed through a cursor in batches.
/// Raw events are never read here.
public enum SignalsStore {
    /// Calls `body` with batches of accounts and their usage summaries over the window ending on
    /// `asOf`, ordered by account id. Must run inside a transaction (it uses a cursor).
    public static func forEachBatch(_ db: Connection, asOf: Day, accountID: String? = nil, batchSize: Int = 5_000,
                                    _ body: ([(Account, UsageSummary)]) throws -> Void) throws {
        let (sql, parameters) = query(asOf: asOf, accountID: accountID)
        let months = Watcher.windowMonths(asOf: asOf).map(\.month)
        try db.forEachBatch(sql, parameters, batchSize: batchSize) { rows in
            try body(rows.map { try decode($0, months: months, asOf: asOf) })
        }
    }

    /// The signals query and its parameters.
    static func query(asOf: Day, accountID: String?) -> (sql: String, parameters: [any PostgresEncodable]) {
        // The window's days of each month it touches, as constants ($4–$7; one month is given twice):
        // a CASE per rollup row, where computing the day set in SQL per row cost half the scan.
        let months = Watcher.windowMonths(asOf: asOf)
        let window = "CASE month WHEN $4::date THEN $5::integer WHEN $6::date THEN $7::integer ELSE 0 END"
        // The account as it was on as_of (tier, add-ons, discount, status: its history row), not as it is now.
        var sql = """
            WITH \(HistoryStore.statesSQL(days: "$2"))
            SELECT a.account_id, a.name, s.tier_code, s.status, a.created_at, s.discount_bp, a.segment, a.owner, a.canceled_at,
                   s.addons,
                   CASE WHEN NOT coalesce(m1.month + (m1.days[1] - 1) <= $1::date OR m2.month + (m2.days[1] - 1) <= $1::date, false)
                        THEN (SELECT e.last_bytes[cardinality(e.last_bytes)] FROM storage_months e
                              WHERE e.account_id = a.account_id AND e.month < $4::date ORDER BY e.month DESC LIMIT 1) END,
                   m1.days, m1.max_bytes, m1.last_bytes, m2.days, m2.max_bytes, m2.last_bytes, fu.keys, fu.days, coalesce(us.users, 0)
            FROM states s JOIN accounts a USING (account_id)
            LEFT JOIN storage_months m1 ON m1.account_id = a.account_id AND m1.month = $4::date
            LEFT JOIN storage_months m2 ON m2.account_id = a.account_id AND m2.month = $6::date AND $6::date <> $4::date
            LEFT JOIN (SELECT account_id, array_agg(feature_key ORDER BY feature_key) AS keys, array_agg(days ORDER BY feature_key) AS days
                       FROM (SELECT account_id, feature_key, sum(bit_count((days & \(window))::bit(32)))::int AS days
                             FROM feature_days WHERE month IN ($4::date, $6::date) AND days & \(window) <> 0
                             GROUP BY account_id, feature_key) f
                       GROUP BY account_id) fu ON fu.account_id = a.account_id
            LEFT JOIN (SELECT account_id, count(*) AS users
                       FROM (SELECT DISTINCT account_id, user_id FROM user_days WHERE month IN ($4::date, $6::date) AND days & \(window) <> 0) u
                       GROUP BY account_id) us ON us.account_id = a.account_id
            WHERE s.status = ANY($3::text[])
            """
        var parameters: [any PostgresEncodable] = [asOf.iso, PostgresArray([asOf.iso]), CoreSets.watchedStatuses,
                                                   months[0].month.iso, Int(months[0].days), months.last!.month.iso, Int(months.last!.days)]
        if let accountID {
            sql += " AND a.account_id = $8"
            parameters.append(accountID)
        }
        sql += " ORDER BY a.account_id"
        return (sql, parameters)
    }

    /// The signals query with its parameters written in as quoted literals, for `make bench`'s bare
    /// query (`tierplan debug signals-sql`): the benchmark measures the run's own SQL, not a copy.
    public static func inlinedSQL(asOf: Day) -> String {
        var (sql, parameters) = query(asOf: asOf, accountID: nil)
        for (i, value) in parameters.enumerated().reversed() {
            let literal = value.postgresText.map { "'" + $0.replacingOccurrences(of: "'", with: "''") + "'" } ?? "NULL"
            sql = sql.replacingOccurrences(of: "$\(i + 1)", with: literal)
        }
        return sql
    }


    /// Each watched account's signals on `asOf` (or the one account asked for), in batches in
    /// account order, read in one transaction of its own.
    public static func forEachSignals(_ db: Connection, asOf: Day, accountID: String? = nil, catalog: Catalog,
                                      _ body: ([AccountSignals]) throws -> Void) throws {
        try db.transaction { db in
            try forEachBatch(db, asOf: asOf, accountID: accountID) { batch in
                try body(batch.map { Watcher.signals(for: $0.0, usage: $0.1, catalog: catalog, asOf: asOf) })
            }
        }
    }

    /// One account's signals on `asOf`, nil when it is not watched that day.
    public static func signals(_ db: Connection, accountID: String, asOf: Day, catalog: Catalog) throws -> AccountSignals? {
        var found: AccountSignals?
        try forEachSignals(db, asOf: asOf, accountID: accountID, catalog: catalog) { found = $0.first ?? found }
        return found
    }

    /// An account and its usage from a row of the signals query; `months` are the window's months.
    static func decode(_ row: Row, months: [Day], asOf: Day) throws -> (Account, UsageSummary) {
        let account = try decodeAccount(row)
        func month(_ first: Int, _ start: Day) throws -> StorageMonth? {
            guard let days = try row.decodeIfPresent(first, as: PostgresArray<Int>.self)?.elements else { return nil }
            return StorageMonth(month: start, days: days,
                                maxBytes: try row.decodeIfPresent(first + 1, as: PostgresArray<Int64>.self)?.elements ?? [],
                                lastBytes: try row.decodeIfPresent(first + 2, as: PostgresArray<Int64>.self)?.elements ?? [])
        }
        let stored = [try month(11, months[0]), months.count > 1 ? try month(14, months[1]) : nil].compactMap { $0 }
        let storage = StorageMonth.window(stored, earlier: try row.decodeIfPresent(10), asOf: asOf)
        let keys = try row.decodeIfPresent(17, as: PostgresArray<String>.self)?.elements ?? []
        let featureDays = try row.decodeIfPresent(18, as: PostgresArray<Int>.self)?.elements ?? []
        let usage = UsageSummary(
            storageUsedBytes: storage.usedBytes,
            dailyMaxStorage: storage.dailyMax,
            featureDays: Dictionary(zip(keys, featureDays), uniquingKeysWith: +),
            activeUsers: try row.decode(19))
        return (account, usage)
    }

    /// The account columns (0–9) of the signals query and of the account page's query.
    static func decodeAccount(_ row: Row) throws -> Account {
        let addons = try row.decode(9, as: String.self).split(separator: ";").compactMap { item -> AddonQuantity? in
            let parts = item.split(separator: ":")
            guard parts.count == 2, let quantity = Int(parts[1]) else { return nil }
            return AddonQuantity(addon: String(parts[0]), quantity: quantity)
        }
        return Account(
            id: try row.decode(0), name: try row.decode(1), tier: try row.decode(2),
            status: AccountStatus(rawValue: try row.decode(3)) ?? .active,
            createdAt: try timestamp(try row.decode(4)), addons: addons,
            discount: Discount(basisPoints: try row.decode(5)), segment: try row.decode(6), owner: try row.decode(7),
            canceledAt: try row.decodeIfPresent(8, as: String.self).map(timestamp))
    }

    /// Reads PostgreSQL's timestamptz text (`2026-10-01 06:00:00+00`, session time zone UTC), which
    /// `Timestamp(iso:)` takes as it is (a space for `T`, an hours-only offset).
    static func timestamp(_ text: String) throws -> Timestamp {
        guard let value = Timestamp(iso: text) else {
            throw PostgresError(code: .decoding, message: "cannot read timestamp '\(text)'")
        }
        return value
    }
}
