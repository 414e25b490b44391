import Foundation
import Postgres
import TestSupport
import XCTest

/// The watcher, the planner, the nightly run and the offer life, through the real CLI.
final class PlanningTests: XCTestCase {
    var url: String!
    var db: Connection!
    let asOf = "2026-11-01"

    override func setUpWithError() throws {
        url = try TestCluster.freshDatabase()
        db = try Connection(url)
        let examples = repositoryRoot.appendingPathComponent("examples").path
        for args in [["catalog", "load", examples + "/catalog.yaml"], ["accounts", "import", examples + "/accounts.csv", "--effective", "2026-10-01"],
                     ["usage", "ingest", examples + "/usage.ndjson"]] {
            let result = try tierplan(args)
            XCTAssertEqual(result.status, 0, result.stderr)
        }
    }

    @discardableResult
    func tierplan(_ args: [String], stdin: String? = nil) throws -> CLIResult {
        try CLI.run(args, databaseURL: url, stdin: stdin)
    }

    func offersSnapshot() throws -> [String] {
        try db.query("SELECT offer_id::text || ' ' || status || ' ' || target || ' ' || version FROM offers ORDER BY 1").rows.map { try $0.decode(0) }
    }

    func testSignalsJSON() throws {
        let result = try tierplan(["signals", "--as-of", asOf, "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.json?["as_of"] as? String, asOf)
        let accounts = try XCTUnwrap(result.json?["accounts"] as? [[String: Any]])
        XCTAssertEqual(accounts.map { $0["account_id"] as? String }, ["acme", "globex", "hooli", "initech", "piedpiper", "umbrella", "vandelay"],
                       "every account not canceled, sorted")
        let acme = try XCTUnwrap(accounts.first)
        for key in ["account_id", "tier", "status", "storage_used_bytes", "storage_limit_bytes", "storage_utilization", "storage_growth_bytes_per_day",
                    "storage_days_to_full", "included_features", "adopted_features", "adoption_ratio", "active_users", "seat_limit",
                    "seat_utilization", "demanded_features", "flags"] {
            XCTAssertTrue(acme.keys.contains(key), "missing \(key)")
        }
        XCTAssertEqual(acme["storage_limit_bytes"] as? Int, 100_000_000_000)
        XCTAssertEqual(acme["included_features"] as? [String], ["reports"])
        XCTAssertEqual(acme["demanded_features"] as? [String], ["sharing"])
        XCTAssertEqual(acme["flags"] as? [String], ["storage_over_limit", "feature_demand"])
        XCTAssertEqual(acme["storage_days_to_full"] as? Double, 0)
        // The latest sample on or before as_of, straight from the raw table.
        let latest = try db.query("""
            SELECT bytes FROM storage_samples WHERE account_id = 'acme' AND at < '2026-11-02' ORDER BY at DESC LIMIT 1
            """).first!.decode(0, as: Int.self)
        XCTAssertEqual(acme["storage_used_bytes"] as? Int, latest)
        // The slope SQL would compute, rounded to whole bytes.
        let slope = try db.query("""
            SELECT round(regr_slope(max_bytes, day - '2026-10-05'::date)) FROM daily_storage
            WHERE account_id = 'acme' AND day BETWEEN '2026-10-05' AND '2026-11-01'
            """).first!.decode(0, as: Double.self)
        XCTAssertEqual(Double(acme["storage_growth_bytes_per_day"] as? Int ?? 0), slope, accuracy: 1)
        let single = try tierplan(["signals", "--as-of", asOf, "--account", "globex", "--json"])
        XCTAssertEqual((single.json?["accounts"] as? [[String: Any]])?.count, 1)
        // Nothing after the end of as_of is read: an event tomorrow changes nothing today.
        let tomorrow = #"{"type":"storage","id":"late-1","account":"acme","at":"2026-11-02T00:00:00Z","bytes":1}"#
        XCTAssertEqual(try tierplan(["usage", "ingest", "-"], stdin: tomorrow + "\n").status, 0)
        XCTAssertEqual(try tierplan(["signals", "--as-of", asOf, "--json"]).stdout, result.stdout)
    }

    func testPlanJSONAndDryRun() throws {
        let dry = try tierplan(["plan", "--as-of", asOf, "--dry-run", "--json"])
        XCTAssertEqual(dry.status, 0, dry.stderr)
        XCTAssertEqual(try db.query("SELECT count(*) FROM offers").first?.decode(0, as: Int.self), 0, "dry run writes nothing")
        let plan = try tierplan(["plan", "--as-of", asOf, "--json"])
        XCTAssertEqual(plan.status, 0, plan.stderr)
        let json = try XCTUnwrap(plan.json)
        XCTAssertEqual(json["as_of"] as? String, asOf)
        XCTAssertNotNil(json["run_id"] as? String)
        XCTAssertEqual(json["accounts_scanned"] as? Int, 7)
        XCTAssertEqual(json["accounts_flagged"] as? Int, 4)
        let offers = try XCTUnwrap(json["offers"] as? [[String: Any]])
        XCTAssertEqual(offers.count, (dry.json?["offers"] as? [Any])?.count)
        let acme = try XCTUnwrap(offers.first { $0["account_id"] as? String == "acme" })
        for key in ["id", "account_id", "kind", "rank", "from_tier", "to_tier", "add", "remove", "current_mrr", "new_mrr", "delta_mrr",
                    "one_time", "acceptance_probability", "expected_delta_mrr", "reasons", "rationale", "status"] {
            XCTAssertTrue(acme.keys.contains(key), "missing \(key)")
        }
        XCTAssertEqual(acme["kind"] as? String, "tier_upgrade")
        XCTAssertEqual(acme["from_tier"] as? String, "starter")
        XCTAssertEqual(acme["to_tier"] as? String, "team")
        XCTAssertEqual(acme["current_mrr"] as? Int, 2900)
        XCTAssertEqual(acme["new_mrr"] as? Int, 7900)
        XCTAssertEqual(acme["delta_mrr"] as? Int, 5000)
        XCTAssertEqual(acme["acceptance_probability"] as? Double, 0.2)
        XCTAssertEqual(acme["expected_delta_mrr"] as? Double, 1000)
        XCTAssertEqual(acme["status"] as? String, "proposed")
        XCTAssertTrue((acme["rationale"] as? String)?.contains("over the limit") ?? false)
        let expected = offers.map { $0["expected_delta_mrr"] as? Double ?? 0 }
        XCTAssertEqual(expected, expected.sorted(by: >), "highest expected delta first")
        let adoption = try XCTUnwrap(offers.first { $0["kind"] as? String == "adoption" })
        XCTAssertEqual(adoption["account_id"] as? String, "initech")
        XCTAssertEqual(adoption["one_time"] as? Int, 49_900)
        XCTAssertEqual(adoption["delta_mrr"] as? Int, 0)
        XCTAssertFalse(offers.contains { $0["account_id"] as? String == "hooli" }, "past_due gets no offers")

        let list = try tierplan(["offers", "list", "--status", "proposed", "--json"])
        XCTAssertEqual((list.json?["offers"] as? [[String: Any]])?.map { $0["id"] as? String }, offers.map { $0["id"] as? String })
    }

    func testRerunIsIdempotent() throws {
        let first = try tierplan(["run", "--as-of", asOf, "--json"])
        XCTAssertEqual(first.status, 0, first.stderr)
        let before = try offersSnapshot()
        let events = try db.query("SELECT count(*) FROM offer_events").first!.decode(0, as: Int.self)
        XCTAssertFalse(before.isEmpty)
        let second = try tierplan(["run", "--as-of", asOf, "--json"])
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertEqual(try offersSnapshot(), before, "same ids, same statuses, no duplicates")
        XCTAssertEqual(try db.query("SELECT count(*) FROM offer_events").first!.decode(0, as: Int.self), events)
        XCTAssertEqual(second.json?["offers_created"] as? Int, 0)
        XCTAssertEqual(second.json?["offers_refreshed"] as? Int, 0)
        XCTAssertEqual((second.json?["offers"] as? [[String: Any]])?.compactMap { $0["id"] as? String }.sorted(),
                       (first.json?["offers"] as? [[String: Any]])?.compactMap { $0["id"] as? String }.sorted())
        // A later day refreshes the same offers rather than duplicating them.
        XCTAssertEqual(try tierplan(["run", "--as-of", "2026-11-02"]).status, 0)
        XCTAssertEqual(try db.query("SELECT count(*) FROM offers WHERE status = 'proposed'").first!.decode(0, as: Int.self), before.count)
    }

    func testExpiryWhenTheNeedDisappears() throws {
        XCTAssertEqual(try tierplan(["run", "--as-of", asOf]).status, 0)
        let acmeOffers = try db.query("SELECT offer_id::text FROM offers WHERE account_id = 'acme' AND status = 'proposed'").rows
        XCTAssertFalse(acmeOffers.isEmpty)
        // acme moves to team with its own storage pack: no need left.
        let upgrade = "account_id,name,tier,status,created_at,addons,discount_pct,segment,owner\nacme,Acme Corp,enterprise,active,2025-03-14,,0,smb,alice\n"
        XCTAssertEqual(try tierplan(["accounts", "import", "-", "--effective", "2026-11-02"], stdin: upgrade).status, 0)
        let run = try tierplan(["run", "--as-of", "2026-11-02", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(try db.query("SELECT count(*) FROM offers WHERE account_id = 'acme' AND status = 'proposed'").first!.decode(0, as: Int.self), 0)
        XCTAssertEqual(try db.query("SELECT count(*) FROM offers WHERE account_id = 'acme' AND status = 'expired'").first!.decode(0, as: Int.self), acmeOffers.count)
        XCTAssertEqual(try db.query("""
            SELECT count(*) FROM offer_events WHERE account_id = 'acme' AND from_status = 'proposed' AND to_status = 'expired'
            """).first!.decode(0, as: Int.self), acmeOffers.count)
        XCTAssertGreaterThanOrEqual(run.json?["offers_expired"] as? Int ?? 0, acmeOffers.count)
    }

    func testAdvisoryLockAndKilledRunLeavesNothing() throws {
        // Hold the runs table so a run blocks at its very last statement, with every offer written.
        let blocker = try Connection(url)
        try blocker.execute("BEGIN")
        try blocker.execute("LOCK TABLE runs IN ACCESS EXCLUSIVE MODE")
        let first = try CLI.start(["run", "--as-of", asOf], databaseURL: url)
        // Wait until it holds the run lock and waits on ours.
        var waiting = false
        for _ in 0..<200 {
            let n = try db.query("""
                SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO runs%'
                """).first!.decode(0, as: Int.self)
            if n > 0 { waiting = true; break }
            usleep(50_000)
        }
        XCTAssertTrue(waiting, "the first run should be blocked on the runs table")
        let second = try tierplan(["run", "--as-of", asOf])
        XCTAssertNotEqual(second.status, 0)
        XCTAssertTrue(second.stderr.contains("another tierplan run holds the run lock"), second.stderr)
        // Kill the first run mid-way: the server rolls its transaction back.
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        try blocker.execute("ROLLBACK")
        for _ in 0..<100 {
            let alive = try db.query("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'INSERT INTO runs%' AND state <> 'idle'").first!.decode(0, as: Int.self)
            if alive == 0 { break }
            usleep(50_000)
        }
        XCTAssertEqual(try db.query("SELECT count(*) FROM offers").first!.decode(0, as: Int.self), 0, "no partial offers")
        XCTAssertEqual(try db.query("SELECT count(*) FROM offer_events").first!.decode(0, as: Int.self), 0)
        XCTAssertEqual(try db.query("SELECT count(*) FROM runs").first!.decode(0, as: Int.self), 0)
        // And the lock is free again.
        XCTAssertEqual(try tierplan(["run", "--as-of", asOf]).status, 0)
        XCTAssertGreaterThan(try db.query("SELECT count(*) FROM offers").first!.decode(0, as: Int.self), 0)
    }

    func proposedOffer(_ account: String, kind: String? = nil) throws -> String {
        var sql = "SELECT offer_id::text FROM offers WHERE account_id = $1 AND status = 'proposed'"
        var params: [any PostgresEncodable] = [account]
        if let kind { sql += " AND kind = $2"; params.append(kind) }
        return try XCTUnwrap(db.query(sql + " ORDER BY rank LIMIT 1", params).first).decode(0)
    }

    func testOfferLifeAndIllegalTransitions() throws {
        XCTAssertEqual(try tierplan(["run", "--as-of", asOf]).status, 0)
        let id = try proposedOffer("acme")
        // Reject needs a reason; snooze needs --until.
        XCTAssertNotEqual(try tierplan(["offers", "reject", id, "--by", "carol"]).status, 0)
        XCTAssertNotEqual(try tierplan(["offers", "snooze", id, "--by", "carol"]).status, 0)
        // An outcome before approval is illegal.
        let early = try tierplan(["offers", "outcome", id, "accepted", "--by", "carol"])
        XCTAssertNotEqual(early.status, 0)
        XCTAssertTrue(early.stderr.contains("cannot accept an offer that is proposed"), early.stderr)
        // History is never rewritten: no decision before the offer's as_of, no snooze already over.
        let beforeAsOf = try tierplan(["offers", "approve", id, "--by", "carol", "--at", "2026-10-31"])
        XCTAssertNotEqual(beforeAsOf.status, 0)
        XCTAssertTrue(beforeAsOf.stderr.contains("before the offer's as_of 2026-11-01"), beforeAsOf.stderr)
        let pastSnooze = try tierplan(["offers", "snooze", id, "--by", "carol", "--until", "2026-11-02", "--at", "2026-11-02"])
        XCTAssertNotEqual(pastSnooze.status, 0)
        XCTAssertTrue(pastSnooze.stderr.contains("must be after the day of the snooze"), pastSnooze.stderr)
        let approve = try tierplan(["offers", "approve", id, "--by", "carol", "--at", "2026-11-02", "--json"])
        XCTAssertEqual(approve.status, 0, approve.stderr)
        XCTAssertEqual(approve.json?["status"] as? String, "approved")
        let again = try tierplan(["offers", "approve", id, "--by", "dave"])
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.stderr.contains("cannot approve an offer that is approved"), again.stderr)
        XCTAssertTrue(again.stderr.contains("by carol"), again.stderr)
        let backdated = try tierplan(["offers", "outcome", id, "accepted", "--by", "carol", "--at", "2026-11-01"])
        XCTAssertNotEqual(backdated.status, 0)
        XCTAssertTrue(backdated.stderr.contains("before the offer's previous decision on 2026-11-02"), backdated.stderr)
        let accepted = try tierplan(["offers", "outcome", id, "accepted", "--by", "carol", "--at", "2026-11-05", "--json"])
        XCTAssertEqual(accepted.status, 0, accepted.stderr)
        XCTAssertEqual(accepted.json?["status"] as? String, "accepted")
        XCTAssertNotEqual(try tierplan(["offers", "outcome", id, "declined", "--by", "carol"]).status, 0)
        // The audit trail, in order, with who and when.
        let shown = try tierplan(["offers", "show", id, "--json"])
        let events = try XCTUnwrap(shown.json?["events"] as? [[String: Any]])
        XCTAssertEqual(events.map { $0["to_status"] as? String }, ["proposed", "approved", "accepted"])
        XCTAssertEqual(events.last?["actor"] as? String, "carol")
        XCTAssertEqual(events.last?["at"] as? String, "2026-11-05T00:00:00Z")
        // The audit is append-only.
        XCTAssertThrowsError(try db.execute("DELETE FROM offer_events"))
        XCTAssertThrowsError(try db.execute("UPDATE offer_events SET actor = 'x'"))
        // Unknown ids are a clear error.
        let unknown = try tierplan(["offers", "approve", "00000000-0000-0000-0000-000000000000", "--by", "x"])
        XCTAssertTrue(unknown.stderr.contains("no offer with id"), unknown.stderr)
    }

    func testAcceptingExpiresOtherUpsellsAndGuardrailsFollow() throws {
        XCTAssertEqual(try tierplan(["run", "--as-of", asOf]).status, 0)
        let upgrade = try proposedOffer("globex", kind: "tier_upgrade")
        let addon = try proposedOffer("globex", kind: "addon")
        XCTAssertEqual(try tierplan(["offers", "approve", upgrade, "--by", "bob", "--at", "2026-11-02"]).status, 0)
        XCTAssertEqual(try tierplan(["offers", "outcome", upgrade, "accepted", "--by", "bob", "--at", "2026-11-03"]).status, 0)
        XCTAssertEqual(try db.query("SELECT status FROM offers WHERE offer_id = $1::uuid", [addon]).first?.decode(0, as: String.self), "expired")
        // The next night: globex is in recently_accepted; probability learnt from the outcome.
        let run = try tierplan(["run", "--as-of", "2026-11-04", "--json"])
        let suppressed = try XCTUnwrap(run.json?["suppressed"] as? [[String: Any]])
        XCTAssertTrue(suppressed.contains { $0["account_id"] as? String == "globex" && $0["reason"] as? String == "recently_accepted" }, "\(suppressed)")
        let offers = try XCTUnwrap(run.json?["offers"] as? [[String: Any]])
        let upgrades = offers.filter { $0["kind"] as? String == "tier_upgrade" }
        XCTAssertTrue(upgrades.allSatisfy { $0["acceptance_probability"] as? Double == 0.2727 }, "(2 + 1) / (2 + 8 + 1)")
        XCTAssertFalse(offers.contains { $0["account_id"] as? String == "globex" })
    }

    func testRejectionCoolsDownAndSnoozeComesBack() throws {
        XCTAssertEqual(try tierplan(["run", "--as-of", asOf]).status, 0)
        let acme = try proposedOffer("acme")
        XCTAssertEqual(try tierplan(["offers", "reject", acme, "--by", "carol", "--reason", "budget frozen", "--at", asOf]).status, 0)
        let snoozed = try proposedOffer("initech", kind: "adoption")
        XCTAssertEqual(try tierplan(["offers", "snooze", snoozed, "--by", "carol", "--until", "2026-11-10", "--at", asOf]).status, 0)
        let next = try tierplan(["run", "--as-of", "2026-11-02", "--json"])
        let suppressed = try XCTUnwrap(next.json?["suppressed"] as? [[String: Any]])
        XCTAssertTrue(suppressed.contains { $0["account_id"] as? String == "acme" && $0["reason"] as? String == "cooldown" }, "\(suppressed)")
        XCTAssertTrue(suppressed.contains { $0["account_id"] as? String == "initech" && $0["reason"] as? String == "snoozed" }, "\(suppressed)")
        XCTAssertEqual(try db.query("SELECT count(*) FROM offers WHERE account_id = 'acme' AND status = 'proposed'").first!.decode(0, as: Int.self), 0,
                       "never the same offer twice")
        // On its date the snoozed offer is back in the queue, with the same id.
        XCTAssertEqual(try tierplan(["run", "--as-of", "2026-11-10"]).status, 0)
        XCTAssertEqual(try db.query("SELECT status FROM offers WHERE offer_id = $1::uuid", [snoozed]).first?.decode(0, as: String.self), "proposed")
    }

    func testConcurrentDecisionsExactlyOneWins() throws {
        XCTAssertEqual(try tierplan(["run", "--as-of", asOf]).status, 0)
        let id = try proposedOffer("umbrella")
        // Many reviewers at once, half approving, half rejecting.
        final class Results: @unchecked Sendable {   // guarded by its lock
            let lock = NSLock()
            var items: [CLIResult] = []
        }
        let box = Results()
        let group = DispatchGroup()
        let url: String = self.url
        for i in 0..<6 {
            let args = i % 2 == 0 ? ["offers", "approve", id, "--by", "r\(i)"] : ["offers", "reject", id, "--by", "r\(i)", "--reason", "no"]
            group.enter()
            DispatchQueue.global().async {
                let result = try? CLI.run(args, databaseURL: url)
                box.lock.lock(); if let result { box.items.append(result) }; box.lock.unlock()
                group.leave()
            }
        }
        group.wait()
        let results = box.items
        XCTAssertEqual(results.count, 6)
        XCTAssertEqual(results.filter { $0.status == 0 }.count, 1, results.map(\.stderr).joined(separator: "\n"))
        for loser in results where loser.status != 0 {
            XCTAssertTrue(loser.stderr.contains("by r"), loser.stderr)
        }
        XCTAssertEqual(try db.query("SELECT count(*) FROM offer_events WHERE offer_id = $1::uuid AND actor LIKE 'r%'", [id]).first!.decode(0, as: Int.self), 1)
    }
}
