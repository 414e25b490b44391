import Foundation
import Postgres
import TierPlanCore

/// An offer as users and scripts see it (the contract's offer object).
public struct OfferRecord: Encodable, Sendable, Equatable {
    public var id: String
    public var accountID: String
    public var kind: OfferKind
    public var rank: Int
    public var fromTier: String
    public var toTier: String
    public var add: [AddonQuantity]
    public var remove: [AddonQuantity]
    public var currentMRR: Int
    public var newMRR: Int
    public var deltaMRR: Int
    public var oneTime: Int
    public var acceptanceProbability: Double
    public var expectedDeltaMRR: Double
    public var reasons: [String]
    public var rationale: String
    public var status: OfferStatus
    public var asOf: Day
    public var snoozedUntil: Day?
    public var version: Int
    /// The experiment of the offer's account and its arm (treatment or control); nil outside experiments.
    public var experiment: String?
    public var arm: String?

    enum CodingKeys: String, CodingKey {
        case id, accountID, kind, rank, fromTier, toTier, add, remove
        case currentMRR, newMRR, deltaMRR, oneTime
        case acceptanceProbability, expectedDeltaMRR
        case reasons, rationale, status, asOf, snoozedUntil, version, experiment, arm
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id); try c.encode(accountID, forKey: .accountID); try c.encode(kind.rawValue, forKey: .kind)
        try c.encode(rank, forKey: .rank); try c.encode(fromTier, forKey: .fromTier); try c.encode(toTier, forKey: .toTier)
        try c.encode(add, forKey: .add); try c.encode(remove, forKey: .remove)
        try c.encode(currentMRR, forKey: .currentMRR); try c.encode(newMRR, forKey: .newMRR); try c.encode(deltaMRR, forKey: .deltaMRR)
        try c.encode(oneTime, forKey: .oneTime)
        try c.encode(rounded(acceptanceProbability, 4), forKey: .acceptanceProbability)
        try c.encode(rounded(expectedDeltaMRR, 2), forKey: .expectedDeltaMRR)
        try c.encode(reasons, forKey: .reasons); try c.encode(rationale, forKey: .rationale); try c.encode(status.rawValue, forKey: .status)
        try c.encode(asOf.iso, forKey: .asOf); try c.encode(snoozedUntil?.iso, forKey: .snoozedUntil); try c.encode(version, forKey: .version)
        try c.encode(experiment, forKey: .experiment); try c.encode(arm, forKey: .arm)
    }

    /// The same object as `encode(to:)` under `ContractJSON`, byte for byte, written straight out (the
    /// offers API's pages; `OfferJSONTests` holds the two together). Keys in sorted order.
    public func writeJSON(_ w: inout ContractJSONWriter) {
        func items(_ list: [AddonQuantity]) {
            w.array(list) { w, item in
                w.beginObject()
                w.key("addon", first: true); w.string(item.addon)
                w.key("quantity"); w.int(item.quantity)
                w.endObject()
            }
        }
        w.beginObject()
        w.key("acceptance_probability", first: true); w.double(rounded(acceptanceProbability, 4))
        w.key("account_id"); w.string(accountID)
        w.key("add"); items(add)
        w.key("arm"); w.string(arm)
        w.key("as_of"); w.string(asOf.iso)
        w.key("current_mrr"); w.int(currentMRR)
        w.key("delta_mrr"); w.int(deltaMRR)
        w.key("expected_delta_mrr"); w.double(rounded(expectedDeltaMRR, 2))
        w.key("experiment"); w.string(experiment)
        w.key("from_tier"); w.string(fromTier)
        w.key("id"); w.string(id)
        w.key("kind"); w.string(kind.rawValue)
        w.key("new_mrr"); w.int(newMRR)
        w.key("one_time"); w.int(oneTime)
        w.key("rank"); w.int(rank)
        w.key("rationale"); w.string(rationale)
        w.key("reasons"); w.strings(reasons)
        w.key("remove"); items(remove)
        w.key("snoozed_until"); w.string(snoozedUntil?.iso)
        w.key("status"); w.string(status.rawValue)
        w.key("to_tier"); w.string(toTier)
        w.key("version"); w.int(version)
        w.endObject()
    }

    nonisolated(unsafe) static let decoder = JSONDecoder()   // stateless once configured; shared to save an allocation per row

    static let columns = """
        o.offer_id::text, o.account_id, o.kind, o.rank, o.from_tier, o.to_tier, o.add_items::text, o.remove_items::text,
        o.current_mrr, o.new_mrr, o.delta_mrr, o.one_time, o.acceptance_probability, o.expected_delta_mrr,
        o.reasons, o.rationale, o.status, o.as_of::text, o.snoozed_until::text, o.version, o.experiment, o.arm
        """
    static let columnCount = 22
}

