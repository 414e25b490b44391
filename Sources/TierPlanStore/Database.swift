import Foundation
import Postgres

/// Where a command's database is: an explicit URL, `DATABASE_URL`, libpq's `PG*` variables,
/// or else the embedded cluster, started (and migrated) on demand.
public enum DatabaseTarget: Sendable, Equatable {
    case url(String)
    case libpqEnvironment
    case embedded(EmbeddedCluster)

    public static func == (a: DatabaseTarget, b: DatabaseTarget) -> Bool {
        switch (a, b) {
        case let (.url(x), .url(y)): return x == y
        case (.libpqEnvironment, .libpqEnvironment): return true
        case let (.embedded(x), .embedded(y)): return x.home == y.home
        default: return false
        }
    }

    /// Resolves the target in the contract's order.
    public static func resolve(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> DatabaseTarget {
        if let explicit, !explicit.isEmpty { return .url(explicit) }
        if let url = environment["DATABASE_URL"], !url.isEmpty { return .url(url) }
        let libpq = ["PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE"]
        if libpq.contains(where: { !(environment[$0] ?? "").isEmpty }) { return .libpqEnvironment }
        return .embedded(.forCurrentDirectory())
    }

    public var conninfo: String {
        switch self {
        case .url(let url): return url
        case .libpqEnvironment: return ""
        case .embedded(let cluster): return cluster.url
        }
    }

    /// Connects; the embedded cluster is started and migrated first. An external database without
    /// tierplan's schema gets it; one with an older version is refused until `tierplan db migrate`.
    public func connect(checkSchema: Bool = true, log: (String) -> Void = { _ in }) throws -> Connection {
        if case .embedded(let cluster) = self {
            if try cluster.up() { log("started the embedded PostgreSQL cluster at \(cluster.home)") }
            let db = try Connection(cluster.url)
            try db.execute("SET TIME ZONE 'UTC'")
            if checkSchema, (try Schema.installedVersion(db) ?? 0) < Schema.version { try Schema.migrate(db) }
            return db
        }
        let db = try Connection(conninfo)
        try db.execute("SET TIME ZONE 'UTC'")
        if checkSchema {
            // An empty database gets the schema; an older one must be upgraded on purpose (`db migrate`).
            if try Schema.installedVersion(db) == nil {
                try Schema.migrate(db)
                log("applied tierplan's schema (version \(Schema.version)) to an empty database")
            }
            try Schema.check(db)
        }
        return db
    }
}
