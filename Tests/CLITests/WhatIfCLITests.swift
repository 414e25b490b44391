import Foundation
import Postgres
import TestSupport
import XCTest

/// `tierplan whatif` through the real CLI on a real database: the numbers of a changed catalog,
/// keep against reprice, what the other catalog lacks, a refused file, and nothing written — every
/// table's row count and checksum the same before and after.
final class WhatIfCLITests: XCTestCase {
    var url: String!
    var db: Connection!
    var folder: URL!
    let asOf = "2026-11-01"
    var catalogText: String!

    override func setUpWithError() throws {
        url = try TestCluster.freshDatabase()
        db = try Connection(url)
        folder = try temporaryFolder()
        let examples = repositoryRoot.appendingPathComponent("examples")
        catalogText = try String(contentsOf: examples.appendingPathComponent("catalog.yaml"), encoding: .utf8)
        // The example accounts, and a Team account at 560 of its 500 GB that uses what it has: it
        // needs 700 GB, today Team + 2 × 100 GB ($99, +$20) or Business ($199, +$120).
        let accounts = folder.appendingPathComponent("accounts.csv")
        try (String(contentsOf: examples.appendingPathComponent("accounts.csv"), encoding: .utf8)
             + "crowded,Crowded,team,active,2025-01-01,,0,mid,bob,\n").write(to: accounts, atomically: true, encoding: .utf8)
        var usage = ""
        for day in 10...31 {
            usage += #"{"type":"storage","id":"c-\#(day)","account":"crowded","at":"2026-10-\#(day)T06:00:00Z","bytes":560000000000}"# + "\n"
        }
        for day in [10, 17, 24] {
            for feature in ["reports", "sharing"] {
                usage += #"{"type":"feature","id":"c-\#(feature)-\#(day)","account":"crowded","user":"u1","feature":"\#(feature)","at":"2026-10-\#(day)T09:00:00Z","count":1}"# + "\n"
            }
        }
        for args in [["catalog", "load", examples.appendingPathComponent("catalog.yaml").path],
                     ["accounts", "import", accounts.path, "--effective", "2026-10-01"],
                     ["usage", "ingest", examples.appendingPathComponent("usage.ndjson").path]] {
            let result = try CLI.run(args, databaseURL: url)
            XCTAssertEqual(result.status, 0, result.stderr)
        }
        XCTAssertEqual(try CLI.run(["usage", "ingest", "-"], databaseURL: url, stdin: usage).status, 0)
        // A run, so that offers, events, alerts and the outbox hold rows the what-if must not touch.
        let run = try CLI.run(["run", "--as-of", "2026-10-25"], databaseURL: url)
        XCTAssertEqual(run.status, 0, run.stderr)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    /// The example catalog with one line replaced, written to a file.
    func catalog(_ name: String, replacing old: String? = nil, with new: String = "") throws -> String {
        let text = old.map { catalogText.replacingOccurrences(of: $0, with: new) } ?? catalogText!
        if let old { XCTAssertNotEqual(text, catalogText, "\(old) not found") }
        let file = folder.appendingPathComponent(name)
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    func whatIf(_ file: String, _ extra: [String] = []) throws -> [String: Any] {
        let result = try CLI.run(["whatif", "--catalog", file, "--as-of", asOf, "--months", "3", "--json"] + extra, databaseURL: url)
        XCTAssertEqual(result.status, 0, result.stderr)
        return try XCTUnwrap(result.json, result.stdout)
    }

    /// Every table of the schema: its rows and an md5 of all of them, in one text.
    func fingerprint() throws -> String {
        let tables = try db.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename").rows.map { try $0.decode(0, as: String.self) }
        XCTAssertGreaterThan(tables.count, 10)
        return try tables.map { table in
            // The name comes from pg_tables, quoted by PostgreSQL itself.
            let quoted: String = try db.query("SELECT quote_ident($1)", [table]).first!.decode(0)
            let row = try db.query("SELECT count(*)::text || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM \(quoted) t").first!
            return table + "=" + (try row.decode(0, as: String.self))
        }.joined(separator: "\n")
    }

    func side(_ report: [String: Any], _ name: String) -> [String: Any] { report[name] as? [String: Any] ?? [:] }
    func tally(_ report: [String: Any], _ name: String, _ kind: String) -> [String: Any] {
        (side(report, name)["offers"] as? [String: Any])?[kind] as? [String: Any] ?? [:]
    }

    func testNothingIsWrittenWhateverTheCatalogOrTheOutcome() throws {
        let before = try fingerprint()
        XCTAssertTrue(before.contains("offers=") && !before.contains("offers=0:"), "the run made offers")
        _ = try whatIf(try catalog("roomier.yaml", replacing: "storage_gb: 500", with: "storage_gb: 1000"))
        _ = try whatIf(try catalog("dearer.yaml", replacing: "price_monthly: 7900", with: "price_monthly: 8900"), ["--existing", "reprice"])
        _ = try whatIf(try catalog("no-packs.yaml", replacing: "  - {code: storage_100, name: Extra 100 GB, kind: storage, storage_gb: 100, price_monthly: 1000, available_on: [starter, team]}\n"))
        let text = try CLI.run(["whatif", "--catalog", try catalog("same.yaml"), "--as-of", asOf], databaseURL: url)
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("loaded") && text.stdout.contains("what-if"), text.stdout)
        let refused = try CLI.run(["whatif", "--catalog", try catalog("bad.yaml", replacing: "price_monthly: 2900", with: "price_monthly: -1"),
                                   "--as-of", asOf], databaseURL: url)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("bad.yaml:9:") && refused.stderr.contains("price_monthly"), refused.stderr)
        let euros = try CLI.run(["whatif", "--catalog", try catalog("eur.yaml", replacing: "currency: USD", with: "currency: EUR"),
                                 "--as-of", asOf], databaseURL: url)
        XCTAssertNotEqual(euros.status, 0)
        XCTAssertTrue(euros.stderr.contains("currency EUR is not the loaded catalog's USD"), euros.stderr)
        XCTAssertEqual(try fingerprint(), before)
    }

