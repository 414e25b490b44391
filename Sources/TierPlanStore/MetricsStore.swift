import Foundation
import Postgres
import TierPlanCore

/// Revenue and offer metrics for finance, read with a few small queries.
public struct MetricsReport: Encodable, Sendable {
    public struct Realised: Encodable, Sendable {
        public var acceptedOffers: Int
        public var realisedOffers: Int
        public var realisedExpansionMRR: Int
        enum CodingKeys: String, CodingKey {
            case acceptedOffers, realisedOffers, realisedExpansionMRR
        }
    }

    public var asOf: String
    public var from: String
    public var currency: String
    public var payingAccounts: Int
    public var mrr: Int
    public var arpu: Double
    public var movements: MRRMovements
    public var offersByStatus: [String: Int]
    public var conversion: [Conversion]
    public var realised: Realised
    public var uplift: Uplift?
    /// Net and gross revenue retention of the accounts paying 12 months before as_of; nil when the
    /// history is shorter than that.
    public var retention: Retention?
    /// Average order value per kind of the offers accepted in (from, as_of].
    public var aov: [OrderValue] = []
    public var cltv: LifetimeValues?

    enum CodingKeys: String, CodingKey {
        case asOf, from, currency, payingAccounts, mrr, arpu, movements
        case offersByStatus, conversion, realised, uplift, nrr12m = "nrr_12m", grr12m = "grr_12m", aov, cltv
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(asOf, forKey: .asOf); try c.encode(from, forKey: .from); try c.encode(currency, forKey: .currency)
        try c.encode(payingAccounts, forKey: .payingAccounts); try c.encode(mrr, forKey: .mrr)
        try c.encode(rounded(arpu, 2), forKey: .arpu)
        try c.encode(MovementsJSON(movements), forKey: .movements)
        try c.encode(offersByStatus, forKey: .offersByStatus)
        try c.encode(conversion.map(ConversionJSON.init), forKey: .conversion)
        try c.encode(realised, forKey: .realised)
        try c.encode(uplift.map(UpliftJSON.init), forKey: .uplift)
        try c.encode(retention.map { rounded($0.nrr, 4) }, forKey: .nrr12m)
        try c.encode(retention.map { rounded($0.grr, 4) }, forKey: .grr12m)
        try c.encode(aov.map(OrderValueJSON.init), forKey: .aov)
        try c.encode(cltv.map(LifetimeValuesJSON.init), forKey: .cltv)
    }

    struct MovementsJSON: Encodable {
        var new, expansion, contraction, churn, reactivation, net: Int
        init(_ m: MRRMovements) {
            new = m.new; expansion = m.expansion; contraction = m.contraction; churn = m.churn; reactivation = m.reactivation; net = m.net
        }
    }

