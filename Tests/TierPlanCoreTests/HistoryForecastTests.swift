import XCTest
@testable import TierPlanCore

/// The history model and the backtest scoring on numbers worked out by hand.
final class HistoryForecastTests: XCTestCase {
    let asOf = Day(iso: "2026-11-15")!

    /// Three lookback months (2026-08 … 2026-10) that chain: each month's end is the next one's start.
    ///   M1: start 100 / 100,000; churned 2 / 2,000; new 4 / 4,000; expansion 3,000 (1,000 of it from offers); contraction 500
    ///   M2: start 102 / 104,500; churned 3 / 3,500; new 2 / 2,000; expansion 1,000 (none from offers); contraction 1,000
    ///   M3: start 101 / 103,000; churned 1 / 1,000; new 3 / 3,000; expansion 2,000 (500 from offers); contraction 500
    ///   end of M3: 103 accounts, 106,500 MRR
    var history: [MonthMovements] {
        [MonthMovements(month: CalendarMonth(year: 2026, month: 8), startAccounts: 100, startMRR: 100_000, churned: 2, churnedMRR: 2_000,
                        new: 4, newMRR: 4_000, expansion: 3_000, offerExpansion: 1_000, contraction: 500, endAccounts: 102, endMRR: 104_500),
         MonthMovements(month: CalendarMonth(year: 2026, month: 9), startAccounts: 102, startMRR: 104_500, churned: 3, churnedMRR: 3_500,
                        new: 2, newMRR: 2_000, expansion: 1_000, offerExpansion: 0, contraction: 1_000, endAccounts: 101, endMRR: 103_000),
         MonthMovements(month: CalendarMonth(year: 2026, month: 10), startAccounts: 101, startMRR: 103_000, churned: 1, churnedMRR: 1_000,
                        new: 3, newMRR: 3_000, expansion: 2_000, offerExpansion: 500, contraction: 500, endAccounts: 103, endMRR: 106_500)]
    }

    func testPooledRatesAreRatiosOfSums() {
        let r = ForecastRates.pooled(history)
        XCTAssertEqual(r.logoChurn, 6.0 / 303, accuracy: 1e-12)            // (2 + 3 + 1) / (100 + 102 + 101)
        XCTAssertEqual(r.mrrChurn, 6_500.0 / 307_500, accuracy: 1e-12)     // (2,000 + 3,500 + 1,000) / 307,500
        XCTAssertEqual(r.contraction, 2_000.0 / 307_500, accuracy: 1e-12)
        XCTAssertEqual(r.organicExpansion, 4_500.0 / 307_500, accuracy: 1e-12)  // (3,000 − 1,000) + 1,000 + (2,000 − 500)
        XCTAssertEqual(r.newAccounts, 3, accuracy: 1e-12)                  // 9 new over 3 months
        XCTAssertEqual(r.newMRR, 3_000, accuracy: 1e-12)
        // One month's own rates, as a bootstrap draw uses them.
        XCTAssertEqual(history[1].rates.logoChurn, 3.0 / 102, accuracy: 1e-12)
        XCTAssertEqual(history[1].rates.newMRR, 2_000, accuracy: 1e-12)
    }

