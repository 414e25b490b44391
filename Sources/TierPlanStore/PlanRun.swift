import Foundation
import Postgres
import TierPlanCore

/// The watcher's numbers for one account as the contract prints them (rounded, lists sorted).
public struct SignalsRecord: Encodable, Sendable {
    public let signals: AccountSignals
    /// Offers keep their evidence with the days each feature was used (for the offer page).
    let withFeatureDays: Bool

    public init(_ signals: AccountSignals, withFeatureDays: Bool = false) {
        self.signals = signals
        self.withFeatureDays = withFeatureDays
    }

    enum Keys: String, CodingKey {
        case accountID, tier, status
        case storageUsedBytes, storageLimitBytes, storageUtilization
        case storageGrowthBytesPerDay, storageDaysToFull
        case includedFeatures, adoptedFeatures, adoptionRatio
        case activeUsers, seatLimit, seatUtilization
        case demandedFeatures, flags, featureDays
    }

    public func encode(to encoder: Encoder) throws {
        let s = signals
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(s.accountID, forKey: .accountID)
        try c.encode(s.tier, forKey: .tier)
        try c.encode(s.status.rawValue, forKey: .status)
        try c.encode(s.storageUsedBytes, forKey: .storageUsedBytes)
        try c.encode(s.storageLimitBytes, forKey: .storageLimitBytes)
        try c.encode(s.storageUtilization.map { rounded($0, 4) }, forKey: .storageUtilization)
        try c.encode(s.storageGrowthBytesPerDay.map { $0.rounded() }.map(Int64.init), forKey: .storageGrowthBytesPerDay)
        try c.encode(s.storageDaysToFull.map { rounded($0, 1) }, forKey: .storageDaysToFull)
        try c.encode(s.includedFeatures, forKey: .includedFeatures)
        try c.encode(s.adoptedFeatures, forKey: .adoptedFeatures)
        try c.encode(s.adoptionRatio.map { rounded($0, 4) }, forKey: .adoptionRatio)
        try c.encode(s.activeUsers, forKey: .activeUsers)
        try c.encode(s.seatLimit, forKey: .seatLimit)
        try c.encode(s.seatUtilization.map { rounded($0, 4) }, forKey: .seatUtilization)
        try c.encode(s.demandedFeatures, forKey: .demandedFeatures)
        try c.encode(s.flags.map(\.rawValue), forKey: .flags)
        if withFeatureDays { try c.encode(s.featureDays, forKey: .featureDays) }
    }
}

extension SignalsRecord {
    /// What `ContractJSON` makes of it, written directly: the run stores one per account with offers,
    /// and JSONEncoder was a third of its CPU (the test holds the two to the same bytes).
    public func writeJSON(_ w: inout ContractJSONWriter) {
        let s = signals
        func number(_ value: Double?, _ places: Int) { if let value { w.double(rounded(value, places)) } else { w.null() } }
        w.beginObject()
        w.key("account_id", first: true); w.string(s.accountID)
        w.key("active_users"); w.int(s.activeUsers)
        w.key("adopted_features"); w.strings(s.adoptedFeatures)
        w.key("adoption_ratio"); number(s.adoptionRatio, 4)
        w.key("demanded_features"); w.strings(s.demandedFeatures)
        if withFeatureDays {
            w.key("feature_days"); w.beginObject()
            for (i, (key, days)) in s.featureDays.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }).enumerated() {
                if i > 0 { w.comma() }
                w.string(key); w.raw(UInt8(ascii: ":")); w.int(days)
            }
            w.endObject()
        }
        w.key("flags"); w.strings(s.flags.map(\.rawValue))
        w.key("included_features"); w.strings(s.includedFeatures)
        w.key("seat_limit"); w.int(s.seatLimit)
        w.key("seat_utilization"); number(s.seatUtilization, 4)
        w.key("status"); w.string(s.status.rawValue)
        w.key("storage_days_to_full"); number(s.storageDaysToFull, 1)
        w.key("storage_growth_bytes_per_day")
        if let growth = s.storageGrowthBytesPerDay { w.int(Int(Int64(growth.rounded()))) } else { w.null() }
        w.key("storage_limit_bytes"); w.int(Int(s.storageLimitBytes))
        w.key("storage_used_bytes")
        if let used = s.storageUsedBytes { w.int(Int(used)) } else { w.null() }
        w.key("storage_utilization"); number(s.storageUtilization, 4)
        w.key("tier"); w.string(s.tier)
        w.endObject()
    }
}

