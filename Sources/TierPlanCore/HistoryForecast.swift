import Foundation

/// One lookback month of the account history: who paid at its start and end, and how MRR moved
/// between the two (contract: Forecast, `history`).
public struct MonthMovements: Sendable, Equatable {
    public var month: CalendarMonth
    public var startAccounts = 0
    public var startMRR: MinorUnits = 0
    public var churned = 0
    public var churnedMRR: MinorUnits = 0
    public var new = 0
    public var newMRR: MinorUnits = 0
    public var expansion: MinorUnits = 0
    /// The part of `expansion` from accounts with an upsell offer accepted within the month.
    public var offerExpansion: MinorUnits = 0
    /// A positive amount.
    public var contraction: MinorUnits = 0
    public var endAccounts = 0
    public var endMRR: MinorUnits = 0

    public init(month: CalendarMonth) { self.month = month }

    public init(month: CalendarMonth, startAccounts: Int, startMRR: MinorUnits, churned: Int, churnedMRR: MinorUnits, new: Int,
                newMRR: MinorUnits, expansion: MinorUnits, offerExpansion: MinorUnits, contraction: MinorUnits,
                endAccounts: Int, endMRR: MinorUnits) {
        self.month = month; self.startAccounts = startAccounts; self.startMRR = startMRR; self.churned = churned
        self.churnedMRR = churnedMRR; self.new = new; self.newMRR = newMRR; self.expansion = expansion
        self.offerExpansion = offerExpansion; self.contraction = contraction; self.endAccounts = endAccounts; self.endMRR = endMRR
    }

    public var organicExpansion: MinorUnits { expansion - offerExpansion }

    /// This month's own rates, as one bootstrap draw uses them (0 where the month started empty).
    public var rates: ForecastRates { ForecastRates.pooled([self]) }
}

/// The monthly rates of the history model (contract: Forecast, `rates`).
public struct ForecastRates: Sendable, Equatable {
    /// c: churned accounts ÷ accounts paying at the start.
    public var logoChurn: Double
    /// rc: churned MRR ÷ start MRR.
    public var mrrChurn: Double
    /// rk: contraction ÷ start MRR.
    public var contraction: Double
    /// re: organic expansion ÷ start MRR.
    public var organicExpansion: Double
    /// a: new paying accounts per month.
    public var newAccounts: Double
    /// b: new MRR per month (minor units).
    public var newMRR: Double

    public init(logoChurn: Double, mrrChurn: Double, contraction: Double, organicExpansion: Double, newAccounts: Double, newMRR: Double) {
        self.logoChurn = logoChurn; self.mrrChurn = mrrChurn; self.contraction = contraction
        self.organicExpansion = organicExpansion; self.newAccounts = newAccounts; self.newMRR = newMRR
    }

    /// Rates summed over the months used: ratios of sums, new business per month on average.
    public static func pooled(_ months: [MonthMovements]) -> ForecastRates {
        func ratio(_ a: Int, _ b: Int) -> Double { b > 0 ? Double(a) / Double(b) : 0 }
        let startAccounts = months.reduce(0) { $0 + $1.startAccounts }
        let startMRR = months.reduce(0) { $0 + $1.startMRR }
        let count = Double(max(months.count, 1))
        return ForecastRates(
            logoChurn: ratio(months.reduce(0) { $0 + $1.churned }, startAccounts),
            mrrChurn: ratio(months.reduce(0) { $0 + $1.churnedMRR }, startMRR),
            contraction: ratio(months.reduce(0) { $0 + $1.contraction }, startMRR),
            organicExpansion: ratio(months.reduce(0) { $0 + $1.organicExpansion }, startMRR),
            newAccounts: Double(months.reduce(0) { $0 + $1.new }) / count,
            newMRR: Double(months.reduce(0) { $0 + $1.newMRR }) / count)
    }

    /// `--churn` replaces both logo and MRR churn.
    public func overridingChurn(_ churn: Double?) -> ForecastRates {
        guard let churn else { return self }
        var r = self
        r.logoChurn = churn; r.mrrChurn = churn
        return r
    }

