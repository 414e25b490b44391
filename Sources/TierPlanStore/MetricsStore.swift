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
    /// Offers declined in (from, as_of] per reason code.
    public var declines: [DeclineTally] = []
    /// The acceptance probabilities of the outcomes in (from, as_of] against what happened.
    public var calibration = Calibration([])
    /// Each experiment of the policy (and any older one its offers still carry), per arm.
    public var experiments: [ExperimentResult] = []

    enum CodingKeys: String, CodingKey {
        case asOf, from, currency, payingAccounts, mrr, arpu, movements
        case offersByStatus, conversion, realised, uplift, nrr12m = "nrr_12m", grr12m = "grr_12m", aov, cltv
        case declines, calibration, experiments
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
        try c.encode(declines.map(DeclinesJSON.init), forKey: .declines)
        try c.encode(CalibrationJSON(calibration), forKey: .calibration)
        try c.encode(experiments.map(ExperimentJSON.init), forKey: .experiments)
    }

    struct DeclinesJSON: Encodable {
        var reasonCode: String
        var count: Int
        var deltaMRR: Int
        init(_ d: DeclineTally) { reasonCode = d.reasonCode.rawValue; count = d.count; deltaMRR = d.deltaMRR }
        enum CodingKeys: String, CodingKey { case reasonCode, count, deltaMRR }
    }

    struct CalibrationJSON: Encodable {
        struct Bin: Encodable {
            var from, to: Double
            var count: Int
            var meanPredicted, observed: Double?
            func encode(to encoder: Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(from, forKey: .from); try c.encode(to, forKey: .to); try c.encode(count, forKey: .count)
                try c.encode(meanPredicted, forKey: .meanPredicted); try c.encode(observed, forKey: .observed)   // null in an empty bin
            }
            enum CodingKeys: String, CodingKey { case from, to, count, meanPredicted, observed }
        }
        var outcomes: Int
        var brier, brierPerKind: Double?
        var bins: [Bin]
        init(_ c: Calibration) {
            outcomes = c.outcomes; brier = c.brier.map { rounded($0, 4) }; brierPerKind = c.brierPerKind.map { rounded($0, 4) }
            bins = c.bins.map { Bin(from: $0.from, to: $0.to, count: $0.count, meanPredicted: $0.meanPredicted.map { rounded($0, 4) },
                                    observed: $0.observed.map { rounded($0, 4) }) }
        }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(outcomes, forKey: .outcomes); try c.encode(brier, forKey: .brier)
            try c.encode(brierPerKind, forKey: .brierPerKind); try c.encode(bins, forKey: .bins)
        }
        enum CodingKeys: String, CodingKey { case outcomes, brier, brierPerKind, bins }
    }

    struct ExperimentJSON: Encodable {
        struct Arm: Encodable {
            var arm: String
            var offers, accounts, accepted, declined: Int
            var conversion: Double?
            var credible95: [Double]
            var realisedDeltaMRRPerAccount: Double
            init(_ a: ExperimentArmResult) {
                arm = a.arm.rawValue; offers = a.offers; accounts = a.accounts; accepted = a.accepted; declined = a.declined
                conversion = a.conversion.map { rounded($0, 4) }
                let interval = a.credible95
                credible95 = [rounded(interval.low, 4), rounded(interval.high, 4)]
                realisedDeltaMRRPerAccount = rounded(a.realisedDeltaMRRPerAccount, 2)
            }
            func encode(to encoder: Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(arm, forKey: .arm); try c.encode(offers, forKey: .offers); try c.encode(accounts, forKey: .accounts)
                try c.encode(accepted, forKey: .accepted); try c.encode(declined, forKey: .declined)
                try c.encode(conversion, forKey: .conversion)   // null before any outcome
                try c.encode(credible95, forKey: .credible95); try c.encode(realisedDeltaMRRPerAccount, forKey: .realisedDeltaMRRPerAccount)
            }
            enum CodingKeys: String, CodingKey {
                case arm, offers, accounts, accepted, declined, conversion, credible95 = "credible_95", realisedDeltaMRRPerAccount
            }
        }
        var name: String
        var pTreatmentBetter: Double
        var arms: [Arm]
        init(_ e: ExperimentResult) {
            name = e.name; pTreatmentBetter = rounded(e.probabilityTreatmentBetter, 4); arms = [Arm(e.control), Arm(e.treatment)]
        }
        enum CodingKeys: String, CodingKey { case name, pTreatmentBetter, arms }
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
            """, [OfferStatus.accepted.rawValue, CoreSets.expansionKinds]).first!
        let changes = try db.query("""
            SELECT DISTINCT ON (o.account_id) bool_or(o.status = $2) OVER (PARTITION BY o.account_id), a.mrr - o.current_mrr
            FROM offers o JOIN accounts a USING (account_id)
            WHERE o.kind = ANY($3::text[]) AND o.as_of <= $1::date
            ORDER BY o.account_id, o.created_at, o.rank
            """, [asOf.iso, OfferStatus.heldOut.rawValue, CoreSets.expansionKinds]).rows.map { (heldOut: try $0.decode(0, as: Bool.self), deltaMRR: try $0.decode(1, as: Int.self)) }

        return MetricsReport(
            asOf: asOf.iso, from: from.iso, currency: currency, payingAccounts: paying, mrr: mrr,
            arpu: paying > 0 ? Double(mrr) / Double(paying) : 0,
            movements: MRRMovements.compute(histories: histories, from: from, to: asOf),
            offersByStatus: byStatus, conversion: conversion,
            realised: .init(acceptedOffers: try realised.decode(0), realisedOffers: try realised.decode(1), realisedExpansionMRR: try realised.decode(2)),
            uplift: Uplift(changes: changes), retention: try retention(db, asOf: asOf),
            aov: OrderValue.byKind(try acceptedOffers(db, from: from, to: asOf)),
            cltv: try ForecastStore.lifetimeValues(db, asOf: asOf, policy: catalog.policy),
            declines: DeclineTally.byReason(try declines(db, from: from, to: asOf)),
            calibration: Calibration(try decidedOffers(db, from: from, to: asOf)),
            experiments: try experiments(db, asOf: asOf, policy: catalog.policy))
    }

    /// The outcome events dated in (from, to], as "(e.at AT TIME ZONE 'UTC')::date" bounds.
    static let outcomeWindow = "(e.at AT TIME ZONE 'UTC')::date > $1::date AND (e.at AT TIME ZONE 'UTC')::date <= $2::date"

    /// Reason code and Δ MRR of each offer declined on a day in (from, to]; a decline recorded before
    /// reason codes existed counts as `other`.
    static func declines(_ db: Connection, from: Day, to: Day) throws -> [(reasonCode: DeclineReason, deltaMRR: Int)] {
        try db.query("""
            SELECT coalesce(e.reason_code, $4), o.delta_mrr FROM offer_events e JOIN offers o USING (account_id, offer_id)
            WHERE e.to_status = $3 AND \(outcomeWindow)
            """, [from.iso, to.iso, OfferStatus.declined.rawValue, DeclineReason.other.rawValue]).rows.map { row in
            (DeclineReason(rawValue: try row.decode(0)) ?? .other, try row.decode(1))
        }
    }

    /// Each offer with an outcome dated in (from, to]: the probability it carried (it is not refreshed
    /// once decided), the kind-level one next to it, and whether it was accepted.
    static func decidedOffers(_ db: Connection, from: Day, to: Day) throws -> [Calibration.Outcome] {
        try db.query("""
            SELECT o.acceptance_probability, coalesce(o.kind_probability, o.acceptance_probability), e.to_status = $3
            FROM offer_events e JOIN offers o USING (account_id, offer_id)
            WHERE e.to_status = ANY($4::text[]) AND \(outcomeWindow)
            """, [from.iso, to.iso, OfferStatus.accepted.rawValue, CoreSets.outcomeStatuses]).rows.map { row in
            Calibration.Outcome(predicted: try row.decode(0), kindPredicted: try row.decode(1), accepted: try row.decode(2))
        }
    }

    /// Per experiment and arm, the offers planned on or before as_of and their status on that day.
    /// The policy's experiments are listed (in its order) even before they have offers; an ended
    /// experiment whose offers remain follows, by name.
    static func experiments(_ db: Connection, asOf: Day, policy: Policy) throws -> [ExperimentResult] {
        var arms: [String: [ExperimentArm: ExperimentArmResult]] = [:]
        for row in try db.query("""
            WITH \(HistoryStore.offerStatusSQL(day: "$1"))
            SELECT o.experiment, o.arm, count(*), count(DISTINCT o.account_id),
                   count(*) FILTER (WHERE s.to_status = $2), count(*) FILTER (WHERE s.to_status = $3),
                   coalesce(sum(o.delta_mrr) FILTER (WHERE s.to_status = $2), 0)
            FROM offers o JOIN offer_status s USING (account_id, offer_id)
            WHERE o.experiment IS NOT NULL AND o.arm IS NOT NULL
            GROUP BY 1, 2
            """, [asOf.iso, OfferStatus.accepted.rawValue, OfferStatus.declined.rawValue]).rows {
            guard let arm = ExperimentArm(rawValue: try row.decode(1)) else { continue }
            arms[try row.decode(0), default: [:]][arm] = ExperimentArmResult(
                arm: arm, offers: try row.decode(2), accounts: try row.decode(3), accepted: try row.decode(4), declined: try row.decode(5),
                acceptedDeltaMRR: try row.decode(6))
        }
        let names = policy.experiments.map(\.name) + arms.keys.filter { name in !policy.experiments.contains { $0.name == name } }.sorted()
        return names.map { name in
            func arm(_ a: ExperimentArm) -> ExperimentArmResult {
                arms[name]?[a] ?? ExperimentArmResult(arm: a, offers: 0, accounts: 0, accepted: 0, declined: 0, acceptedDeltaMRR: 0)
            }
            return ExperimentResult(name: name, control: arm(.control), treatment: arm(.treatment))
        }
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
