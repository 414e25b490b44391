/// What one ingest adds to the rollups planning reads, summed up in memory from its new events: per
/// account and month the storage days (largest sample, latest sample, how many), and per account,
/// feature and month and per account, user and month the set of days used (bit d−1 for day d). Its size
/// follows accounts × keys × months, not events; the store merges it into what is stored.
public struct UsageRollup: Sendable {
    /// One day's storage samples as the rollup keeps them.
    public struct StorageDay: Equatable, Sendable {
        /// Day of the month, 1…31.
        public var day: Int
        public var maxBytes: Int64
        public var lastAt: Timestamp
        public var lastBytes: Int64
        public var samples: Int

        public init(day: Int, maxBytes: Int64, lastAt: Timestamp, lastBytes: Int64, samples: Int) {
            self.day = day; self.maxBytes = maxBytes; self.lastAt = lastAt; self.lastBytes = lastBytes; self.samples = samples
        }

        /// The samples of both as one day: the larger maximum, the later latest sample (the larger
        /// value when two are at the same instant), the counts added.
        public mutating func absorb(_ other: StorageDay) {
            maxBytes = max(maxBytes, other.maxBytes)
            if other.lastAt > lastAt || (other.lastAt == lastAt && other.lastBytes > lastBytes) {
                lastAt = other.lastAt
                lastBytes = other.lastBytes
            }
            samples += other.samples
        }
    }

    /// An account's month (`month` is its first day).
    public struct MonthKey: Hashable, Sendable {
        public let account: String
        public let month: Day
        public init(account: String, month: Day) { self.account = account; self.month = month }
    }

    /// An account's feature or user in a month.
    public struct DaySetKey: Hashable, Sendable {
        public let account: String
        public let key: String
        public let month: Day
        public init(account: String, key: String, month: Day) { self.account = account; self.key = key; self.month = month }
    }

    /// Storage days per account and month, ascending by day.
    public private(set) var storage: [MonthKey: [StorageDay]] = [:]
    /// Days each feature was used, per account and month.
    public private(set) var features: [DaySetKey: Int32] = [:]
    /// Days each user had feature events, per account and month.
    public private(set) var users: [DaySetKey: Int32] = [:]
    /// Events summed up, per kind.
    public private(set) var storageEvents = 0
    public private(set) var featureEvents = 0

    public init() {}

    public var isEmpty: Bool { storageEvents == 0 && featureEvents == 0 }

    /// Counts one new event.
    public mutating func add(_ event: UsageEvent) {
        switch event {
        case let .storage(_, account, at, bytes): addStorage(account: account, at: at, bytes: bytes)
        case let .feature(_, account, user, feature, at, _): addFeature(account: account, user: user, feature: feature, at: at)
        }
    }

    public mutating func addStorage(account: String, at: Timestamp, bytes: Int64) {
        storageEvents += 1
        let (month, day) = Self.monthAndDay(at)
        let sample = StorageDay(day: day, maxBytes: bytes, lastAt: at, lastBytes: bytes, samples: 1)
        Self.insert(sample, into: &storage[MonthKey(account: account, month: month), default: []])
    }

    public mutating func addFeature(account: String, user: String, feature: String, at: Timestamp) {
        featureEvents += 1
        let (month, day) = Self.monthAndDay(at)
        let bit = Int32(truncatingIfNeeded: 1 << (day - 1))
        features[DaySetKey(account: account, key: feature, month: month), default: 0] |= bit
        users[DaySetKey(account: account, key: user, month: month), default: 0] |= bit
    }

    /// `stored` and `new` (each ascending by day, a day at most once) as one month: days in both absorbed.
    public static func merge(_ stored: [StorageDay], _ new: [StorageDay]) -> [StorageDay] {
        var merged = stored
        for day in new { insert(day, into: &merged) }
        return merged
    }

    /// Adds `entry` to the ascending `days`, absorbing it into the same day if there is one. Events
    /// mostly come in time order, so the last day is looked at first.
    private static func insert(_ entry: StorageDay, into days: inout [StorageDay]) {
        if let last = days.last, last.day <= entry.day {
            if last.day == entry.day { days[days.count - 1].absorb(entry) } else { days.append(entry) }
            return
        }
        var low = 0, high = days.count
        while low < high {
            let mid = (low + high) / 2
            if days[mid].day < entry.day { low = mid + 1 } else { high = mid }
        }
        if low < days.count && days[low].day == entry.day { days[low].absorb(entry) } else { days.insert(entry, at: low) }
    }

    /// The first day of the UTC month `at` falls in, and its day of the month.
    static func monthAndDay(_ at: Timestamp) -> (Day, Int) {
        let day = at.day
        let d = day.components.day
        return (day.adding(days: 1 - d), d)
    }
}