    /// One month of the baseline recursion.
    func step(active: Double, mrr: Double) -> (active: Double, mrr: Double) {
        (active * (1 - logoChurn) + newAccounts, mrr * (1 - mrrChurn - contraction + organicExpansion) + newMRR)
    }
}

/// What the history model starts from (contract: Forecast, `--model history`).
public struct HistoryForecastInput: Sendable, Equatable {
    public var payingAccounts: Int
    public var mrr: MinorUnits
    /// The usable lookback months, oldest first.
    public var history: [MonthMovements]
    /// `--churn` (else `policy.monthly_churn`): replaces logo and MRR churn, fixed in every draw.
    public var churnOverride: Double?
    /// Open upsell offers, at most one per account.
    public var offers: [ForecastOffer]
    /// Days from each accepted upsell offer's first as_of to its acceptance.
    public var lags: [Int]
    /// How many lookback months were asked for (L).
    public var lookbackMonths: Int

    public init(payingAccounts: Int, mrr: MinorUnits, history: [MonthMovements], churnOverride: Double? = nil,
                offers: [ForecastOffer], lags: [Int], lookbackMonths: Int = 6) {
        self.payingAccounts = payingAccounts; self.mrr = mrr; self.history = history; self.churnOverride = churnOverride
        self.offers = offers; self.lags = lags; self.lookbackMonths = lookbackMonths
    }
}

/// The history model: rates learnt from the lookback months, a baseline recursion, offers that land
/// over time by the learnt acceptance lag, and bands from a bootstrap over whole lookback months.
public enum HistoryForecaster {
    /// Draws for the bands (the contract asks for at least 10,000).
    public static let draws = 10_000
    public static let seed: UInt64 = 0x6869_7374_6f72_7921   // "history!"

    /// The seed of draw d: the forecast's seed and d, mixed.
    static func drawSeed(_ d: Int) -> UInt64 {
        var mixer = SplitMix64(seed: seed ^ (UInt64(d) &* 0xD1B5_4A32_D192_ED03))
        return mixer.next()
    }

    /// F(m): the share of lags at most (last day of month m − as_of); 1 with no lag.
    public static func landedShare(lags: [Int], asOf: Day, month m: Int) -> Double {
        guard !lags.isEmpty else { return 1 }
        let horizon = CalendarMonth(containing: asOf).adding(months: m).lastDay.days(since: asOf)
        return Double(lags.filter { $0 <= horizon }.count) / Double(lags.count)
    }

    /// The first forecast month (1…months) whose last day − as_of ≥ lag; nil beyond the horizon.
    public static func landingMonth(lag: Int, asOf: Day, months: Int) -> Int? {
        let base = CalendarMonth(containing: asOf)
        return (1...max(months, 1)).first { base.adding(months: $0).lastDay.days(since: asOf) >= lag }
    }

