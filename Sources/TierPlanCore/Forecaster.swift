import Foundation

/// An open upsell offer as the forecast counts it: its acceptance probability and MRR delta.
public struct ForecastOffer: Sendable, Equatable {
    public var probability: Double
    public var deltaMRR: MinorUnits
    public init(probability: Double, deltaMRR: MinorUnits) { self.probability = probability; self.deltaMRR = deltaMRR }
}

/// What the forecast starts from: paying accounts and their MRR on as_of, churn, open offers.
public struct ForecastInput: Sendable, Equatable {
    public var payingAccounts: Int
    public var mrr: MinorUnits
    public var monthlyChurn: Double
    /// At most one per account (the one with the largest expected delta).
    public var offers: [ForecastOffer]

    public init(payingAccounts: Int, mrr: MinorUnits, monthlyChurn: Double, offers: [ForecastOffer]) {
        self.payingAccounts = payingAccounts; self.mrr = mrr; self.monthlyChurn = monthlyChurn; self.offers = offers
    }
}

/// One projected month.
public struct ForecastMonth: Sendable, Equatable {
    public var month: String
    public var activeAccounts: Double
    public var mrrBaseline: Double
    public var arpuBaseline: Double
    /// The expected MRR the open offers add by this month.
    public var upliftExpected: Double
    public var mrrExpected: Double
    public var arpuExpected: Double
    public var arpuP10: Double
    public var arpuP50: Double
    public var arpuP90: Double
    public var mrrP10: Double
    public var mrrP50: Double
    public var mrrP90: Double

    public init(month: String, activeAccounts: Double, mrrBaseline: Double, arpuBaseline: Double, upliftExpected: Double,
                mrrExpected: Double, arpuExpected: Double, arpuP10: Double, arpuP50: Double, arpuP90: Double,
                mrrP10: Double, mrrP50: Double, mrrP90: Double) {
        self.month = month; self.activeAccounts = activeAccounts; self.mrrBaseline = mrrBaseline; self.arpuBaseline = arpuBaseline
        self.upliftExpected = upliftExpected; self.mrrExpected = mrrExpected; self.arpuExpected = arpuExpected
        self.arpuP10 = arpuP10; self.arpuP50 = arpuP50; self.arpuP90 = arpuP90
        self.mrrP10 = mrrP10; self.mrrP50 = mrrP50; self.mrrP90 = mrrP90
    }
}

/// Which projection: learnt from the account history, or the naive flat comparison.
public enum ForecastModel: String, Sendable, CaseIterable {
    case history, flat
}

/// The projection: today's numbers and each month's baseline, expectation and quantiles.
public struct Forecast: Sendable, Equatable {
    public var model: ForecastModel
    public var payingAccounts: Int
    public var mrr: MinorUnits
    public var arpu: Double
    public var monthlyChurn: Double
    public var openOffers: Int
    public var expectedDeltaMRR: Double
    public var months: [ForecastMonth]
    /// How the quantiles were computed: "exact" or "N seeded draws".
    public var quantiles: String
    /// Why the model asked for is not the one used ("no history"), if it is not.
    public var fallback: String?
    /// The history model's lookback (L), its rates and its months.
    public var lookbackMonths: Int?
    public var rates: ForecastRates?
    public var history: [MonthMovements] = []
}

/// The distribution of the MRR added by independent accept-or-not outcomes of the open offers.
public struct UpliftDistribution: Sendable {
    /// Values (minor units) ascending with their probabilities, exact; or nil when sampled.
    public let exact: [(value: Int, probability: Double)]?
    /// Sorted sampled sums when the exact support is too large.
    public let samples: [Int]?

    /// Draws used when the exact distribution is too large to enumerate.
    public static let draws = 20_000
    /// Largest exact support kept before switching to draws.
    public static let maxExactSupport = 50_000
    public static let seed: UInt64 = 0x7469_6572_706c_616e   // "tierplan"

    public init(_ offers: [ForecastOffer]) {
        if let exact = Self.enumerate(offers) {
            self.exact = exact
            self.samples = nil
        } else {
            self.exact = nil
            self.samples = Self.sample(offers)
        }
    }

    /// The smallest value whose cumulative probability reaches `level`.
    public func quantile(_ level: Double) -> Int {
        if let exact {
            var cumulative = 0.0
            for entry in exact {
                cumulative += entry.probability
                if cumulative >= level - 1e-12 { return entry.value }
            }
            return exact.last?.value ?? 0
        }
        return Quantile.of(sorted: samples ?? [0], level)
    }

    /// Exact distribution by dynamic programming over sums; nil when the support grows too large.
    static func enumerate(_ offers: [ForecastOffer]) -> [(value: Int, probability: Double)]? {
        // Distinct sums are at most Π (offers with that delta + 1): a cheap bound before any work.
        var perDelta: [Int: Int] = [:]
        for offer in offers { perDelta[offer.deltaMRR, default: 0] += 1 }
        var bound = 1
        for count in perDelta.values {
            bound *= count + 1
            if bound > maxExactSupport { return nil }
        }
        var distribution: [Int: Double] = [0: 1]
        for offer in offers {
            var next: [Int: Double] = [:]
            next.reserveCapacity(distribution.count * 2)
            for (sum, p) in distribution {
                next[sum, default: 0] += p * (1 - offer.probability)
                next[sum + offer.deltaMRR, default: 0] += p * offer.probability
            }
            if next.count > maxExactSupport { return nil }
            distribution = next
        }
        return distribution.sorted { $0.key < $1.key }.map { (value: $0.key, probability: $0.value) }
    }