    struct ConversionJSON: Encodable {
        var kind: String
        var accepted, declined: Int
        var rate: Double?
        var credibleLow, credibleHigh: Double
        enum CodingKeys: String, CodingKey { case kind, accepted, declined, rate, credibleLow = "credible_low_95", credibleHigh = "credible_high_95" }
        init(_ c: Conversion) {
            kind = c.kind; accepted = c.accepted; declined = c.declined; rate = c.rate.map { rounded($0, 4) }
            credibleLow = rounded(c.low, 4); credibleHigh = rounded(c.high, 4)
        }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(kind, forKey: .kind); try c.encode(accepted, forKey: .accepted); try c.encode(declined, forKey: .declined)
            try c.encode(rate, forKey: .rate)   // null before any outcome
            try c.encode(credibleLow, forKey: .credibleLow); try c.encode(credibleHigh, forKey: .credibleHigh)
        }
    }

    struct OrderValueJSON: Encodable {
        var kind: String
        var accepted: Int
        var meanDeltaMRR, meanOneTime: Double?
        init(_ v: OrderValue) {
            kind = v.kind.rawValue; accepted = v.accepted
            meanDeltaMRR = v.meanDeltaMRR.map { rounded($0, 2) }; meanOneTime = v.meanOneTime.map { rounded($0, 2) }
        }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(kind, forKey: .kind); try c.encode(accepted, forKey: .accepted)
            try c.encode(meanDeltaMRR, forKey: .meanDeltaMRR); try c.encode(meanOneTime, forKey: .meanOneTime)   // null when none
        }
        enum CodingKeys: String, CodingKey { case kind, accepted, meanDeltaMRR, meanOneTime }
    }

    struct LifetimeValuesJSON: Encodable {
        var overall: Double?
        var byTier, bySegment: [String: Double?]
        var grossMargin: Double
        var monthlyChurn: Double?
        init(_ v: LifetimeValues) {
            overall = v.overall.map { rounded($0, 2) }
            byTier = v.byTier.mapValues { $0.map { rounded($0, 2) } }; bySegment = v.bySegment.mapValues { $0.map { rounded($0, 2) } }
            grossMargin = v.grossMargin; monthlyChurn = v.monthlyChurn.map { rounded($0, 6) }
        }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(overall, forKey: .overall); try c.encode(byTier, forKey: .byTier); try c.encode(bySegment, forKey: .bySegment)
            try c.encode(grossMargin, forKey: .grossMargin); try c.encode(monthlyChurn, forKey: .monthlyChurn)
        }
        enum CodingKeys: String, CodingKey { case overall, byTier, bySegment, grossMargin, monthlyChurn }
    }

    struct UpliftJSON: Encodable {
        var treatedAccounts, holdoutAccounts: Int
        var treatedExpansionRate, holdoutExpansionRate, upliftRate: Double
        var treatedMeanDeltaMRR, holdoutMeanDeltaMRR, upliftMeanDeltaMRR: Double
        enum CodingKeys: String, CodingKey {
            case treatedAccounts, holdoutAccounts
            case treatedExpansionRate, holdoutExpansionRate, upliftRate
            case treatedMeanDeltaMRR, holdoutMeanDeltaMRR
            case upliftMeanDeltaMRR
        }
        init(_ u: Uplift) {
            treatedAccounts = u.treatedAccounts; holdoutAccounts = u.holdoutAccounts
            treatedExpansionRate = rounded(u.treatedExpansionRate, 4); holdoutExpansionRate = rounded(u.holdoutExpansionRate, 4)
            upliftRate = rounded(u.upliftRate, 4)
            treatedMeanDeltaMRR = rounded(u.treatedMeanDeltaMRR, 2); holdoutMeanDeltaMRR = rounded(u.holdoutMeanDeltaMRR, 2)
            upliftMeanDeltaMRR = rounded(u.upliftMeanDeltaMRR, 2)
        }
    }
}

