import Foundation
import Postgres
import TierPlanStore
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Alerts and webhooks through the real CLI, against a real receiver on loopback that this test runs
/// (`WebhookReceiver`). "Now" is `TIERPLAN_NOW`, moved forward by the tests: nothing here depends on
/// the machine's clock.
final class WebhookTests: XCTestCase {
    let examples = repositoryRoot.appendingPathComponent("examples").path
    let t0 = "2026-11-02T08:00:00Z"

    /// A fresh database with the example catalog, accounts and usage.
    func freshDatabase(catalog: String? = nil) throws -> String {
        let url = try TestCluster.freshDatabase()
        for args in [["catalog", "load", catalog ?? examples + "/catalog.yaml"], ["accounts", "import", examples + "/accounts.csv", "--effective", "2026-10-01"],
                     ["usage", "ingest", examples + "/usage.ndjson"]] {
            let result = try CLI.run(args, databaseURL: url)
            XCTAssertEqual(result.status, 0, "\(args): \(result.stderr)")
        }
        return url
    }

    /// Runs the CLI off Swift's cooperative threads (the receiver needs them meanwhile).
    func tierplan(_ url: String, _ args: [String], now: String? = nil, file: StaticString = #filePath, line: UInt = #line) async throws -> CLIResult {
        let environment = now.map { ["TIERPLAN_NOW": $0] } ?? [:]
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                do { continuation.resume(returning: try CLI.run(args, databaseURL: url, environment: environment)) } catch { continuation.resume(throwing: error) }
            }
        }
    }

    /// Unix seconds of an RFC 3339 instant, `seconds` later.
    func unix(_ iso: String, plus seconds: Int64 = 0) -> Int64 {
        Int64(ISO8601DateFormatter().date(from: iso)!.timeIntervalSince1970) + seconds
    }

    func iso(_ unixSeconds: Int64) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(unixSeconds)))
    }

    /// Adds an endpoint; returns its id and secret.
    func addEndpoint(_ url: String, _ target: String, events: String = "*", format: String = "json") async throws -> (id: Int, secret: String) {
        let added = try await tierplan(url, ["webhooks", "add", target, "--events", events, "--format", format, "--json"], now: t0)
        XCTAssertEqual(added.status, 0, added.stderr)
        let json = try XCTUnwrap(added.json)
        let secret = try XCTUnwrap(json["secret"] as? String)
        XCTAssertTrue(secret.hasPrefix("whsec_"))
        return (try XCTUnwrap(json["id"] as? Int), secret)
    }

    func strings(_ db: Connection, _ sql: String) throws -> [String] { try db.query(sql).rows.map { try $0.decode(0) } }

    // MARK: Alerts

    /// Each crossing raises one event, the first run raises what is already crossed, falling back
    /// resolves; `signals --json` lists the thresholds reached and the state table keeps them.
    func testThresholdAlertsOncePerCrossingAndResolved() async throws {
        let url = try freshDatabase()
        let db = try Connection(url)
        let first = try await tierplan(url, ["run", "--as-of", "2026-11-01", "--json"], now: t0)
        XCTAssertEqual(first.status, 0, first.stderr)
        let crossed = "SELECT account_id || ' ' || (body::jsonb->'data'->>'metric') || ' ' || (body::jsonb->'data'->>'threshold') FROM webhook_events WHERE type = "
        let acme = try strings(db, crossed + "'usage.threshold_crossed' AND account_id = 'acme' ORDER BY seq")
        XCTAssertEqual(acme, ["acme storage 0.8", "acme storage 0.9", "acme storage 1"], "acme is over its limit on the first run")
        XCTAssertEqual(try strings(db, "SELECT account_id || ' ' || metric || ' ' || threshold FROM alert_states WHERE account_id = 'acme' ORDER BY threshold"),
                       acme)
        let signals = try await tierplan(url, ["signals", "--as-of", "2026-11-01", "--account", "acme", "--json"])
        let alerts = try XCTUnwrap(((signals.json?["accounts"] as? [[String: Any]])?.first)?["alerts"] as? [[String: Any]])
        XCTAssertEqual(alerts.map { "\($0["metric"]!) \($0["threshold"]!)" }, ["storage 0.8", "storage 0.9", "storage 1"])
        let count = "SELECT count(*)::text FROM webhook_events WHERE type LIKE 'usage.%'"
        let afterFirst = try strings(db, count)

        // The same state again: nothing new to say, only the run itself.
        let again = try await tierplan(url, ["run", "--as-of", "2026-11-01"], now: t0)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(try strings(db, count), afterFirst)
        XCTAssertEqual(try strings(db, "SELECT count(*)::text FROM webhook_events WHERE type = 'run.completed'"), ["2"])

        // acme falls back to 85 % (of 100 GB): 1.0 and 0.9 resolve, 0.8 stays.
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let usage = folder.appendingPathComponent("later.ndjson")
        try #"{"type":"storage","id":"s-late-1","account":"acme","at":"2026-11-02T06:00:00Z","bytes":85000000000}"#.write(to: usage, atomically: true, encoding: .utf8)
        let ingest = try await tierplan(url, ["usage", "ingest", usage.path])
        XCTAssertEqual(ingest.status, 0, ingest.stderr)
        let later = try await tierplan(url, ["run", "--as-of", "2026-11-02"], now: "2026-11-03T08:00:00Z")
        XCTAssertEqual(later.status, 0, later.stderr)
        XCTAssertEqual(try strings(db, crossed + "'usage.threshold_resolved' AND account_id = 'acme' ORDER BY seq"), ["acme storage 1", "acme storage 0.9"])
        XCTAssertEqual(try strings(db, "SELECT threshold::text FROM alert_states WHERE account_id = 'acme' AND metric = 'storage'"), ["0.8"])
        let resolved = try XCTUnwrap(try strings(db, "SELECT body FROM webhook_events WHERE type = 'usage.threshold_resolved' ORDER BY seq LIMIT 1").first)
        let data = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(resolved.utf8)) as? [String: Any])?["data"] as? [String: Any])
        XCTAssertEqual(data["account_id"] as? String, "acme")
        XCTAssertEqual(data["value"] as? Double, 0.85)
        XCTAssertEqual(data["as_of"] as? String, "2026-11-02")
    }

    // MARK: Outbox

    /// A run that rolls back (here: its last statement fails) leaves no event, no delivery and no alert state.
    func testRolledBackRunRaisesNoEvent() async throws {
        let url = try freshDatabase()
        let db = try Connection(url)
        _ = try await addEndpoint(url, "http://127.0.0.1:9/billing")
        try db.executeScript("""
            CREATE FUNCTION refuse_run() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'run refused by the test'; END $$;
            CREATE TRIGGER refuse_run BEFORE INSERT ON runs FOR EACH ROW EXECUTE FUNCTION refuse_run();
            """)
        let failed = try await tierplan(url, ["run", "--as-of", "2026-11-01"], now: t0)
        XCTAssertNotEqual(failed.status, 0)
        XCTAssertTrue(failed.stderr.contains("run refused by the test"), failed.stderr)
        for table in ["webhook_events", "webhook_deliveries", "alert_states", "offers"] {
            XCTAssertEqual(try strings(db, "SELECT count(*)::text FROM \(table)"), ["0"], table)
        }
        try db.executeScript("DROP TRIGGER refuse_run ON runs")
        let ok = try await tierplan(url, ["run", "--as-of", "2026-11-01"], now: t0)
        XCTAssertEqual(ok.status, 0, ok.stderr)
        let types = Set(try strings(db, "SELECT type FROM webhook_events"))
        XCTAssertEqual(types, ["offer.proposed", "usage.threshold_crossed", "run.completed"])
        try WebhookOutbox.fanOut(db)
        XCTAssertEqual(try strings(db, "SELECT count(*)::text FROM webhook_events"), try strings(db, "SELECT count(*)::text FROM webhook_deliveries"),
                       "one delivery per event for the one endpoint subscribed to everything")
        // offer.proposed carries the offer object, and one event per new offer that is shown for review.
        XCTAssertEqual(try strings(db, "SELECT count(*)::text FROM webhook_events WHERE type = 'offer.proposed'"),
                       try strings(db, "SELECT count(*)::text FROM offers WHERE status = 'proposed'"))
        XCTAssertEqual(try strings(db, """
            SELECT count(*)::text FROM webhook_events e JOIN offers o ON o.offer_id::text = e.body::jsonb->'data'->>'id'
            WHERE e.type = 'offer.proposed' AND e.body::jsonb->'data'->>'status' = 'proposed' AND (e.body::jsonb->'data') ? 'delta_mrr'
            """), try strings(db, "SELECT count(*)::text FROM offers WHERE status = 'proposed'"))
    }

    /// A fresh database with one endpoint taking `events`, after a run on 2026-11-01, and the ids of
    /// the proposed offers (at least two), by account and rank.
    func afterFirstRun(endpointTaking events: String) async throws -> (url: String, db: Connection, proposed: [String]) {
        let url = try freshDatabase()
        let db = try Connection(url)
        _ = try await addEndpoint(url, "http://127.0.0.1:9/hook", events: events)
        let run = try await tierplan(url, ["run", "--as-of", "2026-11-01"], now: t0)
        XCTAssertEqual(run.status, 0, run.stderr)
        let ids = try strings(db, "SELECT offer_id::text FROM offers WHERE status = 'proposed' ORDER BY account_id, rank")
        XCTAssertGreaterThanOrEqual(ids.count, 2)
        return (url, db, ids)
    }

    /// Decisions and outcomes raise their events in their own transaction; accepting expires the rest.
    func testDecisionsAndOutcomesRaiseEvents() async throws {
        let (url, db, ids) = try await afterFirstRun(endpointTaking: "offer.approved,offer.accepted,offer.rejected,offer.expired")
        try WebhookOutbox.fanOut(db)
        XCTAssertEqual(try strings(db, "SELECT count(*)::text FROM webhook_deliveries"), ["0"], "the endpoint takes none of the run's types")
        let approve = try await tierplan(url, ["offers", "approve", ids[0], "--by", "carol", "--at", "2026-11-02"], now: t0)
        XCTAssertEqual(approve.status, 0, approve.stderr)
        let reject = try await tierplan(url, ["offers", "reject", ids[1], "--by", "carol", "--reason", "not now", "--at", "2026-11-02"], now: t0)
        XCTAssertEqual(reject.status, 0, reject.stderr)
        let refused = try await tierplan(url, ["offers", "reject", ids[1], "--by", "carol", "--reason", "twice", "--at", "2026-11-02"], now: t0)
        XCTAssertNotEqual(refused.status, 0, "an illegal change raises nothing")
        let accept = try await tierplan(url, ["offers", "outcome", ids[0], "accepted", "--by", "dave", "--at", "2026-11-03"], now: t0)
        XCTAssertEqual(accept.status, 0, accept.stderr)
        let events = try strings(db, "SELECT type || ' ' || (body::jsonb->'data'->>'id') || ' ' || (body::jsonb->'data'->>'status') FROM webhook_events WHERE type <> 'offer.proposed' AND type LIKE 'offer.%' ORDER BY seq")
        XCTAssertEqual(Array(events.prefix(3)), ["offer.approved \(ids[0]) approved", "offer.rejected \(ids[1]) rejected", "offer.accepted \(ids[0]) accepted"])
        let expired = try strings(db, "SELECT offer_id::text FROM offer_events WHERE to_status = 'expired' AND reason LIKE 'another offer was accepted%' ORDER BY 1")
        XCTAssertEqual(Array(events.dropFirst(3)).sorted(), expired.map { "offer.expired \($0) expired" }.sorted())
        try WebhookOutbox.fanOut(db)
        XCTAssertEqual(try strings(db, "SELECT count(*)::text FROM webhook_deliveries"), [String(events.count)])
    }

    /// A run writes offer.proposed without its body; the body is made from the offer's row before
    /// anything changes the offer (a decision, the next run) or when first fanned out, so it is always
    /// the offer as proposed: what `offers show --json` printed right after the run.
    func testProposalBodiesAreTheOffersAsProposed() async throws {
        let (url, db, ids) = try await afterFirstRun(endpointTaking: "offer.proposed,offer.approved")
        XCTAssertEqual(try strings(db, "SELECT count(*)::text FROM webhook_events WHERE type = 'offer.proposed' AND body IS NULL"), [String(ids.count)],
                       "written without bodies")
        var shown: [String: [String: Any]] = [:]
        for id in ids {
            let show = try await tierplan(url, ["offers", "show", id, "--json"])
            XCTAssertEqual(show.status, 0, show.stderr)
            shown[id] = try XCTUnwrap(show.json?["offer"] as? [String: Any])
        }
        // A decision makes the bodies of its account's proposals first, then changes the offer.
        let approve = try await tierplan(url, ["offers", "approve", ids[0], "--by", "carol", "--at", "2026-11-02"], now: t0)
        XCTAssertEqual(approve.status, 0, approve.stderr)
        let account = try strings(db, "SELECT account_id FROM offers WHERE offer_id = '\(ids[0])'")[0]
        XCTAssertEqual(try strings(db, "SELECT count(*)::text FROM webhook_events WHERE type = 'offer.proposed' AND body IS NULL AND account_id = '\(account)'"), ["0"])
        // The next run makes the rest before it refreshes their offers.
        let next = try await tierplan(url, ["run", "--as-of", "2026-11-02"], now: "2026-11-03T08:00:00Z")
        XCTAssertEqual(next.status, 0, next.stderr)
        let bodies = try db.query("""
            SELECT e.body, o.offer_id::text FROM webhook_events e JOIN offers o ON o.offer_id = e.offer_id
            WHERE e.type = 'offer.proposed' AND e.offer_id = ANY($1::uuid[])
            """, [PostgresArray(ids)]).rows
        XCTAssertEqual(bodies.count, ids.count)
        for row in bodies {
            let text = try XCTUnwrap(try row.decodeIfPresent(0, as: String.self), "made before the next run changed the offer")
            let event = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            let data = try XCTUnwrap(event["data"] as? [String: Any])
            let expected = try XCTUnwrap(shown[try row.decode(1, as: String.self)])
            XCTAssertEqual(NSDictionary(dictionary: data), NSDictionary(dictionary: expected), "the offer as proposed")
            XCTAssertEqual(data["status"] as? String, "proposed")
        }
        // Fanned out once each, in event order, with the approval after its proposal.
        let listed = try await tierplan(url, ["webhooks", "deliveries", "--json", "--limit", "1000"])
        XCTAssertEqual(listed.status, 0, listed.stderr)
        XCTAssertEqual((listed.json?["deliveries"] as? [Any])?.count,
                       Int(try strings(db, "SELECT count(*)::text FROM webhook_events WHERE type IN ('offer.proposed', 'offer.approved')")[0]))
        XCTAssertEqual(try strings(db, "SELECT count(*)::text FROM webhook_events e JOIN webhook_deliveries d ON d.event_seq = e.seq WHERE e.body IS NULL"), ["0"])
    }

    // MARK: Delivery

    /// Every event reaches the receiver signed as the contract says; the receiver's own check passes;
    /// a stale timestamp is refused by it, retried, and delivered once the clocks agree.
    func testDeliveredSignedInOrderAndVerified() async throws {
        let url = try freshDatabase()
        let db = try Connection(url)
        let receiver = WebhookReceiver()
        try await receiver.start()
        defer { receiver.stop() }
        let endpoint = try await addEndpoint(url, receiver.url("/billing"))
        receiver.setSecret(endpoint.secret, for: "/billing")
        let run = try await tierplan(url, ["run", "--as-of", "2026-11-01"], now: t0)
        XCTAssertEqual(run.status, 0, run.stderr)

        // The deliverer's clock is an hour ahead of the receiver's: refused as stale, and retried later.
        receiver.now = unix(t0)
        let skewed = try await tierplan(url, ["deliver", "--json"], now: iso(unix(t0, plus: 3600)))
        XCTAssertEqual(skewed.status, 0, skewed.stderr)
        XCTAssertEqual(skewed.json?["retrying"] as? Int, 1, "the head failed; the endpoint's later events wait behind it")
        XCTAssertTrue(receiver.refused.first?.contains("stale timestamp") ?? false, "\(receiver.refused)")
        XCTAssertEqual(receiver.accepted.count, 0)
        let head = try XCTUnwrap(db.query("""
            SELECT attempts, last_status_code, to_char(next_attempt_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') FROM webhook_deliveries
            WHERE attempts > 0
            """).first)
        XCTAssertEqual(try head.decode(0, as: Int.self), 1)
        XCTAssertEqual(try head.decode(1, as: Int.self), 400)
        XCTAssertEqual(try head.decode(2, as: String.self), iso(unix(t0, plus: 3660)), "1 minute after the failed attempt")

        // Not yet due: nothing is sent.
        receiver.now = unix(t0, plus: 3630)
        let early = try await tierplan(url, ["deliver", "--json"], now: iso(unix(t0, plus: 3630)))
        XCTAssertEqual(early.json?["attempted"] as? Int, 0)
        // Due, and the clocks agree: everything goes, in event order.
        receiver.now = unix(t0, plus: 3700)
        let due = try await tierplan(url, ["deliver", "--json"], now: iso(unix(t0, plus: 3700)))
        XCTAssertEqual(due.status, 0, due.stderr)
        let events = try strings(db, "SELECT event_id FROM webhook_events ORDER BY seq")
        XCTAssertEqual(receiver.accepted.map(\.eventID), events, "each event once, in event order")
        XCTAssertEqual(try strings(db, "SELECT DISTINCT status FROM webhook_deliveries"), ["delivered"])
        for received in receiver.accepted {
            let json = received.json
            XCTAssertEqual(json["id"] as? String, received.eventID)
            XCTAssertNotNil(json["type"] as? String)
            XCTAssertEqual(json["created"] as? String, t0)
            XCTAssertNotNil(json["data"] as? [String: Any])
        }
        let list = try await tierplan(url, ["webhooks", "list", "--json"])
        XCTAssertFalse(list.stdout.contains(endpoint.secret), "the secret is shown once, at add")
        let delivered = try await tierplan(url, ["webhooks", "deliveries", "--status", "delivered", "--json"])
        let rows = try XCTUnwrap(delivered.json?["deliveries"] as? [[String: Any]])
        XCTAssertEqual(rows.count, events.count)
        XCTAssertTrue(rows.allSatisfy { $0["last_status_code"] as? Int == 200 && $0["last_latency_ms"] is Int })
    }

    /// The receiver is down for a while: attempts back off (1 minute, doubling), nothing is lost, and
    /// once it is back every event id arrives exactly once, in order. With max_attempts 2 a delivery
    /// fails for good, lets the next event go, and `webhooks redeliver` sends it again.
    func testReceiverDownRetriesThenEachEventOnce() async throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let catalog = folder.appendingPathComponent("catalog.yaml")
        try String(contentsOfFile: examples + "/catalog.yaml", encoding: .utf8)
            .replacingOccurrences(of: "policy: {}", with: "policy: {webhooks: {max_attempts: 3}}")
            .write(to: catalog, atomically: true, encoding: .utf8)
        let url = try freshDatabase(catalog: catalog.path)
        let db = try Connection(url)
        let receiver = WebhookReceiver()
        try await receiver.start()
        defer { receiver.stop() }
        let endpoint = try await addEndpoint(url, receiver.url("/crm"), events: "usage.threshold_crossed,run.completed")
        receiver.setSecret(endpoint.secret, for: "/crm")
        let run = try await tierplan(url, ["run", "--as-of", "2026-11-01"], now: t0)
        XCTAssertEqual(run.status, 0, run.stderr)
        let events = try strings(db, "SELECT event_id FROM webhook_events WHERE type IN ('usage.threshold_crossed', 'run.completed') ORDER BY seq")
        XCTAssertGreaterThan(events.count, 2)

        receiver.failing = true
        var attemptsAt: [Int64] = []
        for offset: Int64 in [0, 59, 60, 179, 180] {   // due at +0, +60, +180 (after the 1st and 2nd failures)
            receiver.now = unix(t0, plus: offset)
            let pass = try await tierplan(url, ["deliver", "--json"], now: iso(unix(t0, plus: offset)))
            XCTAssertEqual(pass.status, 0, pass.stderr)
            if (pass.json?["attempted"] as? Int ?? 0) > 0 { attemptsAt.append(offset) }
        }
        XCTAssertEqual(attemptsAt, [0, 60, 180])
        // The third attempt was the last: the head failed for good, and the next event went next, also failing.
        XCTAssertEqual(try strings(db, "SELECT status || ' ' || attempts FROM webhook_deliveries ORDER BY event_seq LIMIT 2"), ["failed 3", "pending 1"])
        XCTAssertEqual(try strings(db, "SELECT count(*)::text FROM webhook_attempts"), ["4"], "every attempt is recorded")

        receiver.failing = false
        receiver.now = unix(t0, plus: 300)
        let back = try await tierplan(url, ["deliver"], now: iso(unix(t0, plus: 300)))
        XCTAssertEqual(back.status, 0, back.stderr)
        XCTAssertEqual(receiver.accepted.map(\.eventID), Array(events.dropFirst()))
        let failedID = try strings(db, "SELECT delivery_id::text FROM webhook_deliveries WHERE status = 'failed'")
        XCTAssertEqual(failedID.count, 1)
        let redeliver = try await tierplan(url, ["webhooks", "redeliver", failedID[0]], now: iso(unix(t0, plus: 400)))
        XCTAssertEqual(redeliver.status, 0, redeliver.stderr)
        receiver.now = unix(t0, plus: 400)
        _ = try await tierplan(url, ["deliver"], now: iso(unix(t0, plus: 400)))
        XCTAssertEqual(receiver.accepted.map(\.eventID).sorted(), events.sorted(), "every event id, exactly once")
        XCTAssertEqual(receiver.refused, [])
        let missing = try await tierplan(url, ["webhooks", "redeliver", "999999"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("999999"), missing.stderr)
    }

    /// `tierplan deliver` killed with SIGKILL in the middle of a batch: the next one sends what is left;
    /// the receiver has every event id, and at most the one in flight twice.
    func testKilledDelivererLosesNothing() async throws {
        let url = try freshDatabase()
        let db = try Connection(url)
        let receiver = WebhookReceiver()
        try await receiver.start()
        defer { receiver.stop() }
        let endpoint = try await addEndpoint(url, receiver.url("/billing"))
        receiver.setSecret(endpoint.secret, for: "/billing")
        receiver.now = unix(t0)
        let run = try await tierplan(url, ["run", "--as-of", "2026-11-01"], now: t0)
        XCTAssertEqual(run.status, 0, run.stderr)
        let events = try strings(db, "SELECT event_id FROM webhook_events ORDER BY seq")
        XCTAssertGreaterThan(events.count, 6)

        receiver.delay = .milliseconds(400)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = ["deliver"]
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = url
        environment["TIERPLAN_NOW"] = t0
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var waited = 0
        while receiver.accepted.count < 3 && waited < 600 { try await Task.sleep(for: .milliseconds(50)); waited += 1 }
        XCTAssertGreaterThanOrEqual(receiver.accepted.count, 3)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .uncaughtSignal)
        let beforeRestart = receiver.accepted.count
        XCTAssertLessThan(beforeRestart, events.count, "killed mid-batch")

        receiver.delay = .zero
        let rest = try await tierplan(url, ["deliver"], now: t0)
        XCTAssertEqual(rest.status, 0, rest.stderr)
        let ids = receiver.accepted.map(\.eventID)
        XCTAssertEqual(Set(ids), Set(events), "nothing lost")
        XCTAssertLessThanOrEqual(ids.count, events.count + 1, "at most the delivery in flight again")
        var seen = Set<String>(), firsts: [String] = []
        for id in ids where seen.insert(id).inserted { firsts.append(id) }
        XCTAssertEqual(firsts, events, "in event order")
        XCTAssertEqual(try strings(db, "SELECT DISTINCT status FROM webhook_deliveries"), ["delivered"])
    }

    /// `--format slack` posts `{"text":"…"}`, which a receiver checking Slack's shape accepts.
    func testSlackFormat() async throws {
        let url = try freshDatabase()
        let receiver = WebhookReceiver()
        try await receiver.start()
        defer { receiver.stop() }
        let endpoint = try await addEndpoint(url, receiver.url("/slack"), events: "usage.threshold_crossed", format: "slack")
        receiver.setSecret(endpoint.secret, for: "/slack")
        receiver.now = unix(t0)
        _ = try await tierplan(url, ["run", "--as-of", "2026-11-01"], now: t0)
        let delivered = try await tierplan(url, ["deliver", "--json"], now: t0)
        XCTAssertEqual(delivered.status, 0, delivered.stderr)
        XCTAssertEqual(receiver.refused, [])
        let texts = receiver.accepted.compactMap { $0.json["text"] as? String }
        XCTAssertEqual(texts.count, receiver.accepted.count)
        XCTAssertGreaterThan(texts.count, 0)
        XCTAssertTrue(texts.contains { $0.hasPrefix("tierplan: *acme* storage at ") && $0.hasSuffix("as of 2026-11-01") }, "\(texts)")
    }

    /// Bad input is refused naming the field and value, and writes nothing; remove stops deliveries.
    func testBadInputAndRemove() async throws {
        let url = try freshDatabase()
        let db = try Connection(url)
        for (args, needle) in [(["webhooks", "add", "ftp://example.test/x", "--events", "*"], "ftp://example.test/x"),
                               (["webhooks", "add", "http://127.0.0.1:9/x", "--events", "offer.paid"], "offer.paid"),
                               (["webhooks", "add", "http://127.0.0.1:9/x", "--events", "*", "--format", "xml"], "xml"),
                               (["webhooks", "remove", "42"], "42"),
                               (["webhooks", "deliveries", "--status", "sent"], "sent")] {
            let result = try await tierplan(url, args)
            XCTAssertEqual(result.status, 1, "\(args)")
            XCTAssertTrue(result.stderr.contains(needle), "\(args): \(result.stderr)")
        }
        XCTAssertEqual(try strings(db, "SELECT count(*)::text FROM webhook_endpoints"), ["0"])
        let endpoint = try await addEndpoint(url, "http://127.0.0.1:9/billing")
        let removed = try await tierplan(url, ["webhooks", "remove", String(endpoint.id)], now: t0)
        XCTAssertEqual(removed.status, 0, removed.stderr)
        _ = try await tierplan(url, ["run", "--as-of", "2026-11-01"], now: t0)
        try WebhookOutbox.fanOut(db)
        XCTAssertEqual(try strings(db, "SELECT count(*)::text FROM webhook_deliveries"), ["0"], "a removed endpoint gets nothing")
        let list = try await tierplan(url, ["webhooks", "list", "--json"])
        XCTAssertEqual((list.json?["endpoints"] as? [Any])?.count, 0)
    }

    /// `tierplan serve` delivers in the background: a run's events reach the receiver with no
    /// `deliver` run, and SIGTERM still ends serve with exit 0.
    func testServeDeliversInTheBackground() async throws {
        let url = try freshDatabase()
        let receiver = WebhookReceiver()
        try await receiver.start()
        defer { receiver.stop() }
        let endpoint = try await addEndpoint(url, receiver.url("/billing"), events: "run.completed,usage.threshold_crossed")
        receiver.setSecret(endpoint.secret, for: "/billing")
        receiver.now = unix(t0)
        let t0 = self.t0
        let served = try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                do { continuation.resume(returning: try Served.start(databaseURL: url, environment: ["TIERPLAN_NOW": t0])) } catch { continuation.resume(throwing: error) }
            }
        }
        let run = try await tierplan(url, ["run", "--as-of", "2026-11-01"], now: t0)
        XCTAssertEqual(run.status, 0, run.stderr)
        let events = try strings(try Connection(url), "SELECT event_id FROM webhook_events WHERE type IN ('run.completed', 'usage.threshold_crossed') ORDER BY seq")
        for _ in 0..<300 where receiver.accepted.count < events.count { try await Task.sleep(for: .milliseconds(100)) }
        XCTAssertEqual(receiver.accepted.map(\.eventID), events)
        receiver.stop()
        let stopped = served.stop()
        XCTAssertTrue(stopped, "serve still running 30 s after SIGTERM")
        XCTAssertEqual(served.process.terminationStatus, 0)
    }

    /// The README's Python verifier, run as it is printed inside a receiver on loopback, accepts what
    /// `tierplan deliver` sends, and refuses it once the deliverer's clock is an hour off. The
    /// receiver's clock is the test's (`time.time` replaced by a fixed value), not the machine's.
    func testReadmePythonVerifierAcceptsDeliveries() throws {
        guard let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first(where: FileManager.default.isExecutableFile)
            ?? ProcessInfo.processInfo.environment["PATH"]?.split(separator: ":").map({ "\($0)/python3" }).first(where: FileManager.default.isExecutableFile)
        else { throw XCTSkip("python3 not found") }
        let readme = try String(contentsOf: repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try XCTUnwrap(readme.range(of: "**Verifying a delivery**").map { readme[$0.upperBound...] })
        let start = try XCTUnwrap(section.range(of: "```python\n")), end = try XCTUnwrap(section.range(of: "\n```", range: start.upperBound..<section.endIndex))
        let snippet = String(section[start.upperBound..<end.lowerBound])
        XCTAssertLessThanOrEqual(snippet.split(separator: "\n").count, 12, "a short example")

        let url = try freshDatabase()
        let db = try Connection(url)
        let added = try CLI.run(["webhooks", "add", "http://127.0.0.1:1/placeholder", "--events", "run.completed,usage.threshold_crossed", "--json"],
                                databaseURL: url)
        let secret = try XCTUnwrap(added.json?["secret"] as? String)
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let results = folder.appendingPathComponent("results")
        let harness = folder.appendingPathComponent("receiver.py")
        try ("""
            import sys, time
            time.time = lambda: float(sys.argv[2])   # the test's clock
            """ + "\n" + snippet + "\n" + """
            from http.server import BaseHTTPRequestHandler, HTTPServer
            out = open(sys.argv[3], "a", buffering=1)
            class Receiver(BaseHTTPRequestHandler):
                def do_POST(self):
                    body = self.rfile.read(int(self.headers["Content-Length"]))
                    ok = verify(sys.argv[1], self.headers["Tierplan-Signature"], body)
                    out.write(self.headers["Tierplan-Event-Id"] + (" ok" if ok else " refused") + "\\n")
                    self.send_response(200 if ok else 400)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                def log_message(self, *args):
                    pass
            server = HTTPServer(("127.0.0.1", 0), Receiver)
            print(server.server_address[1], flush=True)
            server.serve_forever()
            """).write(to: harness, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [harness.path, secret, String(unix(t0)), results.path]
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { process.terminate(); process.waitUntilExit() }
        let port = try XCTUnwrap(Int(String(decoding: stdout.fileHandleForReading.availableData, as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        try db.execute("UPDATE webhook_endpoints SET url = $1", ["http://127.0.0.1:\(port)/hook"])

        XCTAssertEqual(try CLI.run(["run", "--as-of", "2026-11-01"], databaseURL: url, environment: ["TIERPLAN_NOW": t0]).status, 0)
        let delivered = try CLI.run(["deliver"], databaseURL: url, environment: ["TIERPLAN_NOW": t0])
        XCTAssertEqual(delivered.status, 0, delivered.stderr)
        let events = try strings(db, "SELECT event_id FROM webhook_events WHERE type IN ('run.completed', 'usage.threshold_crossed') ORDER BY seq")
        func lines() throws -> [String] { try String(contentsOf: results, encoding: .utf8).split(separator: "\n").map(String.init) }
        XCTAssertEqual(try lines(), events.map { "\($0) ok" })

        let first = try strings(db, "SELECT delivery_id::text FROM webhook_deliveries ORDER BY delivery_id LIMIT 1")[0]
        let late = iso(unix(t0, plus: 3600))
        XCTAssertEqual(try CLI.run(["webhooks", "redeliver", first], databaseURL: url, environment: ["TIERPLAN_NOW": late]).status, 0)
        XCTAssertEqual(try CLI.run(["deliver"], databaseURL: url, environment: ["TIERPLAN_NOW": late]).status, 0)
        XCTAssertEqual(try lines().last, "\(events[0]) refused", "an hour-old signature is a replay")
    }
}
