/// One reason an account needs more than it has: a rule that reads the signals and adds its part
/// to the needs the upsell search must meet together.
protocol NeedRule: Sendable {
    func add(signals: AccountSignals, policy: Policy, to needs: inout Needs)
}

/// What the account needs, from its flags.
public struct Needs: Sendable, Equatable {
    /// Storage capacity in bytes the new configuration must reach.
    public var storageBytes: Int64?
    /// Seats the new configuration must reach.
    public var seats: Int?
    /// Features it must include on top of those the account has.
    public var features: [String]
    public var reasons: [SignalFlag]

    public var isEmpty: Bool { storageBytes == nil && seats == nil && features.isEmpty }

    /// Every need rule's part, in order (storage, seats, feature demand).
    public init(signals: AccountSignals, policy: Policy) {
        self.init()
        for rule in Needs.rules { rule.add(signals: signals, policy: policy, to: &self) }
    }

    /// The rules an upsell answers, each in its own file.
    static let rules: [any NeedRule] = [StorageNeed(), SeatNeed(), FeatureDemand()]

    public init(storageBytes: Int64? = nil, seats: Int? = nil, features: [String] = [], reasons: [SignalFlag] = []) {
        self.storageBytes = storageBytes; self.seats = seats; self.features = features; self.reasons = reasons
    }
}

