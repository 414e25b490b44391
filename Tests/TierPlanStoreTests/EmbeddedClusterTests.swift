import Foundation
import Postgres
import TestSupport
import TierPlanStore
import XCTest

final class EmbeddedClusterTests: XCTestCase {
    /// `tierplan db up|status|url|down` on a cluster of its own, and every command falling back to it.
    func testDbLifecycleThroughTheCLI() throws {
        let home = "/tmp/tp-db-\(getpid())"
        defer { try? EmbeddedCluster(home: home).destroy() }
        let env = ["TIERPLAN_HOME": home]
        let status0 = try CLI.run(["db", "status"], databaseURL: nil, environment: env)
        XCTAssertEqual(status0.status, 3)
        XCTAssertTrue(status0.stdout.hasPrefix("absent"), status0.stdout)

        let up = try CLI.run(["db", "up"], databaseURL: nil, environment: env)
        XCTAssertEqual(up.status, 0, up.stderr)
        let url = try CLI.run(["db", "url"], databaseURL: nil, environment: env).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(url, "postgresql:///tierplan?host=\(home)&port=5432&user=postgres")
        let db = try Connection(url)
        XCTAssertEqual(try Schema.installedVersion(db), Schema.version)

        let status = try CLI.run(["db", "status", "--json"], databaseURL: nil, environment: env)
        XCTAssertEqual(status.status, 0)
        XCTAssertEqual(status.json?["state"] as? String, "running")

        // A data command with no connection configured uses the embedded cluster.
        let catalog = repositoryRoot.appendingPathComponent("examples/catalog.yaml").path
        let load = try CLI.run(["catalog", "load", catalog], databaseURL: nil, environment: env)
        XCTAssertEqual(load.status, 0, load.stderr)
        XCTAssertEqual(try db.query("SELECT count(*) FROM tiers").first?.decode(0, as: Int.self), 4)

        XCTAssertEqual(try CLI.run(["db", "down"], databaseURL: nil, environment: env).status, 0)
        XCTAssertEqual(try CLI.run(["db", "status"], databaseURL: nil, environment: env).stdout.hasPrefix("stopped"), true)
        // Starting again keeps the data.
        XCTAssertEqual(try CLI.run(["db", "up"], databaseURL: nil, environment: env).status, 0)
        XCTAssertEqual(try Connection(url).query("SELECT count(*) FROM tiers").first?.decode(0, as: Int.self), 4)
    }

    func testDatabaseTargetOrder() {
        XCTAssertEqual(DatabaseTarget.resolve(explicit: "postgresql://x/y", environment: ["DATABASE_URL": "postgresql://z/w"]), .url("postgresql://x/y"))
        XCTAssertEqual(DatabaseTarget.resolve(explicit: nil, environment: ["DATABASE_URL": "postgresql://z/w", "PGHOST": "h"]), .url("postgresql://z/w"))
        XCTAssertEqual(DatabaseTarget.resolve(explicit: nil, environment: ["PGHOST": "h"]), .libpqEnvironment)
        if case .embedded = DatabaseTarget.resolve(explicit: nil, environment: [:]) {} else { XCTFail("expected the embedded cluster") }
    }
}
