import Foundation
import Postgres
import TierPlanCore

/// One event on its way into the outbox: its type, the account it concerns and its `data` object.
public struct OutboxEvent: Sendable {
    public var type: WebhookEventType
    public var accountID: String?
    /// The JSON text of the event's `data`; nil for a run's `offer.proposed`, whose body is made from
    /// the offer's row later (`WebhookOutbox.seal`).
    public var data: String?
    /// The offer a body made later is made from.
    public var offerID: String?
    public var summary: WebhookSummary

    public init(type: WebhookEventType, accountID: String?, data: String?, offerID: String? = nil, summary: WebhookSummary) {
        self.type = type; self.accountID = accountID; self.data = data; self.offerID = offerID; self.summary = summary
    }

    /// A run's `offer.proposed`: written without its body, which is the offer as it stands until the
    /// first change to it, made before that change or when the event is first delivered.
    static func proposal(of offer: OfferRecord) -> OutboxEvent {
        OutboxEvent(type: .offerProposed, accountID: offer.accountID, data: nil, offerID: offer.id, summary: WebhookSummary(type: .offerProposed))
    }

    /// The event of an offer's change to its current status (nil for a change that raises none).
    public static func offer(_ offer: OfferRecord) -> OutboxEvent? {
        Self.offer(withStatus: offer.status, offer)
    }

