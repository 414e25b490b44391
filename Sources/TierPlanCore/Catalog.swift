/// Bytes in the catalog's gigabyte: 1 GB = 10^9 bytes.
public let bytesPerGB: Int = 1_000_000_000

/// A product capability that tiers include or a feature add-on sells.
public struct Feature: Hashable, Sendable, Codable {
    public var key: String
    public var name: String
    public init(key: String, name: String) { self.key = key; self.name = name }
}

/// A plan the company sells; its rank is its position in the catalog (0 = lowest).
public struct Tier: Hashable, Sendable, Codable {
    public var code: String
    public var name: String
    public var rank: Int
    public var priceMonthly: MinorUnits
    public var storageGB: Int
    public var seats: Int
    public var features: [String]

    public init(code: String, name: String, rank: Int, priceMonthly: MinorUnits, storageGB: Int, seats: Int, features: [String]) {
        self.code = code; self.name = name; self.rank = rank; self.priceMonthly = priceMonthly
        self.storageGB = storageGB; self.seats = seats; self.features = features
    }
}

/// What an add-on adds to an account; a bundle adds what its add-ons add.
public enum AddonKind: String, Sendable, Codable, CaseIterable {
    case storage, seats, feature, service, bundle
}

/// Something sold on top of a tier: a storage or seat pack, a feature, a one-time service, or a
/// bundle of other add-ons at one price (`contents`, the add-ons and their quantities per bundle).
public struct Addon: Hashable, Sendable, Codable {
    public var code: String
    public var name: String
    public var kind: AddonKind
    public var storageGB: Int
    public var seats: Int
    public var feature: String?
    public var priceMonthly: MinorUnits
    public var priceOnce: MinorUnits
    /// Tier codes it can be bought on; nil means every tier.
    public var availableOn: [String]?
    /// A bundle's add-ons (never bundles) and their quantities in one bundle, sorted by code; empty otherwise.
    public var contents: [AddonQuantity]

    public init(code: String, name: String, kind: AddonKind, storageGB: Int = 0, seats: Int = 0, feature: String? = nil,
                priceMonthly: MinorUnits = 0, priceOnce: MinorUnits = 0, availableOn: [String]? = nil, contents: [AddonQuantity] = []) {
        self.code = code; self.name = name; self.kind = kind; self.storageGB = storageGB; self.seats = seats
        self.feature = feature; self.priceMonthly = priceMonthly; self.priceOnce = priceOnce; self.availableOn = availableOn
        self.contents = contents.sorted { $0.addon < $1.addon }
    }

    public func isAvailable(on tier: String) -> Bool { availableOn?.contains(tier) ?? true }
}

/// Everything sold: tiers in rank order, features, add-ons, and the planning policy.
/// Storage bytes, seats and features a configuration gives.
public struct Limits: Sendable, Equatable {
    public var storage: Int64
    public var seats: Int
    public var features: Set<String>
    public init(storage: Int64, seats: Int, features: Set<String>) { self.storage = storage; self.seats = seats; self.features = features }
}

public struct Catalog: Sendable, Equatable {
    public var currency: String
    public var features: [Feature]
    public var tiers: [Tier]
    public var addons: [Addon]
    public var policy: Policy

    public init(currency: String, features: [Feature], tiers: [Tier], addons: [Addon], policy: Policy = Policy()) {
        self.currency = currency; self.features = features; self.tiers = tiers; self.addons = addons; self.policy = policy
    }

    public func tier(_ code: String) -> Tier? { tiers.first { $0.code == code } }

    /// What a tier with add-ons gives: storage from storage add-ons, seats from seat add-ons, the
    /// tier's features and those of feature add-ons (the one limits function of the watcher, the
    /// planner and its solution check). Unknown codes give nothing.
    public func limits(tier code: String, addons: [AddonQuantity]) -> Limits {
        let tier = self.tier(code)
        var limits = Limits(storage: Int64(tier?.storageGB ?? 0) * Int64(bytesPerGB), seats: tier?.seats ?? 0, features: Set(tier?.features ?? []))
        for item in addons {
            guard let addon = addon(item.addon) else { continue }
            let gives = provision(addon)
            limits.storage += gives.storage * Int64(item.quantity)
            limits.seats += gives.seats * item.quantity
            limits.features.formUnion(gives.features)
        }
        return limits
    }

