import TierPlanCore
import XCTest

/// NRR and GRR by hand on small cohorts.
final class RetentionTests: XCTestCase {
    /// Four accounts paying 100, 200, 300, 400 (S = 1,000) a year ago: one expanded to 150 (+50),
    /// one contracted to 150 (−50), one churned (−300), one unchanged.
    /// NRR = (1000 + 50 − 50 − 300) / 1000 = 0.70; GRR = (1000 − 50 − 300) / 1000 = 0.65.
    func testFourAccountCohort() throws {
        let r = try XCTUnwrap(Retention(cohort: [(100, 150), (200, 150), (300, nil), (400, 400)]))
        XCTAssertEqual(r.startMRR, 1000)
        XCTAssertEqual(r.expansion, 50)
        XCTAssertEqual(r.contraction, 50)
        XCTAssertEqual(r.churned, 300)
        XCTAssertEqual(r.nrr, 0.70, accuracy: 1e-12)
        XCTAssertEqual(r.grr, 0.65, accuracy: 1e-12)
    }

    /// Expansion alone lifts NRR above 1 and leaves GRR at 1; an account paying 0 then and more now
    /// adds to S nothing and to expansion its MRR.
    func testExpansionOnlyAndZeroStart() throws {
        let r = try XCTUnwrap(Retention(cohort: [(100, 130), (0, 20)]))
        XCTAssertEqual(r.nrr, 1.5, accuracy: 1e-12)
        XCTAssertEqual(r.grr, 1.0, accuracy: 1e-12)
        XCTAssertNil(Retention(cohort: []))
        XCTAssertNil(Retention(cohort: [(0, nil)]))
    }

    func testCohortDayIsTwelveMonthsEarlier() {
        XCTAssertEqual(Retention.cohortDay(asOf: Day(iso: "2026-11-01")!), Day(iso: "2025-11-01")!)
        XCTAssertEqual(Retention.cohortDay(asOf: Day(iso: "2028-02-29")!), Day(iso: "2027-02-28")!)
    }
}

/// Average order value per kind by hand.
final class OrderValueTests: XCTestCase {
    func testMeansPerKindAndNoneAccepted() {
        let values = OrderValue.byKind([(.addon, 1000, 0), (.addon, 2500, 49900), (.tierUpgrade, 5000, 0)])
        XCTAssertEqual(values.map(\.kind), OfferKind.allCases)
        let addon = values.first { $0.kind == .addon }!
        XCTAssertEqual(addon.accepted, 2)
        XCTAssertEqual(addon.meanDeltaMRR, 1750)
        XCTAssertEqual(addon.meanOneTime, 24950)
        XCTAssertEqual(values.first { $0.kind == .tierUpgrade }!.meanDeltaMRR, 5000)
        let adoption = values.first { $0.kind == .adoption }!
        XCTAssertEqual(adoption.accepted, 0)
        XCTAssertNil(adoption.meanDeltaMRR)
        XCTAssertNil(adoption.meanOneTime)
    }
}

/// Lifetime value by hand.
final class LifetimeValueTests: XCTestCase {
    func testARPUTimesMarginOverChurn() {
        XCTAssertEqual(LifetimeValue.perAccount(arpu: 5000, grossMargin: 0.8, monthlyChurn: 0.02)!, 200_000, accuracy: 1e-9)
        XCTAssertNil(LifetimeValue.perAccount(arpu: 5000, grossMargin: 0.8, monthlyChurn: 0))
    }
}
