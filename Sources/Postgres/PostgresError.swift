/// An error from libpq or the server, with the server's SQLSTATE when there is one.
public struct PostgresError: Error, CustomStringConvertible, CustomDebugStringConvertible, Sendable {
    /// What failed, in stable terms scripts and callers can match on.
    public enum Code: String, Sendable {
        case connectionFailed
        case server
        case copyFailed
        case decoding
        case protocolViolation
    }

    public let code: Code
    /// Five-character SQLSTATE, e.g. `23505` for a unique violation.
    public let sqlState: String?
    public let message: String
    public let detail: String?
    public let hint: String?
    /// The statement that failed, for debugging (never printed in `description`).
    public let query: String?

    public init(code: Code, message: String, sqlState: String? = nil, detail: String? = nil,
                hint: String? = nil, query: String? = nil) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.hint = hint
        self.query = query
    }

    public var isUniqueViolation: Bool { sqlState == "23505" }
    public var isForeignKeyViolation: Bool { sqlState == "23503" }
    public var isSerializationFailure: Bool { sqlState == "40001" || sqlState == "40P01" }
    public var isLockNotAvailable: Bool { sqlState == "55P03" }

    public var description: String {
        var text = message
        if let detail, !detail.isEmpty { text += " (\(detail))" }
        return text
    }

    public var debugDescription: String {
        var parts = ["\(code.rawValue)"]
        if let sqlState { parts.append("SQLSTATE \(sqlState)") }
        parts.append(message)
        if let detail { parts.append("detail: \(detail)") }
        if let hint { parts.append("hint: \(hint)") }
        if let query { parts.append("query: \(query)") }
        return parts.joined(separator: "; ")
    }
}
