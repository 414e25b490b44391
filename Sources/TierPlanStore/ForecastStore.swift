import Foundation
import Postgres
import TierPlanCore

/// How the forecast splits accounts, if at all.
public enum ForecastGrouping: String, Sendable, CaseIterable {
    case tier, segment

    var column: String { self == .tier ? "a.tier_code" : "a.segment" }   // fixed identifiers, never input
}

/// The forecast's small query: paying accounts, MRR, cancellations and the open offers it counts.
public enum ForecastStore {
    /// The inputs of the projection, overall (group "") or per tier or segment.
    /// Churn: `churn` if given, else `policy.monthly_churn`, else derived from cancellations.
    public static func inputs(_ db: Connection, asOf: Day, churn: Double?, policy: Policy,
                              by grouping: ForecastGrouping? = nil) throws -> (churn: Double, groups: [(String, ForecastInput)]) {
        let group = grouping?.column ?? "''"
        let end = asOf.adding(days: 1).iso
        var paying: [String: (Int, Int)] = [:]
        for row in try db.query("""
            SELECT \(group), count(*), coalesce(sum(a.mrr), 0) FROM accounts a
            WHERE a.status IN ('active', 'past_due') AND a.created_at < $1::date GROUP BY 1
            """, [end]).rows {
            paying[try row.decode(0)] = (try row.decode(1), try row.decode(2))
        }
        let totalPaying = paying.values.reduce(0) { $0 + $1.0 }
        let c: Double
        if let churn { c = churn } else if let configured = policy.monthlyChurn { c = configured } else {
            let canceled = try db.query("""
                SELECT count(*) FROM accounts WHERE canceled_at >= $1::date AND canceled_at < $2::date
                """, [asOf.adding(days: -89).iso, end]).first!.decode(0, as: Int.self)
            c = Forecaster.derivedChurn(canceledIn90Days: canceled, payingAccounts: totalPaying)
        }
        var offers: [String: [ForecastOffer]] = [:]
        for row in try db.query("""
            SELECT DISTINCT ON (o.account_id) \(group), o.acceptance_probability, o.delta_mrr
            FROM offers o JOIN accounts a USING (account_id)
            WHERE o.status IN ('proposed', 'approved') AND o.kind IN ('tier_upgrade', 'addon')
            ORDER BY o.account_id, o.expected_delta_mrr DESC, o.rank, o.offer_id
            """).rows {
            offers[try row.decode(0), default: []].append(ForecastOffer(probability: try row.decode(1), deltaMRR: try row.decode(2)))
        }
        let keys = Set(paying.keys).union(offers.keys).sorted()
        let groups = (keys.isEmpty ? [""] : keys).map { key in
            (key, ForecastInput(payingAccounts: paying[key]?.0 ?? 0, mrr: paying[key]?.1 ?? 0, monthlyChurn: c, offers: offers[key] ?? []))
        }
        return (c, groups)
    }
}
