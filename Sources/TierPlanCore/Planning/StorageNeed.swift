/// Storage near or over the limit, or full soon: max(used, used + slope × horizon) / target
/// utilization, so that the offer still fits at the end of the horizon.
struct StorageNeed: NeedRule {
    func add(signals: AccountSignals, policy: Policy, to needs: inout Needs) {
        guard signals.flags.contains(where: \.isStorage), let used = signals.storageUsedBytes else { return }
        let projected = Double(used) + (signals.storageGrowthBytesPerDay ?? 0) * Double(policy.storageHorizonDays)
        needs.storageBytes = Int64((max(Double(used), projected) / policy.storageTargetUtilization).rounded(.up))
        needs.reasons += signals.flags.filter(\.isStorage)
    }
}
