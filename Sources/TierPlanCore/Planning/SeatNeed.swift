/// Seats near the limit: ceil(active users / target utilization).
struct SeatNeed: NeedRule {
    func add(signals: AccountSignals, policy: Policy, to needs: inout Needs) {
        guard signals.has(.seatsNearLimit) else { return }
        needs.seats = Self.seats(activeUsers: signals.activeUsers, policy: policy)
        needs.reasons.append(.seatsNearLimit)
    }

    /// ceil(active users / target utilization); the epsilon keeps 8 / 0.8 at 10 seats despite binary floating point.
    static func seats(activeUsers: Int, policy: Policy) -> Int {
        Int((Double(activeUsers) / policy.seatTargetUtilization - 1e-9).rounded(.up))
    }
}
