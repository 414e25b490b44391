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

    /// What one account's new events add; small arrays searched from the end (events come in time
    /// order, so the entry wanted is mostly the last one of its kind).
    private struct AccountRollup {
        var storage: [(month: Day, days: [StorageDay])] = []
        var features: [(key: String, month: Day, days: Int32)] = []
        var users: [(key: String, month: Day, days: Int32)] = []
    }

    /// Accounts in the order first seen, and where each one is: one hash lookup per event instead of
    /// one per rollup row an event touches, in tables of a million rows.
    private var accountIndex: [String: Int] = [:]
    private var accountNames: [String] = []
    private var perAccount: [AccountRollup] = []

    /// Events summed up, per kind.
    public private(set) var storageEvents = 0
    public private(set) var featureEvents = 0

    public init() {}

    /// Storage days per account and month, ascending by day.
    public var storage: [(key: MonthKey, days: [StorageDay])] {
        perAccount.indices.flatMap { index in
            perAccount[index].storage.map { (MonthKey(account: accountNames[index], month: $0.month), $0.days) }
        }
    }

    /// Days each feature was used, per account and month.
    public var features: [(key: DaySetKey, days: Int32)] { daySets(\.features) }
    /// Days each user had feature events, per account and month.
    public var users: [(key: DaySetKey, days: Int32)] { daySets(\.users) }

    private func daySets(_ sets: KeyPath<AccountRollup, [(key: String, month: Day, days: Int32)]>) -> [(key: DaySetKey, days: Int32)] {
        perAccount.indices.flatMap { index in
            perAccount[index][keyPath: sets].map { (DaySetKey(account: accountNames[index], key: $0.key, month: $0.month), $0.days) }
        }
    }

    /// Counts one new event.
    public mutating func add(_ event: UsageEvent) {
        switch event {
        case let .storage(_, account, at, bytes): addStorage(account: account, at: at, bytes: bytes)
        case let .feature(_, account, user, feature, at, _): addFeature(account: account, user: user, feature: feature, at: at)
        }
    }

    public mutating func addStorage(account: String, at: Timestamp, bytes: Int64) {
        let (month, day) = Self.monthAndDay(at)
        addStorage(account: account, month: month, StorageDay(day: day, maxBytes: bytes, lastAt: at, lastBytes: bytes, samples: 1))
    }

    /// Counts a day's samples already summed up (`day.samples` events) in `month` (its first day).
    public mutating func addStorage(account: String, month: Day, _ sample: StorageDay) {
        storageEvents += sample.samples
        let index = self.index(of: account)
        if let found = perAccount[index].storage.lastIndex(where: { $0.month == month }) {
            Self.insert(sample, into: &perAccount[index].storage[found].days)
        } else {
            perAccount[index].storage.append((month, [sample]))
        }
    }

    /// Counts `events` feature events of `user` on `feature` at `at`'s UTC day (1 for one event).
    public mutating func addFeature(account: String, user: String, feature: String, at: Timestamp, events: Int = 1) {
        featureEvents += events
        let (month, day) = Self.monthAndDay(at)
        let bit = Int32(truncatingIfNeeded: 1 << (day - 1))
        let index = self.index(of: account)
        Self.set(bit, key: feature, month: month, in: &perAccount[index].features)
        Self.set(bit, key: user, month: month, in: &perAccount[index].users)
    }

    private mutating func index(of account: String) -> Int {
        if let index = accountIndex[account] { return index }
        accountIndex[account] = perAccount.count
        accountNames.append(account)
        perAccount.append(AccountRollup())
        return perAccount.count - 1
    }

    private static func set(_ bit: Int32, key: String, month: Day, in sets: inout [(key: String, month: Day, days: Int32)]) {
        if let found = sets.lastIndex(where: { $0.month == month && $0.key == key }) {
            sets[found].days |= bit
        } else {
            sets.append((key, month, bit))
        }
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
