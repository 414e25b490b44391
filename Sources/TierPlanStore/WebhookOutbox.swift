import Foundation
import Postgres
import TierPlanCore

/// One event on its way into the outbox: its type, the account it concerns and its `data` object.
public struct OutboxEvent: Sendable {
    public var type: WebhookEventType
    public var accountID: String?
    /// The JSON text of the event's `data`.
    public var data: String
    public var summary: WebhookSummary

    public init(type: WebhookEventType, accountID: String?, data: String, summary: WebhookSummary) {
        self.type = type; self.accountID = accountID; self.data = data; self.summary = summary
    }

    /// The event of an offer's change to its current status (nil for a change that raises none).
    public static func offer(_ offer: OfferRecord) -> OutboxEvent? {
        guard let type = WebhookEventType.forOffer(becoming: offer.status) else { return nil }
        var writer = ContractJSONWriter(capacity: 1024)
        offer.writeJSON(&writer)
        var summary = WebhookSummary(type: type)
        summary.accountID = offer.accountID; summary.offerKind = offer.kind.rawValue
        summary.fromTier = offer.fromTier; summary.toTier = offer.toTier; summary.deltaMRR = offer.deltaMRR
        return OutboxEvent(type: type, accountID: offer.accountID, data: String(decoding: writer.bytes, as: UTF8.self), summary: summary)
    }

    /// The event of a threshold crossed or resolved on `asOf`.
    public static func alert(_ change: ThresholdChange, asOf: Day) -> OutboxEvent {
        let type: WebhookEventType = change.direction == .crossed ? .thresholdCrossed : .thresholdResolved
        // Written directly (a first run raises thousands), keys sorted as ContractJSON writes them.
        var w = ContractJSONWriter(capacity: 128)
        w.beginObject()
        w.key("account_id", first: true); w.string(change.accountID)
        w.key("as_of"); w.string(asOf.iso)
        w.key("metric"); w.string(change.metric.rawValue)
        w.key("threshold"); w.double(change.threshold)
        w.key("value"); if let value = change.value { w.double(rounded(value, 4)) } else { w.null() }
        w.endObject()
        let data = String(decoding: w.bytes, as: UTF8.self)
        var summary = WebhookSummary(type: type)
        summary.accountID = change.accountID; summary.metric = change.metric; summary.threshold = change.threshold
        summary.value = change.value; summary.asOf = asOf
        return OutboxEvent(type: type, accountID: change.accountID, data: data, summary: summary)
    }
}

/// A usage alert: an account's utilization of a metric at or over a threshold (contract: the alert
/// with account, metric, threshold, value, as_of). `raised_at` is set on the alerts an account has now.
public struct AlertRecord: Codable, Sendable, Equatable {
    public var accountID: String
    public var metric: String
    public var threshold: Double
    public var value: Double?
    public var asOf: String
    public var raisedAt: String?

    enum CodingKeys: String, CodingKey { case accountID, metric, threshold, value, asOf, raisedAt }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(accountID, forKey: .accountID); try c.encode(metric, forKey: .metric)
        try c.encode(threshold, forKey: .threshold); try c.encode(value, forKey: .value); try c.encode(asOf, forKey: .asOf)
        if let raisedAt { try c.encode(raisedAt, forKey: .raisedAt) }
    }
}

/// The outbox's SQL: events written inside the caller's transaction (never one of its own), with a
/// delivery for each endpoint subscribed to their type, due at once.
public enum WebhookOutbox {
    /// A new event id: `evt_` and 32 hex digits from the system's random source (128 bits, like a UUID).
    static func newEventID() -> String {
        var generator = SystemRandomNumberGenerator()
        let (a, b) = (generator.next() as UInt64, generator.next() as UInt64)
        return "evt_" + WebhookSignature.hex((0..<16).map { UInt8(truncatingIfNeeded: ($0 < 8 ? a : b) >> (8 * UInt64($0 % 8))) })
    }

    /// The body every delivery of an event posts.
    static func body(id: String, type: WebhookEventType, created: Timestamp, data: String) -> String {
        "{\"id\":\"\(id)\",\"type\":\"\(type.rawValue)\",\"created\":\"\(created.iso)\",\"data\":\(data)}"
    }