    func testTheSameCatalogChangesNothingAndPlansAsTheDryRunDoes() throws {
        let report = try whatIf(try catalog("same.yaml"))
        XCTAssertEqual(NSDictionary(dictionary: side(report, "current")), NSDictionary(dictionary: side(report, "whatif")))
        XCTAssertEqual((report["changes"] as? [Any])?.count, 0)
        XCTAssertEqual((report["unmapped"] as? [Any])?.count, 0)
        XCTAssertEqual(report["existing"] as? String, "keep")
        XCTAssertEqual(report["months"] as? Int, 3)
        // The loaded side is the dry-run plan of the same day, held-out offers aside.
        let plan = try CLI.run(["plan", "--as-of", asOf, "--dry-run", "--json"], databaseURL: url)
        XCTAssertEqual(plan.status, 0, plan.stderr)
        let offers = try XCTUnwrap(plan.json?["offers"] as? [[String: Any]]).filter { $0["status"] as? String != "held_out" }
        for kind in ["tier_upgrade", "addon", "adoption", "trial_conversion"] {
            let ofKind = offers.filter { $0["kind"] as? String == kind }
            XCTAssertEqual(tally(report, "current", kind)["count"] as? Int, ofKind.count, kind)
            XCTAssertEqual(tally(report, "current", kind)["delta_mrr"] as? Int, ofKind.reduce(0) { $0 + ($1["delta_mrr"] as? Int ?? 0) }, kind)
        }
        // Paying MRR is the forecast's, and month 3 of the history model is shown for both.
        let forecast = try CLI.run(["forecast", "--as-of", asOf, "--months", "3", "--json"], databaseURL: url)
        XCTAssertEqual(side(report, "current")["mrr"] as? Int, forecast.json?["mrr"] as? Int)
        XCTAssertEqual(side(report, "current")["paying_accounts"] as? Int, forecast.json?["paying_accounts"] as? Int)
        XCTAssertEqual((side(report, "whatif")["forecast"] as? [String: Any])?["month"] as? String, "2027-02")
    }

