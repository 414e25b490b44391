/// One account's history rows, read as of any day (contract: Point in time): its state on a day is
/// the row with the latest effective date on or before it; the first row also holds back to the day
/// the account was created, and a first row that is canceled with a cancel date counts as active
/// until the day before it. Before its creation day an account does not exist.
/// (`HistoryStore.statesSQL` is the same rule for the one-day questions answered in SQL.)
public struct AccountTimeline: Sendable, Equatable {
    /// One `account_history` row.
    public struct Row: Sendable, Equatable {
        public var effectiveOn: Day
        public var tier: String
        public var status: AccountStatus?
        public var mrr: MinorUnits
        public init(effectiveOn: Day, tier: String, status: AccountStatus?, mrr: MinorUnits) {
            self.effectiveOn = effectiveOn; self.tier = tier; self.status = status; self.mrr = mrr
        }
    }

    /// What an account was on a day.
    public struct State: Sendable, Equatable {
        public var tier: String
        public var segment: String
        public var status: AccountStatus?
        public var mrr: MinorUnits
        public var isPaying: Bool { status?.isPaying ?? false }
    }

    public var accountID: String
    public var segment: String
    public var createdOn: Day
    public var canceledOn: Day?
    /// Sorted by effective date, at least one.
    public var rows: [Row]

    public init(accountID: String, segment: String, createdOn: Day, canceledOn: Day?, rows: [Row]) {
        self.accountID = accountID; self.segment = segment; self.createdOn = createdOn; self.canceledOn = canceledOn
        self.rows = rows.sorted { $0.effectiveOn < $1.effectiveOn }
    }

    public func state(on day: Day) -> State? {
        guard day >= createdOn, !rows.isEmpty else { return nil }
        // The last row effective on or before the day, else the first.
        var low = 0, high = rows.count
        while low < high {
            let mid = (low + high) / 2
            if rows[mid].effectiveOn <= day { low = mid + 1 } else { high = mid }
        }
        let index = max(0, low - 1)
        let row = rows[index]
        var status = row.status
        if index == 0, status == .canceled, let canceledOn, day < canceledOn { status = .active }
        return State(tier: row.tier, segment: segment, status: status, mrr: row.mrr)
    }
}

/// How the forecast splits accounts, if at all.
public enum ForecastGrouping: String, Sendable, CaseIterable {
    case tier, segment

    /// The group an account is in, given its state that day.
    public func key(_ state: AccountTimeline.State) -> String { self == .tier ? state.tier : state.segment }
}

/// The paying accounts, their MRR and the monthly movements, measured over the account timelines.
public enum AccountHistory {
    public typealias Level = (accounts: Int, mrr: MinorUnits)

    /// The earliest and latest effective date of any history row (what the history covers).
    public static func span(_ timelines: [AccountTimeline]) -> (first: Day, latest: Day)? {
        let days = timelines.flatMap { [$0.rows.first?.effectiveOn, $0.rows.last?.effectiveOn] }.compactMap { $0 }
        guard let first = days.min(), let latest = days.max() else { return nil }
        return (first, latest)
    }

    /// Accounts canceled (their cancel day) from one day through another.
    public static func canceled(_ timelines: [AccountTimeline], from: Day, through: Day) -> Int {
        timelines.count { $0.canceledOn.map { $0 >= from && $0 <= through } ?? false }
    }

    /// Paying accounts and their MRR on each day, per group ("" without grouping).
    public static func paying(_ timelines: [AccountTimeline], on days: [Day], by grouping: ForecastGrouping? = nil) -> [Day: [String: Level]] {
        var result: [Day: [String: Level]] = [:]
        for day in Set(days) {
            var levels: [String: Level] = [:]
            for timeline in timelines {
                guard let state = timeline.state(on: day), state.isPaying else { continue }
                levels[grouping?.key(state) ?? "", default: (0, 0)].accounts += 1
                levels[grouping?.key(state) ?? "", default: (0, 0)].mrr += state.mrr
            }
            result[day] = levels
        }
        return result
    }

