import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Postgres
import TestSupport
import TierPlanCore
import TierPlanServer
import TierPlanStore
import XCTest

/// The webhooks page (admins only), its two buttons with the session's CSRF token, and the alerts on
/// the account page.
final class WebhookPageTests: XCTestCase {
    var url: String!
    var db: Connection!

    override func setUp() async throws {
        (url, db) = try ExamplesServer.database(users: [("rick", .reviewer), ("ada", .admin)]) { db in
            _ = try WebhookStore.add(db, url: "http://127.0.0.1:9/billing?team=<b>", events: [.runCompleted], format: .json)
        }
    }

    func withApp(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        try await ExamplesServer.withApp(url, body)
    }

    func testWebhooksPageShowsEndpointsAndDeliveriesForAdminsOnly() async throws {
        let url = self.url!
        try await withApp { client in
            let rick = try await RouterTests.login(client, "rick", "password-rick")
            try await RouterTests.expect(try await RouterTests.get(client, "/webhooks", rick), .forbidden)
            let ada = try await RouterTests.login(client, "ada", "password-ada")
            let page = try await RouterTests.get(client, "/webhooks", ada)
            XCTAssertEqual(page.status, .ok)
            // The run's event got its delivery when the page listed the deliveries.
            let deliveryID = try Connection(url).query("SELECT delivery_id FROM webhook_deliveries").first!.decode(0, as: Int.self)
            let html = String(buffer: page.body)
            XCTAssertTrue(html.contains("http://127.0.0.1:9/billing?team=&lt;b&gt;"), "escaped URL")
            XCTAssertTrue(html.contains("run.completed"))
            XCTAssertTrue(html.contains("action=\"/webhooks/deliveries/\(deliveryID)/redeliver\""))
            XCTAssertTrue(html.contains("name=\"csrf\" value=\"\(ada.csrf)\""))

            // Without the token: refused, nothing written.
            try await RouterTests.expect(try await RouterTests.form(client, "/webhooks/1/test", ada, "csrf=wrong"), .forbidden)
            try await RouterTests.expect(try await RouterTests.form(client, "/webhooks/deliveries/\(deliveryID)/redeliver", ada, ""), .forbidden)
            // With it: a test event for that endpoint, and a redelivery.
            let test = try await RouterTests.form(client, "/webhooks/1/test", ada, "csrf=\(ada.csrf)")
            XCTAssertEqual(test.status, .seeOther)
            let again = try await RouterTests.form(client, "/webhooks/deliveries/\(deliveryID)/redeliver", ada, "csrf=\(ada.csrf)")
            XCTAssertEqual(again.status, .seeOther)
            // Unknown or malformed ids: 404 pages, never a 500.
            try await RouterTests.expect(try await RouterTests.form(client, "/webhooks/999/test", ada, "csrf=\(ada.csrf)"), .notFound)
            try await RouterTests.expect(try await RouterTests.form(client, "/webhooks/deliveries/abc/redeliver", ada, "csrf=\(ada.csrf)"), .notFound)
            try await RouterTests.expect(try await RouterTests.form(client, "/webhooks/deliveries/99999999999999999999/redeliver", ada, "csrf=\(ada.csrf)"), .notFound)
        }
        XCTAssertEqual(try db.query("SELECT count(*) FROM webhook_events WHERE type = 'webhook.test'").first!.decode(0, as: Int.self), 1)
        XCTAssertEqual(try db.query("SELECT count(*) FROM webhook_deliveries WHERE redelivery_of IS NOT NULL").first!.decode(0, as: Int.self), 1)
    }

    func testAccountPageShowsItsAlerts() async throws {
        let quietID = try db.query("SELECT account_id FROM accounts WHERE account_id NOT IN (SELECT account_id FROM alert_states) ORDER BY 1 LIMIT 1")
            .first!.decode(0, as: String.self)
        try await withApp { client in
            let rick = try await RouterTests.login(client, "rick", "password-rick")
            let page = String(buffer: try await RouterTests.get(client, "/accounts/acme", rick).body)
            XCTAssertTrue(page.contains("Usage alerts"))
            XCTAssertTrue(page.contains("<td>storage</td><td class=\"num\">80 %</td>"), page)
            XCTAssertTrue(page.contains("<td>storage</td><td class=\"num\">100 %</td>"))
            let quiet = String(buffer: try await RouterTests.get(client, "/accounts/\(quietID)", rick).body)
            XCTAssertTrue(quiet.contains("No threshold crossed as of the latest run."), quiet)
        }
    }
}
