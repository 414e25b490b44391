import Foundation

/// The events tierplan sends to webhook endpoints (contract: Alerts and webhooks).
public enum WebhookEventType: String, Sendable, Codable, CaseIterable {
    case offerProposed = "offer.proposed"
    case offerApproved = "offer.approved"
    case offerRejected = "offer.rejected"
    case offerSnoozed = "offer.snoozed"
    case offerAccepted = "offer.accepted"
    case offerDeclined = "offer.declined"
    case offerExpired = "offer.expired"
    case thresholdCrossed = "usage.threshold_crossed"
    case thresholdResolved = "usage.threshold_resolved"
    case runCompleted = "run.completed"
    /// Sent to one endpoint from the webhooks page ("send test event"); never subscribed to.
    case test = "webhook.test"

    /// The types an endpoint can subscribe to.
    public static let subscribable: [WebhookEventType] = allCases.filter { $0 != .test }

    /// The event an offer's change to `status` raises, if any (snoozed → proposed raises none).
    public static func forOffer(becoming status: OfferStatus) -> WebhookEventType? {
        switch status {
        case .proposed: return .offerProposed
        case .approved: return .offerApproved
        case .rejected: return .offerRejected
        case .snoozed: return .offerSnoozed
        case .accepted: return .offerAccepted
        case .declined: return .offerDeclined
        case .expired: return .offerExpired
        case .heldOut: return nil
        }
    }

    /// `--events offer.approved,usage.threshold_crossed` (or `*` for every type), refused with the
    /// unknown name.
    public static func parseList(_ text: String) throws -> [WebhookEventType] {
        let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if names == ["*"] { return subscribable }
        guard !names.isEmpty else { throw WebhookInputError("--events: empty; give a comma-separated list of event types, or *") }
        var result: [WebhookEventType] = []
        for name in names {
            guard let type = WebhookEventType(rawValue: name), type != .test else {
                throw WebhookInputError("--events: unknown event type '\(name)' (known: \(subscribable.map(\.rawValue).joined(separator: ", ")), or *)")
            }
            if !result.contains(type) { result.append(type) }
        }
        return result
    }
}

/// The body an endpoint receives: the contract's JSON event, or a Slack incoming-webhook message.
public enum WebhookFormat: String, Sendable, Codable, CaseIterable {
    case json, slack
}

/// Bad input to a webhook command or form: says which field and value.
public struct WebhookInputError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// When a failed delivery is tried again: 1 minute after the first failure, doubling each time, up to
/// `policy.webhooks.max_attempts` attempts in all; then the delivery is `failed`.
public struct WebhookRetryPolicy: Sendable, Equatable, Codable {
    public var maxAttempts: Int = 12

    public init(maxAttempts: Int = 12) { self.maxAttempts = maxAttempts }

    /// The first delay, in seconds.
    public static let firstDelaySeconds: Int64 = 60

    /// After `attempts` attempts (≥ 1) of which the last failed at `failedAt`: when to try again, or nil
    /// when no attempt is left.
    public func nextAttempt(after attempts: Int, failedAt: Timestamp) -> Timestamp? {
        guard attempts >= 1, attempts < maxAttempts else { return nil }
        let seconds = Self.firstDelaySeconds << Int64(min(attempts - 1, 40))
        return Timestamp(microseconds: failedAt.microseconds + seconds * 1_000_000)
    }
}

/// The `Tierplan-Signature` header: `t=UNIX_SECONDS,v1=HEX(HMAC-SHA256(secret, "t.body"))`. The MAC
/// itself is computed where the cryptography is (TierPlanStore); these are the message and the header.
public enum WebhookSignature {
    /// What is signed: the timestamp, a dot, the body as sent.
    public static func signedPayload(timestamp: Int64, body: [UInt8]) -> [UInt8] {
        Array("\(timestamp).".utf8) + body
    }

    public static func header(timestamp: Int64, hexMAC: String) -> String { "t=\(timestamp),v1=\(hexMAC)" }

