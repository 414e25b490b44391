/// Storage near or over the limit, or full soon: max(used, used + slope × horizon) / target
/// utilization, so that the offer still fits at the end of the horizon.
struct StorageNeed: NeedRule {
    func add(signals: AccountSignals, policy: Policy, to needs: inout Needs) {
        guard signals.flags.contains(where: \.isStorage), let used = signals.storageUsedBytes else { return }
        needs.storageBytes = Self.capacity(used: used, slope: signals.storageGrowthBytesPerDay, policy: policy)
        needs.reasons += signals.flags.filter(\.isStorage)
    }

    /// The most storage a need asks for (2^60 bytes, about an exabyte): beyond any catalog, and far
    /// enough below Int64's end that limits and deficits computed from it cannot overflow.
    static let maxCapacity: Int64 = 1 << 60

    /// The storage capacity that still fits at the end of the horizon at the target utilization.
    static func capacity(used: Int64, slope: Double?, policy: Policy) -> Int64 {
        let projected = Double(used) + (slope ?? 0) * Double(policy.storageHorizonDays)
        let needed = (max(Double(used), projected) / policy.storageTargetUtilization).rounded(.up)
        return needed.isFinite && needed < Double(maxCapacity) ? Int64(needed) : maxCapacity
    }
}
