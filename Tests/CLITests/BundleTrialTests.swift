import Foundation
import Postgres
import TestSupport
import XCTest

/// Bundles and trial conversions through the real CLI on a real database: accounts holding a
/// bundle, the planner choosing one, a reload that would drop one in use, and the offer a trial gets.
final class BundleTrialTests: XCTestCase {
    var url: String!
    var db: Connection!
    var folder: URL!
    let asOf = "2026-11-01"
    let bundle = "bundles:\n  - {code: growth, name: Growth pack, addons: {storage_100: 2, automation: 1}, price_monthly: 3500, available_on: [team]}\n"

    override func setUpWithError() throws {
        url = try TestCluster.freshDatabase()
        db = try Connection(url)
        folder = try temporaryFolder()
        let examples = repositoryRoot.appendingPathComponent("examples")
        let catalog = folder.appendingPathComponent("catalog.yaml")
        try (String(contentsOf: examples.appendingPathComponent("catalog.yaml"), encoding: .utf8) + bundle).write(to: catalog, atomically: true, encoding: .utf8)
        // Two Team accounts: one holds the bundle (700 GB, Automation) and fills it, one is over
        // its 500 GB and uses Automation on 3 days.
        let accounts = folder.appendingPathComponent("accounts.csv")
        try (String(contentsOf: examples.appendingPathComponent("accounts.csv"), encoding: .utf8)
             + "bundled,Bundled,team,active,2025-01-01,growth:1,10,mid,bob,\ncrowded,Crowded,team,active,2025-01-01,,0,mid,bob,\n")
            .write(to: accounts, atomically: true, encoding: .utf8)
        var usage = ""
        for day in 10...31 {
            usage += #"{"type":"storage","id":"b-\#(day)","account":"bundled","at":"2026-10-\#(day)T06:00:00Z","bytes":600000000000}"# + "\n"
            usage += #"{"type":"storage","id":"c-\#(day)","account":"crowded","at":"2026-10-\#(day)T06:00:00Z","bytes":560000000000}"# + "\n"
        }
        // Both use what they have (no low adoption); crowded uses Automation too, which Team lacks.
        for day in [10, 17, 24] {
            for (account, feature) in [("crowded", "automation"), ("crowded", "reports"), ("crowded", "sharing"),
                                       ("bundled", "automation"), ("bundled", "reports"), ("bundled", "sharing")] {
                usage += #"{"type":"feature","id":"\#(account)-\#(feature)-\#(day)","account":"\#(account)","user":"u1","feature":"\#(feature)","at":"2026-10-\#(day)T09:00:00Z","count":1}"# + "\n"
            }
        }
        for args in [["catalog", "load", catalog.path], ["accounts", "import", accounts.path, "--effective", "2026-10-01"],
                     ["usage", "ingest", examples.appendingPathComponent("usage.ndjson").path]] {
            let result = try CLI.run(args, databaseURL: url)
            XCTAssertEqual(result.status, 0, result.stderr)
        }
        let ingest = try CLI.run(["usage", "ingest", "-"], databaseURL: url, stdin: usage)
        XCTAssertEqual(ingest.status, 0, ingest.stderr)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    /// `[{"addon": "growth", "quantity": 1}]` as `["growth:1"]`.
    func items(_ value: Any?) -> [String]? {
        (value as? [[String: Any]])?.map { "\($0["addon"] as? String ?? "?"):\($0["quantity"] as? Int ?? 0)" }
    }

    func testAnAccountHoldsABundleAndItsMRRAndLimitsCountIt() throws {
        // (7900 + 3500) × 0.9
        XCTAssertEqual(try db.query("SELECT mrr FROM accounts WHERE account_id = 'bundled'").first?.decode(0, as: Int.self), 10260)
        let signals = try CLI.run(["signals", "--as-of", asOf, "--account", "bundled", "--json"], databaseURL: url)
        XCTAssertEqual(signals.status, 0, signals.stderr)
        let account = try XCTUnwrap((signals.json?["accounts"] as? [[String: Any]])?.first)
        XCTAssertEqual(account["storage_limit_bytes"] as? Int, 700_000_000_000)
        XCTAssertEqual(account["included_features"] as? [String], ["automation", "reports", "sharing"])
        let show = try CLI.run(["catalog", "show", "--json"], databaseURL: url)
        let bundles = try XCTUnwrap(show.json?["bundles"] as? [[String: Any]])
        XCTAssertEqual(bundles.count, 1)
        XCTAssertEqual(bundles.first?["code"] as? String, "growth")
        XCTAssertEqual(bundles.first?["addons"] as? [String: Int], ["storage_100": 2, "automation": 1])
        XCTAssertEqual(bundles.first?["price_monthly"] as? Int, 3500)
        XCTAssertEqual(bundles.first?["available_on"] as? [String], ["team"])
        XCTAssertFalse((show.json?["addons"] as? [[String: Any]] ?? []).contains { $0["code"] as? String == "growth" })
    }

    func testThePlannerSellsTheBundleWhereItIsCheapestAndKeepsItWhenMoreIsNeeded() throws {
        let plan = try CLI.run(["plan", "--as-of", asOf, "--json"], databaseURL: url)
        XCTAssertEqual(plan.status, 0, plan.stderr)
        let all = try XCTUnwrap(plan.json?["offers"] as? [[String: Any]])
        func offers(_ account: String) -> [[String: Any]] {
            all.filter { $0["account_id"] as? String == account }.sorted { ($0["rank"] as? Int ?? 0) < ($1["rank"] as? Int ?? 0) }
        }
        // 560 GB of 500, Automation on 3 days: 700 GB and Automation. The bundle ($35) beats
        // 2 × 100 GB + Automation ($40); Business ($199) is the alternative.
        let crowded = offers("crowded")
        XCTAssertEqual(crowded.map { $0["kind"] as? String }, ["addon", "tier_upgrade"])
        XCTAssertEqual(items(crowded.first?["add"]), ["growth:1"])
        XCTAssertEqual(crowded.first?["new_mrr"] as? Int, 11400)
        XCTAssertEqual(crowded.first?["delta_mrr"] as? Int, 3500)
        XCTAssertTrue((crowded.first?["rationale"] as? String ?? "").contains("Offer Growth pack: $79.00 → $114.00 a month"), "\(crowded.first ?? [:])")
        XCTAssertEqual(crowded.last?["to_tier"] as? String, "business")
        // 600 of 700 GB: 750 GB needed. The bundle stays and 100 GB is added: (7900 + 3500 + 1000) × 0.9.
        let bundled = offers("bundled")
        XCTAssertEqual(bundled.first?["kind"] as? String, "addon")
        XCTAssertEqual(items(bundled.first?["add"]), ["storage_100:1"])
        XCTAssertEqual(items(bundled.first?["remove"]), [])
        XCTAssertEqual(bundled.first?["new_mrr"] as? Int, 11160)
    }

    func testABundleInUseCannotDisappearByAReload() throws {
        let examples = repositoryRoot.appendingPathComponent("examples/catalog.yaml").path
        let reload = try CLI.run(["catalog", "load", examples], databaseURL: url)
        XCTAssertNotEqual(reload.status, 0)
        XCTAssertTrue(reload.stderr.contains("add-on 'growth' is still held by 1 account(s), e.g. 'bundled'"), reload.stderr)
        XCTAssertEqual(try db.query("SELECT count(*) FROM addons WHERE kind = 'bundle'").first?.decode(0, as: Int.self), 1, "nothing changed")
    }

    func testATrialGetsOneConversionOfferThatTheForecastDoesNotCount() throws {
        let run = try CLI.run(["run", "--as-of", asOf, "--json"], databaseURL: url)
        XCTAssertEqual(run.status, 0, run.stderr)
        let list = try CLI.run(["offers", "list", "--account", "piedpiper", "--json"], databaseURL: url)
        let offers = try XCTUnwrap(list.json?["offers"] as? [[String: Any]])
        XCTAssertEqual(offers.count, 1)
        let offer = try XCTUnwrap(offers.first)
        XCTAssertEqual(offer["kind"] as? String, "trial_conversion")
        XCTAssertEqual(offer["status"] as? String, "proposed")
        XCTAssertEqual(offer["current_mrr"] as? Int, 0)
        XCTAssertEqual(offer["delta_mrr"] as? Int, offer["new_mrr"] as? Int)
        XCTAssertEqual(offer["new_mrr"] as? Int, 2900, "15 GB, 3 people and Reports fit Starter")
        XCTAssertTrue((offer["rationale"] as? String ?? "").hasPrefix("In the last 28 days your team stored 15.2 GB, had 3 people active and used Reports"),
                      offer["rationale"] as? String ?? "")
        // A second run keeps it (same id), never a second one.
        XCTAssertEqual(try CLI.run(["run", "--as-of", asOf], databaseURL: url).status, 0)
        let again = try XCTUnwrap(try CLI.run(["offers", "list", "--account", "piedpiper", "--json"], databaseURL: url).json?["offers"] as? [[String: Any]])
        XCTAssertEqual(again.map { $0["id"] as? String }, [offer["id"] as? String])
        // The forecast's uplift counts expansion offers only.
        let forecast = try CLI.run(["forecast", "--as-of", asOf, "--months", "3", "--json"], databaseURL: url)
        XCTAssertEqual(forecast.status, 0, forecast.stderr)
        let expansion = try db.query("""
            SELECT count(DISTINCT account_id) FROM offers WHERE status IN ('proposed', 'approved') AND kind IN ('tier_upgrade', 'addon')
            """).first!.decode(0, as: Int.self)
        XCTAssertEqual(forecast.json?["open_offers"] as? Int, expansion, forecast.stdout.prefix(400).description)
    }
}
