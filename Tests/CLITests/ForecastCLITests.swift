import Foundation
import Postgres
import TestSupport
import XCTest

/// forecast and metrics through the real CLI, checked against the database by hand.
final class ForecastCLITests: XCTestCase {
    var url: String!
    var db: Connection!
    let asOf = "2026-11-01"
    let examples = repositoryRoot.appendingPathComponent("examples").path

    override func setUpWithError() throws {
        url = try TestCluster.freshDatabase()
        db = try Connection(url)
        for args in [["catalog", "load", examples + "/catalog.yaml"], ["accounts", "import", examples + "/accounts.csv"],
                     ["usage", "ingest", examples + "/usage.ndjson"], ["run", "--as-of", asOf]] {
            let result = try CLI.run(args, databaseURL: url)
            XCTAssertEqual(result.status, 0, result.stderr)
        }
    }

    func tierplan(_ args: String...) throws -> CLIResult { try CLI.run(args, databaseURL: url) }

    func testFlatForecastMatchesAHandComputation() throws {
        let result = try tierplan("forecast", "--as-of", asOf, "--months", "3", "--model", "flat", "--json")
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = try XCTUnwrap(result.json)
        // By hand from the example files: paying = active + past_due.
        let paying = try db.query("SELECT count(*), sum(mrr) FROM accounts WHERE status IN ('active', 'past_due')").first!
        let n0: Int = try paying.decode(0), mrr0: Int = try paying.decode(1)
        XCTAssertEqual(json["paying_accounts"] as? Int, n0)
        XCTAssertEqual(json["mrr"] as? Int, mrr0)
        XCTAssertEqual(json["currency"] as? String, "USD")
        XCTAssertEqual(json["arpu"] as? Double ?? 0, (Double(mrr0) / Double(n0) * 100).rounded() / 100, accuracy: 1e-9)
        // Wonka canceled on 2026-09-30: one in 90 days → 1 / n0 / 3.
        let churn = 1.0 / Double(n0) / 3
        XCTAssertEqual(json["monthly_churn"] as? Double ?? 0, churn, accuracy: 1e-6)
        // One offer per account, upsells only, the largest expected delta.
        let offers = try db.query("""
            SELECT DISTINCT ON (account_id) acceptance_probability * delta_mrr FROM offers
            WHERE status IN ('proposed', 'approved') AND kind IN ('tier_upgrade', 'addon') ORDER BY account_id, expected_delta_mrr DESC
            """).rows.map { try $0.decode(0, as: Double.self) }
        XCTAssertEqual(json["open_offers"] as? Int, offers.count)
        let e = offers.reduce(0, +)
        XCTAssertEqual(json["expected_delta_mrr"] as? Double ?? 0, e, accuracy: 0.005)
        let months = try XCTUnwrap(json["months"] as? [[String: Any]])
        XCTAssertEqual(months.map { $0["month"] as? String }, ["2026-12", "2027-01", "2027-02"])
        for (i, month) in months.enumerated() {
            let s = pow(1 - churn, Double(i + 1))
            XCTAssertEqual(month["active_accounts"] as? Double ?? 0, Double(n0) * s, accuracy: 0.005)
            XCTAssertEqual(month["mrr_baseline"] as? Double ?? 0, Double(mrr0) * s, accuracy: 0.005)
            XCTAssertEqual(month["mrr_expected"] as? Double ?? 0, (Double(mrr0) + e) * s, accuracy: 0.005)
            XCTAssertEqual(month["arpu_expected"] as? Double ?? 0, (Double(mrr0) + e) / Double(n0), accuracy: 0.005)
            for key in ["arpu_baseline", "arpu_p10", "arpu_p50", "arpu_p90"] { XCTAssertNotNil(month[key] as? Double, key) }
        }
        // The same input prints the same output.
        XCTAssertEqual(try tierplan("forecast", "--as-of", asOf, "--months", "3", "--model", "flat", "--json").stdout, result.stdout)
        XCTAssertEqual(json["model"] as? String, "flat")
    }

