import TierPlanCore
import TierPlanStore
import XCTest

/// `policy.alerts` and `policy.webhooks` in catalog YAML: defaults, overrides, refusals.
final class AlertPolicyFileTests: XCTestCase {
    func testPolicyAlertsAndWebhooksParse() throws {
        let yaml = """
            currency: USD
            features: [{key: reports, name: Reports}]
            tiers: [{code: starter, name: Starter, price_monthly: 2900, storage_gb: 100, seats: 5, features: [reports]}]
            policy: {alerts: {storage: [0.95, 0.75], seats: []}, webhooks: {max_attempts: 3}}
            """
        let catalog = try CatalogFile.parse(yaml: yaml, file: "c.yaml")
        XCTAssertEqual(catalog.policy.alerts, AlertPolicy(storage: [0.75, 0.95], seats: []))
        XCTAssertEqual(catalog.policy.webhooks.maxAttempts, 3)
        XCTAssertEqual(Policy().alerts, AlertPolicy(storage: [0.8, 0.9, 1.0], seats: [0.9, 1.0]))
        for bad in ["{alerts: {storage: [0]}}", "{alerts: {storage: [abc]}}", "{alerts: {disk: [0.5]}}", "{webhooks: {max_attempts: 0}}",
                    "{webhooks: {max_attempts: 2.5}}"] {
            XCTAssertThrowsError(try CatalogFile.parse(yaml: yaml.replacingOccurrences(of: "{alerts: {storage: [0.95, 0.75], seats: []}, webhooks: {max_attempts: 3}}", with: bad), file: "c.yaml"), bad)
        }
    }
}
