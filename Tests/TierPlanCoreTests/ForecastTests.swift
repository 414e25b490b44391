import TierPlanCore
import XCTest

final class ForecastTests: XCTestCase {
    let nov = Day(iso: "2026-11-01")!

    func testExpectedValuesByHand() {
        // 100 accounts, MRR 540,000, churn 1 %, two offers: 0.2 × 6000 + 0.5 × 400 = 1400.
        let input = ForecastInput(payingAccounts: 100, mrr: 540_000, monthlyChurn: 0.01,
                                  offers: [ForecastOffer(probability: 0.2, deltaMRR: 6000), ForecastOffer(probability: 0.5, deltaMRR: 400)])
        let f = Forecaster.project(input, asOf: nov, months: 3)
        XCTAssertEqual(f.arpu, 5400)
        XCTAssertEqual(f.openOffers, 2)
        XCTAssertEqual(f.expectedDeltaMRR, 1400, accuracy: 1e-9)
        XCTAssertEqual(f.months.map(\.month), ["2026-12", "2027-01", "2027-02"])
        let m1 = f.months[0]
        XCTAssertEqual(m1.activeAccounts, 99, accuracy: 1e-9)
        XCTAssertEqual(m1.mrrBaseline, 534_600, accuracy: 1e-6)
        XCTAssertEqual(m1.mrrExpected, 541_400 * 0.99, accuracy: 1e-6)
        XCTAssertEqual(m1.arpuBaseline, 5400, accuracy: 1e-9)
        XCTAssertEqual(m1.arpuExpected, 5414, accuracy: 1e-9)
        let m3 = f.months[2]
        XCTAssertEqual(m3.activeAccounts, 100 * 0.99 * 0.99 * 0.99, accuracy: 1e-9)
        XCTAssertEqual(m3.mrrBaseline, 540_000 * pow(0.99, 3), accuracy: 1e-6)
        // Outcomes: 0 (0.4), 400 (0.4), 6000 (0.1), 6400 (0.1) → P10 0, P50 400, P90 6000.
        XCTAssertEqual(m1.arpuP10, 5400, accuracy: 1e-9)
        XCTAssertEqual(m1.arpuP50, 5404, accuracy: 1e-9)
        XCTAssertEqual(m1.arpuP90, 5460, accuracy: 1e-9)
        XCTAssertEqual(f.quantiles, "exact")
        XCTAssertEqual(f.model, .flat)
    }

    func testChurnDerivedFromCancellations() {
        XCTAssertEqual(Forecaster.derivedChurn(canceledIn90Days: 6, payingAccounts: 100), 0.02, accuracy: 1e-12)
        XCTAssertEqual(Forecaster.derivedChurn(canceledIn90Days: 3, payingAccounts: 0), 0)
        let none = Forecaster.project(ForecastInput(payingAccounts: 10, mrr: 1000, monthlyChurn: 0, offers: []), asOf: nov, months: 1)
        XCTAssertEqual(none.months[0].mrrBaseline, 1000)
        XCTAssertEqual(none.months[0].arpuP90, 100)
    }

    func testQuantilesAgainstExhaustiveEnumeration() {
        var rng = SplitMix64(seed: 42)
        for trial in 0..<25 {
            let n = 1 + trial % 10
            let offers = (0..<n).map { _ in
                ForecastOffer(probability: Double(Int(rng.nextUnit() * 90) + 5) / 100, deltaMRR: Int(rng.nextUnit() * 5000) + 100)
            }
            // Every accept/decline combination.
            var outcomes: [(Int, Double)] = []
            for mask in 0..<(1 << n) {
                var sum = 0, p = 1.0
                for (i, o) in offers.enumerated() {
                    if mask & (1 << i) != 0 { sum += o.deltaMRR; p *= o.probability } else { p *= 1 - o.probability }
                }
                outcomes.append((sum, p))
            }
            outcomes.sort { $0.0 < $1.0 }
            func quantile(_ level: Double) -> Int {
                var c = 0.0
                for (v, p) in outcomes { c += p; if c >= level - 1e-12 { return v } }
                return outcomes.last!.0
            }
            let distribution = UpliftDistribution(offers)
            for level in [0.1, 0.5, 0.9] {
                XCTAssertEqual(distribution.quantile(level), quantile(level), "trial \(trial) level \(level)")
            }
            let f = Forecaster.project(ForecastInput(payingAccounts: 50, mrr: 200_000, monthlyChurn: 0.02, offers: offers), asOf: nov, months: 2)
            XCTAssertEqual(f.months[1].arpuP50, Double(200_000 + quantile(0.5)) / 50, accuracy: 1e-9)
        }
    }