    /// The movements of each calendar month (start: the end of the month before; end: its last day),
    /// per group. `acceptedUpsells` holds, per account, the days an upsell offer of it was accepted
    /// (the expansion of such an account within that month is `offerExpansion`). An account that
    /// changes group counts at the start in the old group and at the end in the new one. A group
    /// present in any month gets every month, with zeros where it had no paying account.
    public static func movements(_ timelines: [AccountTimeline], months: [CalendarMonth], by grouping: ForecastGrouping? = nil,
                                 acceptedUpsells: [String: [Day]] = [:]) -> [String: [MonthMovements]] {
        var result: [String: [CalendarMonth: MonthMovements]] = [:]
        func add(_ group: String, _ month: CalendarMonth, _ change: (inout MonthMovements) -> Void) {
            change(&result[group, default: [:]][month, default: MonthMovements(month: month)])
        }
        for month in Set(months) {
            let start = month.adding(months: -1).lastDay, end = month.lastDay
            for timeline in timelines {
                let before = timeline.state(on: start).flatMap { $0.isPaying ? $0 : nil }
                let after = timeline.state(on: end).flatMap { $0.isPaying ? $0 : nil }
                guard before != nil || after != nil else { continue }
                let oldGroup = before.map { grouping?.key($0) ?? "" }, newGroup = after.map { grouping?.key($0) ?? "" }
                if let before, let after, oldGroup == newGroup {
                    add(newGroup!, month) { m in
                        m.startAccounts += 1; m.startMRR += before.mrr; m.endAccounts += 1; m.endMRR += after.mrr
                        if after.mrr > before.mrr {
                            m.expansion += after.mrr - before.mrr
                            if acceptedUpsells[timeline.accountID]?.contains(where: { $0 > start && $0 <= end }) ?? false {
                                m.offerExpansion += after.mrr - before.mrr
                            }
                        } else if after.mrr < before.mrr {
                            m.contraction += before.mrr - after.mrr
                        }
                    }
                    continue
                }
                if let before { add(oldGroup!, month) { m in m.startAccounts += 1; m.startMRR += before.mrr; m.churned += 1; m.churnedMRR += before.mrr } }
                if let after { add(newGroup!, month) { m in m.endAccounts += 1; m.endMRR += after.mrr; m.new += 1; m.newMRR += after.mrr } }
            }
        }
        return result.mapValues { byMonth in Set(months).sorted().map { byMonth[$0] ?? MonthMovements(month: $0) } }
    }
}

/// One upsell offer and its status changes, read as of any day: its status at the end of a day is
/// that of its latest event dated on or before it.
public struct OfferTimeline: Sendable, Equatable {
    /// One `offer_events` row: the day (UTC) it happened, the status it moved to, and whether it is
    /// the creation of the offer by a run.
    public struct Event: Sendable, Equatable {
        public var day: Day
        public var status: OfferStatus?
        public var madeByRun: Bool
        public init(day: Day, status: OfferStatus?, madeByRun: Bool) { self.day = day; self.status = status; self.madeByRun = madeByRun }
    }

    public var accountID: String
    public var offerID: String
    public var rank: Int
    public var offer: ForecastOffer
    public var expectedDeltaMRR: Double
    /// In the order they happened.
    public var events: [Event]

    public init(accountID: String, offerID: String, rank: Int, offer: ForecastOffer, expectedDeltaMRR: Double, events: [Event]) {
        self.accountID = accountID; self.offerID = offerID; self.rank = rank; self.offer = offer
        self.expectedDeltaMRR = expectedDeltaMRR; self.events = events
    }

    public func status(on day: Day) -> OfferStatus? { events.last { $0.day <= day }?.status }

    /// The first day it was accepted, if it was.
    public var acceptedOn: Day? { events.first { $0.status == .accepted }?.day }

    /// Days from the run that made it to its acceptance (never negative), if both happened.
    public var acceptanceLag: Int? {
        guard let accepted = acceptedOn, let made = events.first(where: \.madeByRun)?.day else { return nil }
        return max(0, accepted.daysSinceEpoch - made.daysSinceEpoch)
    }

    /// The offers open at the end of a day, at most one per account: the largest expected delta,
    /// then the lower rank, then the lower offer id. Keyed by account.
    public static func open(_ offers: [OfferTimeline], on day: Day) -> [String: OfferTimeline] {
        var chosen: [String: Int] = [:]
        for (index, offer) in offers.enumerated() where offer.status(on: day)?.isOpen ?? false {
            if let current = chosen[offer.accountID].map({ offers[$0] }),
               (current.expectedDeltaMRR, -current.rank) > (offer.expectedDeltaMRR, -offer.rank)
                || (current.expectedDeltaMRR == offer.expectedDeltaMRR && current.rank == offer.rank && current.offerID < offer.offerID) {
                continue
            }
            chosen[offer.accountID] = index
        }
        return chosen.mapValues { offers[$0] }
    }
}
