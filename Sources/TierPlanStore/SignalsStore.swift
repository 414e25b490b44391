import Foundation
import Postgres
import TierPlanCore

/// The watcher's SQL: one set-based query over the rollups (storage by day, feature and user day sets by month) for every account watched on
/// as_of (`AccountStatus.isWatched`) (its state from the account history), streamed through a cursor in batches.
/// Raw events are never read here.
public enum SignalsStore {
    /// Calls `body` with batches of accounts and their usage summaries over the window ending on
    /// `asOf`, ordered by account id. Must run inside a transaction (it uses a cursor).
    public static func forEachBatch(_ db: Connection, asOf: Day, accountID: String? = nil, batchSize: Int = 5_000,
                                    _ body: ([(Account, UsageSummary)]) throws -> Void) throws {
        let (sql, parameters) = query(asOf: asOf, accountID: accountID)
        try db.forEachBatch(sql, parameters, batchSize: batchSize) { rows in
            try body(rows.map(decode))
        }
    }

    /// The signals query and its parameters.
    static func query(asOf: Day, accountID: String?) -> (sql: String, parameters: [any PostgresEncodable]) {
        let start = Watcher.windowStart(asOf: asOf)
        // The window's days of each month it touches, as constants ($5–$8; one month is given twice):
        // a CASE per rollup row, where computing the day set in SQL per row cost half the scan.
        let months = Watcher.windowMonths(asOf: asOf)
        let window = "CASE month WHEN $5::date THEN $6::integer WHEN $7::date THEN $8::integer ELSE 0 END"
        // The account as it was on as_of (tier, add-ons, discount, status: its history row), not as it is now.
        var sql = """
            WITH \(HistoryStore.statesSQL(days: "$3"))
            SELECT a.account_id, a.name, s.tier_code, s.status, a.created_at, s.discount_bp, a.segment, a.owner, a.canceled_at,
                   s.addons,
                   (SELECT d.last_bytes FROM daily_storage d
                     WHERE d.account_id = a.account_id AND d.day <= $2::date ORDER BY d.day DESC LIMIT 1),
                   st.days, st.maxes, fu.keys, fu.days, coalesce(us.users, 0)
            FROM states s JOIN accounts a USING (account_id)
            LEFT JOIN (SELECT account_id, array_agg(day - $1::date ORDER BY day) AS days, array_agg(max_bytes ORDER BY day) AS maxes
                       FROM daily_storage WHERE day BETWEEN $1::date AND $2::date GROUP BY account_id) st USING (account_id)
            LEFT JOIN (SELECT account_id, array_agg(feature_key ORDER BY feature_key) AS keys, array_agg(days ORDER BY feature_key) AS days
                       FROM (SELECT account_id, feature_key, sum(bit_count((days & \(window))::bit(32)))::int AS days
                             FROM feature_days WHERE month IN ($5::date, $7::date) AND days & \(window) <> 0
                             GROUP BY account_id, feature_key) f
                       GROUP BY account_id) fu USING (account_id)
            LEFT JOIN (SELECT account_id, count(*) AS users
                       FROM (SELECT DISTINCT account_id, user_id FROM user_days WHERE month IN ($5::date, $7::date) AND days & \(window) <> 0) u
                       GROUP BY account_id) us USING (account_id)
            WHERE s.status = ANY($4::text[])
            """
        var parameters: [any PostgresEncodable] = [start.iso, asOf.iso, PostgresArray([asOf.iso]), CoreSets.watchedStatuses,
                                                   months[0].month.iso, Int(months[0].days), months.last!.month.iso, Int(months.last!.days)]
        if let accountID {
            sql += " AND a.account_id = $9"
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

    static func decode(_ row: Row) throws -> (Account, UsageSummary) { try decode(row, usage: true) }

    static func decode(_ row: Row, usage withUsage: Bool) throws -> (Account, UsageSummary) {
        let addons = try row.decode(9, as: String.self).split(separator: ";").compactMap { item -> AddonQuantity? in
            let parts = item.split(separator: ":")
            guard parts.count == 2, let quantity = Int(parts[1]) else { return nil }
            return AddonQuantity(addon: String(parts[0]), quantity: quantity)
        }
        let account = Account(
            id: try row.decode(0), name: try row.decode(1), tier: try row.decode(2),
            status: AccountStatus(rawValue: try row.decode(3)) ?? .active,
            createdAt: try timestamp(try row.decode(4)), addons: addons,
            discount: Discount(basisPoints: try row.decode(5)), segment: try row.decode(6), owner: try row.decode(7),
            canceledAt: try row.decodeIfPresent(8, as: String.self).map(timestamp))
        guard withUsage else { return (account, UsageSummary()) }
        let days = try row.decodeIfPresent(11, as: PostgresArray<Int>.self)?.elements ?? []
        let maxes = try row.decodeIfPresent(12, as: PostgresArray<Int64>.self)?.elements ?? []
        let keys = try row.decodeIfPresent(13, as: PostgresArray<String>.self)?.elements ?? []
        let featureDays = try row.decodeIfPresent(14, as: PostgresArray<Int>.self)?.elements ?? []
        let usage = UsageSummary(
            storageUsedBytes: try row.decodeIfPresent(10),
            dailyMaxStorage: zip(days, maxes).map { (day: $0, bytes: $1) },
            featureDays: Dictionary(zip(keys, featureDays), uniquingKeysWith: +),
            activeUsers: try row.decode(15))
        return (account, usage)
    }

    /// Reads PostgreSQL's timestamptz text (`2026-10-01 06:00:00+00`, session time zone UTC).
    static func timestamp(_ text: String) throws -> Timestamp {
        var iso = text.replacingOccurrences(of: " ", with: "T")
        if iso.hasSuffix("+00") { iso = String(iso.dropLast(3)) + "Z" }
        guard let value = Timestamp(iso: iso) else {
            throw PostgresError(code: .decoding, message: "cannot read timestamp '\(text)'")
        }
        return value
    }
}