    func testSampledQuantilesAreDeterministicAndClose() {
        // 3,000 offers: too many distinct sums for the exact path.
        let offers = (0..<3000).map { ForecastOffer(probability: [0.2, 0.3][$0 % 2], deltaMRR: 1000 + ($0 % 37) * 113) }
        let a = UpliftDistribution(offers), b = UpliftDistribution(offers)
        XCTAssertNil(a.exact)
        XCTAssertEqual(a.samples, b.samples)
        XCTAssertEqual(a.samples?.count, UpliftDistribution.draws)
        // Normal approximation of the sum as a sanity check.
        let mean = offers.reduce(0.0) { $0 + $1.probability * Double($1.deltaMRR) }
        let sd = sqrt(offers.reduce(0.0) { $0 + $1.probability * (1 - $1.probability) * Double($1.deltaMRR * $1.deltaMRR) })
        XCTAssertEqual(Double(a.quantile(0.5)), mean, accuracy: 0.05 * sd)
        XCTAssertEqual(Double(a.quantile(0.9)), mean + 1.2816 * sd, accuracy: 0.1 * sd)
        XCTAssertEqual(Double(a.quantile(0.1)), mean - 1.2816 * sd, accuracy: 0.1 * sd)
    }

    func testMRRMovementsOnAScriptedHistory() {
        func d(_ s: String) -> Day { Day(iso: s)! }
        let histories: [[BillingState]] = [
            // Upgrade, downgrade, cancel, come back.
            [BillingState(day: d("2026-01-10"), status: .active, mrr: 2900),
             BillingState(day: d("2026-10-05"), status: .active, mrr: 7900),
             BillingState(day: d("2026-10-12"), status: .active, mrr: 3900),
             BillingState(day: d("2026-10-20"), status: .canceled, mrr: 3900),
             BillingState(day: d("2026-10-28"), status: .active, mrr: 2900)],
            // A trial that converts inside the period: new.
            [BillingState(day: d("2026-09-25"), status: .trialing, mrr: 7900),
             BillingState(day: d("2026-10-09"), status: .active, mrr: 7900)],
            // Churned before the period and back inside it: reactivation.
            [BillingState(day: d("2025-05-01"), status: .active, mrr: 1000),
             BillingState(day: d("2026-06-01"), status: .canceled, mrr: 1000),
             BillingState(day: d("2026-10-15"), status: .active, mrr: 1500)],
            // Past due still pays; a change after the period is not counted.
            [BillingState(day: d("2026-02-01"), status: .pastDue, mrr: 5000),
             BillingState(day: d("2026-11-05"), status: .canceled, mrr: 5000)],
        ]
        let m = MRRMovements.compute(histories: histories, from: d("2026-10-01"), to: d("2026-11-01"))
        XCTAssertEqual(m.new, 7900)
        XCTAssertEqual(m.expansion, 5000)             // 2900 → 7900
        XCTAssertEqual(m.contraction, 4000)           // 7900 → 3900
        XCTAssertEqual(m.churn, 3900)                 // canceled at 3900
        XCTAssertEqual(m.reactivation, 2900 + 1500)   // back at 2900; back at 1500
        XCTAssertEqual(m.net, (2900 + 7900 + 1500 + 5000) - (2900 + 0 + 0 + 5000))
        // The first payment ever is new, even for an account created inside the period.
        let fresh = MRRMovements.compute(histories: [[BillingState(day: d("2026-10-03"), status: .active, mrr: 100)]], from: d("2026-10-01"), to: d("2026-11-01"))
        XCTAssertEqual(fresh.new, 100)
    }

    func testConversionAndUplift() {
        let c = Conversion(kind: "addon", accepted: 3, declined: 7)
        XCTAssertEqual(c.rate, 0.3)
        // Beta(4, 8): 95 % interval by a reference implementation (scipy.stats.beta.ppf).
        XCTAssertEqual(c.low, 0.10926, accuracy: 1e-4)
        XCTAssertEqual(c.high, 0.60974, accuracy: 1e-4)
        XCTAssertNil(Conversion(kind: "x", accepted: 0, declined: 0).rate)
        XCTAssertEqual(BetaInterval.regularizedIncompleteBeta(0.5, a: 2, b: 2), 0.5, accuracy: 1e-12)

        let u = Uplift(changes: [(false, 5000), (false, 0), (false, 1000), (false, -500), (true, 0), (true, 1000)])!
        XCTAssertEqual(u.treatedAccounts, 4)
        XCTAssertEqual(u.holdoutAccounts, 2)
        XCTAssertEqual(u.treatedExpansionRate, 0.5)
        XCTAssertEqual(u.holdoutExpansionRate, 0.5)
        XCTAssertEqual(u.treatedMeanDeltaMRR, 1375)
        XCTAssertEqual(u.holdoutMeanDeltaMRR, 500)
        XCTAssertEqual(u.upliftMeanDeltaMRR, 875)
        XCTAssertNil(Uplift(changes: [(false, 1)]), "no holdout, no uplift")
    }
}
