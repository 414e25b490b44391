import Foundation
import Postgres
import TierPlanCore

/// The account history read "as of" a day (contract: Point in time): each account's state on a day
/// is its history row with the latest effective date on or before it; the first row also holds back
/// to `created_at`, and a first row that is canceled with a `canceled_at` counts as active until the
/// day before it. Before its `created_at` an account does not exist. In SQL for one-day questions
/// (`statesSQL`), as timelines for the many-day ones (`AccountTimeline` applies the same rule).
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


    /// The earliest and latest effective date of any history row (what the history covers).
    public static func span(_ db: Connection) throws -> (first: Day, latest: Day)? {
        let row = try db.query("SELECT min(effective_on)::text, max(effective_on)::text FROM account_history").first
        guard let first = try row?.decodeIfPresent(0, as: String.self).flatMap({ Day(iso: $0) }),
              let latest = try row?.decodeIfPresent(1, as: String.self).flatMap({ Day(iso: $0) }) else { return nil }
        return (first, latest)
    }

    /// Paying accounts and their MRR on a day, in SQL (what `metrics` reads with its other numbers).
    public static func paying(_ db: Connection, on day: Day) throws -> AccountHistory.Level {
        let row = try db.query("""
            WITH \(statesSQL(days: "$1"))
            SELECT count(*), coalesce(sum(mrr), 0)::bigint FROM states WHERE status = ANY($2::text[])
            """, [PostgresArray([day.iso]), CoreSets.payingStatuses]).first!
        return (try row.decode(0), try row.decode(1))
    }

    /// Every account's timeline: one ordered scan of the history and one of the accounts (the
    /// forecast and the backtest read many days; the point-in-time rule is then
    /// `AccountTimeline.state(on:)`).
    public static func timelines(_ db: Connection) throws -> [AccountTimeline] {
        var accounts: [String: (segment: String, createdOn: Day, canceledOn: Day?)] = [:]
        for row in try db.query("""
            SELECT account_id, segment, (created_at AT TIME ZONE 'UTC')::date - DATE '1970-01-01',
                   (canceled_at AT TIME ZONE 'UTC')::date - DATE '1970-01-01'
            FROM accounts
            """).rows {
            accounts[try row.decode(0)] = (try row.decode(1), Day(daysSinceEpoch: try row.decode(2)),
                                           try row.decodeIfPresent(3, as: Int.self).map(Day.init(daysSinceEpoch:)))
        }
        var timelines: [AccountTimeline] = []
        timelines.reserveCapacity(accounts.count)
        for row in try db.query("""
            SELECT account_id, effective_on - DATE '1970-01-01', tier_code, status, mrr FROM account_history
            ORDER BY account_id, effective_on
            """).rows {
            let id: String = try row.decode(0)
            let historyRow = AccountTimeline.Row(effectiveOn: Day(daysSinceEpoch: try row.decode(1)), tier: try row.decode(2),
                                                 status: AccountStatus(rawValue: try row.decode(3)), mrr: try row.decode(4))
            if timelines.last?.accountID == id {
                timelines[timelines.count - 1].rows.append(historyRow)
            } else if let account = accounts[id] {
                timelines.append(AccountTimeline(accountID: id, segment: account.segment, createdOn: account.createdOn,
                                                 canceledOn: account.canceledOn, rows: [historyRow]))
            }
        }
        return timelines
    }

    /// Every upsell offer with its events in the order they happened, in one scan.
    public static func expansionOfferTimelines(_ db: Connection) throws -> [OfferTimeline] {
        var offers: [OfferTimeline] = []
        for row in try db.query("""
            SELECT o.account_id, o.offer_id::text, o.rank, o.acceptance_probability, o.delta_mrr, o.expected_delta_mrr,
                   (e.at AT TIME ZONE 'UTC')::date - DATE '1970-01-01', e.to_status, e.run_id IS NOT NULL AND e.from_status IS NULL
            FROM offers o JOIN offer_events e USING (account_id, offer_id)
            WHERE o.kind = ANY($1::text[])
            ORDER BY o.account_id COLLATE "C", o.offer_id, e.at, e.seq
            """, [CoreSets.expansionKinds]).rows {
            let event = OfferTimeline.Event(day: Day(daysSinceEpoch: try row.decode(6)), status: OfferStatus(rawValue: try row.decode(7)),
                                            madeByRun: try row.decode(8))
            let offerID: String = try row.decode(1)
            if let last = offers.last, last.offerID == offerID, last.accountID == (try row.decode(0, as: String.self)) {
                offers[offers.count - 1].events.append(event)
                continue
            }
            offers.append(OfferTimeline(accountID: try row.decode(0), offerID: offerID, rank: try row.decode(2),
                                        offer: ForecastOffer(probability: try row.decode(3), deltaMRR: try row.decode(4)),
                                        expectedDeltaMRR: try row.decode(5), events: [event]))
        }
        return offers
    }
}