extension OfferRecord {
    /// (In an extension, so that the memberwise initializer stays.)
    init(row: Row) throws {
        let decoder = Self.decoder
        id = try row.decode(0); accountID = try row.decode(1); kind = try row.decode(2); rank = try row.decode(3)
        fromTier = try row.decode(4); toTier = try row.decode(5)
        func items(_ column: Int) throws -> [AddonQuantity] {
            let text = try row.decode(column, as: String.self)
            return text == "[]" ? [] : try decoder.decode([AddonQuantity].self, from: Data(text.utf8))   // most lists are empty
        }
        add = try items(6); remove = try items(7)
        currentMRR = try row.decode(8); newMRR = try row.decode(9); deltaMRR = try row.decode(10); oneTime = try row.decode(11)
        acceptanceProbability = try row.decode(12); expectedDeltaMRR = try row.decode(13)
        reasons = try row.decode(14, as: PostgresArray<String>.self).elements
        rationale = try row.decode(15); status = try row.decode(16); asOf = try row.decode(17)
        snoozedUntil = try row.decodeIfPresent(18); version = try row.decode(19)
        experiment = try row.decodeIfPresent(20); arm = try row.decodeIfPresent(21)
    }
}

/// One entry of an offer's audit trail.
public struct OfferEventRecord: Encodable, Sendable {
    public var fromStatus: String?
    public var toStatus: String
    public var actor: String
    public var reason: String?
    /// Why the customer declined (declined events only).
    public var reasonCode: String?
    public var at: String
}

/// An offer with its audit trail (`offers show --json`, `GET /api/v1/offers/{id}`).
public struct OfferWithEvents: Encodable, Sendable {
    public var offer: OfferRecord
    public var events: [OfferEventRecord]
    public init(offer: OfferRecord, events: [OfferEventRecord]) { self.offer = offer; self.events = events }
}

/// A review decision or outcome was refused; says why (illegal transition, lost race, unknown id).
public struct OfferDecisionError: Error, CustomStringConvertible {
    public enum Kind: Sendable { case notFound, stale, illegal }
    public let kind: Kind
    public let description: String
    public init(_ kind: Kind, _ description: String) { self.kind = kind; self.description = description }
}

/// The SQL of offers and their append-only events.
public enum OfferStore {
    // MARK: Reading

    public static func list(_ db: Connection, status: OfferStatus? = nil, accountID: String? = nil, limit: Int? = nil) throws -> [OfferRecord] {
        var conditions: [String] = []
        var parameters: [any PostgresEncodable] = []
        if let status { parameters.append(status.rawValue); conditions.append("o.status = $\(parameters.count)") }
        if let accountID { parameters.append(accountID); conditions.append("o.account_id = $\(parameters.count)") }
        var sql = "SELECT \(OfferRecord.columns) FROM offers o"
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        sql += " ORDER BY o.expected_delta_mrr DESC, o.account_id, o.rank, o.offer_id"
        if let limit { parameters.append(limit); sql += " LIMIT $\(parameters.count)" }
        return try db.query(sql, parameters).rows.map(OfferRecord.init)
    }

    /// The review queue's filters; nil means any.
    public struct Filter: Sendable, Equatable {
        public var status: OfferStatus? = .proposed
        public var kind: OfferKind?
        public var reason: String?
        public var owner: String?
        public var segment: String?
        public var accountID: String?
        public var limit = 50
        public var offset = 0
        public init() {}

        /// Totals above this are reported as countLimit + 1 ("more than 1,000"): a review queue needs no more.
        public static let countLimit = 1_000
    }

    /// One page of offers matching `filter`, highest expected delta first, and how many match in all.
    public static func page(_ db: Connection, _ filter: Filter) throws -> (offers: [OfferRecord], total: Int) {
        let page = try page(db, filter, withNames: false)
        return (page.offers, page.total)
    }