    /// Writes `events` in their order, in the caller's transaction; returns their ids. `onlyTo` sends
    /// them to that endpoint alone, whatever it subscribes to (the test event).
    @discardableResult
    public static func record(_ db: Connection, _ events: [OutboxEvent], at now: Timestamp = Timestamp.now, onlyTo endpoint: Int? = nil) throws -> [String] {
        try record(db, count: events.count, at: now, onlyTo: endpoint) { events[$0] }
    }

    /// The same for `count` events made one at a time by `event` (0 ..< count), so that a run's
    /// thousands of bodies are written as they are made, never all held at once.
    @discardableResult
    static func record(_ db: Connection, count: Int, at now: Timestamp = Timestamp.now, onlyTo endpoint: Int? = nil,
                       event: (Int) throws -> OutboxEvent) throws -> [String] {
        guard count > 0 else { return [] }
        let ids = (0..<count).map { _ in newEventID() }
        // The chat text is kept only while an endpoint posts to chat: deliveries exist only for the
        // endpoints there are when the event is written, and an endpoint's format never changes.
        let chat = try db.query("SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE removed_at IS NULL AND format = 'slack')").first!.decode(0, as: Bool.self)
        let created = now.iso
        if count > 64 {
            // A run's many events: their sequence numbers first, then one COPY, then the deliveries from
            // the numbers and types (no lookup of the rows just written).
            // As one array value: a row per number cost more than the COPY's rows.
            let reserved = try db.query("""
                SELECT array_agg(n ORDER BY n)::text FROM (SELECT nextval(pg_get_serial_sequence('webhook_events', 'seq')) AS n FROM generate_series(1, $1)) s
                """, [count]).first!.decode(0, as: String.self)
            let seqs = reserved.utf8.split(whereSeparator: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "{") || $0 == UInt8(ascii: "}") })
                .map { Substring($0) }
            guard seqs.count == count else { throw StoreError.refused("outbox: reserved \(seqs.count) sequence numbers for \(count) events") }
            var types: [String] = []
            types.reserveCapacity(count)
            try db.copyIn("COPY webhook_events (seq, event_id, type, account_id, created, body, summary) FROM STDIN") { copy in
                for i in 0..<count {
                    let e = try event(i)
                    types.append(e.type.rawValue)
                    try copy.writeRow([String(seqs[i]), ids[i], e.type.rawValue, e.accountID, created, body(id: ids[i], type: e.type, created: now, data: e.data),
                                       chat ? e.summary.slackText : ""])
                }
            }
            try db.execute("""
                INSERT INTO webhook_deliveries (endpoint_id, event_seq, next_attempt_at)
                SELECT w.endpoint_id, e.seq, $3::timestamptz
                FROM unnest($1::bigint[], $2::text[]) AS e (seq, type) JOIN webhook_endpoints w
                  ON w.removed_at IS NULL AND (CASE WHEN $4::bigint IS NULL THEN e.type = ANY(w.events) ELSE w.endpoint_id = $4::bigint END)
                ORDER BY e.seq, w.endpoint_id
                """, [RawArrayLiteral(seqs.map(String.init)), RawArrayLiteral(types), created, endpoint])
            return ids
        }
        let events = try (0..<count).map(event)
        try db.execute("""
            WITH new AS (
                INSERT INTO webhook_events (event_id, type, account_id, created, body, summary)
                SELECT id, type, account, $4::timestamptz, body, summary
                FROM unnest($1::text[], $2::text[], $3::text[], $5::text[], $6::text[]) WITH ORDINALITY AS e (id, type, account, body, summary, n)
                ORDER BY n
                RETURNING seq, type
            )
            INSERT INTO webhook_deliveries (endpoint_id, event_seq, next_attempt_at)
            SELECT w.endpoint_id, new.seq, $4::timestamptz FROM new JOIN webhook_endpoints w
              ON w.removed_at IS NULL AND (CASE WHEN $7::bigint IS NULL THEN new.type = ANY(w.events) ELSE w.endpoint_id = $7::bigint END)
            ORDER BY new.seq, w.endpoint_id
            """, [PostgresArray(ids), PostgresArray(events.map(\.type.rawValue)), PostgresArray(events.map(\.accountID)), created,
                  PostgresArray(zip(ids, events).map { body(id: $0, type: $1.type, created: now, data: $1.data) }),
                  PostgresArray(events.map { chat ? $0.summary.slackText : "" }), endpoint])
        return ids
    }

    /// The events of offers that changed to their current status (by id), in the caller's transaction.
    static func recordOffers(_ db: Connection, ids: [String], status: OfferStatus, at now: Timestamp = Timestamp.now) throws {
        guard !ids.isEmpty else { return }
        let offers = try db.query("""
            SELECT \(OfferRecord.columns) FROM offers o WHERE o.offer_id = ANY($1::uuid[]) AND o.status = $2 ORDER BY o.account_id, o.rank, o.offer_id
            """, [PostgresArray(ids), status.rawValue]).rows.map(OfferRecord.init)
        try record(db, offers.compactMap(OutboxEvent.offer), at: now)
    }

    /// What a committed run announces, inside its transaction: its expired and new offers, the usage
    /// thresholds its readings crossed or fell back under (kept in `alert_states`), then
    /// `run.completed`.
    static func recordRun(_ db: Connection, runID: String, asOf: Day, newOffers: [OfferRecord], expiredIDs: [String],
                          readings: [AlertReading], policy: Policy, counts: (scanned: Int, flagged: Int, created: Int, refreshed: Int, expired: Int)) throws {
        let now = Timestamp.now
        // `make bench` measures what the outbox adds to a run (scripts/bench_webhooks.sh); nothing else reads this.
        let started = ContinuousClock.now
        defer {
            if ProcessInfo.processInfo.environment["TIERPLAN_BENCH_TIMING"] == "1" {
                let d = ContinuousClock.now - started
                let seconds = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
                FileHandle.standardError.write(Data("outbox_seconds=\(String(format: "%.3f", seconds))\n".utf8))
            }
        }
        try recordOffers(db, ids: expiredIDs, status: .expired, at: now)
        let proposed = newOffers.filter { $0.status == .proposed }
        let changes = try AlertStore.apply(db, readings: readings, policy: policy.alerts, asOf: asOf, at: now)
        // One write for the run's offers and alerts (COPY pays off with thousands), each body made as it is written.
        try record(db, count: proposed.count + changes.count, at: now) { i in
            // A proposed offer always raises offer.proposed.
            i < proposed.count ? OutboxEvent.offer(proposed[i])! : OutboxEvent.alert(changes[i - proposed.count], asOf: asOf)
        }
        var summary = WebhookSummary(type: .runCompleted)
        summary.asOf = asOf; summary.offersCreated = counts.created; summary.accountsFlagged = counts.flagged
        let data = "{\"accounts_flagged\":\(counts.flagged),\"accounts_scanned\":\(counts.scanned),\"as_of\":\"\(asOf.iso)\","
            + "\"offers_created\":\(counts.created),\"offers_expired\":\(counts.expired),\"offers_refreshed\":\(counts.refreshed),"
            + "\"run_id\":\"\(runID)\",\"thresholds_crossed\":\(changes.filter { $0.direction == .crossed }.count),"
            + "\"thresholds_resolved\":\(changes.filter { $0.direction == .resolved }.count)}"
        try record(db, [OutboxEvent(type: .runCompleted, accountID: nil, data: data, summary: summary)], at: now)
    }
}