    /// The projection, or the flat model with `fallback: "no history"` when no lookback month is usable.
    public static func project(_ input: HistoryForecastInput, asOf: Day, months count: Int, flatChurn: Double,
                               draws: Int = draws) -> Forecast {
        guard !input.history.isEmpty else {
            var flat = Forecaster.project(ForecastInput(payingAccounts: input.payingAccounts, mrr: input.mrr,
                                                        monthlyChurn: input.churnOverride ?? flatChurn, offers: input.offers),
                                          asOf: asOf, months: count)
            flat.fallback = "no history"
            flat.lookbackMonths = input.lookbackMonths
            return flat
        }
        let rates = ForecastRates.pooled(input.history).overridingChurn(input.churnOverride)
        let c = rates.logoChurn
        let expectedDelta = input.offers.reduce(0.0) { $0 + $1.probability * Double($1.deltaMRR) }
        let bands = Bands(input, asOf: asOf, months: count, draws: draws)
        let base = CalendarMonth(containing: asOf)
        var active = Double(input.payingAccounts), mrr = Double(input.mrr)
        var months: [ForecastMonth] = []
        for m in 1...max(count, 1) where count > 0 {
            (active, mrr) = rates.step(active: active, mrr: mrr)
            let uplift = expectedDelta * landedShare(lags: input.lags, asOf: asOf, month: m) * pow(1 - c, Double(m))
            func arpu(_ x: Double) -> Double { active > 0 ? x / active : 0 }
            let q = bands.quantiles(month: m)
            months.append(ForecastMonth(
                month: base.adding(months: m).iso, activeAccounts: active, mrrBaseline: mrr, arpuBaseline: arpu(mrr),
                upliftExpected: uplift, mrrExpected: mrr + uplift, arpuExpected: arpu(mrr + uplift),
                arpuP10: q.arpu.0, arpuP50: q.arpu.1, arpuP90: q.arpu.2, mrrP10: q.mrr.0, mrrP50: q.mrr.1, mrrP90: q.mrr.2))
        }
        let n0 = Double(input.payingAccounts)
        return Forecast(model: .history, payingAccounts: input.payingAccounts, mrr: input.mrr, arpu: n0 > 0 ? Double(input.mrr) / n0 : 0,
                        monthlyChurn: c, openOffers: input.offers.count, expectedDeltaMRR: expectedDelta, months: months,
                        quantiles: "\(draws) seeded draws", lookbackMonths: input.lookbackMonths, rates: rates, history: input.history)
    }

    /// The bootstrap: in each draw every month takes the rates of one lookback month drawn with
    /// replacement; each offer is accepted with its probability and lands at a drawn lag.
    struct Bands {
        /// Per month (0-based), the sorted ARPU and MRR over the draws.
        var arpu: [[Double]] = []
        var mrr: [[Double]] = []

        init(_ input: HistoryForecastInput, asOf: Day, months count: Int, draws: Int) {
            guard count > 0, draws > 0 else { return }
            let monthRates = input.history.map { $0.rates.overridingChurn(input.churnOverride) }
            // Where an accepted offer lands: month index (0-based) with its probability; the rest never within the horizon.
            var landing = [Double](repeating: 0, count: count)
            if input.lags.isEmpty { landing[0] = 1 } else {
                for lag in input.lags {
                    if let m = HistoryForecaster.landingMonth(lag: lag, asOf: asOf, months: count) { landing[m - 1] += 1 / Double(input.lags.count) }
                }
            }
            let categories = landing.enumerated().filter { $0.element > 0 }.map { (month: $0.offset, share: $0.element) }
            // Offers with the same probability and delta are drawn together.
            var groups: [ForecastOffer: Int] = [:]
            for offer in input.offers { groups[offer, default: 0] += 1 }
            let ordered = groups.sorted { ($0.key.probability, $0.key.deltaMRR) < ($1.key.probability, $1.key.deltaMRR) }
            let acceptedTables = ordered.map { BinomialTable(n: $0.value, p: $0.key.probability) }

            // Each draw has its own seeded generator, so the draws can run on every core and the
            // numbers do not depend on how many there are.
            let categoriesByMonth = categories, tables = acceptedTables, deltas = ordered.map { Double($0.key.deltaMRR) }
            let active0 = Double(input.payingAccounts), mrr0 = Double(input.mrr)
            var arpuFlat = [Double](repeating: 0, count: count * draws), mrrFlat = arpuFlat
            arpuFlat.withUnsafeMutableBufferPointer { arpuOut in
                mrrFlat.withUnsafeMutableBufferPointer { mrrOut in
                    let out = DrawOutput(arpu: arpuOut.baseAddress!, mrr: mrrOut.baseAddress!)
                    let chunks = min(draws, 16)
                    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                        var landed = [Double](repeating: 0, count: count)
                        for d in stride(from: chunk, to: draws, by: chunks) {
                            var rng = SplitMix64(seed: HistoryForecaster.drawSeed(d))
                            for i in 0..<count { landed[i] = 0 }
                            for (g, table) in tables.enumerated() {
                                var left = table.draw(&rng)
                                var shareLeft = 1.0
                                for (month, share) in categoriesByMonth where left > 0 {
                                    let k = shareLeft <= share + 1e-12 ? left : Binomial.draw(n: left, p: share / shareLeft, &rng)
                                    landed[month] += Double(k) * deltas[g]
                                    left -= k
                                    shareLeft -= share
                                }
                            }
                            var active = active0, base = mrr0, survival = 1.0, uplift = 0.0
                            for m in 0..<count {
                                let rates = monthRates[min(Int(rng.nextUnit() * Double(monthRates.count)), monthRates.count - 1)]
                                (active, base) = rates.step(active: active, mrr: base)
                                survival *= 1 - rates.logoChurn
                                uplift += landed[m]
                                let total = base + uplift * survival
                                out.mrr[m * draws + d] = total
                                out.arpu[m * draws + d] = active > 0 ? total / active : 0
                            }
                        }
                    }
                }
            }
            arpu = (0..<count).map { Array(arpuFlat[($0 * draws)..<(($0 + 1) * draws)]) }
            mrr = (0..<count).map { Array(mrrFlat[($0 * draws)..<(($0 + 1) * draws)]) }
            for m in 0..<count { arpu[m].sort(); mrr[m].sort() }
        }