    /// The same with the names of the page's accounts (the review queue shows them), in the same statement.
    public static func pageWithNames(_ db: Connection, _ filter: Filter) throws -> (offers: [OfferRecord], total: Int, names: [String: String]) {
        try page(db, filter, withNames: true)
    }

    /// Both statements are prepared: the server runs them for every queue page and API list, and
    /// their texts depend only on which filters are set.
    static func page(_ db: Connection, _ filter: Filter, withNames: Bool) throws -> (offers: [OfferRecord], total: Int, names: [String: String]) {
        var conditions: [String] = []
        var parameters: [any PostgresEncodable] = []
        func add(_ condition: String, _ value: any PostgresEncodable) {
            parameters.append(value)
            conditions.append(condition.replacingOccurrences(of: "$?", with: "$\(parameters.count)"))
        }
        if let status = filter.status { add("o.status = $?", status.rawValue) }
        if let kind = filter.kind { add("o.kind = $?", kind.rawValue) }
        if let reason = filter.reason { add("$? = ANY(o.reasons)", reason) }
        if let owner = filter.owner { add("a.owner = $?", owner) }
        if let segment = filter.segment { add("a.segment = $?", segment) }
        if let account = filter.accountID { add("o.account_id = $?", account) }
        let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        // Both statements join accounts only when filtering on them: every offer has its account
        // (a foreign key), and the join costs more to plan and start than the page costs to read.
        // Counting stops at countLimit + 1 (a queue page says "more than 1,000").
        let needsAccounts = filter.owner != nil || filter.segment != nil
        let from = "FROM offers o" + (needsAccounts ? " JOIN accounts a USING (account_id)" : "") + whereClause
        let total = try db.queryPrepared("""
            SELECT count(*) FROM (SELECT 1 \(from) LIMIT \(Filter.countLimit + 1)) matching
            """, parameters).first!.decode(0, as: Int.self)
        // The name is a subquery PostgreSQL evaluates after the LIMIT, for the page's rows only.
        let name = withNames ? ", (SELECT n.name FROM accounts n WHERE n.account_id = o.account_id)" : ""
        let limitIndex = parameters.count + 1
        let rows = try db.queryPrepared("""
            SELECT \(OfferRecord.columns)\(name) \(from)
            ORDER BY o.expected_delta_mrr DESC, o.account_id, o.rank, o.offer_id LIMIT $\(limitIndex) OFFSET $\(limitIndex + 1)
            """, parameters + [filter.limit, filter.offset]).rows
        var names: [String: String] = [:]
        if withNames {
            for row in rows { names[try row.decode(1, as: String.self)] = try row.decodeIfPresent(OfferRecord.columnCount, as: String.self) }
        }
        return (try rows.map(OfferRecord.init), total, names)
    }

    /// The signals an offer was built on, as JSON (empty object when none were kept).
    public static func evidence(_ db: Connection, id: String) throws -> String {
        guard UUID(uuidString: id) != nil else { return "{}" }
        return try db.query("SELECT evidence::text FROM offers WHERE offer_id = $1::uuid", [id]).first?.decode(0) ?? "{}"
    }

    /// Distinct owners and segments with offers, for the queue's filter menus.
    public static func facets(_ db: Connection) throws -> (owners: [String], segments: [String]) {
        let owners = try db.query("SELECT DISTINCT owner FROM accounts WHERE owner <> '' ORDER BY 1").rows.map { try $0.decode(0, as: String.self) }
        let segments = try db.query("SELECT DISTINCT segment FROM accounts WHERE segment <> '' ORDER BY 1").rows.map { try $0.decode(0, as: String.self) }
        return (owners, segments)
    }

    public static func get(_ db: Connection, id: String) throws -> OfferRecord? {
        guard UUID(uuidString: id) != nil else { return nil }
        return try db.query("SELECT \(OfferRecord.columns) FROM offers o WHERE o.offer_id = $1::uuid", [id]).first.map(OfferRecord.init)
    }

    public static func events(_ db: Connection, offerID: String) throws -> [OfferEventRecord] {
        try db.query("""
            SELECT from_status, to_status, actor, reason, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), reason_code
            FROM offer_events WHERE offer_id = $1::uuid ORDER BY seq
            """, [offerID]).rows.map {
            OfferEventRecord(fromStatus: try $0.decodeIfPresent(0), toStatus: try $0.decode(1), actor: try $0.decode(2),
                             reason: try $0.decodeIfPresent(3), reasonCode: try $0.decodeIfPresent(5), at: try $0.decode(4))
        }
    }

