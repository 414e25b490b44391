import Foundation

/// A past offer with its trail of decisions, written as it happened (the demo's history, or a
/// backfill from another tool): made by a run for `asOf`, then each event on its day.
public struct PastOffer: Sendable {
    public struct Event: Sendable {
        public var day: Day
        public var status: OfferStatus
        public var actor: String
        public var reason: String?
        /// Why the customer declined (declined events).
        public var reasonCode: DeclineReason?
        public init(day: Day, status: OfferStatus, actor: String, reason: String?, reasonCode: DeclineReason? = nil) {
            self.day = day; self.status = status; self.actor = actor; self.reason = reason; self.reasonCode = reasonCode
        }
    }

    public var accountID: String
    public var asOf: Day
    public var kind: OfferKind
    public var from: Configuration
    public var to: Configuration
    public var currentMRR: MinorUnits
    public var newMRR: MinorUnits
    public var probability: Double
    public var rationale: String
    /// After the first (proposed) one, made by the run.
    public var events: [Event]

    public init(accountID: String, asOf: Day, kind: OfferKind, from: Configuration, to: Configuration, currentMRR: MinorUnits,
                newMRR: MinorUnits, probability: Double, rationale: String, events: [Event]) {
        self.accountID = accountID; self.asOf = asOf; self.kind = kind; self.from = from; self.to = to; self.currentMRR = currentMRR
        self.newMRR = newMRR; self.probability = probability; self.rationale = rationale; self.events = events
    }

    public var status: OfferStatus { events.last?.status ?? .proposed }
    public var change: (add: [AddonQuantity], remove: [AddonQuantity]) { Planner.difference(from: from.addons, to: to.addons) }
}
