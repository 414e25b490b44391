import Foundation

/// A parsed document (YAML or similar) with the line of every node, so errors can point at it.
public indirect enum SourceNode: Sendable, Equatable {
    case scalar(String, line: Int)
    case list([SourceNode], line: Int)
    case map([(key: String, value: SourceNode)], line: Int)

    public var line: Int {
        switch self {
        case .scalar(_, let line), .list(_, let line), .map(_, let line): return line
        }
    }

    public static func == (a: SourceNode, b: SourceNode) -> Bool {
        switch (a, b) {
        case let (.scalar(x, l1), .scalar(y, l2)): return x == y && l1 == l2
        case let (.list(x, l1), .list(y, l2)): return x == y && l1 == l2
        case let (.map(x, l1), .map(y, l2)):
            return l1 == l2 && x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }
}

/// Turns a catalog document into a validated `Catalog`, or refuses it with every wrong line.
public struct CatalogParser {
    public let file: String
    private var errors: [InputError] = []

    public init(file: String) { self.file = file }

    /// Validates the whole document; throws `InputErrors` listing each problem with its line.
    public static func parse(_ root: SourceNode, file: String) throws -> Catalog {
        var parser = CatalogParser(file: file)
        let catalog = parser.catalog(root)
        if !parser.errors.isEmpty || catalog == nil {
            throw InputErrors(parser.errors.isEmpty
                ? [InputError(file: file, line: root.line, reason: "not a catalog")] : parser.errors)
        }
        return catalog!
    }

    private mutating func fail(_ node: SourceNode, _ field: String?, _ value: String? = nil, _ reason: String) {
        errors.append(InputError(file: file, line: node.line, field: field, value: value, reason: reason))
    }

    // MARK: Document

    private mutating func catalog(_ root: SourceNode) -> Catalog? {
        guard let top = fields(root, context: "the catalog", allowed: ["currency", "features", "tiers", "addons", "bundles", "policy"],
                               required: ["currency", "tiers"]) else { return nil }
        var currency = "USD"
        if let node = top["currency"], let text = string(node, "currency") {
            if text.count == 3, text.allSatisfy({ $0.isLetter && $0.isUppercase }) { currency = text }
            else { fail(node, "currency", text, "must be a three-letter ISO 4217 code such as USD") }
        }
        // References are checked against every code the file declares, even in an entry that is
        // itself wrong, so that one mistake is reported once, at its own line.
        let featureNodes = list(top["features"], "features"), tierNodes = list(top["tiers"], "tiers")
        let featureKeys = Self.declared(featureNodes, "key"), tierCodes = Self.declared(tierNodes, "code")
        var features: [Feature] = []
        for node in featureNodes {
            guard let feature = feature(node) else { continue }
            if features.contains(where: { $0.key == feature.key }) { fail(node, "key", feature.key, "duplicate feature key"); continue }
            features.append(feature)
        }
        var tiers: [Tier] = []
        for node in tierNodes {
            guard let tier = tier(node, rank: tiers.count, features: featureKeys) else { continue }
            if tiers.contains(where: { $0.code == tier.code }) { fail(node, "code", tier.code, "duplicate tier code"); continue }
            tiers.append(tier)
        }
        if tierNodes.isEmpty, let node = top["tiers"] { fail(node, "tiers", nil, "at least one tier is required") }
        var addons: [Addon] = []
        let addonNodes = list(top["addons"], "addons")
        for node in addonNodes {
            guard let addon = addon(node, tiers: tierCodes, features: featureKeys) else { continue }
            if addons.contains(where: { $0.code == addon.code }) { fail(node, "code", addon.code, "duplicate add-on code"); continue }
            addons.append(addon)
        }
        // Bundles are add-ons of add-ons: their codes share the add-ons' namespace.
        let singles = addons, declaredAddons = Self.declared(addonNodes, "code")
        let bundleNodes = list(top["bundles"], "bundles"), declaredBundles = Self.declared(bundleNodes, "code")
        for node in bundleNodes {
            guard let bundle = bundle(node, tiers: tiers, addons: singles, declared: declaredAddons, bundles: declaredBundles) else { continue }
            if singles.contains(where: { $0.code == bundle.code }) || declaredAddons.contains(bundle.code) {
                fail(node, "code", bundle.code, "code already used by an add-on (add-ons and bundles share codes)"); continue
            }
            if addons.contains(where: { $0.code == bundle.code }) { fail(node, "code", bundle.code, "duplicate bundle code"); continue }
            addons.append(bundle)
        }
        var policy = Policy()
        if let node = top["policy"] { policy = self.policy(node) }
        return Catalog(currency: currency, features: features, tiers: tiers, addons: addons, policy: policy)
    }

    private mutating func feature(_ node: SourceNode) -> Feature? {
        guard let f = fields(node, context: "a feature", allowed: ["key", "name"], required: ["key"]),
              let key = code(f["key"]!, "key") else { return nil }
        let name = f["name"].flatMap { string($0, "name") } ?? key
        return Feature(key: key, name: name)
    }

    private mutating func tier(_ node: SourceNode, rank: Int, features: Set<String>) -> Tier? {
        guard let f = fields(node, context: "a tier", allowed: ["code", "name", "price_monthly", "storage_gb", "seats", "features"],
                             required: ["code", "price_monthly", "storage_gb", "seats"]) else { return nil }
        let code = code(f["code"]!, "code")
        let price = amount(f["price_monthly"]!, "price_monthly", max: Self.maxPrice)
        let storage = amount(f["storage_gb"]!, "storage_gb", max: Self.maxStorageGB)
        let seats = amount(f["seats"]!, "seats", max: Self.maxSeats)
        var tierFeatures: [String] = []
        for item in list(f["features"], "features") {
            guard let key = string(item, "features") else { continue }
            if !features.contains(key) { fail(item, "features", key, "unknown feature") }
            else if tierFeatures.contains(key) { fail(item, "features", key, "feature listed twice") }
            else { tierFeatures.append(key) }
        }
        guard let code, let price, let storage, let seats else { return nil }
        let name = f["name"].flatMap { string($0, "name") } ?? code
        return Tier(code: code, name: name, rank: rank, priceMonthly: price, storageGB: storage, seats: seats, features: tierFeatures)
    }

    private mutating func addon(_ node: SourceNode, tiers: Set<String>, features: Set<String>) -> Addon? {
        guard let f = fields(node, context: "an add-on",
                             allowed: ["code", "name", "kind", "storage_gb", "seats", "feature", "price_monthly", "price_once", "available_on"],
                             required: ["code", "kind"]) else { return nil }
        let code = code(f["code"]!, "code")
        var kind: AddonKind?
        if let text = string(f["kind"]!, "kind") {
            kind = AddonKind(rawValue: text)
            if kind == nil { fail(f["kind"]!, "kind", text, "must be one of storage, seats, feature, service") }
        }
        let storage = f["storage_gb"].flatMap { amount($0, "storage_gb", max: Self.maxStorageGB) } ?? 0
        let seats = f["seats"].flatMap { amount($0, "seats", max: Self.maxSeats) } ?? 0
        let priceMonthly = f["price_monthly"].flatMap { amount($0, "price_monthly", max: Self.maxPrice) } ?? 0
        let priceOnce = f["price_once"].flatMap { amount($0, "price_once", max: Self.maxPrice) } ?? 0
        var feature: String?
        if let node = f["feature"], let key = string(node, "feature") {
            if features.contains(key) { feature = key } else { fail(node, "feature", key, "unknown feature") }
        }
        var availableOn: [String]?
        if let node = f["available_on"] {
            availableOn = []
            for item in list(node, "available_on") {
                guard let tier = string(item, "available_on") else { continue }
                if !tiers.contains(tier) { fail(item, "available_on", tier, "unknown tier") }
                else if availableOn?.contains(tier) == true { fail(item, "available_on", tier, "tier listed twice") }
                else { availableOn?.append(tier) }
            }
        }
        guard let code, let kind else { return nil }
        // Each kind needs what it sells.
        switch kind {
        case .storage where storage <= 0: fail(node, "storage_gb", nil, "a storage add-on needs storage_gb > 0"); return nil
        case .seats where seats <= 0: fail(node, "seats", nil, "a seats add-on needs seats > 0"); return nil
        case .feature where f["feature"] == nil: fail(node, "feature", nil, "a feature add-on needs a feature"); return nil
        case .feature where feature == nil: return nil
        default: break
        }
        let name = f["name"].flatMap { string($0, "name") } ?? code
        return Addon(code: code, name: name, kind: kind, storageGB: storage, seats: seats, feature: feature,
                     priceMonthly: priceMonthly, priceOnce: priceOnce, availableOn: availableOn)
    }

    /// `{code, name, addons: {code: quantity, …}, price_monthly, available_on}`: add-ons that are not
    /// bundles or services, each available on every tier the bundle is.
    private mutating func bundle(_ node: SourceNode, tiers: [Tier], addons: [Addon], declared: Set<String>, bundles: Set<String>) -> Addon? {
        guard let f = fields(node, context: "a bundle", allowed: ["code", "name", "addons", "price_monthly", "available_on"],
                             required: ["code", "addons", "price_monthly"]) else { return nil }
        let code = code(f["code"]!, "code")
        let price = amount(f["price_monthly"]!, "price_monthly", max: Self.maxPrice)
        var contents: [(item: AddonQuantity, addon: Addon, node: SourceNode)] = []
        var complete = true
        let itemsNode = f["addons"]!
        switch itemsNode {
        case .map(let entries, _) where !entries.isEmpty:
            for (key, value) in entries {
                let quantity = amount(value, "addons.\(key)", max: Self.maxBundleQuantity)
                if quantity == 0 { fail(value, "addons.\(key)", "0", "a quantity in a bundle must be at least 1") }
                guard let addon = addons.first(where: { $0.code == key }) else {
                    // An add-on refused at its own line is not reported again here.
                    if bundles.contains(key) && !declared.contains(key) { fail(value, "addons", key, "a bundle cannot contain another bundle") }
                    else if !declared.contains(key) { fail(value, "addons", key, "unknown add-on") }
                    complete = false; continue
                }
                if addon.kind == .service { fail(value, "addons", key, "a service add-on is sold once and cannot be in a bundle"); complete = false; continue }
                guard let quantity, quantity > 0 else { complete = false; continue }
                contents.append((AddonQuantity(addon: key, quantity: quantity), addon, value))
            }
        case .map:
            fail(itemsNode, "addons", nil, "a bundle needs at least one add-on"); complete = false
        default:
            fail(itemsNode, "addons", itemsNode.scalarText, "expected a mapping of add-on codes to quantities, e.g. {storage_100: 2}")
            complete = false
        }
        var availableOn: [String]?
        if let node = f["available_on"] {
            availableOn = []
            for item in list(node, "available_on") {
                guard let tier = string(item, "available_on") else { continue }
                if !tiers.contains(where: { $0.code == tier }) { fail(item, "available_on", tier, "unknown tier"); complete = false; continue }
                if availableOn?.contains(tier) == true { fail(item, "available_on", tier, "tier listed twice"); continue }
                availableOn?.append(tier)
                for part in contents where !part.addon.isAvailable(on: tier) {
                    fail(item, "available_on", tier, "add-on '\(part.addon.code)' of this bundle is not available on tier '\(tier)'")
                    complete = false
                }
            }
        } else if contents.contains(where: { $0.addon.availableOn != nil }) {
            // Left out: the tiers on which every add-on of the bundle is available.
            availableOn = tiers.map(\.code).filter { tier in contents.allSatisfy { $0.addon.isAvailable(on: tier) } }
            if availableOn!.isEmpty {
                fail(node, "available_on", nil, "no tier has every add-on of this bundle ("
                     + contents.map { "\($0.addon.code) on \($0.addon.availableOn?.joined(separator: ", ") ?? "every tier")" }.joined(separator: "; ") + ")")
                complete = false
            }
        }
        guard let code, let price, complete else { return nil }
        let name = f["name"].flatMap { string($0, "name") } ?? code
        return Addon(code: code, name: name, kind: .bundle, priceMonthly: price, availableOn: availableOn, contents: contents.map(\.item))
    }

    private mutating func policy(_ node: SourceNode) -> Policy {
        var policy = Policy()
        if case .scalar(let text, _) = node, text.isEmpty || text == "{}" || text == "~" || text == "null" { return policy }
        guard case .map(let entries, _) = node else { fail(node, "policy", nil, "must be a mapping of overrides"); return policy }
        for (key, value) in entries {
            if key == "acceptance" { policy.acceptance = acceptance(value); continue }
            if key == "experiments" { policy.experiments = experiments(value); continue }
            if key == "alerts" { policy.alerts = alerts(value); continue }
            if key == "webhooks" { policy.webhooks = webhooks(value); continue }
            guard let setting = Policy.keys.first(where: { $0.key == key }) else {
                let known = Policy.keys.map(\.key) + ["acceptance", "experiments", "alerts", "webhooks"]
                fail(value, "policy", key, "unknown policy key (known: \(known.joined(separator: ", ")))")
                continue
            }
            guard let text = string(value, key), let number = Double(text), number.isFinite, number >= 0 else {
                fail(value, key, value.scalarText, "must be a number ≥ 0"); continue
            }
            if setting.isInteger && number.rounded() != number { fail(value, key, text, "must be a whole number"); continue }
            // Every whole-number setting is a count of days; Int(number) would trap past Int.max.
            if setting.isInteger && number > Double(Self.maxPolicyDays) {
                fail(value, key, text, "must be at most \(Self.maxPolicyDays) days"); continue
            }
            let fractionKeys: Set = ["storage_near_limit", "seats_near_limit", "low_adoption_ratio",
                                     "storage_target_utilization", "seat_target_utilization", "monthly_churn", "gross_margin"]
            if fractionKeys.contains(key) && number > 1 { fail(value, key, text, "must be between 0 and 1"); continue }
            if ["storage_target_utilization", "seat_target_utilization", "acceptance_alpha", "acceptance_beta"].contains(key), number == 0 {
                fail(value, key, text, "must be greater than 0"); continue
            }
            if key == "holdout_percent" && number > 100 { fail(value, key, text, "must be between 0 and 100"); continue }
            setting.set(&policy, number)
        }
        return policy
    }

    /// `acceptance: {by: segment|tier|none, prior_strength: κ}`.
    private mutating func acceptance(_ node: SourceNode) -> AcceptancePolicy {
        var result = AcceptancePolicy()
        guard let f = fields(node, context: "policy.acceptance", allowed: ["by", "prior_strength"], required: []) else { return result }
        if let by = f["by"], let text = string(by, "acceptance.by") {
            if let grouping = AcceptancePolicy.Grouping(rawValue: text) { result.by = grouping }
            else { fail(by, "acceptance.by", text, "must be segment, tier or none") }
        }
        if let strength = f["prior_strength"], let text = string(strength, "acceptance.prior_strength") {
            if let number = Double(text), number.isFinite, number > 0 { result.priorStrength = number }
            else { fail(strength, "acceptance.prior_strength", text, "must be a number > 0") }
        }
        return result
    }

    /// `alerts: {storage: [0.8, 0.9, 1.0], seats: [0.9, 1.0]}`: utilization thresholds, each > 0 and at
    /// most 10 (1000 %); a list may be empty (no alerts of that metric).
    private mutating func alerts(_ node: SourceNode) -> AlertPolicy {
        var result = AlertPolicy()
        guard let f = fields(node, context: "policy.alerts", allowed: ["storage", "seats"], required: []) else { return result }
        func thresholds(_ key: String) -> [Double]? {
            guard let node = f[key] else { return nil }
            var values: [Double] = []
            for item in list(node, "alerts.\(key)") {
                guard let text = string(item, "alerts.\(key)") else { return nil }
                guard let number = Double(text), number.isFinite, number > 0, number <= 10 else {
                    fail(item, "alerts.\(key)", text, "must be a utilization > 0 and ≤ 10 (0.8 is 80 % of the limit)"); return nil
                }
                if !values.contains(number) { values.append(number) }
            }
            return values.sorted()
        }
        if let storage = thresholds("storage") { result.storage = storage }
        if let seats = thresholds("seats") { result.seats = seats }
        return result
    }

    /// `webhooks: {max_attempts: 12}`: attempts of a delivery before it is `failed`, 1 to 30.
    private mutating func webhooks(_ node: SourceNode) -> WebhookRetryPolicy {
        var result = WebhookRetryPolicy()
        guard let f = fields(node, context: "policy.webhooks", allowed: ["max_attempts"], required: []) else { return result }
        if let attempts = f["max_attempts"], let text = string(attempts, "webhooks.max_attempts") {
            if let number = Int(text), (1...30).contains(number) { result.maxAttempts = number }
            else { fail(attempts, "webhooks.max_attempts", text, "must be a whole number from 1 to 30") }
        }
        return result
    }

    /// `experiments: [{name: addon_first, share: 0.5, primary: addon}]`, names unique.
    private mutating func experiments(_ node: SourceNode) -> [Experiment] {
        var result: [Experiment] = []
        for item in list(node, "experiments") {
            guard let f = fields(item, context: "an experiment", allowed: ["name", "share", "primary"], required: ["name"]) else { continue }
            guard let name = f["name"].flatMap({ code($0, "experiments.name") }) else { continue }
            if result.contains(where: { $0.name == name }) { fail(f["name"]!, "experiments.name", name, "experiment named twice"); continue }
            var experiment = Experiment(name: name)
            if let share = f["share"], let text = string(share, "experiments.share") {
                guard let number = Double(text), number > 0, number < 1 else {
                    fail(share, "experiments.share", text, "must be a fraction between 0 and 1 (the treatment's share)"); continue
                }
                experiment.share = number
            }
            if let primary = f["primary"], let text = string(primary, "experiments.primary") {
                guard let choice = Experiment.Primary(rawValue: text) else {
                    fail(primary, "experiments.primary", text, "must be addon, tier_upgrade or cheapest"); continue
                }
                experiment.primary = choice
            }
            result.append(experiment)
        }
        return result
    }

    // MARK: Building blocks

    /// The codes a list of entries declares under `field`, whatever else is wrong with them.
    private static func declared(_ nodes: [SourceNode], _ field: String) -> Set<String> {
        Set(nodes.compactMap { node in
            guard case .map(let entries, _) = node else { return nil }
            return entries.first { $0.key == field }?.value.scalarText
        })
    }

    private mutating func fields(_ node: SourceNode, context: String, allowed: Set<String>, required: [String]) -> [String: SourceNode]? {
        guard case .map(let entries, _) = node else {
            fail(node, nil, node.scalarText, "expected a mapping for \(context)")
            return nil
        }
        var result: [String: SourceNode] = [:]
        var ok = true
        for (key, value) in entries {
            if !allowed.contains(key) {
                fail(value, key, nil, "unknown key in \(context) (allowed: \(allowed.sorted().joined(separator: ", ")))")
                ok = false
            } else if result[key] != nil {
                fail(value, key, nil, "key given twice"); ok = false
            } else {
                result[key] = value
            }
        }
        for key in required where result[key] == nil {
            fail(node, key, nil, "missing in \(context)"); ok = false
        }
        return ok ? result : nil
    }

    private mutating func list(_ node: SourceNode?, _ field: String) -> [SourceNode] {
        guard let node else { return [] }
        switch node {
        case .list(let items, _): return items
        case .scalar(let text, _) where text.isEmpty || text == "~" || text == "null": return []
        default: fail(node, field, node.scalarText, "expected a list"); return []
        }
    }

    private mutating func string(_ node: SourceNode, _ field: String) -> String? {
        guard case .scalar(let text, _) = node else { fail(node, field, nil, "expected a single value"); return nil }
        return text
    }

    private mutating func code(_ node: SourceNode, _ field: String) -> String? {
        guard let text = string(node, field) else { return nil }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")
        guard !text.isEmpty, text.count <= 64, text.allSatisfy(allowed.contains) else {
            fail(node, field, text, "must be 1 to 64 letters, digits, '_', '-' or '.'"); return nil
        }
        return text
    }

    /// The largest price in minor units (10^12: ten billion of a two-decimal currency), so that
    /// prices times quantities and discounts stay far inside Int.
    public static let maxPrice = 1_000_000_000_000
    /// The largest storage_gb (10^6 GB, a petabyte): thousands of them still fit in Int64 bytes.
    public static let maxStorageGB = 1_000_000
    /// The largest quantity of one add-on in a bundle.
    public static let maxBundleQuantity = 1_000
    /// The largest seats of a tier or add-on.
    public static let maxSeats = 1_000_000_000
    /// The largest whole-number (days) policy setting: about 274 years.
    public static let maxPolicyDays = 100_000

    /// A whole number from 0 to `max` (prices in minor units, GB, seats).
    private mutating func amount(_ node: SourceNode, _ field: String, max: Int) -> Int? {
        guard let text = string(node, field) else { return nil }
        guard let value = Int(text) else {
            fail(node, field, text, "must be a whole number (money is in minor units, e.g. 2900 for 29.00)"); return nil
        }
        guard value >= 0 else { fail(node, field, text, "must not be negative"); return nil }
        guard value <= max else { fail(node, field, text, "must be at most \(max)"); return nil }
        return value
    }
}

extension SourceNode {
    var scalarText: String? { if case .scalar(let text, _) = self { return text } else { return nil } }
}
