import Foundation

/// One dated state of an account's billing (a row of the account history).
public struct BillingState: Sendable, Equatable {
    public var day: Day
    public var status: AccountStatus
    public var mrr: MinorUnits

    public init(day: Day, status: AccountStatus, mrr: MinorUnits) { self.day = day; self.status = status; self.mrr = mrr }

    /// MRR that counts: only paying accounts (active, past_due) bring revenue.
    public var payingMRR: MinorUnits { status.isPaying ? mrr : 0 }
}

/// MRR movements over a period, as ChartMogul defines them (each change classified on its own).
public struct MRRMovements: Sendable, Equatable, Codable {
    public var new = 0
    public var expansion = 0
    public var contraction = 0
    public var churn = 0
    public var reactivation = 0

    public init() {}

    /// new + expansion + reactivation − contraction − churn.
    public var net: Int { new + expansion + reactivation - contraction - churn }

    /// Classifies every change with `from < day ≤ to` of each account's history (sorted by day):
    /// from no MRR to some is **new** the first time the account pays and **reactivation** after;
    /// from some to none is **churn**; up is **expansion**, down is **contraction**.
    public static func compute(histories: [[BillingState]], from: Day, to: Day) -> MRRMovements {
        var movements = MRRMovements()
        for history in histories {
            var previous = 0
            var hasPaid = false
            for state in history.sorted(by: { $0.day < $1.day }) {
                let current = state.payingMRR
                if state.day > from && state.day <= to {
                    if previous == 0 && current > 0 {
                        if hasPaid { movements.reactivation += current } else { movements.new += current }
                    } else if previous > 0 && current == 0 {
                        movements.churn += previous
                    } else if current > previous {
                        movements.expansion += current - previous
                    } else if current < previous {
                        movements.contraction += previous - current
                    }
                }
                if state.day > to { break }
                if current > 0 { hasPaid = true }
                previous = current
            }
        }
        return movements
    }
}

/// A Beta distribution's equal-tailed credible interval.
public enum BetaInterval {
    /// The interval holding `mass` of Beta(a, b), e.g. 0.95 → (2.5 %, 97.5 %) quantiles.
    public static func interval(a: Double, b: Double, mass: Double = 0.95) -> (low: Double, high: Double) {
        let tail = (1 - mass) / 2
        return (quantile(tail, a: a, b: b), quantile(1 - tail, a: a, b: b))
    }

    /// Inverse of the regularized incomplete beta function, by bisection (accurate to 1e-10).
    public static func quantile(_ p: Double, a: Double, b: Double) -> Double {
        var lo = 0.0, hi = 1.0
        for _ in 0..<60 {
            let mid = (lo + hi) / 2
            if regularizedIncompleteBeta(mid, a: a, b: b) < p { lo = mid } else { hi = mid }
        }
        return (lo + hi) / 2
    }

    /// I_x(a, b) with the continued fraction of Numerical Recipes (Lentz's method).
    public static func regularizedIncompleteBeta(_ x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logBeta: Double = lgamma(a + b) - lgamma(a) - lgamma(b)
        let lnFront: Double = logBeta + a * log(x) + b * log(1 - x)
        if x < (a + 1) / (a + b + 2) {
            return exp(lnFront) * continuedFraction(x, a: a, b: b) / a
        }
        return 1 - exp(lnFront) * continuedFraction(1 - x, a: b, b: a) / b
    }

    static func continuedFraction(_ x: Double, a: Double, b: Double) -> Double {
        let tiny = 1e-300
        var c = 1.0, d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        for m in 1...300 {
            let m = Double(m), m2 = 2 * m
            var aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2))
            d = 1 + aa * d; if abs(d) < tiny { d = tiny }
            c = 1 + aa / c; if abs(c) < tiny { c = tiny }
            d = 1 / d; h *= d * c
            aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1))
            d = 1 + aa * d; if abs(d) < tiny { d = tiny }
            c = 1 + aa / c; if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-14 { break }
        }
        return h
    }
}