        /// P10, P50, P90 of month m (1-based): the smallest value whose cumulative share reaches the level.
        func quantiles(month m: Int) -> (arpu: (Double, Double, Double), mrr: (Double, Double, Double)) {
            guard m - 1 < arpu.count else { return ((0, 0, 0), (0, 0, 0)) }
            func q(_ sorted: [Double], _ level: Double) -> Double { Quantile.of(sorted: sorted, level) }
            let a = arpu[m - 1], r = mrr[m - 1]
            return ((q(a, 0.1), q(a, 0.5), q(a, 0.9)), (q(r, 0.1), q(r, 0.5), q(r, 0.9)))
        }
    }
}

/// Where the concurrent draws write: each draw its own slots (month m, draw d at m × draws + d).
private struct DrawOutput: @unchecked Sendable {
    let arpu: UnsafeMutablePointer<Double>
    let mrr: UnsafeMutablePointer<Double>
}

/// The contract's quantile: the smallest value whose cumulative share reaches the level.
public enum Quantile {
    public static func of<T>(sorted values: [T], _ level: Double) -> T where T: Comparable & Numeric {
        guard !values.isEmpty else { return 0 }
        let index = Int((level * Double(values.count) - 1e-9).rounded(.up)) - 1
        return values[min(max(index, 0), values.count - 1)]
    }
}

/// Binomial draws for counts that change from draw to draw: Bernoulli sums for small n, inversion
/// for a small mean, a rounded normal for a large one (its error is far below the bands' width).
enum Binomial {
    static func draw(n: Int, p: Double, _ rng: inout SplitMix64) -> Int {
        if n <= 0 || p <= 0 { return 0 }
        if p >= 1 { return n }
        if p > 0.5 { return n - draw(n: n, p: 1 - p, &rng) }
        if n <= 16 {
            var k = 0
            for _ in 0..<n where rng.nextUnit() < p { k += 1 }
            return k
        }
        let mean = Double(n) * p
        if mean < 30 {
            // Inversion: walk the probability mass from 0.
            let q = 1 - p, ratio = p / q
            var pmf = pow(q, Double(n)), cumulative = pmf, k = 0
            let u = rng.nextUnit()
            while u > cumulative && k < n {
                pmf *= ratio * Double(n - k) / Double(k + 1)
                k += 1
                cumulative += pmf
            }
            return k
        }
        let sd = (mean * (1 - p)).squareRoot()
        let u1 = max(rng.nextUnit(), 1e-300), u2 = rng.nextUnit()
        let z = (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
        return min(n, max(0, Int((mean + sd * z).rounded())))
    }
}