    /// Accepted and declined outcomes per kind and group (the account's segment, or the tier the offer
    /// was made on), dated on or before `asOf`.
    public static func acceptanceOutcomes(_ db: Connection, asOf: Day, grouping: AcceptancePolicy.Grouping) throws
        -> [AcceptanceModel.Key: (accepted: Int, declined: Int)] {
        let group = grouping == .tier ? "o.from_tier" : grouping == .segment ? "a.segment" : "''"
        var outcomes: [AcceptanceModel.Key: (accepted: Int, declined: Int)] = [:]
        for row in try db.query("""
            SELECT o.kind, \(group), count(*) FILTER (WHERE e.to_status = $2), count(*) FILTER (WHERE e.to_status = $3)
            FROM offer_events e JOIN offers o USING (account_id, offer_id)\(grouping == .segment ? " JOIN accounts a USING (account_id)" : "")
            WHERE e.to_status = ANY($4::text[]) AND (e.at AT TIME ZONE 'UTC')::date <= $1::date
            GROUP BY 1, 2
            """, [asOf.iso, OfferStatus.accepted.rawValue, OfferStatus.declined.rawValue, CoreSets.outcomeStatuses]).rows {
            guard let kind = OfferKind(rawValue: try row.decode(0)) else { continue }
            outcomes[AcceptanceModel.Key(kind, try row.decode(1))] = (try row.decode(2), try row.decode(3))
        }
        return outcomes
    }

    /// Outcomes per kind alone (the sums over groups).
    public static func acceptanceOutcomes(_ db: Connection, asOf: Day) throws -> [OfferKind: (accepted: Int, declined: Int)] {
        AcceptanceModel(policy: Policy(), groupOutcomes: try acceptanceOutcomes(db, asOf: asOf, grouping: .none)).outcomes
    }

    /// The acceptance model learnt from the outcomes known on `asOf`.
    public static func acceptanceModel(_ db: Connection, asOf: Day, policy: Policy) throws -> AcceptanceModel {
        AcceptanceModel(policy: policy, groupOutcomes: try acceptanceOutcomes(db, asOf: asOf, grouping: policy.acceptance.by))
    }

    /// Per account: the facts the guardrails need, counting only decisions on or before `asOf`.
    public static func histories(_ db: Connection, asOf: Day) throws -> [String: OfferHistory] {
        var histories: [String: OfferHistory] = [:]
        for row in try db.query("""
            SELECT o.account_id, o.kind, e.to_status, max((e.at AT TIME ZONE 'UTC')::date)::text
            FROM offer_events e JOIN offers o USING (account_id, offer_id)
            WHERE e.to_status = ANY($2::text[]) AND (e.at AT TIME ZONE 'UTC')::date <= $1::date
            GROUP BY o.account_id, o.kind, e.to_status
            """, [asOf.iso, CoreSets.guardrailStatuses]).rows {
            let account: String = try row.decode(0)
            guard let kind = OfferKind(rawValue: try row.decode(1)), let day = Day(iso: try row.decode(3, as: String.self)) else { continue }
            var history = histories[account] ?? OfferHistory()
            if OfferStatus(rawValue: try row.decode(2)) == .accepted {
                history.lastAcceptance = max(history.lastAcceptance ?? day, day)
            } else {
                history.lastRefusal[kind] = max(history.lastRefusal[kind] ?? day, day)
            }
            histories[account] = history
        }
        for row in try db.query("""
            SELECT account_id, kind, max(snoozed_until)::text FROM offers
            WHERE status = 'snoozed' AND snoozed_until > $1::date GROUP BY account_id, kind
            """, [asOf.iso]).rows {
            let account: String = try row.decode(0)
            guard let kind = OfferKind(rawValue: try row.decode(1)), let until = Day(iso: try row.decode(2, as: String.self)) else { continue }
            histories[account, default: OfferHistory()].snoozedUntil[kind] = until
        }
        return histories
    }

    /// Offers a plan may keep or expire (`OfferStatus.isCurrent`).
    public static func openOffers(_ db: Connection) throws -> [ExistingOffer] {
        try db.query("""
            SELECT offer_id::text, account_id, kind, target, status FROM offers WHERE status = ANY($1::text[])
            """, [CoreSets.currentStatuses]).rows.compactMap { row in
            guard let kind = OfferKind(rawValue: try row.decode(2)), let status = OfferStatus(rawValue: try row.decode(4)) else { return nil }
            return ExistingOffer(id: try row.decode(0), accountID: try row.decode(1), kind: kind, target: try row.decode(3), status: status)
        }
    }