/// Conversion of one offer kind: accepted out of decided, with a 95 % Beta(1 + accepted, 1 + declined) interval.
public struct Conversion: Sendable, Equatable, Codable {
    public var kind: String
    public var accepted: Int
    public var declined: Int
    public var rate: Double?
    public var low: Double
    public var high: Double

    public init(kind: String, accepted: Int, declined: Int) {
        self.kind = kind
        self.accepted = accepted
        self.declined = declined
        let decided = accepted + declined
        rate = decided > 0 ? Double(accepted) / Double(decided) : nil
        (low, high) = BetaInterval.interval(a: 1 + Double(accepted), b: 1 + Double(declined))
    }
}

/// Expansion of accounts that were offered something against those held out.
public struct Uplift: Sendable, Equatable, Codable {
    public var treatedAccounts: Int
    public var holdoutAccounts: Int
    /// Share of accounts whose MRR grew after their first offer.
    public var treatedExpansionRate: Double
    public var holdoutExpansionRate: Double
    /// Mean MRR change per account since their first offer (minor units).
    public var treatedMeanDeltaMRR: Double
    public var holdoutMeanDeltaMRR: Double

    public var upliftRate: Double { treatedExpansionRate - holdoutExpansionRate }
    public var upliftMeanDeltaMRR: Double { treatedMeanDeltaMRR - holdoutMeanDeltaMRR }

    /// `changes`: per account, (held out?, MRR now − MRR when first offered).
    public init?(changes: [(heldOut: Bool, deltaMRR: Int)]) {
        let treated = changes.filter { !$0.heldOut }, holdout = changes.filter(\.heldOut)
        guard !holdout.isEmpty, !treated.isEmpty else { return nil }
        func rate(_ xs: [(heldOut: Bool, deltaMRR: Int)]) -> Double { Double(xs.filter { $0.deltaMRR > 0 }.count) / Double(xs.count) }
        func mean(_ xs: [(heldOut: Bool, deltaMRR: Int)]) -> Double { Double(xs.reduce(0) { $0 + $1.deltaMRR }) / Double(xs.count) }
        treatedAccounts = treated.count; holdoutAccounts = holdout.count
        treatedExpansionRate = rate(treated); holdoutExpansionRate = rate(holdout)
        treatedMeanDeltaMRR = mean(treated); holdoutMeanDeltaMRR = mean(holdout)
    }
}

/// Net and gross revenue retention of a cohort (contract: Revenue metrics): the accounts paying at
/// the start with their MRR then (S) and now (0 when they no longer pay). Each account counts its net
/// change: NRR = (S + expansion − contraction − churned) / S, GRR = (S − contraction − churned) / S.
public struct Retention: Sendable, Equatable {
    public var startMRR: Int
    public var expansion: Int
    public var contraction: Int
    public var churned: Int

    /// nil for an empty cohort (or one that paid nothing).
    public init?(cohort: [(then: Int, now: Int?)]) {
        startMRR = 0; expansion = 0; contraction = 0; churned = 0
        for account in cohort {
            startMRR += account.then
            guard let now = account.now else { churned += account.then; continue }
            if now > account.then { expansion += now - account.then } else { contraction += account.then - now }
        }
        guard startMRR > 0 else { return nil }
    }

    public var nrr: Double { Double(startMRR + expansion - contraction - churned) / Double(startMRR) }
    public var grr: Double { Double(startMRR - contraction - churned) / Double(startMRR) }

    /// The same day twelve months earlier (the last day of that month when it has fewer days).
    public static func cohortDay(asOf: Day) -> Day {
        let (year, month, day) = asOf.components
        return Day(year: year - 1, month: month, day: min(day, Day.daysIn(month: month, year: year - 1)))
    }
}

/// Average order value of one offer kind (contract: Revenue metrics, `aov`): the mean `delta_mrr` and
/// `one_time` of the offers accepted in the period; nil means when none was.
public struct OrderValue: Sendable, Equatable {
    public var kind: OfferKind
    public var accepted: Int
    public var meanDeltaMRR: Double?
    public var meanOneTime: Double?

