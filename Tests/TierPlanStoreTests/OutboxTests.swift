import Foundation
import Postgres
import TestSupport
import TierPlanCore
import TierPlanStore
import XCTest

/// The outbox's two ways in (one statement for a few events, COPY for a run's many): the same rows,
/// in order, then one delivery per subscribed endpoint once they are fanned out, and nothing when the
/// transaction rolls back.
final class OutboxTests: XCTestCase {
    let now = Timestamp(iso: "2026-11-02T08:00:00Z")!

    func testFewAndManyEventsLandInOrderWithTheirDeliveries() throws {
        let (db, _) = try TestCluster.freshConnection()
        let all = try WebhookStore.add(db, url: "http://127.0.0.1:9/all", events: [.runCompleted, .offerProposed], format: .json)
        let offers = try WebhookStore.add(db, url: "http://127.0.0.1:9/offers", events: [.offerProposed], format: .slack)
        let gone = try WebhookStore.add(db, url: "http://127.0.0.1:9/gone", events: WebhookEventType.subscribable, format: .json)
        try WebhookStore.remove(db, id: gone.id, at: now)
        for count in [10, 200] {   // under and over the COPY threshold
            try db.execute("TRUNCATE webhook_deliveries, webhook_events CASCADE")
            let events = (0..<count).map { i in
                OutboxEvent(type: i % 2 == 0 ? .runCompleted : .offerProposed, accountID: i % 3 == 0 ? nil : "acct\(i)",
                            data: "{\"i\":\(i),\"text\":\"tab\\there \\\\ \\\"quoted\\\" → ok\"}", summary: WebhookSummary(type: .runCompleted))
            }
            let ids = try db.transaction { try WebhookOutbox.record($0, events, at: now) }
            XCTAssertEqual(try db.query("SELECT event_id FROM webhook_events ORDER BY seq").rows.map { try $0.decode(0, as: String.self) }, ids)
            let bodies = try db.query("SELECT body, account_id, created FROM webhook_events ORDER BY seq").rows
            for (i, row) in bodies.enumerated() {
                let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try row.decode(0, as: String.self).utf8)) as? [String: Any])
                XCTAssertEqual(json["id"] as? String, ids[i])
                XCTAssertEqual(json["created"] as? String, "2026-11-02T08:00:00Z")
                XCTAssertEqual((json["data"] as? [String: Any])?["text"] as? String, "tab\there \\ \"quoted\" → ok")
                XCTAssertEqual(try row.decodeIfPresent(1, as: String.self), i % 3 == 0 ? nil : "acct\(i)")
            }
            XCTAssertEqual(try db.query("SELECT count(*) FROM webhook_deliveries").first!.decode(0, as: Int.self), 0,
                           "the writer's transaction makes no delivery")
            XCTAssertEqual(try WebhookOutbox.fanOut(db), count + count / 2)
            XCTAssertEqual(try WebhookOutbox.fanOut(db), 0, "each event once per endpoint")
            func deliveries(_ endpoint: Int) throws -> Int {
                try db.query("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1", [endpoint]).first!.decode(0)
            }
            XCTAssertEqual(try deliveries(all.id), count, "\(count)")
            XCTAssertEqual(try deliveries(offers.id), count / 2, "\(count)")
            XCTAssertEqual(try deliveries(gone.id), 0, "a removed endpoint gets nothing")
            let order = try db.query("""
                SELECT bool_and(ok) FROM (SELECT delivery_id > lag(delivery_id) OVER (PARTITION BY endpoint_id ORDER BY event_seq) AS ok FROM webhook_deliveries) d
                """).first!.decodeIfPresent(0, as: Bool.self)
            XCTAssertEqual(order, true, "each endpoint's deliveries numbered in event order")
        }
        // Rolled back with the transaction that wrote them.
        try db.execute("TRUNCATE webhook_deliveries, webhook_events CASCADE")
        struct Refused: Error {}
        XCTAssertThrowsError(try db.transaction { db -> Void in
            try WebhookOutbox.record(db, (0..<100).map { _ in OutboxEvent(type: .runCompleted, accountID: nil, data: "{}", summary: WebhookSummary(type: .runCompleted)) }, at: now)
            throw Refused()
        })
        XCTAssertEqual(try db.query("SELECT count(*) FROM webhook_events").first!.decode(0, as: Int.self), 0)
        XCTAssertEqual(try db.query("SELECT count(*) FROM webhook_deliveries").first!.decode(0, as: Int.self), 0)
    }

    /// Deliveries are made after the writer's commit, from a cursor per endpoint. That is safe only if
    /// no event can become visible below a number the cursor has passed: a second writer waits for the
    /// first's commit before it takes numbers, and a fan-out during a writer's transaction skips nothing.
    func testFanOutNeverPassesAnEventStillBeingWritten() throws {
        let (db, url) = try TestCluster.freshConnection()
        let endpoint = try WebhookStore.add(db, url: "http://127.0.0.1:9/all", events: [.runCompleted], format: .json)
        func event(_ i: Int) -> OutboxEvent {
            OutboxEvent(type: .runCompleted, accountID: nil, data: "{\"i\":\(i)}", summary: WebhookSummary(type: .runCompleted))
        }
        let writer = try Connection(url)
        try writer.execute("BEGIN")
        let first = try WebhookOutbox.record(writer, (0..<3).map(event), at: now)

        // Another writer cannot take numbers meanwhile.
        let other = try Connection(url)
        try other.execute("SET lock_timeout = '200ms'")
        XCTAssertThrowsError(try other.transaction { try WebhookOutbox.record($0, [event(9)], at: now) }) { error in
            XCTAssertEqual((error as? PostgresError)?.sqlState, "55P03", "\(error)")
        }
        XCTAssertEqual(try WebhookOutbox.fanOut(db), 0, "uncommitted events are not seen, and the cursor stays")
        try writer.execute("COMMIT")
        let second = try other.transaction { try WebhookOutbox.record($0, [event(10)], at: now) }
        XCTAssertEqual(try WebhookOutbox.fanOut(db), 4)
        let delivered = try db.query("""
            SELECT e.event_id FROM webhook_deliveries d JOIN webhook_events e ON e.seq = d.event_seq WHERE d.endpoint_id = $1 ORDER BY d.delivery_id
            """, [endpoint.id]).rows.map { try $0.decode(0, as: String.self) }
        XCTAssertEqual(delivered, first + second, "every event once, in commit order")
        // An endpoint added now takes only what comes after it.
        let later = try WebhookStore.add(db, url: "http://127.0.0.1:9/later", events: [.runCompleted], format: .json)
        XCTAssertEqual(try WebhookOutbox.fanOut(db, endpoint: later.id), 0)
        try db.transaction { try WebhookOutbox.record($0, [event(11)], at: now) }
        XCTAssertEqual(try WebhookOutbox.fanOut(db), 2, "one each")
    }

    /// An event written without its body whose offer row is gone (offers are never deleted by tierplan,
    /// but nothing in the schema stops it) still gets a body, so it never holds its endpoint's queue up.
    func testABodyWhoseOfferIsGoneIsItsIdAndAccount() throws {
        let (db, _) = try TestCluster.freshConnection()
        let endpoint = try WebhookStore.add(db, url: "http://127.0.0.1:9/crm", events: [.offerProposed, .runCompleted], format: .json)
        let offerID = "0b7c3f7e-2f65-4d2a-9a57-3c1f0d6b8e11"
        let ids = try db.transaction { db in
            try WebhookOutbox.record(db, [OutboxEvent(type: .offerProposed, accountID: "acme", data: nil, offerID: offerID, summary: WebhookSummary(type: .offerProposed)),
                                          OutboxEvent(type: .runCompleted, accountID: nil, data: "{}", summary: WebhookSummary(type: .runCompleted))], at: now)
        }
        XCTAssertEqual(try db.query("SELECT count(*) FROM webhook_events WHERE body IS NULL").first!.decode(0, as: Int.self), 1)
        XCTAssertEqual(try WebhookOutbox.fanOut(db), 2, "both delivered, the second not held up by the first")
        let body = try db.query("SELECT body FROM webhook_events WHERE event_id = $1", [ids[0]]).first!.decode(0, as: String.self)
        XCTAssertEqual(body, "{\"id\":\"\(ids[0])\",\"type\":\"offer.proposed\",\"created\":\"2026-11-02T08:00:00Z\",\"data\":{\"account_id\":\"acme\",\"id\":\"\(offerID)\"}}")
        XCTAssertEqual(try db.query("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1", [endpoint.id]).first!.decode(0, as: Int.self), 2)
    }
}
