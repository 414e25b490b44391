import Foundation

/// Plain-words explanations with the numbers a customer success person needs.
public enum Rationale {
    public static func sentence(for offer: PlannedOffer, signals: AccountSignals, solution: PricedSolution, catalog: Catalog) -> String {
        if offer.kind == .trialConversion { return trialConversion(offer, signals: signals, catalog: catalog) }
        var parts: [String] = []
        let reasons = Set(offer.reasons)
        if reasons.contains(where: \.isStorage), let used = signals.storageUsedBytes {
            var text = "Storage at \(percent(signals.storageUtilization ?? 0)) of \(gigabytes(signals.storageLimitBytes)) (\(gigabytes(used)) used)"
            if let slope = signals.storageGrowthBytesPerDay {
                text += slope > 0 ? ", growing \(gigabytes(Int64(slope.rounded()))) a day" : (slope < 0 ? ", shrinking" : ", flat")
            }
            if signals.has(.storageOverLimit) {
                text += ", over the limit"
            } else if let days = signals.storageDaysToFull {
                text += ", full in about \(Int(days.rounded())) day\(Int(days.rounded()) == 1 ? "" : "s")"
            }
            parts.append(text + ".")
        }
        if reasons.contains(.seatsNearLimit) {
            parts.append("\(signals.activeUsers) active users on \(signals.seatLimit) seats (\(percent(signals.seatUtilization ?? 0))).")
        }
        if reasons.contains(.featureDemand) {
            let tierName = catalog.tier(signals.tier)?.name ?? signals.tier
            let uses = signals.demandedFeatures.map { "\(featureName($0, catalog)) on \(signals.featureDays[$0] ?? 0) days" }
            parts.append("Uses \(uses.joined(separator: ", ")) of the last \(Watcher.windowDays), not included in \(tierName).")
        }
        if reasons.contains(.lowAdoption) {
            let adopted = signals.adoptedFeatures.map { featureName($0, catalog) }
            parts.append("Uses \(signals.adoptedFeatures.count) of \(signals.includedFeatures.count) included features"
                         + (adopted.isEmpty ? "" : " (\(adopted.joined(separator: ", ")))")
                         + " after \(signals.accountAgeDays) days.")
        }
        let what = description(of: offer, catalog: catalog)
        if offer.kind == .adoption {
            parts.append("Offer \(what), one-time \(money(offer.oneTime, catalog.currency)); the price stays \(money(offer.currentMRR, catalog.currency)) a month.")
        } else {
            var text = "Offer \(what): \(money(offer.currentMRR, catalog.currency)) → \(money(offer.newMRR, catalog.currency)) a month (+\(money(offer.deltaMRR, catalog.currency)))"
            var after: [String] = []
            if reasons.contains(where: \.isStorage) { after.append("\(gigabytes(solution.storageLimitBytes)) of storage") }
            if reasons.contains(.seatsNearLimit) { after.append("\(solution.seatLimit) seats") }
            if !after.isEmpty { text += ", giving \(after.joined(separator: " and "))" }
            parts.append(text + ".")
        }
        return parts.joined(separator: " ")
    }

    /// "In the last 28 days your team stored 62 GB, had 7 people active and used Reports (20 days) and
    /// Sharing (12 days): Team at $79.00 a month covers that; Business adds Automation you did not use."
    static func trialConversion(_ offer: PlannedOffer, signals: AccountSignals, catalog: Catalog) -> String {
        let used = TrialConversionSource.usedFeatures(signals, policy: catalog.policy)
        let usage = [signals.storageUsedBytes.map { "stored \(gigabytes($0))" } ?? "stored nothing",
                     "had \(signals.activeUsers) \(signals.activeUsers == 1 ? "person" : "people") active",
                     used.isEmpty ? "used no feature on \(catalog.policy.demandMinDays) days or more"
                         : "used " + list(used.map { "\(featureName($0, catalog)) (\(signals.featureDays[$0] ?? 0) days)" })]
        var text = "In the last \(Watcher.windowDays) days your team \(list(usage)): \(catalog.tier(offer.toTier)?.name ?? offer.toTier)"
        let target = catalog.tier(offer.toTier), trial = catalog.tier(offer.fromTier)
        let extras = offer.add.map { item in item.quantity == 1 ? catalog.addon(item.addon)?.name ?? item.addon : "\(item.quantity) × \(catalog.addon(item.addon)?.name ?? item.addon)" }
        if !extras.isEmpty { text += " with " + list(extras) }
        text += " at \(money(offer.newMRR, catalog.currency)) a month covers that"
        if let target, let trial, trial.rank > target.rank {
            let unused = catalog.limits(tier: trial.code, addons: []).features.subtracting(catalog.limits(tier: target.code, addons: offer.add).features)
            text += unused.isEmpty ? "; \(trial.name), the tier of the trial, adds room you did not use"
                : "; \(trial.name) adds \(list(unused.sorted().map { featureName($0, catalog) })) you did not use"
        } else if let target, let trial, trial.rank < target.rank {
            let need = TrialConversionSource.requirement(signals, policy: catalog.policy)
            let has = catalog.limits(tier: trial.code, addons: [])
            var short: [String] = []
            if has.storage < need.storageBytes { short.append("room for \(gigabytes(need.storageBytes)) (it has \(gigabytes(has.storage)))") }
            if has.seats < need.seats { short.append("\(need.seats) seats (it has \(has.seats))") }
            let lacking = need.features.subtracting(has.features).sorted().map { featureName($0, catalog) }
            if !lacking.isEmpty { short.append(list(lacking)) }
            text += short.isEmpty ? "; \(trial.name), the tier of the trial, would cost more with the add-ons it needs"
                : "; \(trial.name), the tier of the trial, lacks \(list(short))"
        }
        return text + "."
    }