    func testChurnGivenCSVAndGroups() throws {
        let given = try tierplan("forecast", "--as-of", asOf, "--months", "2", "--churn", "0.1", "--json")
        XCTAssertEqual(given.json?["monthly_churn"] as? Double, 0.1)
        let csv = try tierplan("forecast", "--as-of", asOf, "--months", "2", "--csv")
        XCTAssertEqual(csv.status, 0, csv.stderr)
        let lines = csv.stdout.split(separator: "\n")
        XCTAssertEqual(lines.first, "month,active_accounts,mrr_baseline,arpu_baseline,uplift_expected,mrr_expected,arpu_expected,"
                       + "arpu_p10,arpu_p50,arpu_p90,mrr_p10,mrr_p50,mrr_p90")
        XCTAssertEqual(lines.count, 3)
        let byTier = try tierplan("forecast", "--as-of", asOf, "--months", "1", "--by", "tier", "--json")
        let groups = try XCTUnwrap(byTier.json?["groups"] as? [[String: Any]])
        XCTAssertEqual(groups.compactMap { $0["group"] as? String }, ["business", "starter", "team"])
        // Each group learnt its own churn: no single top-level figure, unless one is given.
        XCTAssertTrue(byTier.json?["monthly_churn"] is NSNull, byTier.stdout)
        XCTAssertEqual(try tierplan("forecast", "--as-of", asOf, "--months", "1", "--by", "tier", "--churn", "0.1", "--json").json?["monthly_churn"] as? Double, 0.1)
        XCTAssertEqual(groups.reduce(0) { $0 + ($1["paying_accounts"] as? Int ?? 0) }, 6)
        XCTAssertEqual(groups.reduce(0) { $0 + ($1["open_offers"] as? Int ?? 0) }, given.json?["open_offers"] as? Int)
        XCTAssertNotEqual(try tierplan("forecast", "--as-of", asOf, "--months", "0").status, 0)
        let table = try tierplan("forecast", "--as-of", asOf, "--months", "4")
        XCTAssertTrue(table.stdout.contains("ARPU P90"), table.stdout)
        XCTAssertTrue(table.stdout.contains("P10–P90"), table.stdout)
    }

    func testHoldoutAndAdoptionOffersAreNotCounted() throws {
        let before = try tierplan("forecast", "--as-of", asOf, "--months", "1", "--json")
        XCTAssertGreaterThan(before.json?["open_offers"] as? Int ?? 0, 0)
        // Every account held out: the same run makes only held-out offers, which the forecast does not count.
        let held = try TestCluster.freshDatabase()
        let catalog = try String(contentsOfFile: examples + "/catalog.yaml", encoding: .utf8)
            .replacingOccurrences(of: "policy: {}", with: "policy: {holdout_percent: 100}")
        XCTAssertEqual(try CLI.run(["catalog", "load", "-"], databaseURL: held, stdin: catalog).status, 0)
        for args in [["accounts", "import", examples + "/accounts.csv"], ["usage", "ingest", examples + "/usage.ndjson"], ["run", "--as-of", asOf]] {
            XCTAssertEqual(try CLI.run(args, databaseURL: held).status, 0)
        }
        let heldDB = try Connection(held)
        XCTAssertGreaterThan(try heldDB.query("SELECT count(*) FROM offers WHERE status = 'held_out'").first!.decode(0, as: Int.self), 0)
        XCTAssertEqual(try heldDB.query("SELECT count(*) FROM offers WHERE status = 'proposed' AND kind <> 'adoption'").first!.decode(0, as: Int.self), 0)
        let after = try CLI.run(["forecast", "--as-of", asOf, "--months", "1", "--json"], databaseURL: held)
        XCTAssertEqual(after.json?["open_offers"] as? Int, 0)
        XCTAssertEqual(after.json?["expected_delta_mrr"] as? Double, 0)
    }

