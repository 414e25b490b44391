import Foundation

/// What the database aggregates for one account over the window: the watcher's raw material.
public struct UsageSummary: Sendable, Equatable {
    /// The latest storage sample at or before the end of as_of (nil if none).
    public var storageUsedBytes: Int64?
    /// Each window day that has samples: (days since the window's first day, that day's largest sample).
    public var dailyMaxStorage: [(day: Int, bytes: Int64)]
    /// Distinct days in the window on which each feature was used.
    public var featureDays: [String: Int]
    /// Distinct users with feature events in the window.
    public var activeUsers: Int

    public init(storageUsedBytes: Int64? = nil, dailyMaxStorage: [(day: Int, bytes: Int64)] = [], featureDays: [String: Int] = [:], activeUsers: Int = 0) {
        self.storageUsedBytes = storageUsedBytes
        self.dailyMaxStorage = dailyMaxStorage
        self.featureDays = featureDays
        self.activeUsers = activeUsers
    }

    public static func == (a: UsageSummary, b: UsageSummary) -> Bool {
        a.storageUsedBytes == b.storageUsedBytes && a.featureDays == b.featureDays && a.activeUsers == b.activeUsers
            && a.dailyMaxStorage.map(\.day) == b.dailyMaxStorage.map(\.day) && a.dailyMaxStorage.map(\.bytes) == b.dailyMaxStorage.map(\.bytes)
    }
}

/// One month of an account's storage as the rollup keeps it: the days with samples (ascending) and,
/// for each, the largest and the latest sample.
public struct StorageMonth: Sendable, Equatable {
    public var month: Day
    public var days: [Int]
    public var maxBytes: [Int64]
    public var lastBytes: [Int64]

    public init(month: Day, days: [Int], maxBytes: [Int64], lastBytes: [Int64]) {
        self.month = month; self.days = days; self.maxBytes = maxBytes; self.lastBytes = lastBytes
    }

    /// The window's storage from the months it touches (in month order): each window day's largest
    /// sample, and the latest sample at or before as_of, else `earlier` (the latest before them).
    public static func window(_ months: [StorageMonth], earlier: Int64?, asOf: Day)
        -> (usedBytes: Int64?, dailyMax: [(day: Int, bytes: Int64)]) {
        let start = Watcher.windowStart(asOf: asOf)
        var used = earlier
        var dailyMax: [(day: Int, bytes: Int64)] = []
        for month in months {
            for (i, dayOfMonth) in month.days.enumerated() where i < month.maxBytes.count && i < month.lastBytes.count {
                let day = month.month.adding(days: dayOfMonth - 1)
                guard day <= asOf else { break }
                used = month.lastBytes[i]
                if day >= start { dailyMax.append((day.days(since: start), month.maxBytes[i])) }
            }
        }
        return (used, dailyMax)
    }
}

/// A condition the watcher raises on an account.
public enum SignalFlag: String, Sendable, Codable, CaseIterable, Comparable {
    case storageOverLimit = "storage_over_limit"
    case storageNearLimit = "storage_near_limit"
    case storageFilling = "storage_filling"
    case seatsNearLimit = "seats_near_limit"
    case featureDemand = "feature_demand"
    case lowAdoption = "low_adoption"

    public static func < (a: SignalFlag, b: SignalFlag) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    public var isStorage: Bool { self == .storageOverLimit || self == .storageNearLimit || self == .storageFilling }
}

/// The watcher's view of one account on as_of, as the contract defines every number.
public struct AccountSignals: Sendable, Equatable {
    public var accountID: String
    public var tier: String
    public var status: AccountStatus
    public var storageUsedBytes: Int64?
    public var storageLimitBytes: Int64
    public var storageUtilization: Double?
    public var storageGrowthBytesPerDay: Double?
    public var storageDaysToFull: Double?
    public var includedFeatures: [String]
    public var adoptedFeatures: [String]
    public var adoptionRatio: Double?
    public var activeUsers: Int
    public var seatLimit: Int
    public var seatUtilization: Double?
    public var demandedFeatures: [String]
    public var flags: [SignalFlag]
    /// Days in the window each feature was used (evidence for rationales).
    public var featureDays: [String: Int]
    /// Days since the account was created, on as_of.
    public var accountAgeDays: Int

    public func has(_ flag: SignalFlag) -> Bool { flags.contains(flag) }
}

/// Computes `AccountSignals` from an account, its usage summary and the catalog's policy.
public enum Watcher {
    /// The window is the 28 days ending on as_of, both included.
    public static let windowDays = 28

