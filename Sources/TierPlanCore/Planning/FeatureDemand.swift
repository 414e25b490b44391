/// Features used on enough days that the account's configuration does not include: each one.
struct FeatureDemand: NeedRule {
    func add(signals: AccountSignals, policy: Policy, to needs: inout Needs) {
        guard !signals.demandedFeatures.isEmpty else { return }
        needs.features = signals.demandedFeatures
        needs.reasons.append(.featureDemand)
    }
}
