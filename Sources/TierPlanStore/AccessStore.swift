import Foundation
import Postgres
import TierPlanCore

/// The SQL of users, API tokens and browser sessions. Secrets are stored as SHA-256 (tokens,
/// session cookies, computed by PostgreSQL) or bcrypt (passwords, computed by the caller).
public enum AccessStore {
    static let sha = "encode(sha256(convert_to($1, 'UTF8')), 'hex')"

    public static func addUser(_ db: Connection, name: String, role: Role, passwordHash: String, by actor: String = "tierplan") throws {
        do {
            try db.transaction { db in
                try db.execute("INSERT INTO users (name, role, password_hash) VALUES ($1, $2, $3)", [name, role.rawValue, passwordHash])
                try audit(db, .userAdded, actor: actor, subject: "\(name) (\(role.rawValue))")
            }
        } catch let error as PostgresError where error.isUniqueViolation {
            throw StoreError.refused("a user named '\(name)' already exists")
        }
    }

    /// Appends to the audit log.
    public static func audit(_ db: Connection, _ action: AuditAction, actor: String, subject: String? = nil, address: String? = nil) throws {
        try db.execute("INSERT INTO audit_log (action, actor, subject, address) VALUES ($1, $2, $3, $4)",
                       [action.rawValue, actor, subject, address])
    }

    /// Failed sign-ins in the last `minutes`, for the name tried and for the address.
    public static func recentFailedSignIns(_ db: Connection, name: String, address: String, minutes: Int) throws -> (name: Int, address: Int) {
        let row = try db.query("""
            SELECT count(*) FILTER (WHERE actor = $1), count(*) FILTER (WHERE address = $2) FROM audit_log
            WHERE action = $3 AND at > now() - make_interval(mins => $4) AND (actor = $1 OR address = $2)
            """, [name, address, AuditAction.signInFailed.rawValue, minutes]).first!
        return (try row.decode(0), try row.decode(1))
    }

    /// The latest entries of the audit log, newest first.
    public static func auditLog(_ db: Connection, limit: Int) throws -> [AuditEntry] {
        try db.query("""
            SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), action, actor, subject, address FROM audit_log
            ORDER BY seq DESC LIMIT $1
            """, [limit]).rows.map {
            AuditEntry(at: try $0.decode(0), action: try $0.decode(1), actor: try $0.decode(2), subject: try $0.decodeIfPresent(3),
                       address: try $0.decodeIfPresent(4))
        }
    }

    public static func users(_ db: Connection) throws -> [(name: String, role: Role)] {
        try db.query("SELECT name, role FROM users ORDER BY name").rows.map { (try $0.decode(0), Role(rawValue: try $0.decode(1)) ?? .viewer) }
    }

    /// The bcrypt hash and role of a user, for sign-in.
    public static func credentials(_ db: Connection, name: String) throws -> (hash: String, role: Role)? {
        try db.query("SELECT password_hash, role FROM users WHERE name = $1", [name]).first.map {
            (try $0.decode(0), Role(rawValue: try $0.decode(1)) ?? .viewer)
        }
    }

    /// Creates a token and returns it: the only time it is ever shown.
    public static func createToken(_ db: Connection, name: String, role: Role, by actor: String = "tierplan") throws -> String {
        let token = Secret.make(prefix: "tp_")
        try db.transaction { db in
            try db.execute("INSERT INTO api_tokens (token_hash, name, role) VALUES (\(sha), $2, $3)", [token, name, role.rawValue])
            try audit(db, .tokenCreated, actor: actor, subject: "\(name) (\(role.rawValue))")
        }
        return token
    }

    /// The token's identity. `last_used_at` is written at most once a minute per token, so that busy
    /// jobs do not wait on a write (and on each other) for every request.
    public static func identity(forToken token: String, _ db: Connection) throws -> Identity? {
        guard let row = try db.queryPrepared("""
            SELECT name, role, last_used_at IS NULL OR last_used_at < now() - interval '1 minute' FROM api_tokens WHERE token_hash = \(sha)
            """, [token]).first else { return nil }
        if try row.decode(2, as: Bool.self) {
            try db.execute("UPDATE api_tokens SET last_used_at = now() WHERE token_hash = \(sha)", [token])
        }
        return Identity(name: try row.decode(0), role: Role(rawValue: try row.decode(1)) ?? .viewer)
    }

    /// Opens a session; returns the cookie value and the CSRF token of its forms.
    public static func openSession(_ db: Connection, user: String, hours: Int = 12) throws -> (cookie: String, csrf: String) {
        let cookie = Secret.make(), csrf = Secret.make()
        try db.execute("""
            INSERT INTO sessions (session_hash, user_name, csrf_token, expires_at) VALUES (\(sha), $2, $3, now() + make_interval(hours => $4))
            """, [cookie, user, csrf, hours])
        return (cookie, csrf)
    }

    /// (Prepared, like the token's: every request of a signed-in page asks.)
    public static func identity(forSession cookie: String, _ db: Connection) throws -> Identity? {
        try db.queryPrepared("""
            SELECT u.name, u.role, s.csrf_token FROM sessions s JOIN users u ON u.name = s.user_name
            WHERE s.session_hash = \(sha) AND s.expires_at > now()
            """, [cookie]).first.map {
            Identity(name: try $0.decode(0), role: Role(rawValue: try $0.decode(1)) ?? .viewer, csrfToken: try $0.decode(2))
        }
    }

    public static func closeSession(_ db: Connection, cookie: String) throws {
        try db.execute("DELETE FROM sessions WHERE session_hash = \(sha) OR expires_at < now()", [cookie])
    }
}

/// What the audit log records.
public enum AuditAction: String, Sendable {
    case signIn = "sign_in", signInFailed = "sign_in_failed", signInThrottled = "sign_in_throttled", signOut = "sign_out"
    case userAdded = "user_added", tokenCreated = "token_created"
}

/// One line of the audit log.
public struct AuditEntry: Encodable, Sendable {
    public var at: String
    public var action: String
    public var actor: String
    public var subject: String?
    public var address: String?
}