    public static func windowStart(asOf: Day) -> Day { asOf.adding(days: -(windowDays - 1)) }

    /// The window's days as month day sets (bit d−1 for day d, as the rollups store them): one entry
    /// per month the window touches (one or two), in month order.
    public static func windowMonths(asOf: Day) -> [(month: Day, days: Int32)] {
        let first = windowStart(asOf: asOf)
        var result: [(month: Day, days: Int32)] = []
        var month = CalendarMonth(containing: first)
        while month.firstDay <= asOf {
            let from = max(first, month.firstDay), to = min(asOf, month.lastDay)
            let bits = (Int64(1) << (to.days(since: month.firstDay) + 1)) - (Int64(1) << from.days(since: month.firstDay))
            result.append((month.firstDay, Int32(truncatingIfNeeded: bits)))
            month = month.adding(months: 1)
        }
        return result
    }

    public static func signals(for account: Account, usage: UsageSummary, catalog: Catalog, asOf: Day) -> AccountSignals {
        let policy = catalog.policy
        let limits = catalog.limits(tier: account.tier, addons: account.addons)
        let limit = limits.storage, seats = limits.seats, included = limits.features
        let used = usage.storageUsedBytes
        let utilization = used.flatMap { limit > 0 ? Double($0) / Double(limit) : nil }
        let slope = usage.dailyMaxStorage.count >= policy.minGrowthDays ? leastSquaresSlope(usage.dailyMaxStorage) : nil
        let daysToFull = Self.daysToFull(used: used, limit: limit, slope: slope)

        let adopted = included.filter { (usage.featureDays[$0] ?? 0) >= policy.adoptionMinDays }.sorted()
        let adoptionRatio = included.isEmpty ? nil : Double(adopted.count) / Double(included.count)
        let demanded = usage.featureDays.filter { !included.contains($0.key) && $0.value >= policy.demandMinDays }.keys.sorted()
        let seatUtilization = seats > 0 ? Double(usage.activeUsers) / Double(seats) : nil
        let age = asOf.days(since: account.createdAt.day)

        var flags: [SignalFlag] = []
        if let utilization {
            if utilization >= 1 { flags.append(.storageOverLimit) }
            else if utilization >= policy.storageNearLimit { flags.append(.storageNearLimit) }
        }
        if let daysToFull, daysToFull <= policy.storageFillingDays, !flags.contains(.storageOverLimit), (utilization ?? 0) < 1 {
            flags.append(.storageFilling)
        }
        if let seatUtilization, seatUtilization >= policy.seatsNearLimit { flags.append(.seatsNearLimit) }
        if !demanded.isEmpty { flags.append(.featureDemand) }
        if let adoptionRatio, adoptionRatio < policy.lowAdoptionRatio, age >= policy.minAccountAgeDays { flags.append(.lowAdoption) }

        return AccountSignals(
            accountID: account.id, tier: account.tier, status: account.status,
            storageUsedBytes: used, storageLimitBytes: limit, storageUtilization: utilization,
            storageGrowthBytesPerDay: slope, storageDaysToFull: daysToFull,
            includedFeatures: included.sorted(), adoptedFeatures: adopted, adoptionRatio: adoptionRatio,
            activeUsers: usage.activeUsers, seatLimit: seats, seatUtilization: seatUtilization,
            demandedFeatures: demanded, flags: flags, featureDays: usage.featureDays, accountAgeDays: age)
    }

    /// Ordinary least squares slope of bytes against day; nil with fewer than two distinct days.
    public static func leastSquaresSlope(_ points: [(day: Int, bytes: Int64)]) -> Double? {
        guard points.count >= 2 else { return nil }
        let n = Double(points.count)
        let meanX = points.reduce(0.0) { $0 + Double($1.day) } / n
        let meanY = points.reduce(0.0) { $0 + Double($1.bytes) } / n
        var sxy = 0.0, sxx = 0.0
        for p in points {
            let dx = Double(p.day) - meanX
            sxy += dx * (Double(p.bytes) - meanY)
            sxx += dx * dx
        }
        return sxx > 0 ? sxy / sxx : nil
    }

    /// (limit − used) / slope when slope > 0 and used < limit; 0 when used ≥ limit; else nil.
    public static func daysToFull(used: Int64?, limit: Int64, slope: Double?) -> Double? {
        guard let used else { return nil }
        if used >= limit { return 0 }
        guard let slope, slope > 0 else { return nil }
        return Double(limit - used) / slope
    }
}