/// The SQL of `alert_states`: the thresholds each account has crossed, compared with a run's readings.
public enum AlertStore {
    /// Compares `readings` with the crossed thresholds kept (`ThresholdAlerts.changes`), keeps the new
    /// state and returns the changes, in the caller's transaction.
    static func apply(_ db: Connection, readings: [AlertReading], policy: AlertPolicy, asOf: Day, at now: Timestamp) throws -> [ThresholdChange] {
        var active: [String: Set<Double>] = [:]
        var hasState = Set<String>()
        for row in try db.query("SELECT account_id, metric, threshold FROM alert_states").rows {
            let account: String = try row.decode(0)
            hasState.insert(account)
            active[account + "\u{0}" + (try row.decode(1, as: String.self)), default: []].insert(try row.decode(2))
        }
        var changes: [ThresholdChange] = []
        // Most accounts are under every threshold and crossed none: skipped without building a key.
        let lowest = Dictionary(uniqueKeysWithValues: AlertMetric.allCases.map { ($0, policy.thresholds($0).min() ?? .infinity) })
        for reading in readings {
            if active.isEmpty || !hasState.contains(reading.accountID) {
                guard let value = reading.value, value >= lowest[reading.metric]! else { continue }
            }
            let key = reading.accountID + "\u{0}" + reading.metric.rawValue
            let current = active[key] ?? []
            changes += ThresholdAlerts.changes(reading, active: current, thresholds: policy.thresholds(reading.metric))
        }
        guard !changes.isEmpty else { return [] }
        let resolved = changes.filter { $0.direction == .resolved }, crossed = changes.filter { $0.direction == .crossed }
        if !resolved.isEmpty {
            try db.execute("""
                DELETE FROM alert_states s USING unnest($1::text[], $2::text[], $3::float8[]) AS r (account_id, metric, threshold)
                WHERE s.account_id = r.account_id AND s.metric = r.metric AND s.threshold = r.threshold
                """, [PostgresArray(resolved.map(\.accountID)), PostgresArray(resolved.map(\.metric.rawValue)), PostgresArray(resolved.map(\.threshold))])
        }
        if !crossed.isEmpty {
            let day = asOf.iso, at = now.iso
            try db.copyIn("COPY alert_states (account_id, metric, threshold, value, as_of, raised_at) FROM STDIN") { copy in
                for c in crossed {
                    try copy.writeRow([c.accountID, c.metric.rawValue, String(c.threshold), String(c.value ?? 0), day, at])
                }
            }
        }
        return changes
    }

