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

/// The forecast as the contract's JSON (`forecast --json`, the API, the demo).
public struct ForecastReport: Encodable, Sendable {
    public struct Month: Encodable, Sendable {
        var month: String
        var activeAccounts, mrrBaseline, arpuBaseline, mrrExpected, arpuExpected, arpuP10, arpuP50, arpuP90: Double
        enum CodingKeys: String, CodingKey {
            case month, activeAccounts = "active_accounts", mrrBaseline = "mrr_baseline", arpuBaseline = "arpu_baseline"
            case mrrExpected = "mrr_expected", arpuExpected = "arpu_expected", arpuP10 = "arpu_p10", arpuP50 = "arpu_p50", arpuP90 = "arpu_p90"
        }
        init(_ m: ForecastMonth) {
            month = m.month
            activeAccounts = rounded(m.activeAccounts, 2); mrrBaseline = rounded(m.mrrBaseline, 2); arpuBaseline = rounded(m.arpuBaseline, 2)
            mrrExpected = rounded(m.mrrExpected, 2); arpuExpected = rounded(m.arpuExpected, 2)
            arpuP10 = rounded(m.arpuP10, 2); arpuP50 = rounded(m.arpuP50, 2); arpuP90 = rounded(m.arpuP90, 2)
        }
    }

    var group: String?
    var asOf: String
    var currency: String
    var payingAccounts: Int
    var mrr: Int
    var arpu: Double
    var monthlyChurn: Double
    var openOffers: Int
    var expectedDeltaMRR: Double
    var quantiles: String
    var months: [Month]

    enum CodingKeys: String, CodingKey {
        case group, asOf = "as_of", currency, payingAccounts = "paying_accounts", mrr, arpu, monthlyChurn = "monthly_churn"
        case openOffers = "open_offers", expectedDeltaMRR = "expected_delta_mrr", quantiles, months
    }

    public init(_ f: Forecast, asOf: Day, currency: String, group: String? = nil) {
        self.group = group
        self.asOf = asOf.iso; self.currency = currency; payingAccounts = f.payingAccounts; mrr = f.mrr; arpu = rounded(f.arpu, 2)
        monthlyChurn = rounded(f.monthlyChurn, 6); openOffers = f.openOffers
        expectedDeltaMRR = rounded(f.expectedDeltaMRR, 2)
        quantiles = f.exactQuantiles ? "exact" : "\(UpliftDistribution.draws) seeded draws"
        months = f.months.map(Month.init)
    }
}

/// `forecast --by tier|segment --json`: the same projection per group.
public struct GroupedForecastReport: Encodable, Sendable {
    var asOf: String
    var currency: String
    var by: String
    var monthlyChurn: Double
    var groups: [ForecastReport]
    enum CodingKeys: String, CodingKey { case asOf = "as_of", currency, by, monthlyChurn = "monthly_churn", groups }

    public init(asOf: String, currency: String, by: String, monthlyChurn: Double, groups: [ForecastReport]) {
        self.asOf = asOf; self.currency = currency; self.by = by; self.monthlyChurn = monthlyChurn; self.groups = groups
    }
}

/// The forecast's months as CSV, one row each, with the contract's column names.
public enum ForecastCSV {
    public static let columns = ["month", "active_accounts", "mrr_baseline", "arpu_baseline", "mrr_expected", "arpu_expected", "arpu_p10", "arpu_p50", "arpu_p90"]

    public static func text(_ forecasts: [(group: String, forecast: Forecast)], grouped: Bool) -> String {
        var lines = [(grouped ? ["group"] : []) + columns]
        for (group, forecast) in forecasts {
            for m in forecast.months {
                let values = [m.activeAccounts, m.mrrBaseline, m.arpuBaseline, m.mrrExpected, m.arpuExpected, m.arpuP10, m.arpuP50, m.arpuP90]
                    .map { String(format: "%.2f", $0) }
                lines.append((grouped ? [field(group)] : []) + [m.month] + values)
            }
        }
        return lines.map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n"
    }

    static func field(_ text: String) -> String {
        text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }
}