    /// Seeded draws: offers grouped by (probability, delta); each group's accepted count is drawn
    /// from its exact binomial distribution by inversion over a precomputed table.
    static func sample(_ offers: [ForecastOffer]) -> [Int] {
        var groups: [ForecastOffer: Int] = [:]
        for offer in offers { groups[offer, default: 0] += 1 }
        let ordered = groups.sorted { ($0.key.probability, $0.key.deltaMRR) < ($1.key.probability, $1.key.deltaMRR) }
        let tables = ordered.map { BinomialTable(n: $0.value, p: $0.key.probability) }
        var rng = SplitMix64(seed: seed)
        var sums = [Int](repeating: 0, count: draws)
        for d in 0..<draws {
            var sum = 0
            for (g, table) in tables.enumerated() {
                sum += table.draw(&rng) * ordered[g].key.deltaMRR
            }
            sums[d] = sum
        }
        sums.sort()
        return sums
    }
}

extension ForecastOffer: Hashable {}

/// Cumulative binomial probabilities over the range that carries all but ~1e-15 of the mass.
struct BinomialTable {
    let low: Int
    let cumulative: [Double]

    init(n: Int, p: Double) {
        guard p > 0, p < 1, n > 0 else {
            low = p >= 1 ? n : 0
            cumulative = [1]
            return
        }
        let q = 1 - p
        let mode = min(n, Int((Double(n + 1) * p).rounded(.down)))
        let logPmf = lgamma(Double(n + 1)) - lgamma(Double(mode + 1)) - lgamma(Double(n - mode + 1))
            + Double(mode) * log(p) + Double(n - mode) * log(q)
        var pmf: [Int: Double] = [mode: exp(logPmf)]
        var k = mode, value = exp(logPmf)
        while k > 0 {
            value *= Double(k) / Double(n - k + 1) * q / p
            k -= 1
            if value < 1e-17 { break }
            pmf[k] = value
        }
        let lowest = k + (value < 1e-17 ? 1 : 0)
        k = mode; value = exp(logPmf)
        while k < n {
            value *= Double(n - k) / Double(k + 1) * p / q
            k += 1
            if value < 1e-17 { break }
            pmf[k] = value
        }
        let highest = pmf.keys.max() ?? mode
        low = min(lowest, pmf.keys.min() ?? mode)
        var running = 0.0
        var table: [Double] = []
        table.reserveCapacity(highest - low + 1)
        for i in low...highest {
            running += pmf[i] ?? 0
            table.append(running)
        }
        cumulative = table.map { $0 / running }
    }

    func draw(_ rng: inout SplitMix64) -> Int {
        let u = rng.nextUnit()
        var lo = 0, hi = cumulative.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if cumulative[mid] >= u { hi = mid } else { lo = mid + 1 }
        }
        return low + lo
    }
}

/// A small, fast, seedable generator (SplitMix64): the same seed always gives the same draws.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
}

/// Projects ARPU month by month, baseline against with-offers, with P10/P50/P90 (contract: Forecast).
public enum Forecaster {
    /// Churn derived from cancellations: canceled in the 90 days to as_of ÷ N0 ÷ 3.
    public static func derivedChurn(canceledIn90Days: Int, payingAccounts: Int) -> Double {
        payingAccounts > 0 ? Double(canceledIn90Days) / Double(payingAccounts) / 3 : 0
    }

    /// The flat model: churn applied alike to accounts and MRR, every offer in from month 1.
    public static func project(_ input: ForecastInput, asOf: Day, months count: Int) -> Forecast {
        let n0 = Double(input.payingAccounts)
        let mrr0 = Double(input.mrr)
        let expectedDelta = input.offers.reduce(0.0) { $0 + $1.probability * Double($1.deltaMRR) }
        let distribution = UpliftDistribution(input.offers)
        let (p10, p50, p90) = (Double(distribution.quantile(0.1)), Double(distribution.quantile(0.5)), Double(distribution.quantile(0.9)))
        let c = input.monthlyChurn
        let base = CalendarMonth(containing: asOf)
        var months: [ForecastMonth] = []
        for m in 1...max(count, 1) where count > 0 {
            let survival = pow(1 - c, Double(m))
            let active = n0 * survival
            func arpu(_ mrr: Double) -> Double { active > 0 ? mrr / active : 0 }
            let baseline = mrr0 * survival
            let expected = (mrr0 + expectedDelta) * survival
            months.append(ForecastMonth(
                month: base.adding(months: m).iso, activeAccounts: active, mrrBaseline: baseline, arpuBaseline: arpu(baseline),
                upliftExpected: expectedDelta * survival, mrrExpected: expected, arpuExpected: arpu(expected),
                arpuP10: arpu((mrr0 + p10) * survival), arpuP50: arpu((mrr0 + p50) * survival), arpuP90: arpu((mrr0 + p90) * survival),
                mrrP10: (mrr0 + p10) * survival, mrrP50: (mrr0 + p50) * survival, mrrP90: (mrr0 + p90) * survival))
        }
        return Forecast(model: .flat, payingAccounts: input.payingAccounts, mrr: input.mrr, arpu: n0 > 0 ? mrr0 / n0 : 0, monthlyChurn: c,
                        openOffers: input.offers.count, expectedDeltaMRR: expectedDelta, months: months,
                        quantiles: distribution.exact != nil ? "exact" : "\(UpliftDistribution.draws) seeded draws")
    }
}