    /// The thresholds an account has crossed now (as of the latest run that saw it), storage first.
    public static func active(_ db: Connection, accountID: String) throws -> [AlertRecord] {
        try db.query("""
            SELECT account_id, metric, threshold, value, as_of::text, to_char(raised_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
            FROM alert_states WHERE account_id = $1 ORDER BY metric DESC, threshold
            """, [accountID]).rows.map {
            AlertRecord(accountID: try $0.decode(0), metric: try $0.decode(1), threshold: try $0.decode(2), value: try $0.decode(3),
                        asOf: try $0.decode(4), raisedAt: try $0.decode(5))
        }
    }
}

/// An account's signals with the usage thresholds they reach (`signals --json`'s `alerts`): the
/// contract's signals object and `"alerts":[{"metric":…,"threshold":…,"value":…}]`.
public struct SignalsWithAlerts: Encodable, Sendable {
    public let record: SignalsRecord
    public let alerts: [Alert]

    /// One threshold reached, with the utilization (rounded to 4 decimals).
    public struct Alert: Encodable, Sendable, Equatable {
        public var metric: String
        public var threshold: Double
        public var value: Double
    }

    public init(_ signals: AccountSignals, policy: AlertPolicy) {
        record = SignalsRecord(signals)
        alerts = AlertReading.of(signals).flatMap { reading in
            ThresholdAlerts.reached(reading.value, thresholds: policy.thresholds(reading.metric)).map {
                Alert(metric: reading.metric.rawValue, threshold: $0, value: rounded(reading.value ?? 0, 4))
            }
        }
    }

    enum Keys: String, CodingKey { case alerts }

    public func encode(to encoder: Encoder) throws {
        try record.encode(to: encoder)   // the same keyed container: the two sets of keys merge
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(alerts, forKey: .alerts)
    }
}

/// An array parameter whose elements need no quoting (numbers, event type names): `{a,b,c}` joined
/// as they are, without the per-element escaping of `PostgresArray`.
struct RawArrayLiteral: PostgresEncodable {
    let elements: [String]
    init(_ elements: [String]) { self.elements = elements }
    var postgresText: String? { "{" + elements.joined(separator: ",") + "}" }
}

