import Foundation
import Postgres
import TierPlanCore

/// How the forecast splits accounts, if at all.
public enum ForecastGrouping: String, Sendable, CaseIterable {
    case tier, segment

    /// A column of `HistoryStore.statesSQL` (fixed identifiers, never input).
    var column: String { self == .tier ? "tier_code" : "segment" }
}

/// The SQL of the account history read "as of" a day (contract: Point in time): each account's
/// state on a day is its history row with the latest effective date on or before it; the first row
/// also holds back to `created_at`, and a first row that is canceled with a `canceled_at` counts as
/// active until the day before it. Before its `created_at` an account does not exist.
public enum HistoryStore {
    /// A `WITH` list defining `states(i, day, account_id, tier_code, addons, discount_bp, status, mrr, segment)`:
    /// every account's state on each day of the `date[]` parameter `days` (`i` is its 1-based position).
    static func statesSQL(days: String) -> String {
        """
        state_days AS (SELECT day, i FROM unnest(\(days)::date[]) WITH ORDINALITY AS d(day, i)),
        state_rows AS (
            SELECT account_id, effective_on, tier_code, addons, discount_bp, status, mrr,
                   lag(effective_on) OVER w IS NULL AS first_row, lead(effective_on) OVER w AS next_on
            FROM account_history WINDOW w AS (PARTITION BY account_id ORDER BY effective_on)
        ),
        states AS (
            SELECT d.i, d.day, h.account_id, h.tier_code, h.addons, h.discount_bp,
                   CASE WHEN h.first_row AND h.status = 'canceled' AND a.canceled_at IS NOT NULL
                             AND d.day < (a.canceled_at AT TIME ZONE 'UTC')::date THEN 'active' ELSE h.status END AS status,
                   h.mrr, a.segment
            FROM state_days d
            JOIN state_rows h ON (h.effective_on <= d.day OR h.first_row) AND (h.next_on IS NULL OR h.next_on > d.day)
            JOIN accounts a ON a.account_id = h.account_id AND a.created_at < (d.day + 1)::timestamp AT TIME ZONE 'UTC'
        )
        """
    }

    /// A `WITH` item `offer_status(account_id, offer_id, to_status)`: each offer's status at the end of
    /// the day given by the SQL expression `day` (a date): its latest event dated on or before it.
    static func offerStatusSQL(day: String) -> String {
        """
        offer_status AS (
            SELECT DISTINCT ON (account_id, offer_id) account_id, offer_id, to_status FROM offer_events
            WHERE at < ((\(day))::date + 1)::timestamp AT TIME ZONE 'UTC'
            ORDER BY account_id, offer_id, at DESC, seq DESC
        )
        """
    }

    /// The statuses that pay, as a parameter (the rule lives in `AccountStatus.isPaying`).
    static var payingStatuses: PostgresArray<String> { PostgresArray(AccountStatus.allCases.filter(\.isPaying).map(\.rawValue)) }
    static var upsellKinds: PostgresArray<String> { PostgresArray(OfferKind.allCases.filter(\.isUpsell).map(\.rawValue)) }

    /// The earliest and latest effective date of any history row (what the history covers).
    public static func span(_ db: Connection) throws -> (first: Day, latest: Day)? {
        let row = try db.query("SELECT min(effective_on)::text, max(effective_on)::text FROM account_history").first
        guard let first = try row?.decodeIfPresent(0, as: String.self).flatMap({ Day(iso: $0) }),
              let latest = try row?.decodeIfPresent(1, as: String.self).flatMap({ Day(iso: $0) }) else { return nil }
        return (first, latest)
    }

    /// Paying accounts and their MRR on each day, per group ("" without grouping).
    public static func paying(_ db: Connection, on days: [Day], by grouping: ForecastGrouping? = nil) throws -> [Day: [String: (accounts: Int, mrr: Int)]] {
        guard !days.isEmpty else { return [:] }
        var result: [Day: [String: (accounts: Int, mrr: Int)]] = [:]
        for row in try db.query("""
            WITH \(statesSQL(days: "$1"))
            SELECT day::text, \(grouping?.column ?? "''"), count(*), coalesce(sum(mrr), 0)::bigint
            FROM states WHERE status = ANY($2::text[]) GROUP BY 1, 2
            """, [PostgresArray(days.map(\.iso)), payingStatuses]).rows {
            result[Day(iso: try row.decode(0, as: String.self))!, default: [:]][try row.decode(1)] = (try row.decode(2), try row.decode(3))
        }
        return result
    }

