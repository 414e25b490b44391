import Foundation

/// Where an offer is in its life.
public enum OfferStatus: String, Sendable, Codable, CaseIterable {
    case proposed, approved, rejected, snoozed, expired, heldOut = "held_out", accepted, declined

    /// Open offers await a decision or an outcome.
    public var isOpen: Bool { self == .proposed || self == .approved }

    /// Current offers are what a run reconciles with its plan (keeps, refreshes or expires): open or held out.
    public var isCurrent: Bool { isOpen || self == .heldOut }

    /// A refusal starts a kind's cooldown for the account (the reviewer's or the customer's no).
    public var isRefusal: Bool { self == .rejected || self == .declined }

    /// Outcomes teach the acceptance model.
    public var isOutcome: Bool { self == .accepted || self == .declined }
}

/// Why a customer said no to an approved offer (contract: Offer life); every decline carries one.
public enum DeclineReason: String, Sendable, Codable, CaseIterable {
    case price, budget, timing, noNeed = "no_need", competitor, other

    /// The codes as users type them: `price|budget|timing|no_need|competitor|other`.
    public static var list: String { allCases.map(\.rawValue).joined(separator: "|") }

    /// How the review page and the finance page name it.
    public var label: String {
        switch self {
        case .price: return "Price too high"
        case .budget: return "No budget"
        case .timing: return "Not now"
        case .noNeed: return "No need"
        case .competitor: return "Chose a competitor"
        case .other: return "Other"
        }
    }
}

/// A change someone (or the nightly job) asks of an offer.
public enum OfferDecision: Sendable, Equatable {
    case approve
    case reject(reason: String)
    case snooze(until: Day)
    case accept
    case decline(reasonCode: DeclineReason)
    case expire
    case unsnooze

    public var name: String {
        switch self {
        case .approve: return "approve"
        case .reject: return "reject"
        case .snooze: return "snooze"
        case .accept: return "accept"
        case .decline: return "decline"
        case .expire: return "expire"
        case .unsnooze: return "unsnooze"
        }
    }
}

/// The offer life cycle of the contract: proposed → approved | rejected | snoozed | expired | held_out;
/// snoozed → proposed when its date passes; approved → accepted | declined | expired.
extension OfferDecision {
    /// Why a reviewer's decision, as asked for, cannot be made.
    public enum Problem: Error, Equatable {
        case unknown, reasonMissing, dateMissing, reasonCodeMissing, reasonCodeUnknown(String)
        /// A field that this decision does not take (until on approve or reject; a reason code on acceptance).
        case notFor(field: String, decision: String)

        /// One line a reviewer or a script can act on.
        public var message: String {
            switch self {
            case .unknown: return "unknown decision"
            case .reasonMissing: return "reject needs a reason"
            case .dateMissing: return "snooze needs until as YYYY-MM-DD"
            case .reasonCodeMissing: return "a decline needs a reason_code (\(DeclineReason.list))"
            case .reasonCodeUnknown(let code): return "unknown reason_code \"\(code)\" (known: \(DeclineReason.list))"
            case .notFor(let field, let decision): return "\(field) is not for \(decision)"
            }
        }
    }

    /// A customer's outcome by name (the review page and the API): accepted; declined with a reason code.
    public static func outcome(_ name: String?, reasonCode: String?) -> Result<OfferDecision, Problem> {
        switch name {
        case "accepted":
            if let reasonCode, !reasonCode.isEmpty { return .failure(.notFor(field: "reason_code", decision: "accepted")) }
            return .success(.accept)
        case "declined":
            guard let text = reasonCode?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else { return .failure(.reasonCodeMissing) }
            guard let code = DeclineReason(rawValue: text) else { return .failure(.reasonCodeUnknown(text)) }
            return .success(.decline(reasonCode: code))
        default: return .failure(.unknown)
        }
    }

    /// The reason code an event of this decision stores (declines only).
    public var reasonCode: DeclineReason? {
        if case .decline(let code) = self { return code }
        return nil
    }

    /// A reviewer's decision by name (the review page and the API): approve; reject with a reason
    /// (trimmed, not empty); snooze until a day (YYYY-MM-DD).
    public static func review(_ name: String?, reason: String?, until: String?) -> Result<OfferDecision, Problem> {
        if let until, !until.isEmpty, name == "approve" || name == "reject" { return .failure(.notFor(field: "until", decision: name!)) }
        switch name {
        case "approve": return .success(.approve)
        case "reject":
            guard let reason = reason?.trimmingCharacters(in: .whitespacesAndNewlines), !reason.isEmpty else { return .failure(.reasonMissing) }
            return .success(.reject(reason: reason))
        case "snooze":
            guard let until = until.flatMap({ Day(iso: $0) }) else { return .failure(.dateMissing) }
            return .success(.snooze(until: until))
        default: return .failure(.unknown)
        }
    }
}

