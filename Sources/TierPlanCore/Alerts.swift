/// Which utilization a threshold alert watches.
public enum AlertMetric: String, Sendable, Codable, CaseIterable {
    case storage, seats
}

/// The thresholds of the usage alerts (contract: Alerts and webhooks), as fractions of the limit:
/// `policy.alerts: {storage: [0.8, 0.9, 1.0], seats: [0.9, 1.0]}`.
public struct AlertPolicy: Sendable, Equatable, Codable {
    public var storage: [Double] = [0.8, 0.9, 1.0]
    public var seats: [Double] = [0.9, 1.0]

    public init(storage: [Double] = [0.8, 0.9, 1.0], seats: [Double] = [0.9, 1.0]) { self.storage = storage; self.seats = seats }

    public func thresholds(_ metric: AlertMetric) -> [Double] {
        switch metric {
        case .storage: return storage
        case .seats: return seats
        }
    }
}

/// One account's utilization of one metric on a run's as_of; nil when it is not known (no storage
/// sample yet, or no seat limit).
public struct AlertReading: Sendable, Equatable {
    public var accountID: String
    public var metric: AlertMetric
    public var value: Double?

    public init(accountID: String, metric: AlertMetric, value: Double?) { self.accountID = accountID; self.metric = metric; self.value = value }

    /// The storage and seat readings of an account's signals.
    public static func of(_ signals: AccountSignals) -> [AlertReading] {
        [AlertReading(accountID: signals.accountID, metric: .storage, value: signals.storageUtilization),
         AlertReading(accountID: signals.accountID, metric: .seats, value: signals.seatUtilization)]
    }
}

/// A threshold that an account's utilization crossed upwards, or fell back under.
public struct ThresholdChange: Sendable, Equatable {
    public enum Direction: String, Sendable { case crossed, resolved }
    public var accountID: String
    public var metric: AlertMetric
    public var threshold: Double
    /// The utilization that caused it (nil when a threshold left the policy while crossed).
    public var value: Double?
    public var direction: Direction

    public init(accountID: String, metric: AlertMetric, threshold: Double, value: Double?, direction: Direction) {
        self.accountID = accountID; self.metric = metric; self.threshold = threshold; self.value = value; self.direction = direction
    }
}

/// The crossing rules of the usage alerts, on plain values.
public enum ThresholdAlerts {
    /// The thresholds `value` has reached (value ≥ threshold), in ascending order.
    public static func reached(_ value: Double?, thresholds: [Double]) -> [Double] {
        guard let value else { return [] }
        return Set(thresholds).filter { value >= $0 }.sorted()
    }

    /// What one reading changes against the thresholds already crossed (`active`, from the previous
    /// runs): every threshold reached and not active is crossed (so a first run raises what is
    /// already crossed, and a jump from 0.7 to 1.0 raises 0.8, 0.9 and 1.0 at once); every active one
    /// the value is back under is resolved, and so is one the policy no longer lists. An unknown
    /// value (nil) changes nothing: no sample is not a fall.
    public static func changes(_ reading: AlertReading, active: Set<Double>, thresholds: [Double]) -> [ThresholdChange] {
        let configured = Set(thresholds)
        func change(_ threshold: Double, _ direction: ThresholdChange.Direction) -> ThresholdChange {
            ThresholdChange(accountID: reading.accountID, metric: reading.metric, threshold: threshold, value: reading.value, direction: direction)
        }
        var result = active.subtracting(configured).sorted().map { change($0, .resolved) }
        guard let value = reading.value else { return result }
        result += active.intersection(configured).filter { value < $0 }.sorted(by: >).map { change($0, .resolved) }
        result += configured.subtracting(active).filter { value >= $0 }.sorted().map { change($0, .crossed) }
        return result
    }
}