/// An account the plan made no offer of some kind to, and why.
public struct SuppressedRecord: Encodable, Sendable, Equatable {
    public var accountID: String
    public var kind: String?
    public var reason: String

    enum CodingKeys: String, CodingKey { case accountID, kind, reason }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(accountID, forKey: .accountID)
        try c.encode(kind, forKey: .kind)   // null for no_viable_offer
        try c.encode(reason, forKey: .reason)
    }
}

/// What a plan or run did, as `plan --json` and `run --json` print it.
public struct PlanResult: Encodable, Sendable {
    public var asOf: String
    public var runID: String
    public var dryRun: Bool
    public var accountsScanned: Int
    public var accountsFlagged: Int
    public var offersCreated: Int
    public var offersRefreshed: Int
    public var offersExpired: Int
    public var offers: [OfferRecord]
    public var suppressed: [SuppressedRecord]

    enum CodingKeys: String, CodingKey {
        case asOf, runID, dryRun, accountsScanned
        case accountsFlagged, offersCreated, offersRefreshed
        case offersExpired, offers, suppressed
    }
}

extension SuppressedRecord {
    func writeJSON(_ w: inout ContractJSONWriter) {
        w.beginObject()
        w.key("account_id", first: true); w.string(accountID)
        w.key("kind"); w.string(kind)
        w.key("reason"); w.string(reason)
        w.endObject()
    }
}

extension PlanResult: ContractJSONDocument {
    /// What `ContractJSON` makes of it, written directly: `run --json` prints every offer of the run
    /// (75,000 at 100k accounts), and JSONEncoder was a fifth of the run's CPU.
    public func jsonBytes() -> [UInt8] {
        var w = ContractJSONWriter(capacity: 1024 + offers.count * 640 + suppressed.count * 64)
        w.beginObject()
        w.key("accounts_flagged", first: true); w.int(accountsFlagged)
        w.key("accounts_scanned"); w.int(accountsScanned)
        w.key("as_of"); w.string(asOf)
        w.key("dry_run"); w.bool(dryRun)
        w.key("offers"); w.array(offers) { $1.writeJSON(&$0) }
        w.key("offers_created"); w.int(offersCreated)
        w.key("offers_expired"); w.int(offersExpired)
        w.key("offers_refreshed"); w.int(offersRefreshed)
        w.key("run_id"); w.string(runID)
        w.key("suppressed"); w.array(suppressed) { $1.writeJSON(&$0) }
        w.endObject()
        return w.bytes
    }
}

/// Another run holds the run lock; nothing was changed.
public struct RunLockedError: Error, CustomStringConvertible {
    public let holderPID: Int?
    public var description: String {
        "another tierplan run holds the run lock" + (holderPID.map { " (server pid \($0))" } ?? "") + "; nothing was changed"
    }
}

/// The nightly job: snoozes that ended, signals, plan, refresh and expiry, in one transaction under
/// an advisory lock, so a second run at once is refused and a crash leaves the database as it was.
public enum PlanRun {
    /// The as_of of the latest run, else today (UTC): what pages and the API show by default.
    public static func latestAsOf(_ db: Connection) throws -> Day {
        try db.query("SELECT max(as_of)::text FROM runs").first?.decodeIfPresent(0, as: String.self).flatMap { Day(iso: $0) } ?? Timestamp.now.day
    }

    static let lockKey = "hashtext('tierplan.run')"

    public static func execute(_ db: Connection, asOf: Day, dryRun: Bool, command: String,
                               progress: (Int) -> Void = { _ in }) throws -> PlanResult {
        try db.execute("BEGIN")
        do {
            let result = try body(db, asOf: asOf, dryRun: dryRun, command: command, progress: progress)
            try db.execute(dryRun ? "ROLLBACK" : "COMMIT")
            return result
        } catch {
            _ = try? db.execute("ROLLBACK")
            throw error
        }
    }