    /// "a", "a and b", "a, b and c".
    static func list(_ items: [String]) -> String {
        items.count <= 2 ? items.joined(separator: " and ") : items.dropLast().joined(separator: ", ") + " and " + items.last!
    }

    /// Where the acceptance probability comes from: "Acceptance 0.34 from 52 outcomes of addon offers to agency accounts."
    public static func acceptance(_ estimate: AcceptanceEstimate, catalog: Catalog) -> String {
        let kind = estimate.kind.words
        var text = "Acceptance \(fixed(estimate.probability, places: 2)) from \(grouped(estimate.outcomes)) outcome\(estimate.outcomes == 1 ? "" : "s") of \(kind) offers"
        switch (estimate.grouping, estimate.group) {
        case (.segment, let group?): text += group.isEmpty ? " to accounts without a segment" : " to \(group) accounts"
        case (.tier, let group?): text += " to accounts on \(catalog.tier(group)?.name ?? group)"
        default: break
        }
        if estimate.group != nil && estimate.outcomes == 0 { text += " (so far the rate of all \(kind) offers)" }
        return text + "."
    }

    static func description(of offer: PlannedOffer, catalog: Catalog) -> String {
        var items: [String] = []
        if offer.toTier != offer.fromTier { items.append("\(catalog.tier(offer.toTier)?.name ?? offer.toTier) tier") }
        for item in offer.add {
            let name = catalog.addon(item.addon)?.name ?? item.addon
            items.append(item.quantity == 1 ? name : "\(item.quantity) × \(name)")
        }
        var text = items.joined(separator: " + ")
        if !offer.remove.isEmpty {
            text += " (dropping " + offer.remove.map { "\($0.quantity) × \(catalog.addon($0.addon)?.name ?? $0.addon)" }.joined(separator: ", ") + ")"
        }
        return text
    }

    static func featureName(_ key: String, _ catalog: Catalog) -> String { catalog.feature(key)?.name ?? key }

    public static func percent(_ ratio: Double) -> String { "\(Int((ratio * 100).rounded()))%" }

    /// Bytes in the catalog's GB (10^9), one decimal under 100 GB.
    public static func gigabytes(_ bytes: Int64) -> String {
        if bytes != 0 && abs(bytes) < 100_000_000 { return "\(Int((Double(bytes) / 1_000_000).rounded())) MB" }
        let gb = Double(bytes) / Double(bytesPerGB)
        if gb >= 100 || gb == gb.rounded() { return "\(Int(gb.rounded())) GB" }
        return fixed(gb, places: 1) + " GB"
    }

    /// `value` with `places` decimals, exactly as `String(format: "%.Nf")` writes it (C's printf: the
    /// binary value rounded, ties to even), without Foundation's formatter, which cost a run ~5 % of
    /// its CPU (two numbers in every offer's rationale).
    public static func fixed(_ value: Double, places: Int) -> String {
        let format = "%.\(max(0, min(places, 17)))f"
        var buffer = [CChar](repeating: 0, count: 48)
        let needed = Int(withVaList([value]) { vsnprintf(&buffer, buffer.count, format, $0) })
        if needed >= buffer.count {   // |value| ≥ 10^30 or so
            buffer = [CChar](repeating: 0, count: needed + 1)
            _ = withVaList([value]) { vsnprintf(&buffer, buffer.count, format, $0) }
        }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Minor units as a price: `$79.00`, `€12.50`, else `12.50 CHF`.
    /// A whole number with thousands separators: 1,234,567.
    public static func grouped(_ n: Int) -> String {
        var out = ""
        for (i, c) in String(n).reversed().enumerated() {
            if i > 0 && i % 3 == 0 && c != "-" { out.append(",") }
            out.append(c)
        }
        return String(out.reversed())
    }

    public static func money(_ amount: MinorUnits, _ currency: String) -> String {
        let sign = amount < 0 ? "-" : ""
        let value = abs(amount)
        let text = "\(value / 100).\(value % 100 < 10 ? "0" : "")\(value % 100)"
        switch currency {
        case "USD": return sign + "$" + text
        case "EUR": return sign + "€" + text
        case "GBP": return sign + "£" + text
        default: return sign + text + " " + currency
        }
    }
}
