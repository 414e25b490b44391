import TierPlanCore
import XCTest

/// The crossing rules of usage alerts, the retry schedule, the signature header and chat text, on
/// plain values.
final class AlertsTests: XCTestCase {
    let storage = [0.8, 0.9, 1.0]

    func reading(_ value: Double?) -> AlertReading { AlertReading(accountID: "acme", metric: .storage, value: value) }

    func changes(_ value: Double?, active: Set<Double>, thresholds: [Double]? = nil) -> [String] {
        ThresholdAlerts.changes(reading(value), active: active, thresholds: thresholds ?? storage).map { "\($0.direction.rawValue) \($0.threshold)" }
    }

    func testAFirstRunRaisesWhatIsAlreadyCrossed() {
        XCTAssertEqual(changes(0.95, active: []), ["crossed 0.8", "crossed 0.9"])
        XCTAssertEqual(changes(1.2, active: []), ["crossed 0.8", "crossed 0.9", "crossed 1.0"])
        XCTAssertEqual(changes(0.5, active: []), [])
    }

    func testOncePerCrossing() {
        XCTAssertEqual(changes(0.85, active: [0.8]), [], "still over 0.8: nothing new")
        XCTAssertEqual(changes(0.92, active: [0.8]), ["crossed 0.9"])
        XCTAssertEqual(changes(0.8, active: []), ["crossed 0.8"], "reaching the threshold is crossing it")
    }

    func testFallingBackResolvesHighestFirst() {
        XCTAssertEqual(changes(0.85, active: [0.8, 0.9, 1.0]), ["resolved 1.0", "resolved 0.9"])
        XCTAssertEqual(changes(0.1, active: [0.8, 0.9]), ["resolved 0.9", "resolved 0.8"])
        XCTAssertEqual(changes(0.79999, active: [0.8]), ["resolved 0.8"])
    }

    func testAnUnknownValueChangesNothingButAThresholdLeftThePolicyResolves() {
        XCTAssertEqual(changes(nil, active: [0.8]), [], "no sample is not a fall")
        XCTAssertEqual(changes(0.95, active: [0.8, 0.9], thresholds: [0.9]), ["resolved 0.8"])
        XCTAssertEqual(changes(0.95, active: [], thresholds: []), [])
    }

    func testCrossResolveCrossAgainRaisesTwice() {
        var active: Set<Double> = []
        var raised: [String] = []
        for value in [0.85, 0.7, 0.86, 0.86] {
            for c in ThresholdAlerts.changes(reading(value), active: active, thresholds: storage) {
                raised.append("\(c.direction.rawValue) \(c.threshold) at \(c.value!)")
                if c.direction == .crossed { active.insert(c.threshold) } else { active.remove(c.threshold) }
            }
        }
        XCTAssertEqual(raised, ["crossed 0.8 at 0.85", "resolved 0.8 at 0.7", "crossed 0.8 at 0.86"])
    }

    func testReachedIsSortedAndUnique() {
        XCTAssertEqual(ThresholdAlerts.reached(0.9, thresholds: [1.0, 0.9, 0.8, 0.9]), [0.8, 0.9])
        XCTAssertEqual(ThresholdAlerts.reached(nil, thresholds: storage), [])
    }

    func testBackoffIsOneMinuteDoublingUpToMaxAttempts() {
        let policy = WebhookRetryPolicy(maxAttempts: 4)
        let t0 = Timestamp(iso: "2026-11-01T00:00:00Z")!
        let delays = (1...4).map { policy.nextAttempt(after: $0, failedAt: t0).map { ($0.microseconds - t0.microseconds) / 1_000_000 } }
        XCTAssertEqual(delays, [60, 120, 240, nil], "the 4th attempt is the last")
        XCTAssertEqual(WebhookRetryPolicy().maxAttempts, 12)
        XCTAssertEqual(WebhookRetryPolicy().nextAttempt(after: 11, failedAt: t0).map { ($0.microseconds - t0.microseconds) / 1_000_000 }, 60 * 1024)
        XCTAssertNil(WebhookRetryPolicy().nextAttempt(after: 12, failedAt: t0))
    }

    func testSignatureHeaderFormatAndParse() {
        XCTAssertEqual(WebhookSignature.header(timestamp: 1_790_000_000, hexMAC: "ab01"), "t=1790000000,v1=ab01")
        XCTAssertEqual(WebhookSignature.signedPayload(timestamp: 12, body: Array("{}".utf8)), Array("12.{}".utf8))
        let parsed = WebhookSignature.parse("t=12,v1=ab,v1=cd")
        XCTAssertEqual(parsed?.timestamp, 12)
        XCTAssertEqual(parsed?.signatures, ["ab", "cd"])
        XCTAssertNil(WebhookSignature.parse("v1=ab"))
        XCTAssertNil(WebhookSignature.parse("t=x,v1=ab"))
        XCTAssertEqual(WebhookSignature.hex([0, 15, 255]), "000fff")
    }

    func testEventListsAndOfferEvents() throws {
        XCTAssertEqual(try WebhookEventType.parseList("offer.approved, usage.threshold_crossed,offer.approved"), [.offerApproved, .thresholdCrossed])
        XCTAssertEqual(try WebhookEventType.parseList("*").count, 10)
        XCTAssertThrowsError(try WebhookEventType.parseList("offer.approved,offer.paid")) {
            XCTAssertTrue("\($0)".contains("'offer.paid'"))
        }
        XCTAssertThrowsError(try WebhookEventType.parseList("webhook.test"))
        XCTAssertThrowsError(try WebhookEventType.parseList(" , "))
        XCTAssertEqual(WebhookEventType.forOffer(becoming: .approved), .offerApproved)
        XCTAssertNil(WebhookEventType.forOffer(becoming: .heldOut))
    }

    func testSlackTextNamesTheFacts() {
        var alert = WebhookSummary(type: .thresholdCrossed)
        alert.accountID = "acme"; alert.metric = .storage; alert.threshold = 0.9; alert.value = 0.934; alert.asOf = Day(iso: "2026-11-01")
        XCTAssertEqual(alert.slackText, "tierplan: *acme* storage at 93% of its limit (crossed 90%) as of 2026-11-01")
        var offer = WebhookSummary(type: .offerApproved)
        offer.accountID = "acme"; offer.offerKind = "tier_upgrade"; offer.fromTier = "starter"; offer.toTier = "team"; offer.deltaMRR = 5000
        XCTAssertEqual(offer.slackText, "tierplan: offer for *acme* approved (tier upgrade, starter → team, Δ MRR +5000)")
    }
}