    /// The nightly job in its phases, inside the caller's transaction.
    private static func body(_ db: Connection, asOf: Day, dryRun: Bool, command: String, progress: (Int) -> Void) throws -> PlanResult {
        if !dryRun {
            try takeLock(db)
            // The bodies of earlier runs' offer.proposed events still to be sent, before this run changes their offers.
            let sealing = ContinuousClock.now
            try WebhookOutbox.seal(db)
            OutboxTiming.report("outbox_seal_seconds", since: sealing)
        }
        let catalog = try CatalogStore.read(db)
        let run = RunContext(id: UUID().uuidString.lowercased(), actor: "tierplan \(command)", asOf: asOf)
        try returnSnoozedOffers(db, run)
        let written = try planAndWrite(db, catalog: catalog, run: run, progress: progress)
        let offers = written.shownIDs.isEmpty ? [] : try db.query("""
            SELECT \(OfferRecord.columns) FROM offers o WHERE o.offer_id = ANY($1::uuid[])
            ORDER BY o.expected_delta_mrr DESC, o.account_id, o.rank
            """, [PostgresArray(written.shownIDs)]).rows.map(OfferRecord.init)

        if !dryRun {
            let newIDs = Set(written.newIDs)
            try WebhookOutbox.recordRun(db, runID: run.id, asOf: asOf, newOffers: offers.filter { newIDs.contains($0.id) },
                                        expiredIDs: written.expiredIDs, readings: written.readings, policy: catalog.policy,
                                        counts: (written.scanned, written.flagged, written.newIDs.count, written.refreshed, written.expired))
        }

        // Last, so that a run that dies before this point has written nothing that lasts.
        try db.execute("""
            INSERT INTO runs (run_id, command, as_of, finished_at, accounts_scanned, accounts_flagged, offers_created, offers_refreshed, offers_expired)
            VALUES ($1::uuid, $2, $3::date, now(), $4, $5, $6, $7, $8)
            """, [run.id, command, asOf.iso, written.scanned, written.flagged, written.newIDs.count, written.refreshed, written.expired])
        return PlanResult(asOf: asOf.iso, runID: run.id, dryRun: dryRun, accountsScanned: written.scanned, accountsFlagged: written.flagged,
                          offersCreated: written.newIDs.count, offersRefreshed: written.refreshed, offersExpired: written.expired,
                          offers: offers, suppressed: written.suppressed)
    }

    /// What a run wrote of its plan, without the plan itself: the planned offers and their evidence
    /// (about 2 KB an offer) are gone once it returns, before the outbox and the output are built.
    struct WrittenPlan {
        var newIDs: [String]
        var refreshed: Int
        var expiredIDs: [String]
        var expired: Int
        /// The offers the run shows: new, refreshed and approved ones kept.
        var shownIDs: [String]
        var readings: [AlertReading]
        var suppressed: [SuppressedRecord]
        var scanned: Int, flagged: Int
    }

    /// Signals, plan, reconciliation with the open offers, their writing and expiry.
    private static func planAndWrite(_ db: Connection, catalog: Catalog, run: RunContext, progress: (Int) -> Void) throws -> WrittenPlan {
        let pass = try planEveryAccount(db, catalog: catalog, asOf: run.asOf, progress: progress)
        let reconciliation = Reconciliation.reconcile(planned: pass.planned, existing: try OfferStore.openOffers(db))
        let written = try writeOffers(db, reconciliation, evidence: pass.evidence, run)
        let expiredIDs = reconciliation.expirations.map(\.id)
        let expired = try expireOffers(db, expiredIDs, run)
        let shownIDs = reconciliation.inserts.isEmpty && reconciliation.refreshes.isEmpty && reconciliation.keptApproved.isEmpty
            ? [] : written.newIDs + reconciliation.refreshes.map(\.id) + reconciliation.keptApproved.map(\.id)
        return WrittenPlan(newIDs: written.newIDs, refreshed: written.refreshed, expiredIDs: expiredIDs, expired: expired, shownIDs: shownIDs,
                           readings: pass.readings, suppressed: pass.suppressed, scanned: pass.scanned, flagged: pass.flagged)
    }

    /// Who and when the run's events are recorded as.
    struct RunContext {
        var id: String
        var actor: String
        var asOf: Day
    }

    /// One run at a time: a second one is refused, naming the process that holds the lock.
    private static func takeLock(_ db: Connection) throws {
        let locked = try db.query("SELECT pg_try_advisory_xact_lock(\(lockKey))").first!.decode(0, as: Bool.self)
        if !locked {
            let holder = try? db.query("""
                SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = (\(lockKey))::oid LIMIT 1
                """).first?.decodeIfPresent(0, as: Int.self)
            throw RunLockedError(holderPID: holder ?? nil)
        }
    }