    func testLandingShareAndLandingMonth() {
        // as_of 2026-11-15: month 1 (2026-12) ends 46 days later, month 2 (2027-01) 77 days later.
        let lags = [10, 40, 70]
        XCTAssertEqual(HistoryForecaster.landedShare(lags: lags, asOf: asOf, month: 1), 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(HistoryForecaster.landedShare(lags: lags, asOf: asOf, month: 2), 1, accuracy: 1e-12)
        XCTAssertEqual(HistoryForecaster.landedShare(lags: [], asOf: asOf, month: 1), 1)
        XCTAssertEqual(HistoryForecaster.landingMonth(lag: 46, asOf: asOf, months: 3), 1)
        XCTAssertEqual(HistoryForecaster.landingMonth(lag: 47, asOf: asOf, months: 3), 2)
        XCTAssertNil(HistoryForecaster.landingMonth(lag: 400, asOf: asOf, months: 3))
    }

    func testBaselineRecursionAndUpliftByHand() {
        let input = HistoryForecastInput(payingAccounts: 103, mrr: 106_500, history: history,
                                         offers: [ForecastOffer(probability: 0.5, deltaMRR: 1_000), ForecastOffer(probability: 0.2, deltaMRR: 5_000)],
                                         lags: [10, 40, 70], lookbackMonths: 3)
        let f = HistoryForecaster.project(input, asOf: asOf, months: 2, flatChurn: 0)
        XCTAssertEqual(f.model, .history)
        XCTAssertNil(f.fallback)
        XCTAssertEqual(f.expectedDeltaMRR, 1_500, accuracy: 1e-9)   // 0.5 × 1,000 + 0.2 × 5,000
        XCTAssertEqual(f.months.map(\.month), ["2026-12", "2027-01"])
        // active_1 = 103 (1 − 6/303) + 3; mrr_1 = 106,500 (1 − 6,500/307,500 − 2,000/307,500 + 4,500/307,500) + 3,000
        XCTAssertEqual(f.months[0].activeAccounts, 103.960396039604, accuracy: 1e-9)
        XCTAssertEqual(f.months[0].mrrBaseline, 108_114.634146341, accuracy: 1e-6)
        XCTAssertEqual(f.months[0].arpuBaseline, 1_039.95981416957, accuracy: 1e-8)
        // uplift_1 = 1,500 × F(1) = 2/3 × (1 − 6/303) = 1,000 × 297/303
        XCTAssertEqual(f.months[0].upliftExpected, 980.198019801980, accuracy: 1e-9)
        XCTAssertEqual(f.months[0].arpuExpected, 1_049.38838559814, accuracy: 1e-8)
        // Month 2: every lag has passed, two months of survival.
        XCTAssertEqual(f.months[1].activeAccounts, 104.901774335849, accuracy: 1e-9)
        XCTAssertEqual(f.months[1].mrrBaseline, 109_708.264921674, accuracy: 1e-6)
        XCTAssertEqual(f.months[1].upliftExpected, 1_500 * (297.0 / 303) * (297.0 / 303), accuracy: 1e-9)
        XCTAssertEqual(f.months[1].arpuExpected, 1_059.55736080171, accuracy: 1e-8)
    }

    func testChurnOverrideReplacesLogoAndMRRChurn() {
        let input = HistoryForecastInput(payingAccounts: 103, mrr: 106_500, history: history, churnOverride: 0.05, offers: [], lags: [])
        let f = HistoryForecaster.project(input, asOf: asOf, months: 1, flatChurn: 0)
        XCTAssertEqual(f.monthlyChurn, 0.05)
        XCTAssertEqual(f.months[0].activeAccounts, 103 * 0.95 + 3, accuracy: 1e-9)
        XCTAssertEqual(f.months[0].mrrBaseline, 106_500 * (1 - 0.05 - 2_000.0 / 307_500 + 4_500.0 / 307_500) + 3_000, accuracy: 1e-6)
    }

    func testBandsCollapseWhenNothingIsUncertain() {
        // Identical months and offers that are certain and land at once: every draw is the expectation.
        let same = (1...3).map { MonthMovements(month: CalendarMonth(year: 2026, month: 7 + $0), startAccounts: 100, startMRR: 100_000,
                                                churned: 2, churnedMRR: 2_000, new: 1, newMRR: 1_000, expansion: 500, offerExpansion: 0,
                                                contraction: 0, endAccounts: 99, endMRR: 99_500) }
        let input = HistoryForecastInput(payingAccounts: 100, mrr: 100_000, history: same,
                                         offers: [ForecastOffer(probability: 1, deltaMRR: 2_000)], lags: [])
        let f = HistoryForecaster.project(input, asOf: asOf, months: 3, flatChurn: 0, draws: 500)
        for m in f.months {
            XCTAssertEqual(m.arpuP10, m.arpuExpected, accuracy: 1e-9)
            XCTAssertEqual(m.arpuP90, m.arpuExpected, accuracy: 1e-9)
            XCTAssertEqual(m.mrrP50, m.mrrExpected, accuracy: 1e-6)
        }
    }

    func testBandsAreSeededOrderedAndWiden() {
        let input = HistoryForecastInput(payingAccounts: 103, mrr: 106_500, history: history,
                                         offers: (0..<200).map { ForecastOffer(probability: 0.2, deltaMRR: 1_000 + 10 * ($0 % 7)) },
                                         lags: [10, 40, 70])
        let a = HistoryForecaster.project(input, asOf: asOf, months: 12, flatChurn: 0)
        let b = HistoryForecaster.project(input, asOf: asOf, months: 12, flatChurn: 0)
        XCTAssertEqual(a, b, "the same input prints the same numbers")
        for m in a.months {
            XCTAssertLessThanOrEqual(m.arpuP10, m.arpuP50)
            XCTAssertLessThanOrEqual(m.arpuP50, m.arpuP90)
            XCTAssertLessThanOrEqual(m.mrrP10, m.mrrP90)
        }
        let width = a.months.map { $0.mrrP90 - $0.mrrP10 }
        XCTAssertGreaterThan(width[5], width[0], "the band widens with the horizon")
        XCTAssertGreaterThan(width[11], width[5], "the band widens with the horizon")
        // The band sits around the expectation: the mean of the draws is the expected value.
        XCTAssertLessThan(a.months[11].arpuP10, a.months[11].arpuExpected)
        XCTAssertGreaterThan(a.months[11].arpuP90, a.months[11].arpuExpected)
    }

    func testNoHistoryFallsBackToFlatAndSaysSo() {
        let input = HistoryForecastInput(payingAccounts: 10, mrr: 10_000, history: [], offers: [], lags: [], lookbackMonths: 6)
        let f = HistoryForecaster.project(input, asOf: asOf, months: 2, flatChurn: 0.1)
        XCTAssertEqual(f.model, .flat)
        XCTAssertEqual(f.fallback, "no history")
        XCTAssertEqual(f.months[1].activeAccounts, 10 * 0.9 * 0.9, accuracy: 1e-9)
    }

    func testQuantileIsTheSmallestValueReachingTheLevel() {
        let values = (1...10).map(Double.init)
        XCTAssertEqual(Quantile.of(sorted: values, 0.1), 1)
        XCTAssertEqual(Quantile.of(sorted: values, 0.5), 5)
        XCTAssertEqual(Quantile.of(sorted: values, 0.9), 9)
        XCTAssertEqual(Quantile.of(sorted: values, 0.95), 10)
    }

    func testCalendarMonths() {
        XCTAssertEqual(CalendarMonth(containing: Day(iso: "2026-01-31")!).adding(months: -2).iso, "2025-11")
        XCTAssertEqual(CalendarMonth(year: 2028, month: 2).lastDay.iso, "2028-02-29")
        XCTAssertEqual(CalendarMonth(year: 2026, month: 12).adding(months: 1).iso, "2027-01")
        XCTAssertEqual(CalendarMonth(year: 2027, month: 1).months(since: CalendarMonth(year: 2026, month: 11)), 2)
    }

    func testBacktestAsOfDaysStopWhereTheHistoryEnds() {
        let days = Backtest.asOfDays(from: Day(iso: "2026-01-15")!, to: Day(iso: "2026-06-10")!, horizon: 3, latest: Day(iso: "2026-08-31")!)
        // 2026-06-30's third month ends 2026-09-30, after the latest history date.
        XCTAssertEqual(days.map(\.iso), ["2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31"])
        XCTAssertEqual(Backtest.asOfDays(from: Day(iso: "2026-01-15")!, to: Day(iso: "2026-06-10")!, horizon: 3, latest: nil), [])
    }

    func testBacktestScoresByHand() {
        func point(_ h: Int, _ expected: Double, _ p10: Double, _ p90: Double, _ actual: Double, _ mrrExpected: Double, _ mrrActual: Double) -> BacktestPoint {
            BacktestPoint(asOf: asOf, h: h, month: CalendarMonth(year: 2026, month: 12), model: .history, arpuExpected: expected, arpuP10: p10,
                          arpuP90: p90, arpuActual: actual, mrrExpected: mrrExpected, mrrActual: mrrActual)
        }
        let points = [point(1, 110, 100, 120, 100, 1_000, 1_000),   // ARPU +10 %, inside the band; MRR exact
                      point(1, 90, 80, 95, 100, 1_100, 1_000),      // ARPU −10 %, outside; MRR +10 %
                      point(2, 100, 90, 110, 125, 800, 1_000),      // ARPU −20 %, outside; MRR −20 %
                      point(2, 50, 0, 100, 0, 500, 0)]              // no actual: not scored
        let scores = Backtest.scores(points, horizons: 2)
        XCTAssertEqual(scores.byHorizon[0].forecasts, 2)
        XCTAssertEqual(scores.byHorizon[0].arpuMAPE!, 0.10, accuracy: 1e-12)
        XCTAssertEqual(scores.byHorizon[0].mrrMAPE!, 0.05, accuracy: 1e-12)
        XCTAssertEqual(scores.byHorizon[0].arpuBias!, 0, accuracy: 1e-12)
        XCTAssertEqual(scores.byHorizon[0].arpuCoverage!, 0.5, accuracy: 1e-12)
        XCTAssertEqual(scores.byHorizon[1].forecasts, 1)
        XCTAssertEqual(scores.byHorizon[1].arpuBias!, -0.2, accuracy: 1e-12)
        XCTAssertEqual(scores.overall.forecasts, 3)
        XCTAssertEqual(scores.overall.arpuMAPE!, (0.1 + 0.1 + 0.2) / 3, accuracy: 1e-12)
        XCTAssertEqual(scores.overall.arpuCoverage!, 1.0 / 3, accuracy: 1e-12)
    }
}