    /// The event carrying `offer` (its type from `status`), nil when that status raises none.
    static func offer(withStatus status: OfferStatus, _ offer: OfferRecord) -> OutboxEvent? {
        guard let type = WebhookEventType.forOffer(becoming: status) else { return nil }
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

/// The outbox's SQL: events written inside the caller's transaction (never one of its own); each
/// endpoint's deliveries of them are made after the commit by `fanOut`.
public enum WebhookOutbox {
    /// `count` new event ids: `evt_` and 32 hex digits (128 bits, like a UUID) from the system's random
    /// source, read at once (a run makes tens of thousands).
    static func newEventIDs(_ count: Int) -> [String] {
        var random = [UInt8](repeating: 0, count: 16 * count)
        random.withUnsafeMutableBytes { buffer in
            var filled = 0
            let urandom = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
            if urandom >= 0 {
                defer { close(urandom) }
                while filled < buffer.count {
                    let n = read(urandom, buffer.baseAddress! + filled, buffer.count - filled)
                    if n > 0 { filled += n } else if n < 0 && errno == EINTR { continue } else { break }
                }
            }
            var generator = SystemRandomNumberGenerator()   // the same source, 8 bytes a call, if that failed
            for i in filled..<buffer.count { buffer[i] = generator.next() }
        }
        return (0..<count).map { k in "evt_" + WebhookSignature.hex(random[16 * k ..< 16 * (k + 1)]) }
    }

    /// The body every delivery of an event posts.
    static func body(id: String, type: WebhookEventType, created: Timestamp, data: String) -> String {
        "{\"id\":\"\(id)\",\"type\":\"\(type.rawValue)\",\"created\":\"\(created.iso)\",\"data\":\(data)}"
    }

    /// Taken by every writer of events before its first sequence number and held to its commit, so
    /// that events become visible in `seq` order (what makes `fanOut`'s cursor safe).
    static func lockForWriting(_ db: Connection) throws {
        _ = try db.query("SELECT pg_advisory_xact_lock(hashtext('tierplan.outbox'), 0)")
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
        try lockForWriting(db)
        let ids = newEventIDs(count)
        // The chat text is kept only while an endpoint posts to chat (an endpoint's format never changes;
        // one added later takes only the events written after it).
        let chat = try db.query("SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE removed_at IS NULL AND format = 'slack')").first!.decode(0, as: Bool.self)
        let created = now.iso
        func body(_ i: Int, _ e: OutboxEvent) -> String? { e.data.map { Self.body(id: ids[i], type: e.type, created: now, data: $0) } }
        func summary(_ e: OutboxEvent) -> String { chat && e.data != nil ? e.summary.slackText : "" }
        if count > 64 && endpoint == nil {
            // A run's many events: one COPY. Their sequence numbers are taken as one block, which the
            // lock above makes safe (every nextval of it happens under that lock).
            let first = try db.query("""
                WITH s AS (SELECT pg_get_serial_sequence('webhook_events', 'seq') AS name), n AS (SELECT nextval(name) AS first FROM s)
                SELECT first, setval(name, first + $1 - 1) FROM n, s
                """, [count]).first!.decode(0, as: Int.self)
            try db.copyIn("COPY webhook_events (seq, event_id, type, account_id, created, body, summary, offer_id) FROM STDIN") { copy in
                for i in 0..<count {
                    let e = try event(i)
                    try copy.writeRow([String(first + i), ids[i], e.type.rawValue, e.accountID, created, body(i, e), summary(e), e.offerID])
                }
            }
            return ids
        }
        let events = try (0..<count).map(event)
        try db.execute("""
            WITH new AS (
                INSERT INTO webhook_events (event_id, type, account_id, created, body, summary, offer_id)
                SELECT id, type, account, $4::timestamptz, body, summary, offer_id
                FROM unnest($1::text[], $2::text[], $3::text[], $5::text[], $6::text[], $8::uuid[])
                     WITH ORDINALITY AS e (id, type, account, body, summary, offer_id, n)
                ORDER BY n
                RETURNING seq
            )
            INSERT INTO webhook_deliveries (endpoint_id, event_seq, next_attempt_at)
            SELECT $7::bigint, new.seq, $4::timestamptz FROM new WHERE $7::bigint IS NOT NULL ORDER BY new.seq
            """, [PostgresArray(ids), PostgresArray(events.map(\.type.rawValue)), PostgresArray(events.map(\.accountID)), created,
                  PostgresArray(events.indices.map { body($0, events[$0]) }), PostgresArray(events.map(summary)), endpoint,
                  PostgresArray(events.map(\.offerID))])
        return ids
    }

    /// Makes the bodies of the `offer.proposed` events written without one (of one account, or all)
    /// from their offers' rows, in the caller's transaction, for the events an endpoint will still take
    /// (the others are never sent). Called before anything changes an offer, so the body is the offer
    /// as it was proposed; concurrent callers make each body once. Returns how many it made.
    @discardableResult
    public static func seal(_ db: Connection, accountID: String? = nil) throws -> Int {
        var made = 0
        var locked = false
        while true {
            let rows = try db.query("""
                SELECT \(OfferRecord.columns), e.seq, e.event_id, to_char(e.created AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                       e.offer_id::text, e.account_id
                FROM (SELECT seq, event_id, created, offer_id, account_id FROM webhook_events e
                      WHERE e.seq > (SELECT min(fanned_seq) FROM webhook_endpoints WHERE removed_at IS NULL)
                        AND e.body IS NULL AND ($1::text IS NULL OR e.account_id = $1)
                        AND EXISTS (SELECT 1 FROM webhook_endpoints w WHERE w.removed_at IS NULL AND w.fanned_seq < e.seq AND e.type = ANY(w.events))
                      ORDER BY e.seq LIMIT 2000) e
                LEFT JOIN offers o ON o.account_id = e.account_id AND o.offer_id = e.offer_id
                ORDER BY e.seq
                """, [accountID]).rows
            if rows.isEmpty { return made }
            if !locked {
                // One sealer at a time (a run, a deliverer, a decision), taken only when there is
                // something to make: two that lock overlapping rows in different orders would deadlock.
                _ = try db.query("SELECT pg_advisory_xact_lock(hashtext('tierplan.outbox'), 1)")
                locked = true
                continue   // read again: what the one before made is not to be made twice
            }
            let chat = try db.query("SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE removed_at IS NULL AND format = 'slack')").first!.decode(0, as: Bool.self)
            var seqs: [String] = [], bodies: [String] = [], summaries: [String] = []
            let first = OfferRecord.columnCount
            for row in rows {
                let id: String = try row.decode(first + 1), created = Timestamp(iso: try row.decode(first + 2, as: String.self)) ?? Timestamp.now
                let event: OutboxEvent
                if try row.decodeIfPresent(0, as: String.self) != nil, let offer = OutboxEvent.offer(withStatus: .proposed, try OfferRecord(row: row)) {
                    event = offer
                } else {   // the offer is gone (never, but a body must exist): its id and account
                    var w = ContractJSONWriter(capacity: 96)
                    w.beginObject()
                    w.key("account_id", first: true); w.string(try row.decodeIfPresent(first + 4, as: String.self))
                    w.key("id"); w.string(try row.decode(first + 3, as: String.self))
                    w.endObject()
                    event = OutboxEvent(type: .offerProposed, accountID: nil, data: String(decoding: w.bytes, as: UTF8.self),
                                        summary: WebhookSummary(type: .offerProposed))
                }
                seqs.append(String(try row.decode(first, as: Int.self)))
                bodies.append(body(id: id, type: .offerProposed, created: created, data: event.data ?? "{}"))
                summaries.append(chat ? event.summary.slackText : "")
            }
            made += try db.execute("""
                UPDATE webhook_events e SET body = u.body, summary = u.summary
                FROM unnest($1::bigint[], $2::text[], $3::text[]) AS u (seq, body, summary)
                WHERE e.seq = u.seq AND e.body IS NULL
                """, [RawArrayLiteral(seqs), PostgresArray(bodies), PostgresArray(summaries)])
        }
    }

    /// Makes the deliveries of events written since the last time, for every endpoint (or one), each in
    /// its own short transaction: a delivery per event the endpoint takes, due from the event's time, in
    /// event order (bodies made first, `seal`). Safe to call from any number of processes at once (the
    /// endpoint's row is locked while its cursor moves). Returns how many deliveries it made.
    @discardableResult
    public static func fanOut(_ db: Connection, endpoint: Int? = nil) throws -> Int {
        let endpoints = try db.query("""
            SELECT endpoint_id FROM webhook_endpoints WHERE removed_at IS NULL AND ($1::bigint IS NULL OR endpoint_id = $1)
              AND EXISTS (SELECT 1 FROM webhook_events WHERE seq > fanned_seq) ORDER BY endpoint_id
            """, [endpoint]).rows.map { try $0.decode(0, as: Int.self) }
        guard !endpoints.isEmpty else { return 0 }
        try db.transaction { _ = try seal($0) }
        var made = 0
        for id in endpoints {
            made += try db.transaction { db in
                // Locked, then read again: a concurrent fan-out of the same endpoint waits here and then
                // starts from where that one stopped.
                guard try db.query("SELECT 1 FROM webhook_endpoints WHERE endpoint_id = $1 AND removed_at IS NULL FOR UPDATE", [id]).first != nil else { return 0 }
                // One statement, so one snapshot: the events it sees are every event up to the newest it
                // sees. It stops before an event still without its body (written since the seal above).
                return try db.query("""
                    WITH last AS (
                        SELECT w.fanned_seq AS cursor, w.events,
                               least(coalesce((SELECT max(seq) FROM webhook_events WHERE seq > w.fanned_seq), w.fanned_seq),
                                     (SELECT min(seq) - 1 FROM webhook_events WHERE body IS NULL AND seq > w.fanned_seq AND type = ANY(w.events))) AS upto
                        FROM webhook_endpoints w WHERE w.endpoint_id = $1
                    ), made AS (
                        INSERT INTO webhook_deliveries (endpoint_id, event_seq, next_attempt_at)
                        SELECT $1, e.seq, e.created FROM webhook_events e, last
                        WHERE e.seq > last.cursor AND e.seq <= last.upto AND e.type = ANY(last.events)
                        ORDER BY e.seq
                        RETURNING 1
                    ), moved AS (
                        UPDATE webhook_endpoints SET fanned_seq = (SELECT upto FROM last) WHERE endpoint_id = $1
                    )
                    SELECT count(*) FROM made
                    """, [id]).first!.decode(0, as: Int.self)
            }
        }
        return made
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
        let started = ContinuousClock.now
        defer { OutboxTiming.report("outbox_seconds", since: started) }
        try recordOffers(db, ids: expiredIDs, status: .expired, at: now)
        let proposed = newOffers.filter { $0.status == .proposed }
        let changes = try AlertStore.apply(db, readings: readings, policy: policy.alerts, asOf: asOf, at: now)
        OutboxTiming.report("outbox_phase_alerts", since: started)
        // One write for the run's offers and alerts (COPY pays off with thousands), each body made as it is written.
        // offer.proposed is written without its body (most of the bytes): `seal` makes it from the offer later.
        try record(db, count: proposed.count + changes.count, at: now) { i in
            i < proposed.count ? OutboxEvent.proposal(of: proposed[i]) : OutboxEvent.alert(changes[i - proposed.count], asOf: asOf)
        }
        OutboxTiming.report("outbox_phase_events", since: started)
        var summary = WebhookSummary(type: .runCompleted)
        summary.asOf = asOf; summary.offersCreated = counts.created; summary.accountsFlagged = counts.flagged
        let data = "{\"accounts_flagged\":\(counts.flagged),\"accounts_scanned\":\(counts.scanned),\"as_of\":\"\(asOf.iso)\","
            + "\"offers_created\":\(counts.created),\"offers_expired\":\(counts.expired),\"offers_refreshed\":\(counts.refreshed),"
            + "\"run_id\":\"\(runID)\",\"thresholds_crossed\":\(changes.filter { $0.direction == .crossed }.count),"
            + "\"thresholds_resolved\":\(changes.filter { $0.direction == .resolved }.count)}"
        try record(db, [OutboxEvent(type: .runCompleted, accountID: nil, data: data, summary: summary)], at: now)
    }
}

/// What `make bench` reads of the outbox's share of a run (scripts/bench_webhooks.sh) when
/// TIERPLAN_BENCH_TIMING=1: `name=SECONDS` lines on standard error. Nothing else reads them.
enum OutboxTiming {
    static let enabled = ProcessInfo.processInfo.environment["TIERPLAN_BENCH_TIMING"] == "1"

    static func report(_ name: String, since start: ContinuousClock.Instant) {
        guard enabled else { return }
        let d = ContinuousClock.now - start
        let seconds = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        FileHandle.standardError.write(Data("\(name)=\(String(format: "%.3f", seconds))\n".utf8))
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

