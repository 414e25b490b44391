import TierPlanCore
import XCTest

/// The point-in-time rule and the measures over account and offer timelines, on cases small
/// enough to check on paper.
final class PointInTimeTests: XCTestCase {
    func d(_ iso: String) -> Day { Day(iso: iso)! }
    func row(_ on: String, _ tier: String, _ status: AccountStatus, _ mrr: Int) -> AccountTimeline.Row {
        .init(effectiveOn: d(on), tier: tier, status: status, mrr: mrr)
    }

    func testStateOnADay() {
        // Imported on 2026-02-01 (first row), created 2026-01-10, upgraded 2026-03-01.
        let a = AccountTimeline(accountID: "a", segment: "smb", createdOn: d("2026-01-10"), canceledOn: nil,
                                rows: [row("2026-03-01", "team", .active, 7900), row("2026-02-01", "starter", .active, 2900)])
        let cases: [(String, String?)] = [("2026-01-09", nil), ("2026-01-10", "starter"), ("2026-02-28", "starter"),
                                          ("2026-03-01", "team"), ("2027-01-01", "team")]
        for (day, tier) in cases { XCTAssertEqual(a.state(on: d(day))?.tier, tier, day) }
        // Imported already canceled (first row) with a cancel date: active until the day before it.
        let b = AccountTimeline(accountID: "b", segment: "mid", createdOn: d("2026-01-01"), canceledOn: d("2026-02-15"),
                                rows: [row("2026-03-01", "team", .canceled, 0)])
        XCTAssertEqual(b.state(on: d("2026-02-14"))?.status, .active)
        XCTAssertEqual(b.state(on: d("2026-02-15"))?.status, .canceled)
        XCTAssertEqual(b.state(on: d("2026-03-02"))?.status, .canceled)
        // A later canceled row is canceled from its own date, whatever the cancel date.
        let c = AccountTimeline(accountID: "c", segment: "mid", createdOn: d("2026-01-01"), canceledOn: d("2026-01-20"),
                                rows: [row("2026-01-01", "team", .active, 7900), row("2026-02-01", "team", .canceled, 0)])
        XCTAssertEqual(c.state(on: d("2026-01-25"))?.status, .active)
        XCTAssertEqual(c.state(on: d("2026-02-01"))?.isPaying, false)
    }

    /// starter 2900, team 7900. January ends with a (starter), b (team), c (starter); in February
    /// a → team after accepting an offer (+5,000), b goes past due at 6,900 (−1,000), c cancels
    /// (churn 2,900) and d signs up as a trial that converts (new 2,900). By tier, a leaves starter
    /// (a churn there) and arrives in team (new there).
    func testMovementsByHand() {
        let accounts = [
            AccountTimeline(accountID: "a", segment: "smb", createdOn: d("2026-01-05"), canceledOn: nil,
                            rows: [row("2026-01-05", "starter", .active, 2900), row("2026-02-10", "team", .active, 7900)]),
            AccountTimeline(accountID: "b", segment: "mid", createdOn: d("2026-01-05"), canceledOn: nil,
                            rows: [row("2026-01-05", "team", .active, 7900), row("2026-02-20", "team", .pastDue, 6900)]),
            AccountTimeline(accountID: "c", segment: "smb", createdOn: d("2026-01-05"), canceledOn: d("2026-02-12"),
                            rows: [row("2026-01-05", "starter", .active, 2900), row("2026-02-12", "starter", .canceled, 0)]),
            AccountTimeline(accountID: "d", segment: "smb", createdOn: d("2026-02-03"), canceledOn: nil,
                            rows: [row("2026-02-03", "starter", .trialing, 0), row("2026-02-17", "starter", .active, 2900)]),
        ]
        let february = CalendarMonth(year: 2026, month: 2)
        let all = AccountHistory.movements(accounts, months: [february], acceptedUpsells: ["a": [d("2026-02-09")], "b": [d("2026-03-01")]])
        XCTAssertEqual(all.keys.sorted(), [""])
        XCTAssertEqual(all[""], [MonthMovements(month: february, startAccounts: 3, startMRR: 13_700, churned: 1, churnedMRR: 2_900, new: 1,
                                               newMRR: 2_900, expansion: 5_000, offerExpansion: 5_000, contraction: 1_000,
                                               endAccounts: 3, endMRR: 17_700)])
        let byTier = AccountHistory.movements(accounts, months: [february], by: .tier)
        XCTAssertEqual(byTier["starter"], [MonthMovements(month: february, startAccounts: 2, startMRR: 5_800, churned: 2, churnedMRR: 5_800,
                                                         new: 1, newMRR: 2_900, expansion: 0, offerExpansion: 0, contraction: 0,
                                                         endAccounts: 1, endMRR: 2_900)])
        XCTAssertEqual(byTier["team"], [MonthMovements(month: february, startAccounts: 1, startMRR: 7_900, churned: 0, churnedMRR: 0,
                                                      new: 1, newMRR: 7_900, expansion: 0, offerExpansion: 0, contraction: 1_000,
                                                      endAccounts: 2, endMRR: 14_800)])
        // A month nobody paid in still counts, with zeros, for a group that exists.
        let both = AccountHistory.movements(accounts, months: [CalendarMonth(year: 2025, month: 11), february])
        XCTAssertEqual(both[""]?.first, MonthMovements(month: CalendarMonth(year: 2025, month: 11)))
        // Paying on a day, and the cancellations counted for the flat model.
        let paying = AccountHistory.paying(accounts, on: [d("2026-01-31"), d("2026-02-28")], by: .segment)
        XCTAssertEqual(paying[d("2026-01-31")]?["smb"]?.mrr, 5_800)
        XCTAssertEqual(paying[d("2026-02-28")]?["smb"]?.accounts, 2)
        XCTAssertEqual(paying[d("2026-02-28")]?["mid"]?.mrr, 6_900)
        XCTAssertEqual(AccountHistory.canceled(accounts, from: d("2026-02-12"), through: d("2026-02-12")), 1)
        XCTAssertEqual(AccountHistory.canceled(accounts, from: d("2026-02-13"), through: d("2026-03-31")), 0)
        XCTAssertEqual(AccountHistory.span(accounts)?.first, d("2026-01-05"))
        XCTAssertEqual(AccountHistory.span(accounts)?.latest, d("2026-02-20"))
    }

