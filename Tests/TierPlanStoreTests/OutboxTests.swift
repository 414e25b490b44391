import Foundation
import Postgres
import TestSupport
import TierPlanCore
import TierPlanStore
import XCTest

/// The outbox's two ways in (one statement for a few events, COPY for a run's many): the same rows,
/// in order, with one delivery per subscribed endpoint, and nothing when the transaction rolls back.
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
            func deliveries(_ endpoint: Int) throws -> Int {
                try db.query("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1", [endpoint]).first!.decode(0)
            }
            XCTAssertEqual(try deliveries(all.id), count, "\(count)")
            XCTAssertEqual(try deliveries(offers.id), count / 2, "\(count)")
            XCTAssertEqual(try deliveries(gone.id), 0, "a removed endpoint gets nothing")
            let order = try db.query("""
                SELECT bool_and(ok) FROM (SELECT delivery_id > lag(delivery_id) OVER (ORDER BY event_seq, endpoint_id) AS ok FROM webhook_deliveries) d
                """).first!.decodeIfPresent(0, as: Bool.self)
            XCTAssertEqual(order, true, "deliveries numbered in event order")
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
}