    // MARK: Decisions

    /// Applies a review decision or outcome. Legal transitions only; of two concurrent decisions on one
    /// offer exactly one wins, the other is refused saying who decided first. `expectedVersion`
    /// (from a page or API client) refuses a decision made on a stale view.
    @discardableResult
    public static func decide(_ db: Connection, offerID: String, decision: OfferDecision, by actor: String, reason: String?,
                              at: Timestamp?, expectedVersion: Int? = nil) throws -> OfferRecord {
        let at = at ?? Timestamp.now
        return try db.transaction { db in
            guard let current = try get(db, id: offerID) else { throw OfferDecisionError(.notFound, "no offer with id \(offerID)") }
            // The bodies of this account's offer.proposed events still to be sent, before the change (see `seal`).
            try WebhookOutbox.seal(db, accountID: current.accountID)
            if let expectedVersion, expectedVersion != current.version {
                throw OfferDecisionError(.stale, try staleMessage(db, offer: current))
            }
            let from = current.status
            let to: OfferStatus
            do { to = try OfferLife.next(from: from, decision) } catch {
                throw OfferDecisionError(.illegal, "offer \(offerID): \(error)" + (try lastDecisionNote(db, offerID: offerID)))
            }
            let lastDecision = try db.query("""
                SELECT max(at)::date::text FROM offer_events WHERE offer_id = $1::uuid AND run_id IS NULL
                """, [offerID]).first?.decodeIfPresent(0, as: String.self).flatMap { Day(iso: $0) }
            if let problem = OfferLife.dateProblem(decision, on: at.day, offerAsOf: current.asOf, lastDecision: lastDecision) {
                throw OfferDecisionError(.illegal, "offer \(offerID): \(problem); nothing was changed")
            }
            var snoozedUntil: String?
            if case .snooze(let until) = decision { snoozedUntil = until.iso }
            let updated = try db.execute("""
                UPDATE offers SET status = $1, snoozed_until = $2::date, version = version + 1, updated_at = now()
                WHERE offer_id = $3::uuid AND version = $4
                """, [to.rawValue, snoozedUntil, offerID, current.version])
            guard updated == 1 else {
                // Someone else changed it between our read and our write.
                throw OfferDecisionError(.stale, try staleMessage(db, offer: current))
            }
            try appendEvent(db, accountID: current.accountID, offerID: offerID, from: from, to: to, actor: actor, reason: reason, at: at,
                            reasonCode: decision.reasonCode)
            var expiredByAcceptance: [String] = []
            if to == .accepted {
                // The account is taking this one: the others it makes moot expire (`OfferLife.expiresOnAcceptance`).
                let moot = CoreSets.expiredOnAcceptance
                for row in try db.query("""
                    WITH old AS (
                        SELECT offer_id, status FROM offers
                        WHERE account_id = $1 AND offer_id <> $2::uuid AND status = ANY($3::text[]) AND kind = ANY($4::text[])
                        FOR UPDATE
                    ), changed AS (
                        UPDATE offers o SET status = $5, version = o.version + 1, updated_at = now()
                        FROM old WHERE o.account_id = $1 AND o.offer_id = old.offer_id
                    )
                    SELECT offer_id::text, status FROM old
                    """, [current.accountID, offerID, moot.statuses, moot.kinds, OfferStatus.expired.rawValue]).rows {
                    try appendEvent(db, accountID: current.accountID, offerID: try row.decode(0),
                                    from: OfferStatus(rawValue: try row.decode(1)), to: .expired,
                                    actor: actor, reason: "another offer was accepted (\(offerID))", at: at)
                    expiredByAcceptance.append(try row.decode(0))
                }
            }
            let decided = try get(db, id: offerID)!
            // The events of the decision and of what it expired, in this transaction (the outbox).
            try WebhookOutbox.record(db, [OutboxEvent.offer(decided)].compactMap { $0 })
            try WebhookOutbox.recordOffers(db, ids: expiredByAcceptance, status: .expired)
            return decided
        }
    }

