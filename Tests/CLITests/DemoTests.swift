import Foundation
import TestSupport
import XCTest

/// `tierplan demo` end to end at a small size, on the test cluster.
final class DemoTests: XCTestCase {
    func demo(_ seed: Int) throws -> [String: Any] {
        _ = try TestCluster.freshDatabase(migrated: false)   // makes sure the cluster runs
        let home = try XCTUnwrap(TestCluster.home)
        let result = try CLI.run(["demo", "--accounts", "300", "--seed", String(seed), "--json"], databaseURL: nil,
                                 environment: ["TIERPLAN_HOME": home])
        XCTAssertEqual(result.status, 0, result.stderr)
        return try XCTUnwrap(result.json)
    }

    func testDemoProducesEveryKindOfOfferSuppressionsAndAForecast() throws {
        let first = try demo(7)
        // 300 accounts of today and those that churned during the 24 months of history.
        XCTAssertGreaterThan(first["accounts"] as? Int ?? 0, 300)
        let kinds = try XCTUnwrap(first["offers_by_kind"] as? [String: Int])
        for kind in ["tier_upgrade", "addon", "adoption"] { XCTAssertGreaterThan(kinds[kind] ?? 0, 0, kind) }
        XCTAssertGreaterThan(first["held_out"] as? Int ?? 0, 0)
        let suppressed = try XCTUnwrap(first["suppressed_by_reason"] as? [String: Int])
        XCTAssertGreaterThanOrEqual(suppressed.count, 3, "\(suppressed)")
        let forecast = try XCTUnwrap(first["forecast"] as? [String: Any])
        XCTAssertEqual((forecast["months"] as? [Any])?.count, 12)
        XCTAssertGreaterThan(forecast["open_offers"] as? Int ?? 0, 0)
        // The forecast learns from the history, and the backtest measures it over the past year and a half.
        XCTAssertEqual(forecast["model"] as? String, "history")
        XCTAssertEqual((forecast["history"] as? [[String: Any]])?.count, 6)
        let backtest = try XCTUnwrap(first["backtest"] as? [String: Any])
        XCTAssertEqual((backtest["models"] as? [[String: Any]])?.compactMap { $0["model"] as? String }, ["history", "flat"])
        XCTAssertGreaterThanOrEqual((backtest["as_of_days"] as? [String])?.count ?? 0, 10)
        for model in backtest["models"] as? [[String: Any]] ?? [] {
            let overall = try XCTUnwrap(model["overall"] as? [String: Any])
            XCTAssertGreaterThan(overall["forecasts"] as? Int ?? 0, 50)
            XCTAssertNotNil(overall["arpu_mape"] as? Double)
        }
        // What the offers taught: customers' answers follow segment and price, so the probability pooled per
        // segment is better calibrated than one per kind; declines have codes; the experiment has both arms.
        let metrics = try XCTUnwrap(first["metrics"] as? [String: Any])
        let calibration = try XCTUnwrap(metrics["calibration"] as? [String: Any])
        XCTAssertGreaterThan(calibration["outcomes"] as? Int ?? 0, 10)
        XCTAssertLessThan(calibration["brier"] as? Double ?? 1, calibration["brier_per_kind"] as? Double ?? 0, "\(calibration)")
        let declines = try XCTUnwrap(metrics["declines"] as? [[String: Any]])
        XCTAssertGreaterThanOrEqual(declines.filter { $0["count"] as? Int ?? 0 > 0 }.count, 3, "\(declines)")
        let experiment = try XCTUnwrap((metrics["experiments"] as? [[String: Any]])?.first)
        XCTAssertEqual(experiment["name"] as? String, "upgrade_first")
        for arm in experiment["arms"] as? [[String: Any]] ?? [] { XCTAssertGreaterThan(arm["offers"] as? Int ?? 0, 0, "\(arm)") }
        let statuses = try XCTUnwrap(first["accounts_by_status"] as? [String: Int])
        XCTAssertEqual(Set(statuses.keys), ["active", "trialing", "past_due", "canceled"])
        XCTAssertGreaterThan(kinds["trial_conversion"] ?? 0, 0, "trialing accounts with usage get conversion offers")
        // The story ends with a what-if: Team with 1,000 GB makes fewer storage offers and moves no MRR (keep).
        let whatIf = try XCTUnwrap(first["whatif"] as? [String: Any])
        XCTAssertEqual(whatIf["catalog"] as? String, "Team storage 500 → 1000 GB")
        let difference = try XCTUnwrap(whatIf["difference"] as? [String: Any])
        XCTAssertLessThan(difference["offers"] as? Int ?? 0, 0, "\(difference)")
        XCTAssertEqual(difference["mrr"] as? Int, 0)
        XCTAssertGreaterThan((whatIf["changes"] as? [Any])?.count ?? 0, 0)

        // The same seed gives the same data; another seed other data. Re-running is safe.
        let again = try demo(7)
        XCTAssertEqual(again["data_fingerprint"] as? String, first["data_fingerprint"] as? String)
        XCTAssertEqual(again["offers_by_kind"] as? [String: Int], kinds)
        let other = try demo(8)
        XCTAssertNotEqual(other["data_fingerprint"] as? String, first["data_fingerprint"] as? String)
    }
}
