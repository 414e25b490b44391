import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Postgres
import ServiceLifecycle
import TierPlanCore

/// What one `deliverDue` pass did.
public struct DeliveryReport: Encodable, Sendable, Equatable {
    public var attempted = 0
    public var delivered = 0
    /// Failed attempts that will be tried again later.
    public var retrying = 0
    /// Deliveries that used their last attempt.
    public var failed = 0
    public init() {}
}

/// Posts due deliveries: signed (HMAC-SHA256 over `t.body`), 10 s timeout, in event order per
/// endpoint, each attempt recorded. One endpoint is worked by one deliverer at a time (a session
/// advisory lock, which PostgreSQL frees if the process dies); each result is committed on its own,
/// so a deliverer killed mid-batch loses nothing and re-sends at most the delivery in flight, under
/// the same event id. Never runs inside a planning transaction. "Now" is `Timestamp.now`.
public final class WebhookDeliverer {   // owns a Connection: one task at a time
    let db: Connection
    let client: HTTPClient
    let logger: Logger
    /// How many deliveries of one endpoint are taken at a time.
    public var batchSize = 200
    public static let timeout: TimeAmount = .seconds(10)

    public init(db: Connection, logger: Logger = Logger(label: "tierplan.webhooks")) {
        self.db = db
        // A result lost in a crash only means that delivery is sent again (at least once, same id), so
        // its commit need not wait for the disk: one fsync per delivery would bound the throughput.
        _ = try? db.execute("SET synchronous_commit = off")
        self.logger = logger
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow,
                                                     timeout: .init(connect: .seconds(10), read: .seconds(10)))
        configuration.httpVersion = .http1Only
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Must be called once done (AsyncHTTPClient's rule).
    public func shutdown() async { try? await client.shutdown() }

    /// The hex HMAC-SHA256 of `t.body` under `secret` (its UTF-8 bytes as printed by `webhooks add`).
    public static func signature(secret: String, timestamp: Int64, body: [UInt8]) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: WebhookSignature.signedPayload(timestamp: timestamp, body: body),
                                                  using: SymmetricKey(data: Array(secret.utf8)))
        return WebhookSignature.header(timestamp: timestamp, hexMAC: WebhookSignature.hex(mac))
    }

    /// Makes the deliveries of events written since it last looked (`WebhookOutbox.fanOut`), then
    /// delivers everything due now, endpoint by endpoint, until nothing is due; returns what it did.
    public func deliverDue() async throws -> DeliveryReport {
        var report = DeliveryReport()
        let retry = (try? CatalogStore.read(db).policy.webhooks) ?? WebhookRetryPolicy()
        var done = Set<Int>()   // endpoints with nothing more due in this pass
        while true {
            try WebhookOutbox.fanOut(db)
            let endpoints = try db.query("""
                SELECT DISTINCT endpoint_id FROM webhook_deliveries
                WHERE status = 'pending' AND next_attempt_at <= $1::timestamptz AND NOT endpoint_id = ANY($2::bigint[])
                ORDER BY endpoint_id
                """, [Timestamp.now.iso, PostgresArray(done.sorted())]).rows.map { try $0.decode(0, as: Int.self) }
            if endpoints.isEmpty { return report }
            for endpoint in endpoints {
                if try await !deliverBatch(endpoint: endpoint, retry: retry, report: &report) { done.insert(endpoint) }
            }
        }
    }

    /// Up to `batchSize` pending deliveries of one endpoint, in event order, stopping at the first that
    /// is not due or fails and will be retried. Returns whether more may be due at once.
    func deliverBatch(endpoint: Int, retry: WebhookRetryPolicy, report: inout DeliveryReport) async throws -> Bool {
        let lock = "hashtext('tierplan.webhook'), $1::int"
        guard try db.query("SELECT pg_try_advisory_lock(\(lock))", [endpoint]).first!.decode(0, as: Bool.self) else { return false }
        var more = false
        do {
            more = try await deliverLocked(endpoint: endpoint, retry: retry, report: &report)
        } catch {
            _ = try? db.query("SELECT pg_advisory_unlock(\(lock))", [endpoint])
            throw error
        }
        _ = try db.query("SELECT pg_advisory_unlock(\(lock))", [endpoint])
        return more
    }

    private func deliverLocked(endpoint: Int, retry: WebhookRetryPolicy, report: inout DeliveryReport) async throws -> Bool {
        guard let target = try db.query("""
            SELECT url, format, secret FROM webhook_endpoints WHERE endpoint_id = $1 AND removed_at IS NULL
            """, [endpoint]).first else { return false }
        let url: String = try target.decode(0), slack = try target.decode(1, as: String.self) == WebhookFormat.slack.rawValue
        let secret: String = try target.decode(2)
        let rows = try db.query("""
            SELECT d.delivery_id, d.attempts, d.next_attempt_at <= $2::timestamptz, e.event_id, e.body, e.summary
            FROM webhook_deliveries d JOIN webhook_events e ON e.seq = d.event_seq
            WHERE d.endpoint_id = $1 AND d.status = 'pending'
            ORDER BY d.event_seq, d.delivery_id LIMIT $3
            """, [endpoint, Timestamp.now.iso, batchSize]).rows
        for row in rows {
            guard try row.decode(2, as: Bool.self) else { return false }   // the head waits: so does the rest
            let deliveryID: Int = try row.decode(0), attempts = try row.decode(1, as: Int.self) + 1
            let eventID: String = try row.decode(3)
            let text: String = try row.decode(5)
            let body = slack ? Array(try ContractJSON.data(["text": text.isEmpty ? "tierplan: event \(eventID)" : text]))
                             : Array(try row.decode(4, as: String.self).utf8)
            let now = Timestamp.now
            let (status, latency, error) = await post(url: url, eventID: eventID, secret: secret, body: body, at: now)
            report.attempted += 1
            let ok = status.map { (200...299).contains($0) } ?? false
            let next = ok ? nil : retry.nextAttempt(after: attempts, failedAt: now)
            let outcome = ok ? "delivered" : next == nil ? "failed" : "pending"
            try db.execute("""
                WITH d AS (
                    UPDATE webhook_deliveries SET status = $2, attempts = $3, next_attempt_at = coalesce($4::timestamptz, next_attempt_at),
                        last_attempt_at = $5::timestamptz, last_status_code = $6, last_latency_ms = $7, last_error = $8,
                        delivered_at = CASE WHEN $2 = 'delivered' THEN $5::timestamptz END
                    WHERE delivery_id = $1 AND status = 'pending'
                )
                INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, latency_ms, error) VALUES ($1, $3, $5::timestamptz, $6, $7, $8)
                ON CONFLICT DO NOTHING
                """, [deliveryID, outcome, attempts, next?.iso, now.iso, status, latency, error])
            switch outcome {
            case "delivered": report.delivered += 1
            case "failed":
                report.failed += 1
                logger.warning("webhook delivery failed for good", metadata: ["webhook.delivery": "\(deliveryID)", "webhook.event": "\(eventID)"])
            default:
                report.retrying += 1
                logger.info("webhook delivery will be retried", metadata: ["webhook.delivery": "\(deliveryID)", "webhook.status": "\(status.map(String.init) ?? "none")",
                                                                           "webhook.next_attempt": "\(next?.iso ?? "")"])
                return false
            }
        }
        return rows.count == batchSize
    }

    /// One POST: the status code (nil when no answer), the latency in milliseconds and the error, if any.
    func post(url: String, eventID: String, secret: String, body: [UInt8], at now: Timestamp) async -> (Int?, Int, String?) {
        let started = ContinuousClock.now
        func elapsed() -> Int {
            let d = ContinuousClock.now - started
            return Int(d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000)
        }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "tierplan-webhooks/1")
        request.headers.add(name: "Tierplan-Event-Id", value: eventID)
        let seconds = now.microseconds >= 0 ? now.microseconds / 1_000_000 : (now.microseconds - 999_999) / 1_000_000
        request.headers.add(name: "Tierplan-Signature", value: Self.signature(secret: secret, timestamp: seconds, body: body))
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await client.execute(request, timeout: Self.timeout)
            var kept = 0
            for try await chunk in response.body { kept += chunk.readableBytes; if kept > 1 << 20 { break } }   // drained, not kept
            let code = Int(response.status.code)
            return (code, elapsed(), (200...299).contains(code) ? nil : "HTTP \(code)")
        } catch {
            return (nil, elapsed(), String(String(describing: error).prefix(300)))
        }
    }
}

/// `tierplan serve`'s background delivery: delivers what is due every `interval` (1 s), on a connection of
/// its own, until the server shuts down; a database error is logged and tried again.
public struct WebhookDeliveryService: Service {
    public let conninfo: String
    public let interval: Duration
    public let logger: Logger

    public init(conninfo: String, interval: Duration = .seconds(1), logger: Logger) {
        self.conninfo = conninfo; self.interval = interval; self.logger = logger
    }

    public func run() async throws {
        var deliverer: WebhookDeliverer?
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                if deliverer == nil {
                    let db = try Connection(conninfo)
                    try db.execute("SET TIME ZONE 'UTC'")
                    deliverer = WebhookDeliverer(db: db, logger: logger)
                }
                let report = try await deliverer!.deliverDue()
                if report.attempted > 0 {
                    logger.info("webhooks delivered", metadata: ["webhook.delivered": "\(report.delivered)", "webhook.retrying": "\(report.retrying)",
                                                                 "webhook.failed": "\(report.failed)"])
                }
            } catch {
                logger.error("webhook delivery: \(error)")
                await deliverer?.shutdown()
                deliverer = nil
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
        await deliverer?.shutdown()
    }
}