    static func appendEvent(_ db: Connection, accountID: String, offerID: String, from: OfferStatus?, to: OfferStatus,
                            actor: String, reason: String?, at: Timestamp, runID: String? = nil, reasonCode: DeclineReason? = nil) throws {
        try db.execute("""
            INSERT INTO offer_events (account_id, offer_id, from_status, to_status, actor, reason, at, run_id, reason_code)
            VALUES ($1, $2::uuid, $3, $4, $5, $6, $7::timestamptz, $8::uuid, $9)
            """, [accountID, offerID, from?.rawValue, to.rawValue, actor, reason, at.iso, runID, reasonCode?.rawValue])
    }

    static func staleMessage(_ db: Connection, offer: OfferRecord) throws -> String {
        guard let latest = try get(db, id: offer.id) else { return "offer \(offer.id) no longer exists" }
        let last = try events(db, offerID: offer.id).last
        return "offer \(offer.id) was changed meanwhile: it is now \(latest.status.rawValue)"
            + (last.map { " (\($0.toStatus) by \($0.actor) at \($0.at))" } ?? "") + "; nothing was changed"
    }

    static func lastDecisionNote(_ db: Connection, offerID: String) throws -> String {
        guard let last = try events(db, offerID: offerID).last else { return "" }
        return "; it became \(last.toStatus) by \(last.actor) at \(last.at)" + (last.reason.map { " (\($0))" } ?? "")
    }
}

extension OfferStore {
    /// Writes offers of the past as they happened, in one transaction: a run per distinct as_of
    /// (`command`), each offer with its first event dated by that as_of and its decisions on their
    /// days. For the demo's history, or a backfill from another tool. Returns how many offers.
    @discardableResult
    public static func backfill(_ db: Connection, _ offers: [PastOffer], command: String) throws -> Int {
        guard !offers.isEmpty else { return 0 }
        return try db.transaction { db in
            var runs: [Day: String] = [:]
            for day in Set(offers.map(\.asOf)).sorted() { runs[day] = UUID().uuidString.lowercased() }
            try db.copyIn("COPY runs (run_id, command, as_of, started_at, finished_at, accounts_scanned, accounts_flagged, offers_created, offers_refreshed, offers_expired) FROM STDIN") { copy in
                for (day, id) in runs.sorted(by: { $0.key < $1.key }) {
                    let made = String(offers.filter { $0.asOf == day }.count)
                    try copy.writeRow([id, command, day.iso, day.start.iso, day.start.iso, nil, nil, made, "0", "0"])
                }
            }
            let ids = offers.map { _ in UUID().uuidString.lowercased() }
            try db.copyIn("""
                COPY offers (account_id, offer_id, run_id, as_of, kind, rank, status, target, from_tier, to_tier, add_items, remove_items,
                             current_mrr, new_mrr, delta_mrr, one_time, acceptance_probability, expected_delta_mrr, reasons, rationale)
                FROM STDIN
                """) { copy in
                for (offer, id) in zip(offers, ids) {
                    let change = offer.change
                    try copy.writeRow([offer.accountID, id, runs[offer.asOf]!, offer.asOf.iso, offer.kind.rawValue, "1", offer.status.rawValue,
                                       offer.to.target, offer.from.tier, offer.to.tier, try PlanRun.json(change.add), try PlanRun.json(change.remove),
                                       String(offer.currentMRR), String(offer.newMRR), String(offer.newMRR - offer.currentMRR), "0",
                                       String(offer.probability), String(offer.probability * Double(offer.newMRR - offer.currentMRR)), "{}", offer.rationale])
                }
            }
            try db.copyIn("COPY offer_events (account_id, offer_id, from_status, to_status, actor, reason, at, run_id, reason_code) FROM STDIN") { copy in
                for (offer, id) in zip(offers, ids) {
                    try copy.writeRow([offer.accountID, id, nil, OfferStatus.proposed.rawValue, "tierplan \(command)", "planned for \(offer.asOf.iso)",
                                       offer.asOf.start.iso, runs[offer.asOf]!, nil])
                    var from = OfferStatus.proposed
                    for event in offer.events {
                        try copy.writeRow([offer.accountID, id, from.rawValue, event.status.rawValue, event.actor, event.reason, event.day.start.iso, nil,
                                           event.reasonCode?.rawValue])
                        from = event.status
                    }
                }
            }
            return offers.count
        }
    }
}
