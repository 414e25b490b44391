/// What a person or a job may do: viewers read, reviewers also decide, admins also manage users.
public enum Role: String, Sendable, Codable, CaseIterable, Comparable {
    case viewer, reviewer, admin

    public static func < (a: Role, b: Role) -> Bool { a.level < b.level }
    var level: Int { self == .viewer ? 0 : (self == .reviewer ? 1 : 2) }

    /// True when this role may do what `required` may do.
    public func allows(_ required: Role) -> Bool { self >= required }
}

/// Who is asking: a signed-in person or a token-holding job.
public struct Identity: Sendable, Equatable {
    public var name: String
    public var role: Role
    /// The CSRF token of the browser session (nil for bearer tokens, which need none).
    public var csrfToken: String?

    public init(name: String, role: Role, csrfToken: String? = nil) {
        self.name = name; self.role = role; self.csrfToken = csrfToken
    }
}

/// Random secrets for tokens, session cookies and CSRF tokens (hex of 32 random bytes).
public enum Secret {
    public static func make(prefix: String = "") -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return prefix + bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