    /// The timestamp and the v1 MACs of a header (a receiver's first step); nil when it is malformed.
    public static func parse(_ header: String) -> (timestamp: Int64, signatures: [String])? {
        var timestamp: Int64?
        var signatures: [String] = []
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { return nil }
            if pair[0] == "t" { timestamp = Int64(pair[1]) } else if pair[0] == "v1" { signatures.append(pair[1]) }
        }
        guard let timestamp, !signatures.isEmpty else { return nil }
        return (timestamp, signatures)
    }

    public static func hex(_ sequence: some Sequence<UInt8>) -> String {
        // Written in place (a run makes tens of thousands of event ids with it).
        let bytes = Array(sequence)
        return String(unsafeUninitializedCapacity: 2 * bytes.count) { out in
            let digits: StaticString = "0123456789abcdef"
            var i = 0
            for b in bytes {
                out[i] = digits.utf8Start[Int(b >> 4)]; out[i + 1] = digits.utf8Start[Int(b & 0x0f)]
                i += 2
            }
            return i
        }
    }
}

/// What an event says, for a chat message: the facts a person reads at a glance.
public struct WebhookSummary: Sendable, Equatable {
    public var type: WebhookEventType
    public var accountID: String?
    /// Offers: kind, tiers and Δ MRR; alerts: metric, threshold and value; runs: counts.
    public var offerKind: String?
    public var fromTier: String?
    public var toTier: String?
    public var deltaMRR: Int?
    public var metric: AlertMetric?
    public var threshold: Double?
    public var value: Double?
    public var asOf: Day?
    public var offersCreated: Int?
    public var accountsFlagged: Int?

    public init(type: WebhookEventType) { self.type = type }

    /// The `text` of a Slack incoming-webhook message.
    public var slackText: String {
        let account = accountID.map { "*\($0)*" } ?? "an account"
        func percent(_ v: Double?) -> String { v.map { "\(Int(($0 * 100).rounded()))%" } ?? "?" }
        let offer = [offerKind?.replacingOccurrences(of: "_", with: " "),
                     fromTier.flatMap { from in toTier.map { $0 == from ? "on \(from)" : "\(from) → \($0)" } },
                     deltaMRR.map { "Δ MRR \($0 >= 0 ? "+" : "")\($0)" }].compactMap { $0 }.joined(separator: ", ")
        let offerPart = offer.isEmpty ? "" : " (\(offer))"
        switch type {
        case .offerProposed: return "tierplan: new offer for \(account)\(offerPart), waiting for review"
        case .offerApproved: return "tierplan: offer for \(account) approved\(offerPart)"
        case .offerRejected: return "tierplan: offer for \(account) rejected\(offerPart)"
        case .offerSnoozed: return "tierplan: offer for \(account) snoozed\(offerPart)"
        case .offerAccepted: return "tierplan: \(account) accepted the offer\(offerPart)"
        case .offerDeclined: return "tierplan: \(account) declined the offer\(offerPart)"
        case .offerExpired: return "tierplan: offer for \(account) expired\(offerPart)"
        case .thresholdCrossed:
            return "tierplan: \(account) \(metric?.rawValue ?? "usage") at \(percent(value)) of its limit (crossed \(percent(threshold)))"
                + (asOf.map { " as of \($0.iso)" } ?? "")
        case .thresholdResolved:
            return "tierplan: \(account) \(metric?.rawValue ?? "usage") back under \(percent(threshold)) (now \(percent(value)))"
                + (asOf.map { " as of \($0.iso)" } ?? "")
        case .runCompleted:
            return "tierplan: run" + (asOf.map { " for \($0.iso)" } ?? "") + " completed: "
                + "\(accountsFlagged ?? 0) accounts flagged, \(offersCreated ?? 0) new offers"
        case .test: return "tierplan: test event: this endpoint receives tierplan's webhooks"
        }
    }
}
