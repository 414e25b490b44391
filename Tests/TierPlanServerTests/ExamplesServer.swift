import Foundation
import Hummingbird
import HummingbirdTesting
import Postgres
import TestSupport
import TierPlanCore
import TierPlanServer
import TierPlanStore
import XCTest

/// What the page tests start from: a fresh database with the examples loaded (catalog, accounts,
/// usage), `prepare` applied, the job run for 2026-11-01, and users of the given roles (password
/// `password-NAME`); and the app over such a database.
enum ExamplesServer {
    static func database(users: [(String, Role)], prepare: (Connection) throws -> Void = { _ in }) throws -> (url: String, db: Connection) {
        let url = try TestCluster.freshDatabase()
        let db = try Connection(url)
        let examples = repositoryRoot.appendingPathComponent("examples").path
        for args in [["catalog", "load", examples + "/catalog.yaml"], ["accounts", "import", examples + "/accounts.csv"],
                     ["usage", "ingest", examples + "/usage.ndjson"]] {
            let result = try CLI.run(args, databaseURL: url)
            XCTAssertEqual(result.status, 0, result.stderr)
        }
        try prepare(db)
        let run = try CLI.run(["run", "--as-of", "2026-11-01"], databaseURL: url)
        XCTAssertEqual(run.status, 0, run.stderr)
        for (name, role) in users {
            try AccessStore.addUser(db, name: name, role: role, passwordHash: PasswordHashing.hash("password-\(name)"))
        }
        return (url, db)
    }

    /// The router over a pool of four connections to `url`, for `app.test(.router)`.
    static func withApp(_ url: String, _ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let repository = PostgresRepository(pool: DatabasePool(conninfo: url, size: 4))
        let app = Application(router: try buildRouter(repository))
        try await app.test(.router) { client in try await body(client) }
        try await repository.pool.shutdown()
    }
}