    /// One entry per kind, in `OfferKind.allCases` order, from the accepted offers' deltas and one-time prices.
    public static func byKind(_ offers: [(kind: OfferKind, deltaMRR: Int, oneTime: Int)]) -> [OrderValue] {
        OfferKind.allCases.map { kind in
            let mine = offers.filter { $0.kind == kind }
            let n = Double(mine.count)
            return OrderValue(kind: kind, accepted: mine.count,
                              meanDeltaMRR: mine.isEmpty ? nil : Double(mine.map(\.deltaMRR).reduce(0, +)) / n,
                              meanOneTime: mine.isEmpty ? nil : Double(mine.map(\.oneTime).reduce(0, +)) / n)
        }
    }
}

/// Customer lifetime value (contract: Revenue metrics, `cltv`): ARPU × gross margin / monthly logo churn,
/// per account; nil when nothing churns (an unbounded lifetime).
public enum LifetimeValue {
    public static func perAccount(arpu: Double, grossMargin: Double, monthlyChurn: Double) -> Double? {
        monthlyChurn > 0 ? arpu * grossMargin / monthlyChurn : nil
    }
}

/// Offers declined in a period per reason code (contract: Revenue metrics, `declines`): how many and
/// the Δ MRR they left on the table. Every code is listed, in `DeclineReason.allCases` order.
public struct DeclineTally: Sendable, Equatable {
    public var reasonCode: DeclineReason
    public var count: Int
    public var deltaMRR: MinorUnits

    public init(reasonCode: DeclineReason, count: Int, deltaMRR: MinorUnits) { self.reasonCode = reasonCode; self.count = count; self.deltaMRR = deltaMRR }

    public static func byReason(_ declines: [(reasonCode: DeclineReason, deltaMRR: MinorUnits)]) -> [DeclineTally] {
        DeclineReason.allCases.map { code in
            let mine = declines.filter { $0.reasonCode == code }
            return DeclineTally(reasonCode: code, count: mine.count, deltaMRR: mine.reduce(0) { $0 + $1.deltaMRR })
        }
    }
}

/// How well the acceptance probabilities matched what customers did (contract: calibration): the
/// Brier score — the mean of (p − outcome)², 0 is perfect, 0.25 is a coin — and ten reliability bins.
public struct Calibration: Sendable, Equatable {
    /// Predictions in [from, to) (the last bin includes 1): how many, their mean, and the share accepted.
    public struct Bin: Sendable, Equatable {
        public var from: Double
        public var to: Double
        public var count: Int
        public var meanPredicted: Double?
        public var observed: Double?
    }

    /// One decided offer: the probability it carried, the kind-level one, and whether it was accepted.
    public struct Outcome: Sendable, Equatable {
        public var predicted: Double
        public var kindPredicted: Double
        public var accepted: Bool
        public init(predicted: Double, kindPredicted: Double, accepted: Bool) {
            self.predicted = predicted; self.kindPredicted = kindPredicted; self.accepted = accepted
        }
    }

    public var outcomes: Int
    /// Brier score of the probabilities the offers carried; nil without outcomes.
    public var brier: Double?
    /// Brier score the kind-level probability alone would have had, for comparison.
    public var brierPerKind: Double?
    public var bins: [Bin]

    public init(_ outcomes: [Outcome]) {
        self.outcomes = outcomes.count
        func score(_ p: KeyPath<Outcome, Double>) -> Double? {
            guard !outcomes.isEmpty else { return nil }
            return outcomes.reduce(0.0) { $0 + pow($1[keyPath: p] - ($1.accepted ? 1 : 0), 2) } / Double(outcomes.count)
        }
        brier = score(\.predicted)
        brierPerKind = score(\.kindPredicted)
        var members = [[Outcome]](repeating: [], count: 10)
        for o in outcomes { members[Self.bin(of: o.predicted)].append(o) }
        bins = members.enumerated().map { i, xs in
            let n = Double(xs.count)
            return Bin(from: Double(i) / 10, to: Double(i + 1) / 10, count: xs.count,
                       meanPredicted: xs.isEmpty ? nil : xs.reduce(0) { $0 + $1.predicted } / n,
                       observed: xs.isEmpty ? nil : Double(xs.filter(\.accepted).count) / n)
        }
    }

