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
        // A decline needs its reason code: refused without one (nothing changes), stored with it.
        let noCode = try tierplan("offers", "outcome", globex, "declined", "--by", "cs", "--at", "2026-11-01")
        XCTAssertNotEqual(noCode.status, 0)
        XCTAssertTrue(noCode.stderr.contains("declined needs --reason-code price|budget|timing|no_need|competitor|other"), noCode.stderr)
        XCTAssertNotEqual(try tierplan("offers", "outcome", globex, "declined", "--by", "cs", "--reason-code", "cheap").status, 0)
        XCTAssertEqual(try db.query("SELECT status FROM offers WHERE offer_id = $1::uuid", [globex]).first?.decode(0, as: String.self), "approved")
        XCTAssertEqual(try tierplan("offers", "outcome", globex, "declined", "--by", "cs", "--at", "2026-11-01", "--reason-code", "price").status, 0)
        XCTAssertEqual(try db.query("SELECT reason_code FROM offer_events WHERE offer_id = $1::uuid AND to_status = 'declined'", [globex])
                        .first?.decode(0, as: String.self), "price")
        XCTAssertNotEqual(try tierplan("offers", "outcome", acmeID, "accepted", "--by", "cs", "--reason-code", "price").status, 0)
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
        XCTAssertEqual(aov.map { $0["kind"] as? String }, ["tier_upgrade", "addon", "adoption", "trial_conversion"])
        XCTAssertEqual(aov[0]["accepted"] as? Int, 1)
        XCTAssertEqual(aov[0]["mean_delta_mrr"] as? Double, 5000)
        XCTAssertEqual(aov[0]["mean_one_time"] as? Double, 0)
        XCTAssertEqual(aov[1]["accepted"] as? Int, 0)
        XCTAssertTrue(aov[1]["mean_delta_mrr"] is NSNull)
        // Declines per code in the period: globex's upgrade, on price, with the Δ MRR it left.
        let globexDelta = try db.query("SELECT delta_mrr FROM offers WHERE offer_id = $1::uuid", [globex]).first!.decode(0, as: Int.self)
        let declines = try XCTUnwrap(json["declines"] as? [[String: Any]])
        XCTAssertEqual(declines.map { $0["reason_code"] as? String }, ["price", "budget", "timing", "no_need", "competitor", "other"])
        XCTAssertEqual(declines[0]["count"] as? Int, 1)
        XCTAssertEqual(declines[0]["delta_mrr"] as? Int, globexDelta)
        XCTAssertEqual(declines[1]["count"] as? Int, 0)
        // Calibration: both outcomes carried 0.2 (no outcome before them): ((0.2 − 1)² + (0.2 − 0)²) / 2 = 0.34; both in [0.2, 0.3).
        let calibration = try XCTUnwrap(json["calibration"] as? [String: Any])
        XCTAssertEqual(calibration["outcomes"] as? Int, 2)
        XCTAssertEqual(calibration["brier"] as? Double, 0.34)
        XCTAssertEqual(calibration["brier_per_kind"] as? Double, 0.34)
        let bins = try XCTUnwrap(calibration["bins"] as? [[String: Any]])
        XCTAssertEqual(bins.count, 10)
        XCTAssertEqual(bins.map { $0["count"] as? Int }, [0, 0, 2, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(bins[2]["mean_predicted"] as? Double, 0.2)
        XCTAssertEqual(bins[2]["observed"] as? Double, 0.5)
        XCTAssertTrue(bins[0]["observed"] is NSNull)
        XCTAssertEqual((json["experiments"] as? [Any])?.count, 0, "no experiment in the example catalog")
        let csv = try tierplan("metrics", "--as-of", asOf, "--csv")
        XCTAssertTrue(csv.stdout.hasPrefix("section,key,value\n"), csv.stdout)
        XCTAssertTrue(csv.stdout.contains("movements,expansion,5000") || csv.stdout.contains("movements,expansion,"), csv.stdout)
        XCTAssertTrue(csv.stdout.contains("declines,price.count,1\n"), csv.stdout)
        XCTAssertTrue(csv.stdout.contains("calibration,brier,0.3400\n"), csv.stdout)
        XCTAssertTrue(csv.stdout.contains("calibration,0.2-0.3.count,2\n"), csv.stdout)
    }

    /// An experiment on the primary kind and the acceptance rate pooled per segment, on a real database.
    func testExperimentArmsAndPooledAcceptance() throws {
        let url = try TestCluster.freshDatabase()
        let db = try Connection(url)
        let catalog = try String(contentsOfFile: examples + "/catalog.yaml", encoding: .utf8).replacingOccurrences(
            of: "policy: {}", with: "policy: {experiments: [{name: upgrade_first, share: 0.5, primary: tier_upgrade}]}")
        XCTAssertEqual(try CLI.run(["catalog", "load", "-"], databaseURL: url, stdin: catalog).status, 0)
        for args in [["accounts", "import", examples + "/accounts.csv"], ["usage", "ingest", examples + "/usage.ndjson"]] {
            XCTAssertEqual(try CLI.run(args, databaseURL: url).status, 0)
        }
        let run = try CLI.run(["run", "--as-of", asOf, "--json"], databaseURL: url)
        XCTAssertEqual(run.status, 0, run.stderr)
        let offers = try XCTUnwrap(run.json?["offers"] as? [[String: Any]])
        func offer(_ account: String, _ kind: String) -> [String: Any]? {
            offers.first { $0["account_id"] as? String == account && $0["kind"] as? String == kind }
        }
        // Globex is in the treatment (stable hash of "upgrade_first|globex"): its upgrade (Δ 9,450) is primary
        // although the seat pack (Δ 3,150) is cheaper; without the experiment the pack is primary (RouterTests' data).
        XCTAssertEqual(offer("globex", "tier_upgrade")?["arm"] as? String, "treatment")
        XCTAssertEqual(offer("globex", "tier_upgrade")?["rank"] as? Int, 1)
        XCTAssertEqual(offer("globex", "addon")?["rank"] as? Int, 2)
        XCTAssertLessThan(offer("globex", "addon")?["delta_mrr"] as? Int ?? .max, offer("globex", "tier_upgrade")?["delta_mrr"] as? Int ?? 0)
        XCTAssertEqual(offer("acme", "tier_upgrade")?["arm"] as? String, "control")
        XCTAssertEqual(offer("umbrella", "tier_upgrade")?["experiment"] as? String, "upgrade_first")
        XCTAssertTrue(offer("initech", "adoption")?["arm"] is NSNull, "enablement offers are outside the experiment")
        // Stored on the offer, shown by offers show.
        let globexID = try XCTUnwrap(offer("globex", "tier_upgrade")?["id"] as? String)
        XCTAssertEqual(try db.query("SELECT experiment, arm FROM offers WHERE offer_id = $1::uuid", [globexID]).first.map {
            [try $0.decode(0, as: String.self), try $0.decode(1, as: String.self)] }, ["upgrade_first", "treatment"])
        // Globex accepts the upgrade; acme (control) declines on price.
        let acmeID = try XCTUnwrap(offer("acme", "tier_upgrade")?["id"] as? String)
        for (id, outcome) in [(globexID, ["accepted"]), (acmeID, ["declined", "--reason-code", "price"])] {
            XCTAssertEqual(try CLI.run(["offers", "approve", id, "--by", "cs", "--at", asOf], databaseURL: url).status, 0)
            let r = try CLI.run(["offers", "outcome", id] + outcome + ["--by", "cs", "--at", asOf], databaseURL: url)
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        let metrics = try CLI.run(["metrics", "--as-of", asOf, "--json"], databaseURL: url)
        XCTAssertEqual(metrics.status, 0, metrics.stderr)
        let experiment = try XCTUnwrap((metrics.json?["experiments"] as? [[String: Any]])?.first)
        XCTAssertEqual(experiment["name"] as? String, "upgrade_first")
        let arms = try XCTUnwrap(experiment["arms"] as? [[String: Any]])
        XCTAssertEqual(arms.map { $0["arm"] as? String }, ["control", "treatment"])
        // control: acme's and umbrella's upgrades, 0 of 1 decided accepted; treatment: globex's two and initech's pack, 1 of 1.
        XCTAssertEqual(arms[0]["offers"] as? Int, 2); XCTAssertEqual(arms[0]["accounts"] as? Int, 2)
        XCTAssertEqual(arms[0]["accepted"] as? Int, 0); XCTAssertEqual(arms[0]["declined"] as? Int, 1)
        XCTAssertEqual(arms[0]["conversion"] as? Double, 0)
        XCTAssertEqual(arms[1]["offers"] as? Int, 3); XCTAssertEqual(arms[1]["accounts"] as? Int, 2)
        XCTAssertEqual(arms[1]["accepted"] as? Int, 1); XCTAssertEqual(arms[1]["declined"] as? Int, 0)
        XCTAssertEqual(arms[1]["conversion"] as? Double, 1)
        XCTAssertEqual(arms[1]["realised_delta_mrr_per_account"] as? Double, 9450.0 / 2)
        // Beta(2, 1): quantiles √0.025 and √0.975.
        XCTAssertEqual(arms[1]["credible_95"] as? [Double], [0.1581, 0.9874])
        // P(Beta(2, 1) > Beta(1, 2)) = 2/3 + 1/6 = 5/6.
        XCTAssertEqual(experiment["p_treatment_better"] as? Double, 0.8333)

        // The next night learns: tier upgrades 1 accepted, 1 declined → p_k = (2 + 1) / (10 + 2) = 0.25; umbrella
        // (enterprise, no outcome of its own) gets it, and its rationale says where it comes from.
        let next = try CLI.run(["run", "--as-of", "2026-11-02", "--json"], databaseURL: url)
        XCTAssertEqual(next.status, 0, next.stderr)
        let umbrella = try XCTUnwrap((next.json?["offers"] as? [[String: Any]])?.first { $0["account_id"] as? String == "umbrella" })
        XCTAssertEqual(umbrella["acceptance_probability"] as? Double, 0.25)
        XCTAssertTrue((umbrella["rationale"] as? String ?? "").hasSuffix(
            "Acceptance 0.25 from 0 outcomes of tier upgrade offers to enterprise accounts (so far the rate of all tier upgrade offers)."),
            umbrella["rationale"] as? String ?? "")
    }
}