    /// The movements of each calendar month (start: the end of the month before; end: its last
    /// day), per group: one set-based pass over the history, whatever the number of accounts.
    public static func movements(_ db: Connection, months: [CalendarMonth], by grouping: ForecastGrouping? = nil) throws -> [String: [MonthMovements]] {
        guard let first = months.min(), let last = months.max() else { return [:] }
        let span = last.months(since: first) + 1
        let ends = (0...span).map { first.adding(months: $0 - 1).lastDay }
        let wanted = Set(months)
        var result: [String: [MonthMovements]] = [:]
        // Each account's state next to its state at the previous day (a window over the days, not a
        // join of day pairs); an account that changes group counts at its start in the old group
        // and at its end in the new one.
        let group = grouping?.column ?? "''::text"
        for row in try db.query("""
            WITH \(statesSQL(days: "$1")),
            w AS (
                SELECT i, account_id, status = ANY($2::text[]) AS paying, mrr, \(group) AS grp,
                       lag(i) OVER a = i - 1 AND lag(status) OVER a = ANY($2::text[]) AS was_paying,
                       lag(mrr) OVER a AS was_mrr, lag(\(group)) OVER a AS was_grp
                FROM states WINDOW a AS (PARTITION BY account_id ORDER BY i)
            ),
            sides AS (
                SELECT i, account_id, grp, coalesce(was_paying AND was_grp = grp, false) AS at_start, paying AS at_end, was_mrr, mrr
                FROM w WHERE i > 1
                UNION ALL
                SELECT i, account_id, was_grp, true, false, was_mrr, mrr FROM w WHERE i > 1 AND was_paying AND was_grp <> grp
            ),
            accepted AS (
                SELECT DISTINCT e.account_id, d.i
                FROM offer_events e JOIN offers o USING (account_id, offer_id)
                JOIN state_days d ON (e.at AT TIME ZONE 'UTC')::date <= d.day
                JOIN state_days before ON before.i = d.i - 1 AND (e.at AT TIME ZONE 'UTC')::date > before.day
                WHERE e.to_status = 'accepted' AND o.kind = ANY($3::text[])
            )
            SELECT s.i, s.grp,
                   count(*) FILTER (WHERE at_start), coalesce(sum(was_mrr) FILTER (WHERE at_start), 0)::bigint,
                   count(*) FILTER (WHERE at_start AND NOT at_end), coalesce(sum(was_mrr) FILTER (WHERE at_start AND NOT at_end), 0)::bigint,
                   count(*) FILTER (WHERE at_end AND NOT at_start), coalesce(sum(mrr) FILTER (WHERE at_end AND NOT at_start), 0)::bigint,
                   coalesce(sum(mrr - was_mrr) FILTER (WHERE at_start AND at_end AND mrr > was_mrr), 0)::bigint,
                   coalesce(sum(mrr - was_mrr) FILTER (WHERE at_start AND at_end AND mrr > was_mrr AND a.account_id IS NOT NULL), 0)::bigint,
                   coalesce(sum(was_mrr - mrr) FILTER (WHERE at_start AND at_end AND mrr < was_mrr), 0)::bigint,
                   count(*) FILTER (WHERE at_end), coalesce(sum(mrr) FILTER (WHERE at_end), 0)::bigint
            FROM sides s LEFT JOIN accepted a ON a.account_id = s.account_id AND a.i = s.i
            WHERE at_start OR at_end
            GROUP BY s.i, s.grp ORDER BY s.i, s.grp
            """, [PostgresArray(ends.map(\.iso)), payingStatuses, upsellKinds]).rows {
            let month = first.adding(months: try row.decode(0, as: Int.self) - 2)
            guard wanted.contains(month) else { continue }
            result[try row.decode(1), default: []].append(MonthMovements(
                month: month, startAccounts: try row.decode(2), startMRR: try row.decode(3), churned: try row.decode(4),
                churnedMRR: try row.decode(5), new: try row.decode(6), newMRR: try row.decode(7), expansion: try row.decode(8),
                offerExpansion: try row.decode(9), contraction: try row.decode(10), endAccounts: try row.decode(11), endMRR: try row.decode(12)))
        }
        // A month with no paying account at either end has no row: it still counts, with zeros.
        for (group, list) in result {
            let present = Set(list.map(\.month))
            result[group] = (list + months.filter { !present.contains($0) }.map { MonthMovements(month: $0) }).sorted { $0.month < $1.month }
        }
        return result
    }
}
