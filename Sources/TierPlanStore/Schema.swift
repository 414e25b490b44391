import Foundation
import Postgres

/// tierplan's schema: `schema.sql`, applied idempotently, with the version it records.
public enum Schema {
    /// The version `schema.sql` records; raise it together with the file.
    public static let version = 8

    /// The text of schema.sql shipped with this build.
    public static var sql: String {
        get throws {
            guard let url = Bundle.module.url(forResource: "schema", withExtension: "sql") else {
                throw StoreError.schemaMissing
            }
            return try String(contentsOf: url, encoding: .utf8)
        }
    }

    /// Applies schema.sql in one transaction under a lock; safe to repeat. Returns the version before.
    @discardableResult
    public static func migrate(_ db: Connection) throws -> Int? {
        let script = try sql
        return try db.transaction { db in
            try db.execute("SELECT pg_advisory_xact_lock(hashtext('tierplan.migrate'))")
            let before = try installedVersion(db)
            try db.executeScript(script)
            return before
        }
    }

    /// The version the database records, nil when tierplan's schema is not there.
    public static func installedVersion(_ db: Connection) throws -> Int? {
        let exists = try db.query("SELECT to_regclass('schema_version') IS NOT NULL").first?.decode(0, as: Bool.self) ?? false
        guard exists else { return nil }
        return try db.query("SELECT max(version) FROM schema_version").first?.decodeIfPresent(0, as: Int.self)
    }

    /// Refuses to work on a database whose schema is missing or older than this build.
    public static func check(_ db: Connection) throws {
        let installed = try installedVersion(db)
        guard let installed, installed >= version else {
            throw StoreError.schemaOutdated(installed: installed, expected: version)
        }
    }
}

/// Errors of the storage layer that users can act on.
public enum StoreError: Error, CustomStringConvertible {
    case schemaMissing
    case schemaOutdated(installed: Int?, expected: Int)
    case noCatalog
    case refused(String)
    /// The database cannot be reached or went away (the server answers 503 and retries later).
    case unavailable(String)
    /// The database refused a value given to it (out of its range): the caller's input, not a fault.
    case invalidValue(String)

    public var description: String {
        switch self {
        case .schemaMissing: return "schema.sql is missing from this build"
        case .schemaOutdated(nil, _): return "the database has no tierplan schema: run `tierplan db migrate`"
        case .schemaOutdated(let installed?, let expected):
            return "the database schema is version \(installed), this tierplan needs \(expected): run `tierplan db migrate`"
        case .noCatalog: return "no catalog loaded: run `tierplan catalog load FILE` first"
        case .refused(let message): return message
        case .unavailable(let message): return "the database is unavailable: \(message)"
        case .invalidValue(let message): return message
        }
    }
}
