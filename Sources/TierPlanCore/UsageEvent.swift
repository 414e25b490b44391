/// One usage event as it arrives: a storage sample or a feature use, identified by (time, account, id).
public enum UsageEvent: Sendable, Equatable {
    case storage(id: String, account: String, at: Timestamp, bytes: Int64)
    case feature(id: String, account: String, user: String, feature: String, at: Timestamp, count: Int64)

    public var account: String {
        switch self { case .storage(_, let account, _, _), .feature(_, let account, _, _, _, _): return account }
    }
}

/// The two input formats of `usage ingest`.
public enum UsageFormat: String, Sendable, CaseIterable {
    case ndjson, csv

    public static let csvHeader = ["type", "id", "account", "user", "feature", "at", "bytes", "count"]

    /// Guesses from a file name, else from the first non-blank character (`{` is NDJSON).
    public static func detect(fileName: String?, firstBytes: ArraySlice<UInt8>) -> UsageFormat {
        if let name = fileName?.lowercased() {
            if name.hasSuffix(".csv") { return .csv }
            if name.hasSuffix(".ndjson") || name.hasSuffix(".jsonl") || name.hasSuffix(".json") { return .ndjson }
        }
        let first = firstBytes.first { $0 != 32 && $0 != 9 && $0 != 10 && $0 != 13 }
        return first == UInt8(ascii: "{") ? .ndjson : .csv
    }
}

/// Turns one input line into a `UsageEvent`, or an `InputError` that names the line, field and value.
public struct UsageLineParser {
    public let file: String
    public let format: UsageFormat

    public init(file: String, format: UsageFormat) {
        self.file = file
        self.format = format
    }

    /// True when `line` is the CSV header (it is skipped, not ingested).
    public func isHeader(_ line: ArraySlice<UInt8>) -> Bool {
        guard format == .csv else { return false }
        var reader = CSVReader(bytes: line)
        return reader.next()?.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } == UsageFormat.csvHeader
    }

    public func parse(_ line: some StringProtocol, number: Int) -> Result<UsageEvent, InputError> {
        parse(ArraySlice(line.utf8), number: number)
    }

    public func parse(_ line: ArraySlice<UInt8>, number: Int) -> Result<UsageEvent, InputError> {
        func fail(_ field: String?, _ value: String?, _ reason: String) -> Result<UsageEvent, InputError> {
            .failure(InputError(file: file, line: number, field: field, value: value, reason: reason))
        }
        var fields = UsageFields()
        switch format {
        case .ndjson:
            var parser = FlatJSON.Parser(bytes: line)
            do { try parser.object(into: &fields) } catch { return fail(nil, nil, "malformed JSON: \(error)") }
        case .csv:
            if Self.readPlainCSV(line, into: &fields) { break }
            var reader = CSVReader(bytes: line)
            guard let values = reader.next()?.fields else { return fail(nil, nil, "empty line") }
            guard values.count == UsageFormat.csvHeader.count else {
                return fail(nil, nil, "expected \(UsageFormat.csvHeader.count) fields (\(UsageFormat.csvHeader.joined(separator: ","))), found \(values.count)")
            }
            for (slot, value) in values.enumerated() where !value.isEmpty { fields.values[slot] = value }
        }
        func required(_ slot: UsageFields.Slot) -> String? {
            guard let value = fields.values[slot.rawValue], !value.isEmpty else { return nil }
            return value
        }
        guard let type = required(.type) else { return fail("type", nil, "missing") }
        guard let id = required(.id) else { return fail("id", nil, "missing") }
        guard id.utf8.count <= 200 else { return fail("id", id, "longer than 200 bytes") }
        guard let account = required(.account) else { return fail("account", nil, "missing") }
        guard let atText = required(.at) else { return fail("at", nil, "missing") }
        guard let at = Timestamp(iso: atText) else { return fail("at", atText, "bad time: expected ISO 8601 such as 2026-10-01T06:00:00Z") }
        switch type {
        case "storage":
            guard let text = required(.bytes) else { return fail("bytes", nil, "missing on a storage event") }
            guard let bytes = Int64(text) else { return fail("bytes", text, "must be a whole number of bytes") }
            guard bytes >= 0 else { return fail("bytes", text, "negative bytes") }
            return .success(.storage(id: id, account: account, at: at, bytes: bytes))
        case "feature":
            guard let user = required(.user) else { return fail("user", nil, "missing on a feature event") }
            guard let feature = required(.feature) else { return fail("feature", nil, "missing on a feature event") }
            var count: Int64 = 1
            if let text = required(.count) {
                guard let value = Int64(text), value >= 1 else { return fail("count", text, "must be a whole number ≥ 1") }
                count = value
            }
            return .success(.feature(id: id, account: account, user: user, feature: feature, at: at, count: count))
        default:
            return fail("type", type, "must be storage or feature")
        }
    }
}