    /// Snoozes whose date has passed come back to the queue.
    private static func returnSnoozedOffers(_ db: Connection, _ run: RunContext) throws {
        for row in try db.query("""
            UPDATE offers SET status = 'proposed', snoozed_until = NULL, version = version + 1, updated_at = now()
            WHERE status = 'snoozed' AND snoozed_until <= $1::date RETURNING account_id, offer_id::text
            """, [run.asOf.iso]).rows {
            try OfferStore.appendEvent(db, accountID: try row.decode(0), offerID: try row.decode(1), from: .snoozed, to: .proposed,
                                       actor: run.actor, reason: "snooze ended", at: run.asOf.start, runID: run.id)
        }
    }

    /// What the watcher and planner made of every watched account.
    struct PlanningPass {
        var planned: [PlannedOffer] = []
        /// The signals of each account with offers, as JSON, kept on its offers.
        var evidence: [String: String] = [:]
        var suppressed: [SuppressedRecord] = []
        var scanned = 0, flagged = 0
        /// Storage and seat utilization of every account, for the usage alerts.
        var readings: [AlertReading] = []
    }

    private static func planEveryAccount(_ db: Connection, catalog: Catalog, asOf: Day, progress: (Int) -> Void) throws -> PlanningPass {
        let planner = Planner(catalog: catalog, asOf: asOf, acceptance: try OfferStore.acceptanceModel(db, asOf: asOf, policy: catalog.policy))
        let histories = try OfferStore.histories(db, asOf: asOf)
        var pass = PlanningPass()
        try SignalsStore.forEachBatch(db, asOf: asOf) { batch in
            for (account, usage) in batch {
                let signals = Watcher.signals(for: account, usage: usage, catalog: catalog, asOf: asOf)
                pass.scanned += 1
                if !signals.flags.isEmpty { pass.flagged += 1 }
                pass.readings += AlertReading.of(signals)
                let plan = planner.plan(account: account, signals: signals, history: histories[account.id] ?? OfferHistory())
                if !plan.offers.isEmpty {
                    pass.planned += plan.offers
                    var w = ContractJSONWriter(capacity: 1024)
                    SignalsRecord(signals, withFeatureDays: true).writeJSON(&w)
                    pass.evidence[account.id] = String(decoding: w.bytes, as: UTF8.self)
                }
                var seen = Set<String>()
                for s in plan.suppressed where seen.insert(s.reason.rawValue + (s.kind?.rawValue ?? "")).inserted {
                    pass.suppressed.append(SuppressedRecord(accountID: s.accountID, kind: s.kind?.rawValue, reason: s.reason.rawValue))
                }
            }
            progress(pass.scanned)
        }
        return pass
    }

