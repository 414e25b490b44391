import Foundation
import Postgres
import TierPlanCore

/// The SQL of users, API tokens and browser sessions. Secrets are stored as SHA-256 (tokens,
/// session cookies, computed by PostgreSQL) or bcrypt (passwords, computed by the caller).
public enum AccessStore {
    static let sha = "encode(sha256(convert_to($1, 'UTF8')), 'hex')"

    public static func addUser(_ db: Connection, name: String, role: Role, passwordHash: String) throws {
        do {
            try db.execute("INSERT INTO users (name, role, password_hash) VALUES ($1, $2, $3)", [name, role.rawValue, passwordHash])
        } catch let error as PostgresError where error.isUniqueViolation {
            throw StoreError.refused("a user named '\(name)' already exists")
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
    public static func createToken(_ db: Connection, name: String, role: Role) throws -> String {
        let token = Secret.make(prefix: "tp_")
        try db.execute("INSERT INTO api_tokens (token_hash, name, role) VALUES (\(sha), $2, $3)", [token, name, role.rawValue])
        return token
    }

    /// The token's identity. `last_used_at` is written at most once a minute per token, so that busy
    /// jobs do not wait on a write (and on each other) for every request.
    public static func identity(forToken token: String, _ db: Connection) throws -> Identity? {
        guard let row = try db.query("""
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

    public static func identity(forSession cookie: String, _ db: Connection) throws -> Identity? {
        try db.query("""
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
