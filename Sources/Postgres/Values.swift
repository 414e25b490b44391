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
    /// Works on UTF-8 bytes: signals decode tens of thousands of these per run.
    public init?(postgresText: String) {
        var text = postgresText
        let parsed: [Element]? = text.withUTF8 { bytes -> [Element]? in
            guard bytes.count >= 2, bytes.first == UInt8(ascii: "{"), bytes.last == UInt8(ascii: "}") else { return nil }
            var result: [Element] = []
            if bytes.count == 2 { return result }
            var i = 1
            let end = bytes.count - 1
            var field: [UInt8] = []
            while i <= end {
                field.removeAll(keepingCapacity: true)
                var quoted = false
                if bytes[i] == UInt8(ascii: "\"") {
                    quoted = true
                    i += 1
                    while i < end, bytes[i] != UInt8(ascii: "\"") {
                        if bytes[i] == UInt8(ascii: "\\"), i + 1 < end { i += 1 }
                        field.append(bytes[i])
                        i += 1
                    }
                    i += 1   // closing quote
                } else {
                    let start = i
                    while i < end, bytes[i] != UInt8(ascii: ",") { i += 1 }
                    field.append(contentsOf: bytes[start..<i])
                }
                if !(quoted == false && field.elementsEqual("NULL".utf8)) {
                    guard let value = Element(postgresText: String(decoding: field, as: UTF8.self)) else { return nil }
                    result.append(value)
                }
                i += 1   // the comma (or past the end)
            }
            return result
        }
        guard let parsed else { return nil }
        self.elements = parsed
    }
}