    /// The bin of a probability: [0, 0.1) is 0 … [0.9, 1] is 9. Decided on the probability rounded to
    /// 10 decimals, so 0.3 (stored as 0.299999…) is in [0.3, 0.4).
    public static func bin(of p: Double) -> Int {
        let scaled = (min(max(p, 0), 1) * 1e10).rounded() / 1e9
        return min(9, Int(scaled.rounded(.down)))
    }
}

/// One arm of an experiment: its offers and outcomes (contract: experiments).
public struct ExperimentArmResult: Sendable, Equatable {
    public var arm: ExperimentArm
    public var offers: Int
    public var accounts: Int
    public var accepted: Int
    public var declined: Int
    /// Σ Δ MRR of the arm's accepted offers.
    public var acceptedDeltaMRR: MinorUnits

    public init(arm: ExperimentArm, offers: Int, accounts: Int, accepted: Int, declined: Int, acceptedDeltaMRR: MinorUnits) {
        self.arm = arm; self.offers = offers; self.accounts = accounts; self.accepted = accepted; self.declined = declined
        self.acceptedDeltaMRR = acceptedDeltaMRR
    }

    /// accepted / (accepted + declined); nil before any outcome.
    public var conversion: Double? { accepted + declined > 0 ? Double(accepted) / Double(accepted + declined) : nil }
    /// The 95 % interval of Beta(1 + accepted, 1 + declined).
    public var credible95: (low: Double, high: Double) { BetaInterval.interval(a: 1 + Double(accepted), b: 1 + Double(declined)) }
    /// Accepted Δ MRR per account that had an offer in the arm.
    public var realisedDeltaMRRPerAccount: Double { accounts > 0 ? Double(acceptedDeltaMRR) / Double(accounts) : 0 }
}

/// An experiment's two arms and the probability that the treatment converts better.
public struct ExperimentResult: Sendable, Equatable {
    public var name: String
    public var control: ExperimentArmResult
    public var treatment: ExperimentArmResult

    public init(name: String, control: ExperimentArmResult, treatment: ExperimentArmResult) {
        self.name = name; self.control = control; self.treatment = treatment
    }

    /// P(p_treatment > p_control) under Beta(1 + accepted, 1 + declined) posteriors.
    public var probabilityTreatmentBetter: Double {
        BetaComparison.probabilityGreater(a: 1 + treatment.accepted, b: 1 + treatment.declined,
                                          c: 1 + control.accepted, d: 1 + control.declined)
    }
}

/// Exact comparison of two Beta distributions with whole-number parameters.
public enum BetaComparison {
    /// P(X > Y) for X ~ Beta(a, b), Y ~ Beta(c, d), exactly (Evan Miller's closed form):
    /// Σ_{i=0}^{a−1} B(c + i, b + d) / ((b + i) · B(1 + i, b) · B(c, d)), summed in logs.
    public static func probabilityGreater(a: Int, b: Int, c: Int, d: Int) -> Double {
        precondition(a >= 1 && b >= 1 && c >= 1 && d >= 1)
        func logBeta(_ x: Double, _ y: Double) -> Double { lgamma(x) + lgamma(y) - lgamma(x + y) }
        let (b, c, d) = (Double(b), Double(c), Double(d))
        var total = 0.0
        for i in 0..<a {
            let i = Double(i)
            total += exp(logBeta(c + i, b + d) - log(b + i) - logBeta(1 + i, b) - logBeta(c, d))
        }
        return min(1, max(0, total))
    }
}
