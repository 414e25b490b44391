import Foundation

/// A value that can be sent as a query parameter, in PostgreSQL's text format (nil is SQL NULL).
public protocol PostgresEncodable {
    var postgresText: String? { get }
}

/// A value that can be read from a result column given in text format.
public protocol PostgresDecodable {
    init?(postgresText: String)
}

extension String: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { self }
    public init?(postgresText: String) { self = postgresText }
}

extension Int: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { String(self) }
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Int64: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { String(self) }
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Int32: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { String(self) }
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Double: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { isFinite ? String(self) : (isNaN ? "NaN" : (self > 0 ? "Infinity" : "-Infinity")) }
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Bool: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { self ? "t" : "f" }
    public init?(postgresText: String) {
        switch postgresText {
        case "t", "true": self = true
        case "f", "false": self = false
        default: return nil
        }
    }
}

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public var postgresText: String? { self.flatMap { $0.postgresText } }
}

/// A SQL NULL parameter of no particular type.
public struct SQLNull: PostgresEncodable {
    public init() {}
    public var postgresText: String? { nil }
}

/// A list sent as a PostgreSQL array literal, e.g. for `= ANY($1::text[])`.
public struct PostgresArray<Element: PostgresEncodable>: PostgresEncodable {
    public let elements: [Element]
    public init(_ elements: [Element]) { self.elements = elements }

    public var postgresText: String? {
        let items = elements.map { element -> String in
            guard let text = element.postgresText else { return "NULL" }
            let escaped = text.replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "\"", with: "\\\"")
            return "\"\(escaped)\""
        }
        return "{" + items.joined(separator: ",") + "}"
    }
}

extension PostgresArray: PostgresDecodable where Element: PostgresDecodable {
    /// Reads a one-dimensional array literal such as `{a,"b c",NULL}` (NULL elements are dropped).
    public init?(postgresText: String) {
        var chars = Substring(postgresText)
        guard chars.first == "{", chars.last == "}" else { return nil }
        chars = chars.dropFirst().dropLast()
        var result: [Element] = []
        var current = ""
        var quoted = false, wasQuoted = false, escaping = false
        func flush() -> Bool {
            defer { current = ""; wasQuoted = false }
            if !wasQuoted && current == "NULL" { return true }
            guard let value = Element(postgresText: current) else { return false }
            result.append(value)
            return true
        }
        if chars.isEmpty { self.elements = []; return }
        for c in chars {
            if escaping { current.append(c); escaping = false; continue }
            switch c {
            case "\\" where quoted: escaping = true
            case "\"": quoted.toggle(); wasQuoted = true
            case "," where !quoted: if !flush() { return nil }
            default: current.append(c)
            }
        }
        if !flush() { return nil }
        self.elements = result
    }
}