    func testMetricsOnScriptedOutcomes() throws {
        // Accept acme's upgrade and make it real; decline globex's.
        let acme = try db.query("SELECT offer_id::text, to_tier FROM offers WHERE account_id = 'acme' AND rank = 1").first!
        let acmeID: String = try acme.decode(0)
        XCTAssertEqual(try tierplan("offers", "approve", acmeID, "--by", "cs", "--at", "2026-11-01").status, 0)
        XCTAssertEqual(try tierplan("offers", "outcome", acmeID, "accepted", "--by", "cs", "--at", "2026-11-01").status, 0)
        let globex = try db.query("SELECT offer_id::text FROM offers WHERE account_id = 'globex' AND kind = 'tier_upgrade'").first!.decode(0, as: String.self)
        XCTAssertEqual(try tierplan("offers", "approve", globex, "--by", "cs", "--at", "2026-11-01").status, 0)
        XCTAssertEqual(try tierplan("offers", "outcome", globex, "declined", "--by", "cs", "--at", "2026-11-01").status, 0)
        let upgrade = "account_id,name,tier,status,created_at,addons,discount_pct,segment,owner\nacme,Acme Corp,team,active,2025-03-14,,0,smb,alice\n"
        XCTAssertEqual(try CLI.run(["accounts", "import", "-", "--effective", "2026-11-01"], databaseURL: url, stdin: upgrade).status, 0)

        let result = try tierplan("metrics", "--as-of", asOf, "--from", "2026-10-01", "--json")
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = try XCTUnwrap(result.json)
        let movements = try XCTUnwrap(json["movements"] as? [String: Int])
        XCTAssertEqual(movements["expansion"], 5000, "acme 2900 → 7900 on 2026-11-01")
        XCTAssertEqual(movements["net"], 5000)
        let conversion = try XCTUnwrap(json["conversion"] as? [[String: Any]])
        let upgrades = try XCTUnwrap(conversion.first { $0["kind"] as? String == "tier_upgrade" })
        XCTAssertEqual(upgrades["accepted"] as? Int, 1)
        XCTAssertEqual(upgrades["declined"] as? Int, 1)
        XCTAssertEqual(upgrades["rate"] as? Double, 0.5)
        XCTAssertEqual(upgrades["credible_low_95"] as? Double ?? 0, 0.0943, accuracy: 1e-3)   // Beta(2, 2)
        XCTAssertEqual(upgrades["credible_high_95"] as? Double ?? 0, 0.9057, accuracy: 1e-3)
        let realised = try XCTUnwrap(json["realised"] as? [String: Int])
        XCTAssertEqual(realised["accepted_offers"], 1)
        XCTAssertEqual(realised["realised_offers"], 1)
        XCTAssertEqual(realised["realised_expansion_mrr"], 5000)
        XCTAssertEqual((json["offers_by_status"] as? [String: Int])?["accepted"], 1)
        XCTAssertTrue(json["uplift"] is NSNull, "no holdout accounts, no uplift")
        // Average order value of what was accepted in (2026-10-01, as_of]: acme's upgrade, +5,000 a month, nothing once.
        let aov = try XCTUnwrap(json["aov"] as? [[String: Any]])
        XCTAssertEqual(aov.map { $0["kind"] as? String }, ["tier_upgrade", "addon", "adoption"])
        XCTAssertEqual(aov[0]["accepted"] as? Int, 1)
        XCTAssertEqual(aov[0]["mean_delta_mrr"] as? Double, 5000)
        XCTAssertEqual(aov[0]["mean_one_time"] as? Double, 0)
        XCTAssertEqual(aov[1]["accepted"] as? Int, 0)
        XCTAssertTrue(aov[1]["mean_delta_mrr"] is NSNull)
        let csv = try tierplan("metrics", "--as-of", asOf, "--csv")
        XCTAssertTrue(csv.stdout.hasPrefix("section,key,value\n"), csv.stdout)
        XCTAssertTrue(csv.stdout.contains("movements,expansion,5000") || csv.stdout.contains("movements,expansion,"), csv.stdout)
    }
}