    /// What one of an add-on gives: a pack its storage (bytes) or seats, a feature add-on its
    /// feature, a bundle the sum of its contents; a service nothing.
    public func provision(_ addon: Addon) -> Limits {
        switch addon.kind {
        case .storage: return Limits(storage: Int64(addon.storageGB) * Int64(bytesPerGB), seats: 0, features: [])
        case .seats: return Limits(storage: 0, seats: addon.seats, features: [])
        case .feature: return Limits(storage: 0, seats: 0, features: addon.feature.map { [$0] } ?? [])
        case .service: return Limits(storage: 0, seats: 0, features: [])
        case .bundle:
            var total = Limits(storage: 0, seats: 0, features: [])
            for item in addon.contents {
                guard let part = self.addon(item.addon), part.kind != .bundle else { continue }
                let gives = provision(part)
                total.storage += gives.storage * Int64(item.quantity)
                total.seats += gives.seats * item.quantity
                total.features.formUnion(gives.features)
            }
            return total
        }
    }
    public func addon(_ code: String) -> Addon? { addons.first { $0.code == code } }

    /// True when `Pricing.mrr` and `limits` of this configuration compute without overflow: the
    /// gross price times the 10,000 of a discount in basis points fits in Int, and so do the seats
    /// and the storage in bytes.
    public func fits(tier: Tier, addons: [AddonQuantity]) -> Bool {
        var gross = tier.priceMonthly, seats = tier.seats, storageGB = tier.storageGB
        func add(_ total: inout Int, _ each: Int, _ quantity: Int) -> Bool {
            let (amount, o1) = each.multipliedReportingOverflow(by: quantity)
            let (sum, o2) = total.addingReportingOverflow(amount)
            total = sum
            return !o1 && !o2
        }
        for item in addons {
            guard let addon = addon(item.addon) else { continue }
            var eachSeats = addon.kind == .seats ? addon.seats : 0, eachStorageGB = addon.kind == .storage ? addon.storageGB : 0
            if addon.kind == .bundle {
                for part in addon.contents {
                    guard let pack = self.addon(part.addon) else { continue }
                    guard add(&eachSeats, pack.kind == .seats ? pack.seats : 0, part.quantity),
                          add(&eachStorageGB, pack.kind == .storage ? pack.storageGB : 0, part.quantity) else { return false }
                }
            }
            guard add(&gross, addon.priceMonthly, item.quantity), add(&seats, eachSeats, item.quantity),
                  add(&storageGB, eachStorageGB, item.quantity) else { return false }
        }
        return gross >= 0 && gross <= MinorUnits.max / 10_000 && storageGB <= Int(Int64.max) / bytesPerGB
    }
    public func feature(_ key: String) -> Feature? { features.first { $0.key == key } }
}

/// An add-on on an account, with how many of it.
public struct AddonQuantity: Hashable, Sendable, Codable {
    public var addon: String
    public var quantity: Int
    public init(addon: String, quantity: Int) { self.addon = addon; self.quantity = quantity }
}

/// Monthly price of a configuration: tier price plus add-on monthly prices, with the discount applied.
public enum Pricing {
    /// `round-half-up((tier price + Σ add-on price_monthly × qty) × (1 − discount_pct/100))`.
    public static func mrr(tier: Tier, addons: [AddonQuantity], catalog: Catalog, discount: Discount) -> MinorUnits {
        let gross = addons.reduce(tier.priceMonthly) { sum, item in
            sum + (catalog.addon(item.addon)?.priceMonthly ?? 0) * item.quantity
        }
        return discount.apply(to: gross)
    }
}