public enum MetricsStore {
    public static func report(_ db: Connection, asOf: Day, from: Day, catalog: Catalog) throws -> MetricsReport {
        let currency = catalog.currency
        let snapshot = try HistoryStore.paying(db, on: asOf)
        let paying = snapshot.accounts, mrr = snapshot.mrr

        var histories: [[BillingState]] = []
        var current: (id: String, states: [BillingState])?
        for row in try db.query("""
            SELECT account_id, effective_on::text, status, mrr FROM account_history WHERE effective_on <= $1::date
            ORDER BY account_id, effective_on
            """, [asOf.iso]).rows {
            let id: String = try row.decode(0)
            let state = BillingState(day: Day(iso: try row.decode(1, as: String.self))!, status: AccountStatus(rawValue: try row.decode(2)) ?? .canceled,
                                     mrr: try row.decode(3))
            if current?.id == id { current!.states.append(state) } else {
                if let current { histories.append(current.states) }
                current = (id, [state])
            }
        }
        if let current { histories.append(current.states) }

        var byStatus: [String: Int] = [:]
        for status in OfferStatus.allCases { byStatus[status.rawValue] = 0 }
        // Each offer's status on as_of: its latest event dated on or before it.
        for row in try db.query("""
            WITH \(HistoryStore.offerStatusSQL(day: "$1")) SELECT to_status, count(*) FROM offer_status GROUP BY 1
            """, [asOf.iso]).rows { byStatus[try row.decode(0)] = try row.decode(1) }

        let outcomes = try OfferStore.acceptanceOutcomes(db, asOf: asOf)
        let conversion = OfferKind.allCases.map { Conversion(kind: $0.rawValue, accepted: outcomes[$0]?.accepted ?? 0, declined: outcomes[$0]?.declined ?? 0) }

        // Accepted upsells whose account now has exactly the offered tier and add-ons.
        let realised = try db.query("""
            WITH config AS (
                SELECT a.account_id, a.tier_code || '|' || coalesce(string_agg(x.addon_code || ':' || x.quantity, ';' ORDER BY x.addon_code COLLATE "C"), '') AS target
                FROM accounts a LEFT JOIN account_addons x USING (account_id) GROUP BY a.account_id, a.tier_code
            )
            SELECT count(*), count(*) FILTER (WHERE c.target = o.target), coalesce(sum(o.delta_mrr) FILTER (WHERE c.target = o.target), 0)
            FROM offers o JOIN config c USING (account_id)
            WHERE o.status = $1 AND o.kind = ANY($2::text[])
            """, [OfferStatus.accepted.rawValue, CoreSets.upsellKinds]).first!
        let changes = try db.query("""
            SELECT DISTINCT ON (o.account_id) bool_or(o.status = $2) OVER (PARTITION BY o.account_id), a.mrr - o.current_mrr
            FROM offers o JOIN accounts a USING (account_id)
            WHERE o.kind = ANY($3::text[]) AND o.as_of <= $1::date
            ORDER BY o.account_id, o.created_at, o.rank
            """, [asOf.iso, OfferStatus.heldOut.rawValue, CoreSets.upsellKinds]).rows.map { (heldOut: try $0.decode(0, as: Bool.self), deltaMRR: try $0.decode(1, as: Int.self)) }

        return MetricsReport(
            asOf: asOf.iso, from: from.iso, currency: currency, payingAccounts: paying, mrr: mrr,
            arpu: paying > 0 ? Double(mrr) / Double(paying) : 0,
            movements: MRRMovements.compute(histories: histories, from: from, to: asOf),
            offersByStatus: byStatus, conversion: conversion,
            realised: .init(acceptedOffers: try realised.decode(0), realisedOffers: try realised.decode(1), realisedExpansionMRR: try realised.decode(2)),
            uplift: Uplift(changes: changes), retention: try retention(db, asOf: asOf),
            aov: OrderValue.byKind(try acceptedOffers(db, from: from, to: asOf)),
            cltv: try ForecastStore.lifetimeValues(db, asOf: asOf, policy: catalog.policy))
    }

    /// Kind, Δ MRR and one-time price of each offer accepted on a day in (from, to].
    static func acceptedOffers(_ db: Connection, from: Day, to: Day) throws -> [(kind: OfferKind, deltaMRR: Int, oneTime: Int)] {
        try db.query("""
            SELECT o.kind, o.delta_mrr, o.one_time FROM offer_events e JOIN offers o USING (account_id, offer_id)
            WHERE e.to_status = $1 AND (e.at AT TIME ZONE 'UTC')::date > $2::date AND (e.at AT TIME ZONE 'UTC')::date <= $3::date
            """, [OfferStatus.accepted.rawValue, from.iso, to.iso]).rows.compactMap { row in
            guard let kind = OfferKind(rawValue: try row.decode(0)) else { return nil }
            return (kind, try row.decode(1), try row.decode(2))
        }
    }

    /// The 12-month cohort's MRR then and on as_of (point in time, paying = `AccountStatus.isPaying`).
    static func retention(_ db: Connection, asOf: Day) throws -> Retention? {
        let then = Retention.cohortDay(asOf: asOf)
        guard let span = try HistoryStore.span(db), span.first <= then else { return nil }
        var start: [String: Int] = [:], now: [String: Int] = [:]
        for row in try db.query("""
            WITH \(HistoryStore.statesSQL(days: "$1")) SELECT i, account_id, mrr FROM states WHERE status = ANY($2::text[])
            """, [PostgresArray([then.iso, asOf.iso]), CoreSets.payingStatuses]).rows {
            let i: Int = try row.decode(0), id: String = try row.decode(1), mrr: Int = try row.decode(2)
            if i == 1 { start[id] = mrr } else { now[id] = mrr }
        }
        return Retention(cohort: start.map { (then: $0.value, now: now[$0.key]) })
    }
}