    /// The loaded side's forecast is `forecast`'s when the open offers are the plan of that day (a run
    /// on it): the same history-model numbers, which ForecastTests check against values worked by hand.
    func testTheLoadedSidesForecastIsTheForecastOfThatDay() throws {
        XCTAssertEqual(try CLI.run(["run", "--as-of", asOf], databaseURL: url).status, 0)
        let forecast = try CLI.run(["forecast", "--as-of", asOf, "--months", "3", "--json"], databaseURL: url)
        XCTAssertEqual(forecast.status, 0, forecast.stderr)
        let month = try XCTUnwrap((forecast.json?["months"] as? [[String: Any]])?.last)
        let report = try whatIf(try catalog("same.yaml"))
        let side = try XCTUnwrap(side(report, "current")["forecast"] as? [String: Any])
        XCTAssertEqual(side["model"] as? String, forecast.json?["model"] as? String)
        XCTAssertEqual(side["model"] as? String, "history", "the accounts' history covers October")
        XCTAssertEqual(side["open_offers"] as? Int, forecast.json?["open_offers"] as? Int)
        XCTAssertEqual(side["month"] as? String, month["month"] as? String)
        for key in ["active_accounts", "mrr_baseline", "uplift_expected", "mrr_expected", "arpu_expected", "mrr_p10", "mrr_p90", "arpu_p10", "arpu_p90"] {
            XCTAssertEqual(side[key] as? Double, month[key] as? Double, key)
        }
        // The same catalog: both sides alike.
        XCTAssertEqual(NSDictionary(dictionary: side), NSDictionary(dictionary: self.side(report, "whatif")["forecast"] as? [String: Any] ?? [:]))
    }

    func testTeamWithATerabyteNoLongerNeedsStorage() throws {
        let report = try whatIf(try catalog("roomier.yaml", replacing: "storage_gb: 500", with: "storage_gb: 1000"))
        let changes = try XCTUnwrap(report["changes"] as? [[String: Any]])
        let crowded = try XCTUnwrap(changes.first { $0["account_id"] as? String == "crowded" }, "\(changes)")
        let before = try XCTUnwrap(crowded["current"] as? [String: Any])
        XCTAssertEqual(before["kind"] as? String, "addon")
        XCTAssertEqual(before["delta_mrr"] as? Int, 2000)
        XCTAssertEqual(before["expected_delta_mrr"] as? Double, 400)
        XCTAssertTrue(crowded["whatif"] is NSNull, "560 of 1,000 GB needs nothing")
        XCTAssertEqual(crowded["change_expected_delta_mrr"] as? Double, -400)
        XCTAssertEqual(tally(report, "current", "tier_upgrade")["count"] as? Int, (tally(report, "whatif", "tier_upgrade")["count"] as? Int ?? 0) + 1)
        let difference = try XCTUnwrap(report["difference"] as? [String: Any])
        XCTAssertEqual(difference["mrr"] as? Int, 0, "keep: accounts pay what they pay")
        XCTAssertLessThan(difference["expected_delta_mrr"] as? Double ?? 0, 0)
    }

    func testRepriceChangesWhatAccountsPayKeepDoesNot() throws {
        let dearer = try catalog("dearer.yaml", replacing: "price_monthly: 7900", with: "price_monthly: 8900")
        let keep = try whatIf(dearer)
        let reprice = try whatIf(dearer, ["--existing", "reprice"])
        XCTAssertEqual((keep["difference"] as? [String: Any])?["mrr"] as? Int, 0)
        // Every paying Team account is priced $10 higher, less its discount: crowded, hooli (past due)
        // at full price, globex at 10 % and vandelay at 5 % off.
        XCTAssertEqual((reprice["difference"] as? [String: Any])?["mrr"] as? Int, 1000 + 1000 + 900 + 950)
        XCTAssertEqual(reprice["existing"] as? String, "reprice")
        // Offers are priced within each catalog: the crowded account's two packs add $20 either way.
        for report in [keep, reprice] {
            XCTAssertFalse((report["changes"] as? [[String: Any]] ?? []).contains { $0["account_id"] as? String == "crowded" })
        }
    }

    func testAccountsHoldingWhatTheCatalogLacksAreUnmapped() throws {
        let report = try whatIf(try catalog("no-packs.yaml", replacing: "  - {code: storage_100, name: Extra 100 GB, kind: storage, storage_gb: 100, price_monthly: 1000, available_on: [starter, team]}\n"))
        let unmapped = try XCTUnwrap(report["unmapped"] as? [[String: Any]])
        XCTAssertEqual(unmapped.map { $0["account_id"] as? String }, ["initech"])
        XCTAssertEqual(unmapped.first?["missing"] as? [String], ["add-on storage_100"])
    }
}