extension UsageLineParser {
    /// The common CSV line — no quotes or line breaks, eight fields — read without `CSVReader`'s
    /// per-line arrays: the fields are exactly what lies between the commas, as `CSVReader` reads
    /// them. False (and `fields` untouched) for any other line, which takes the general reader.
    static func readPlainCSV(_ line: ArraySlice<UInt8>, into fields: inout UsageFields) -> Bool {
        var commas = 0
        for byte in line {
            if byte == 44 { commas += 1 } else if byte == 34 || byte == 10 || byte == 13 { return false }
        }
        guard commas == UsageFormat.csvHeader.count - 1 else { return false }
        var slot = 0
        var start = line.startIndex
        for index in line.indices where line[index] == 44 {
            if index > start { fields.values[slot] = String(decoding: line[start..<index], as: UTF8.self) }
            slot += 1
            start = index + 1
        }
        if line.endIndex > start { fields.values[slot] = String(decoding: line[start..<line.endIndex], as: UTF8.self) }
        return true
    }
}

/// The eight known fields of a usage line, in CSV column order; other JSON keys are ignored.
struct UsageFields {
    enum Slot: Int, CaseIterable { case type, id, account, user, feature, at, bytes, count }
    static let keys: [[UInt8]] = UsageFormat.csvHeader.map { Array($0.utf8) }
    var values: [String?] = Array(repeating: nil, count: 8)

    static func slot(of key: ArraySlice<UInt8>) -> Int? {
        keys.firstIndex { $0.elementsEqual(key) }
    }
}

/// A strict parser for one flat JSON object per line: string, number, boolean or null values.
/// Numbers keep their text so that integers stay exact.
enum FlatJSON {
    struct Parser {
        let bytes: ArraySlice<UInt8>
        var i: Int

        init(bytes: ArraySlice<UInt8>) {
            self.bytes = bytes
            self.i = bytes.startIndex
        }

        var column: Int { i - bytes.startIndex + 1 }

        mutating func skipSpace() {
            while i < bytes.endIndex, bytes[i] == 32 || bytes[i] == 9 || bytes[i] == 13 || bytes[i] == 10 { i += 1 }
        }

        mutating func expect(_ byte: UInt8, _ what: String) throws(FlatJSONError) {
            skipSpace()
            guard i < bytes.endIndex, bytes[i] == byte else { throw FlatJSONError("expected \(what) at column \(column)") }
            i += 1
        }

        mutating func object(into fields: inout UsageFields) throws(FlatJSONError) {
            try expect(123, "'{'")
            var seen: UInt8 = 0   // one bit per known key
            skipSpace()
            if i < bytes.endIndex, bytes[i] == 125 { i += 1 } else {
                while true {
                    skipSpace()
                    let (keyBytes, key) = try string()
                    try expect(58, "':'")
                    skipSpace()
                    let value = try scalar(for: key)
                    if let slot = UsageFields.slot(of: keyBytes) {
                        if seen & (1 << slot) != 0 { throw FlatJSONError("key \"\(key)\" given twice") }
                        seen |= 1 << slot
                        fields.values[slot] = value
                    }
                    skipSpace()
                    guard i < bytes.endIndex else { throw FlatJSONError("unterminated object") }
                    if bytes[i] == 44 { i += 1; continue }
                    if bytes[i] == 125 { i += 1; break }
                    throw FlatJSONError("expected ',' or '}' at column \(column)")
                }
            }
            skipSpace()
            guard i == bytes.endIndex else { throw FlatJSONError("unexpected text after the object at column \(column)") }
        }

