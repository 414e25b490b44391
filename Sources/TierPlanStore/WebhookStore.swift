import Foundation
import Postgres
import TierPlanCore

/// A webhook endpoint as `webhooks list` shows it (never with its secret).
public struct WebhookEndpointRecord: Encodable, Sendable, Equatable {
    public var id: Int
    public var url: String
    public var events: [String]
    public var format: String
    public var createdAt: String
    public var removedAt: String?
    public var pending: Int
    public var failed: Int
    public var delivered: Int
}

/// A new endpoint with its signing secret, shown once (`webhooks add`).
public struct WebhookEndpointCreated: Encodable, Sendable {
    public var id: Int
    public var url: String
    public var events: [String]
    public var format: String
    public var secret: String
}

/// One delivery of one event to one endpoint, with its last attempt (`webhooks deliveries`).
public struct WebhookDeliveryRecord: Encodable, Sendable, Equatable {
    public var id: Int
    public var endpointID: Int
    public var eventID: String
    public var type: String
    public var accountID: String?
    public var status: String
    public var attempts: Int
    public var nextAttemptAt: String?
    public var lastAttemptAt: String?
    public var lastStatusCode: Int?
    public var lastLatencyMs: Int?
    public var lastError: String?
    public var deliveredAt: String?
    public var redeliveryOf: Int?
    public var created: String

    enum CodingKeys: String, CodingKey {
        case id, endpointID = "endpoint_id", eventID = "event_id", type, accountID = "account_id", status, attempts
        case nextAttemptAt = "next_attempt_at", lastAttemptAt = "last_attempt_at", lastStatusCode = "last_status_code"
        case lastLatencyMs = "last_latency_ms", lastError = "last_error", deliveredAt = "delivered_at", redeliveryOf = "redelivery_of", created
    }

    public func encode(to encoder: Encoder) throws {   // every key, null where there is nothing
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id); try c.encode(endpointID, forKey: .endpointID); try c.encode(eventID, forKey: .eventID)
        try c.encode(type, forKey: .type); try c.encode(accountID, forKey: .accountID); try c.encode(status, forKey: .status)
        try c.encode(attempts, forKey: .attempts); try c.encode(nextAttemptAt, forKey: .nextAttemptAt)
        try c.encode(lastAttemptAt, forKey: .lastAttemptAt); try c.encode(lastStatusCode, forKey: .lastStatusCode)
        try c.encode(lastLatencyMs, forKey: .lastLatencyMs); try c.encode(lastError, forKey: .lastError)
        try c.encode(deliveredAt, forKey: .deliveredAt); try c.encode(redeliveryOf, forKey: .redeliveryOf); try c.encode(created, forKey: .created)
    }
}

/// The delivery statuses `webhooks deliveries --status` filters on.
public enum WebhookDeliveryStatus: String, Sendable, CaseIterable {
    case pending, delivered, failed
}

/// The SQL of webhook endpoints and their deliveries (the commands and the admin page).
public enum WebhookStore {
    static let utc = "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'"

    /// An endpoint URL: http or https, with a host, at most 2,000 characters.
    public static func validURL(_ text: String) throws -> String {
        guard text.count <= 2000, let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host, !host.isEmpty, !text.contains(where: { $0.isWhitespace }) else {
            throw WebhookInputError("URL: '\(text)' is not an http:// or https:// address with a host")
        }
        return text
    }

