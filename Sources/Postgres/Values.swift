import Foundation

/// A value that can be sent as a query parameter, in PostgreSQL's text format (nil is SQL NULL).
public protocol PostgresEncodable {
    var postgresText: String? { get }
}

/// A value that can be read from a result column given in text format.
public protocol PostgresDecodable {
    init?(postgresText: String)
    /// The same from the value's UTF-8 bytes (by default through a `String`).
    init?(postgresBytes: UnsafeBufferPointer<UInt8>)
}

extension PostgresDecodable {
    @inlinable
    public init?(postgresBytes: UnsafeBufferPointer<UInt8>) { self.init(postgresText: String(decoding: postgresBytes, as: UTF8.self)) }
}

/// A whole number in decimal text, e.g. `-42`; nil when it is not one or does not fit.
@inlinable @usableFromInline
func parseInteger(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
    var index = 0, negative = false
    if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
        negative = bytes[index] == UInt8(ascii: "-"); index += 1
    }
    guard index < bytes.count else { return nil }
    var value: Int64 = 0
    while index < bytes.count {
        let digit = bytes[index] &- UInt8(ascii: "0")
        guard digit < 10 else { return nil }
        let (times, o1) = value.multipliedReportingOverflow(by: 10)
        let (next, o2) = negative ? times.subtractingReportingOverflow(Int64(digit)) : times.addingReportingOverflow(Int64(digit))
        guard !o1, !o2 else { return nil }
        value = next; index += 1
    }
    return value
}

extension String: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { self }
    public init?(postgresText: String) { self = postgresText }
    @inlinable
    public init?(postgresBytes: UnsafeBufferPointer<UInt8>) { self = String(decoding: postgresBytes, as: UTF8.self) }
}

extension Int: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { String(self) }
    public init?(postgresText: String) { self.init(postgresText) }
    @inlinable
    public init?(postgresBytes: UnsafeBufferPointer<UInt8>) {
        guard let value = parseInteger(postgresBytes).flatMap({ Int(exactly: $0) }) else { return nil }
        self = value
    }
}

extension Int64: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { String(self) }
    public init?(postgresText: String) { self.init(postgresText) }
    @inlinable
    public init?(postgresBytes: UnsafeBufferPointer<UInt8>) {
        guard let value = parseInteger(postgresBytes).flatMap({ Int64(exactly: $0) }) else { return nil }
        self = value
    }
}

extension Int32: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { String(self) }
    public init?(postgresText: String) { self.init(postgresText) }
    @inlinable
    public init?(postgresBytes: UnsafeBufferPointer<UInt8>) {
        guard let value = parseInteger(postgresBytes).flatMap({ Int32(exactly: $0) }) else { return nil }
        self = value
    }
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
        // Built on bytes: Foundation's replacingOccurrences cost ~200 µs per JSON text of a kilobyte.
        var text: [UInt8] = [UInt8(ascii: "{")]
        for (i, element) in elements.enumerated() {
            if i > 0 { text.append(UInt8(ascii: ",")) }
            guard let item = element.postgresText else { text += "NULL".utf8; continue }
            text.append(UInt8(ascii: "\""))
            for byte in item.utf8 {
                if byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "\"") { text.append(UInt8(ascii: "\\")) }
                text.append(byte)
            }
            text.append(UInt8(ascii: "\""))
        }
        text.append(UInt8(ascii: "}"))
        return String(decoding: text, as: UTF8.self)
    }
}

extension PostgresArray: PostgresDecodable where Element: PostgresDecodable {
    /// Reads a one-dimensional array literal such as `{a,"b c",NULL}` (NULL elements are dropped).
    /// Works on UTF-8 bytes: signals decode tens of thousands of these per run.
    public init?(postgresText: String) {
        var text = postgresText
        guard let array = text.withUTF8({ Self(postgresBytes: $0) }) else { return nil }
        self = array
    }

    // Straight-line code, no closure: a closure in this generic context made every call look up
    // generic metadata at run time (8 % of a run's CPU in `perf`); `@inlinable` lets callers specialize it.
    @inlinable
    public init?(postgresBytes bytes: UnsafeBufferPointer<UInt8>) {
        guard bytes.count >= 2, bytes.first == UInt8(ascii: "{"), bytes.last == UInt8(ascii: "}") else { return nil }
        var result: [Element] = []
        var i = 1
        let end = bytes.count - 1
        var field: [UInt8] = []
        while i <= end && bytes.count > 2 {
            if bytes[i] == UInt8(ascii: "\"") {
                field.removeAll(keepingCapacity: true)
                i += 1
                while i < end, bytes[i] != UInt8(ascii: "\"") {
                    if bytes[i] == UInt8(ascii: "\\"), i + 1 < end { i += 1 }
                    field.append(bytes[i])
                    i += 1
                }
                i += 1   // closing quote
                guard let value = field.withUnsafeBufferPointer({ Element(postgresBytes: $0) }) else { return nil }
                result.append(value)
            } else {
                let start = i
                while i < end, bytes[i] != UInt8(ascii: ",") { i += 1 }
                let item = UnsafeBufferPointer(rebasing: bytes[start..<i])
                let isNull = item.count == 4 && item[0] == UInt8(ascii: "N") && item[1] == UInt8(ascii: "U")
                    && item[2] == UInt8(ascii: "L") && item[3] == UInt8(ascii: "L")
                if !isNull {
                    guard let value = Element(postgresBytes: item) else { return nil }
                    result.append(value)
                }
            }
            i += 1   // the comma (or past the end)
        }
        self.elements = result
    }
}