        mutating func scalar(for key: String) throws(FlatJSONError) -> String? {
            guard i < bytes.endIndex else { throw FlatJSONError("missing value for \"\(key)\"") }
            switch bytes[i] {
            case 34: return try string().1
            case 45, 48...57:
                let start = i
                while i < bytes.endIndex, (48...57).contains(bytes[i]) || bytes[i] == 45 || bytes[i] == 43 || bytes[i] == 46
                        || bytes[i] == 101 || bytes[i] == 69 { i += 1 }
                return String(decoding: bytes[start..<i], as: UTF8.self)
            case 116: try word("true"); return "true"
            case 102: try word("false"); return "false"
            case 110: try word("null"); return nil
            default: throw FlatJSONError("value of \"\(key)\" must be a string, number, boolean or null")
            }
        }

        mutating func word(_ text: String) throws(FlatJSONError) {
            let w = Array(text.utf8)
            guard i + w.count <= bytes.endIndex, bytes[i..<(i + w.count)].elementsEqual(w) else {
                throw FlatJSONError("bad literal at column \(column)")
            }
            i += w.count
        }

        /// A string's raw bytes when it has no escapes (for key lookup) and its decoded text.
        mutating func string() throws(FlatJSONError) -> (ArraySlice<UInt8>, String) {
            guard i < bytes.endIndex, bytes[i] == 34 else { throw FlatJSONError("expected a string at column \(column)") }
            i += 1
            let start = i
            // Fast path: no escapes.
            while i < bytes.endIndex, bytes[i] != 34, bytes[i] != 92, bytes[i] >= 32 { i += 1 }
            if i < bytes.endIndex, bytes[i] == 34 {
                defer { i += 1 }
                return (bytes[start..<i], String(decoding: bytes[start..<i], as: UTF8.self))
            }
            var out = Array(bytes[start..<i])
            while i < bytes.endIndex {
                let b = bytes[i]
                i += 1
                switch b {
                case 34: return (ArraySlice(out), String(decoding: out, as: UTF8.self))
                case 92:
                    guard i < bytes.endIndex else { break }
                    let e = bytes[i]
                    i += 1
                    switch e {
                    case 34, 92, 47: out.append(e)
                    case 98: out.append(8)
                    case 102: out.append(12)
                    case 110: out.append(10)
                    case 114: out.append(13)
                    case 116: out.append(9)
                    case 117:
                        var scalar = try hex4()
                        if (0xD800...0xDBFF).contains(scalar), i + 1 < bytes.endIndex, bytes[i] == 92, bytes[i + 1] == 117 {
                            i += 2
                            let low = try hex4()
                            guard (0xDC00...0xDFFF).contains(low) else { throw FlatJSONError("bad surrogate pair") }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let u = Unicode.Scalar(scalar) else { throw FlatJSONError("bad \\u escape") }
                        out.append(contentsOf: Array(String(Character(u)).utf8))
                    default: throw FlatJSONError("bad escape at column \(column - 1)")
                    }
                default:
                    guard b >= 32 else { throw FlatJSONError("control character in a string") }
                    out.append(b)
                }
            }
            throw FlatJSONError("unterminated string")
        }

        /// Exactly four hex digits (`UInt32(_:radix:)` alone would take `+041` or `-000`).
        mutating func hex4() throws(FlatJSONError) -> UInt32 {
            guard i + 4 <= bytes.endIndex else { throw FlatJSONError("bad \\u escape") }
            var value: UInt32 = 0
            for b in bytes[i..<(i + 4)] {
                switch b {
                case 48...57: value = value << 4 | UInt32(b - 48)
                case 65...70: value = value << 4 | UInt32(b - 55)
                case 97...102: value = value << 4 | UInt32(b - 87)
                default: throw FlatJSONError("bad \\u escape")
                }
            }
            i += 4
            return value
        }
    }
}

struct FlatJSONError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

import Foundation