    func testOpenOffersOneStatusPerDayAndOnePerAccount() {
        func offer(_ account: String, _ id: String, rank: Int, expected: Double, _ events: [(String, OfferStatus, Bool)]) -> OfferTimeline {
            OfferTimeline(accountID: account, offerID: id, rank: rank, offer: ForecastOffer(probability: 0.2, deltaMRR: Int(expected * 5)),
                          expectedDeltaMRR: expected, events: events.map { .init(day: d($0.0), status: $0.1, madeByRun: $0.2) })
        }
        let offers = [
            offer("a", "2", rank: 1, expected: 100, [("2026-11-01", .proposed, true), ("2026-11-02", .approved, false), ("2026-11-04", .accepted, false)]),
            offer("a", "1", rank: 2, expected: 100, [("2026-11-01", .proposed, true)]),
            offer("a", "0", rank: 2, expected: 50, [("2026-11-01", .proposed, true)]),
            offer("b", "3", rank: 1, expected: 10, [("2026-11-03", .proposed, true), ("2026-11-03", .rejected, false)]),
        ]
        XCTAssertTrue(OfferTimeline.open(offers, on: d("2026-10-31")).isEmpty)
        XCTAssertEqual(OfferTimeline.open(offers, on: d("2026-11-03")).mapValues(\.offerID), ["a": "2"], "rank 1 wins a tie; b's last event that day closed it")
        XCTAssertEqual(OfferTimeline.open(offers, on: d("2026-11-04")).mapValues(\.offerID), ["a": "1"], "then the larger expectation")
        XCTAssertEqual(offers[0].acceptedOn, d("2026-11-04"))
        XCTAssertEqual(offers[0].acceptanceLag, 3)
        XCTAssertNil(offers[1].acceptanceLag)
    }
}

/// The Core predicates the store sends to SQL as parameter sets, case by case.
final class RuleSetTests: XCTestCase {
    func testEveryCaseIsClassified() {
        let paying: [AccountStatus: (paying: Bool, watched: Bool)] = [
            .active: (true, true), .pastDue: (true, true), .trialing: (false, true), .canceled: (false, false)]
        for status in AccountStatus.allCases {
            XCTAssertEqual(status.isPaying, paying[status]?.paying, status.rawValue)
            XCTAssertEqual(status.isWatched, paying[status]?.watched, status.rawValue)
        }
        let offer: [OfferStatus: (open: Bool, current: Bool, refusal: Bool, outcome: Bool)] = [
            .proposed: (true, true, false, false), .approved: (true, true, false, false), .heldOut: (false, true, false, false),
            .rejected: (false, false, true, false), .declined: (false, false, true, true), .accepted: (false, false, false, true),
            .snoozed: (false, false, false, false), .expired: (false, false, false, false)]
        for status in OfferStatus.allCases {
            let expected = offer[status]
            XCTAssertEqual(status.isOpen, expected?.open, status.rawValue)
            XCTAssertEqual(status.isCurrent, expected?.current, status.rawValue)
            XCTAssertEqual(status.isRefusal, expected?.refusal, status.rawValue)
            XCTAssertEqual(status.isOutcome, expected?.outcome, status.rawValue)
        }
        XCTAssertEqual(OfferKind.allCases.filter(\.isUpsell), [.tierUpgrade, .addon, .trialConversion])
        XCTAssertEqual(OfferKind.allCases.filter(\.isExpansion), [.tierUpgrade, .addon])
    }

    /// Accepting an offer expires the account's other open upsells; enablement offers and closed
    /// offers stay as they are.
    func testWhatAnAcceptanceExpires() {
        for kind in OfferKind.allCases {
            for status in OfferStatus.allCases {
                XCTAssertEqual(OfferLife.expiresOnAcceptance(kind: kind, status: status),
                               kind != .adoption && (status == .proposed || status == .approved), "\(kind) \(status)")
            }
        }
    }
}

/// A reviewer's decision by name, as the review page and the API both read it.
final class ReviewDecisionTests: XCTestCase {
    func testDecisionsByName() {
        let cases: [(String?, String?, String?, Result<OfferDecision, OfferDecision.Problem>)] = [
            ("approve", nil, nil, .success(.approve)),
            ("reject", "  budget  ", nil, .success(.reject(reason: "budget"))),
            ("reject", " \n ", nil, .failure(.reasonMissing)),
            ("reject", nil, nil, .failure(.reasonMissing)),
            ("snooze", nil, "2026-12-01", .success(.snooze(until: Day(iso: "2026-12-01")!))),
            ("snooze", nil, "next week", .failure(.dateMissing)),
            ("accept", nil, nil, .failure(.unknown)),
            (nil, nil, nil, .failure(.unknown)),
        ]
        for (name, reason, until, expected) in cases {
            XCTAssertEqual(OfferDecision.review(name, reason: reason, until: until), expected, "\(name ?? "nil") \(reason ?? "") \(until ?? "")")
        }
    }
}