    /// New offers inserted with their first event, kept ones refreshed where they changed; one COPY into a
    /// staging table, then set-based statements.
    private static func writeOffers(_ db: Connection, _ reconciliation: Reconciliation, evidence: [String: String],
                                    _ run: RunContext) throws -> (newIDs: [String], refreshed: Int) {
        var newIDs: [String] = []
        try db.execute("""
            CREATE TEMP TABLE plan_offers (
                account_id text, offer_id uuid, status text, kind text, rank integer, target text, from_tier text, to_tier text,
                add_items jsonb, remove_items jsonb, current_mrr bigint, new_mrr bigint, delta_mrr bigint, one_time bigint,
                acceptance_probability double precision, expected_delta_mrr double precision, reasons text[], rationale text,
                evidence jsonb, is_new boolean, kind_probability double precision, experiment text, arm text
            ) ON COMMIT DROP
            """)
        try db.copyIn("COPY plan_offers FROM STDIN") { copy in
            func write(_ offer: PlannedOffer, id: String, status: OfferStatus, isNew: Bool) throws {
                try copy.writeRow([
                    offer.accountID, id, status.rawValue, offer.kind.rawValue, String(offer.rank), offer.target, offer.fromTier, offer.toTier,
                    try json(offer.add), try json(offer.remove), String(offer.currentMRR), String(offer.newMRR), String(offer.deltaMRR),
                    String(offer.oneTime), String(offer.acceptanceProbability), String(offer.expectedDeltaMRR),
                    PostgresArray(offer.reasons.map(\.rawValue)).postgresText, offer.rationale, evidence[offer.accountID] ?? "{}",
                    isNew ? "t" : "f", String(offer.kindProbability), offer.experiment, offer.arm?.rawValue,
                ])
            }
            for offer in reconciliation.inserts {
                let id = UUID().uuidString.lowercased()
                newIDs.append(id)
                try write(offer, id: id, status: offer.heldOut ? .heldOut : .proposed, isNew: true)
            }
            for refresh in reconciliation.refreshes { try write(refresh.offer, id: refresh.id, status: refresh.status, isNew: false) }
        }
        try db.execute("""
            INSERT INTO offers (account_id, offer_id, run_id, as_of, kind, rank, status, target, from_tier, to_tier, add_items, remove_items,
                                current_mrr, new_mrr, delta_mrr, one_time, acceptance_probability, expected_delta_mrr, reasons, rationale, evidence,
                                kind_probability, experiment, arm)
            SELECT account_id, offer_id, $1::uuid, $2::date, kind, rank, status, target, from_tier, to_tier, add_items, remove_items,
                   current_mrr, new_mrr, delta_mrr, one_time, acceptance_probability, expected_delta_mrr, reasons, rationale, evidence,
                   kind_probability, experiment, arm
            FROM plan_offers WHERE is_new
            """, [run.id, run.asOf.iso])
        try db.execute("""
            INSERT INTO offer_events (account_id, offer_id, from_status, to_status, actor, reason, run_id, at)
            SELECT account_id, offer_id, NULL, status, $1, 'planned for ' || $2, $3::uuid, $4::timestamptz FROM plan_offers WHERE is_new
            ORDER BY account_id, rank
            """, [run.actor, run.asOf.iso, run.id, run.asOf.start.iso])
        let refreshed = try db.execute("""
            UPDATE offers o SET rank = p.rank, current_mrr = p.current_mrr, new_mrr = p.new_mrr, delta_mrr = p.delta_mrr,
                one_time = p.one_time, acceptance_probability = p.acceptance_probability, expected_delta_mrr = p.expected_delta_mrr,
                reasons = p.reasons, rationale = p.rationale, evidence = p.evidence, as_of = $1::date, run_id = $2::uuid, updated_at = now(),
                kind_probability = p.kind_probability, experiment = p.experiment, arm = p.arm
            FROM plan_offers p
            WHERE NOT p.is_new AND o.account_id = p.account_id AND o.offer_id = p.offer_id
              AND (o.rank, o.current_mrr, o.new_mrr, o.delta_mrr, o.one_time, o.acceptance_probability, o.expected_delta_mrr,
                   o.reasons, o.rationale, o.evidence, o.as_of, o.kind_probability, o.experiment, o.arm)
                  IS DISTINCT FROM (p.rank, p.current_mrr, p.new_mrr, p.delta_mrr, p.one_time, p.acceptance_probability,
                   p.expected_delta_mrr, p.reasons, p.rationale, p.evidence, $1::date, p.kind_probability, p.experiment, p.arm)
            """, [run.asOf.iso, run.id])
        return (newIDs, refreshed)
    }

    /// Proposed offers whose need is gone (or whose target changed) expire, with an event each.
    private static func expireOffers(_ db: Connection, _ ids: [String], _ run: RunContext) throws -> Int {
        guard !ids.isEmpty else { return 0 }
        return try db.execute("""
            WITH gone AS (
                UPDATE offers SET status = 'expired', version = version + 1, updated_at = now()
                WHERE offer_id = ANY($1::uuid[]) AND status = 'proposed' RETURNING account_id, offer_id
            )
            INSERT INTO offer_events (account_id, offer_id, from_status, to_status, actor, reason, run_id, at)
            SELECT account_id, offer_id, 'proposed', 'expired', $2, 'need gone or target changed on ' || $3, $4::uuid, $5::timestamptz FROM gone
            """, [PostgresArray(ids), run.actor, run.asOf.iso, run.id, run.asOf.start.iso])
    }

    static func json(_ items: [AddonQuantity]) throws -> String {
        "[" + items.map { "{\"addon\":\(quote($0.addon)),\"quantity\":\($0.quantity)}" }.joined(separator: ",") + "]"
    }

    static func quote(_ text: String) -> String {
        String(decoding: try! JSONEncoder().encode(text), as: UTF8.self)
    }
}