public enum OfferLife {
    /// Accepting an offer expires the account's other offers of which this holds: open upsells
    /// (the account is taking one change; an enablement offer stays).
    public static func expiresOnAcceptance(kind: OfferKind, status: OfferStatus) -> Bool { kind.isUpsell && status.isOpen }

    public struct IllegalTransition: Error, CustomStringConvertible, Equatable {
        public let from: OfferStatus
        public let decision: String
        public var description: String {
            let allowed = OfferLife.allowed(from: from)
            return "cannot \(decision) an offer that is \(from.rawValue)"
                + (allowed.isEmpty ? " (it is final)" : " (from \(from.rawValue) only: \(allowed.joined(separator: ", ")))")
        }
    }

    public static func next(from status: OfferStatus, _ decision: OfferDecision) throws(IllegalTransition) -> OfferStatus {
        switch (status, decision) {
        case (.proposed, .approve): return .approved
        case (.proposed, .reject): return .rejected
        case (.proposed, .snooze): return .snoozed
        case (.proposed, .expire), (.approved, .expire): return .expired
        case (.snoozed, .unsnooze): return .proposed
        case (.approved, .accept): return .accepted
        case (.approved, .decline): return .declined
        default: throw IllegalTransition(from: status, decision: decision.name)
        }
    }

    /// Why a decision dated `day` cannot be recorded, if it cannot: before the day the offer was
    /// planned for, before the offer's previous decision (history is never rewritten), or a snooze
    /// that would already be over.
    public static func dateProblem(_ decision: OfferDecision, on day: Day, offerAsOf: Day, lastDecision: Day?) -> String? {
        if day < offerAsOf { return "the decision day \(day.iso) is before the offer's as_of \(offerAsOf.iso)" }
        if let lastDecision, day < lastDecision {
            return "the decision day \(day.iso) is before the offer's previous decision on \(lastDecision.iso)"
        }
        if case .snooze(let until) = decision, until <= day {
            return "--until \(until.iso) must be after the day of the snooze (\(day.iso))"
        }
        return nil
    }

    static func allowed(from status: OfferStatus) -> [String] {
        switch status {
        case .proposed: return ["approve", "reject", "snooze"]
        case .approved: return ["outcome accepted", "outcome declined"]
        case .snoozed: return ["back to proposed when its date passes"]
        default: return []
        }
    }
}

/// An offer already in the database that a new plan may keep, refresh or expire.
public struct ExistingOffer: Sendable, Equatable {
    public var id: String
    public var accountID: String
    public var kind: OfferKind
    public var target: String
    public var status: OfferStatus

    public init(id: String, accountID: String, kind: OfferKind, target: String, status: OfferStatus) {
        self.id = id; self.accountID = accountID; self.kind = kind; self.target = target; self.status = status
    }
}

/// What a plan does to the offers table.
public struct Reconciliation: Sendable, Equatable {
    /// New offers (proposed, or held_out for holdout accounts).
    public var inserts: [PlannedOffer] = []
    /// Offers kept with their id and status, their evidence and probability refreshed.
    public var refreshes: [(id: String, status: OfferStatus, offer: PlannedOffer)] = []
    /// Proposed offers whose need is gone or whose target changed.
    public var expirations: [ExistingOffer] = []
    /// Approved offers kept as they are although the plan now suggests another target.
    public var keptApproved: [ExistingOffer] = []

    public static func == (a: Reconciliation, b: Reconciliation) -> Bool {
        a.inserts == b.inserts && a.expirations == b.expirations && a.keptApproved == b.keptApproved
            && a.refreshes.map(\.id) == b.refreshes.map(\.id) && a.refreshes.map(\.offer) == b.refreshes.map(\.offer)
    }

    /// Matches a plan against the open (and held-out) offers: same account, kind and target is the
    /// same offer, kept and refreshed; a proposed offer of that kind with another target is replaced;
    /// an approved one is kept as it is; a proposed offer nothing asks for any more expires.
    public static func reconcile(planned: [PlannedOffer], existing: [ExistingOffer]) -> Reconciliation {
        var result = Reconciliation()
        var byKey: [String: [ExistingOffer]] = [:]
        for offer in existing { byKey[offer.accountID + "\u{1F}" + offer.kind.rawValue, default: []].append(offer) }
        var used = Set<String>()
        for offer in planned {
            let candidates = byKey[offer.accountID + "\u{1F}" + offer.kind.rawValue] ?? []
            if let same = candidates.first(where: { $0.target == offer.target && !used.contains($0.id) }) {
                used.insert(same.id)
                result.refreshes.append((same.id, same.status, offer))
            } else if let approved = candidates.first(where: { $0.status == .approved }) {
                if !used.contains(approved.id) { result.keptApproved.append(approved) }
                used.insert(approved.id)
            } else {
                result.inserts.append(offer)
            }
        }
        result.expirations = existing.filter { $0.status == .proposed && !used.contains($0.id) }
        return result
    }
}
