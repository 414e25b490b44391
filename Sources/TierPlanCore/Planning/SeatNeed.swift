/// Seats near the limit: ceil(active users / target utilization).
struct SeatNeed: NeedRule {
    func add(signals: AccountSignals, policy: Policy, to needs: inout Needs) {
        guard signals.has(.seatsNearLimit) else { return }
        // The epsilon keeps 8 / 0.8 at 10 seats despite binary floating point.
        needs.seats = Int((Double(signals.activeUsers) / policy.seatTargetUtilization - 1e-9).rounded(.up))
        needs.reasons.append(.seatsNearLimit)
    }
}