    /// `whsec_` and 64 hex digits from the system's random source.
    static func newSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return "whsec_" + WebhookSignature.hex((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    public static func add(_ db: Connection, url: String, events: [WebhookEventType], format: WebhookFormat,
                           at now: Timestamp = Timestamp.now) throws -> WebhookEndpointCreated {
        let url = try validURL(url)
        let secret = newSecret()
        // It takes the events committed after it: under the outbox's lock, every event so far is visible.
        let id = try db.transaction { db in
            try WebhookOutbox.lockForWriting(db)
            return try db.query("""
                INSERT INTO webhook_endpoints (url, events, format, secret, created_at, fanned_seq)
                VALUES ($1, $2::text[], $3, $4, $5::timestamptz, (SELECT coalesce(max(seq), 0) FROM webhook_events))
                RETURNING endpoint_id
                """, [url, PostgresArray(events.map(\.rawValue)), format.rawValue, secret, now.iso]).first!.decode(0, as: Int.self)
        }
        return WebhookEndpointCreated(id: id, url: url, events: events.map(\.rawValue), format: format.rawValue, secret: secret)
    }

    public static func list(_ db: Connection, includeRemoved: Bool = false) throws -> [WebhookEndpointRecord] {
        try WebhookOutbox.fanOut(db)   // the counts include the events written since the deliverer last looked
        return try db.query("""
            SELECT w.endpoint_id, w.url, w.events, w.format, to_char(w.created_at AT TIME ZONE 'UTC', \(utc)),
                   to_char(w.removed_at AT TIME ZONE 'UTC', \(utc)),
                   count(d.*) FILTER (WHERE d.status = 'pending'), count(d.*) FILTER (WHERE d.status = 'failed'),
                   count(d.*) FILTER (WHERE d.status = 'delivered')
            FROM webhook_endpoints w LEFT JOIN webhook_deliveries d USING (endpoint_id)
            WHERE $1 OR w.removed_at IS NULL
            GROUP BY w.endpoint_id ORDER BY w.endpoint_id
            """, [includeRemoved]).rows.map {
            WebhookEndpointRecord(id: try $0.decode(0), url: try $0.decode(1), events: try $0.decode(2, as: PostgresArray<String>.self).elements,
                                  format: try $0.decode(3), createdAt: try $0.decode(4), removedAt: try $0.decodeIfPresent(5),
                                  pending: try $0.decode(6), failed: try $0.decode(7), delivered: try $0.decode(8))
        }
    }

    /// Removes an endpoint: nothing more is sent to it, and its pending deliveries become failed.
    public static func remove(_ db: Connection, id: Int, at now: Timestamp = Timestamp.now) throws {
        try db.transaction { db in
            let removed = try db.execute("UPDATE webhook_endpoints SET removed_at = $2::timestamptz WHERE endpoint_id = $1 AND removed_at IS NULL",
                                         [id, now.iso])
            guard removed == 1 else { throw WebhookInputError("ID: no webhook endpoint \(id) (see `tierplan webhooks list`)") }
            try db.execute("""
                UPDATE webhook_deliveries SET status = 'failed', last_error = 'endpoint removed' WHERE endpoint_id = $1 AND status = 'pending'
                """, [id])
        }
    }

    static let deliveryColumns = """
        d.delivery_id, d.endpoint_id, e.event_id, e.type, e.account_id, d.status, d.attempts,
        CASE WHEN d.status = 'pending' THEN to_char(d.next_attempt_at AT TIME ZONE 'UTC', \(utc)) END,
        to_char(d.last_attempt_at AT TIME ZONE 'UTC', \(utc)), d.last_status_code, d.last_latency_ms, d.last_error,
        to_char(d.delivered_at AT TIME ZONE 'UTC', \(utc)), d.redelivery_of, to_char(e.created AT TIME ZONE 'UTC', \(utc))
        """

    static func delivery(_ row: Row) throws -> WebhookDeliveryRecord {
        WebhookDeliveryRecord(id: try row.decode(0), endpointID: try row.decode(1), eventID: try row.decode(2), type: try row.decode(3),
                              accountID: try row.decodeIfPresent(4), status: try row.decode(5), attempts: try row.decode(6),
                              nextAttemptAt: try row.decodeIfPresent(7), lastAttemptAt: try row.decodeIfPresent(8),
                              lastStatusCode: try row.decodeIfPresent(9), lastLatencyMs: try row.decodeIfPresent(10),
                              lastError: try row.decodeIfPresent(11), deliveredAt: try row.decodeIfPresent(12),
                              redeliveryOf: try row.decodeIfPresent(13), created: try row.decode(14))
    }

    /// Deliveries, newest first (by delivery id), optionally of one status or endpoint.
    public static func deliveries(_ db: Connection, status: WebhookDeliveryStatus? = nil, endpointID: Int? = nil, limit: Int = 100) throws -> [WebhookDeliveryRecord] {
        try WebhookOutbox.fanOut(db)   // so that events written since the deliverer last looked are listed as pending
        return try db.query("""
            SELECT \(deliveryColumns) FROM webhook_deliveries d JOIN webhook_events e ON e.seq = d.event_seq
            WHERE ($1::text IS NULL OR d.status = $1) AND ($2::bigint IS NULL OR d.endpoint_id = $2)
            ORDER BY d.delivery_id DESC LIMIT $3
            """, [status?.rawValue, endpointID, limit]).rows.map(delivery)
    }

    /// Sends a delivery's event again to its endpoint: a new pending delivery, due now, after the
    /// endpoint's earlier pending ones of older events.
    public static func redeliver(_ db: Connection, deliveryID: Int, at now: Timestamp = Timestamp.now) throws -> WebhookDeliveryRecord {
        try db.transaction { db in
            guard let old = try db.query("""
                SELECT d.endpoint_id, d.event_seq, w.removed_at IS NOT NULL FROM webhook_deliveries d JOIN webhook_endpoints w USING (endpoint_id)
                WHERE d.delivery_id = $1
                """, [deliveryID]).first else {
                throw WebhookInputError("DELIVERY_ID: no webhook delivery \(deliveryID) (see `tierplan webhooks deliveries`)")
            }
            let endpoint: Int = try old.decode(0)
            if try old.decode(2, as: Bool.self) { throw WebhookInputError("DELIVERY_ID: delivery \(deliveryID) went to endpoint \(endpoint), which was removed") }
            let id = try db.query("""
                INSERT INTO webhook_deliveries (endpoint_id, event_seq, next_attempt_at, redelivery_of) VALUES ($1, $2, $3::timestamptz, $4)
                RETURNING delivery_id
                """, [endpoint, try old.decode(1, as: Int.self), now.iso, deliveryID]).first!.decode(0, as: Int.self)
            return try db.query("SELECT \(deliveryColumns) FROM webhook_deliveries d JOIN webhook_events e ON e.seq = d.event_seq WHERE d.delivery_id = $1",
                                [id]).rows.map(delivery)[0]
        }
    }

    /// A `webhook.test` event for one endpoint alone; returns its event id.
    public static func sendTest(_ db: Connection, endpointID: Int, at now: Timestamp = Timestamp.now) throws -> String {
        try db.transaction { db in
            guard try db.query("SELECT 1 FROM webhook_endpoints WHERE endpoint_id = $1 AND removed_at IS NULL", [endpointID]).first != nil else {
                throw WebhookInputError("ID: no webhook endpoint \(endpointID)")
            }
            let data = "{\"endpoint_id\":\(endpointID),\"message\":\"a test event from tierplan\"}"
            return try WebhookOutbox.record(db, [OutboxEvent(type: .test, accountID: nil, data: data, summary: WebhookSummary(type: .test))],
                                            at: now, onlyTo: endpointID)[0]
        }
    }
}
