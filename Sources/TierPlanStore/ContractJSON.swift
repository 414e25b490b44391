import Foundation

/// The one JSON encoding of what tierplan prints, serves and stores: snake_case keys by one
/// setting (types spell a key only where the contract's name is not the snake case of theirs),
/// sorted keys, slashes as they are. Dictionary keys are data and stay as they are.
public enum ContractJSON {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    public static func data<T: Encodable>(_ value: T) throws -> Data { try encoder().encode(value) }

    public static func text<T: Encodable>(_ value: T) throws -> String { String(decoding: try data(value), as: UTF8.self) }
}

/// Writes JSON byte for byte as `ContractJSON` prints it, for the few documents that are served
/// often and large enough for `JSONEncoder` to dominate a request (a page of offers: 50 objects of 22
/// keys, each key snake-cased and every object's keys sorted on every request). Keys are written in
/// the order given: callers list them sorted (by UTF-8 bytes, as `.sortedKeys` does). Tests hold
/// each such document to `ContractJSON`'s output.
public struct ContractJSONWriter {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 4096) { bytes.reserveCapacity(capacity) }

    @inline(__always) public mutating func raw(_ byte: UInt8) { bytes.append(byte) }
    @inline(__always) mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// `"key":` (a literal key: snake case, nothing to escape).
    public mutating func key(_ name: StaticString, first: Bool = false) {
        if !first { raw(UInt8(ascii: ",")) }
        raw(UInt8(ascii: "\"")); raw(name); raw(UInt8(ascii: "\"")); raw(UInt8(ascii: ":"))
    }

    public mutating func beginObject() { raw(UInt8(ascii: "{")) }
    public mutating func endObject() { raw(UInt8(ascii: "}")) }
    public mutating func beginArray() { raw(UInt8(ascii: "[")) }
    public mutating func endArray() { raw(UInt8(ascii: "]")) }
    public mutating func comma() { raw(UInt8(ascii: ",")) }
    public mutating func null() { raw("null") }
    public mutating func bool(_ value: Bool) { value ? raw("true") : raw("false") }

    public mutating func int(_ value: Int) { bytes.append(contentsOf: String(value).utf8) }

    /// As `JSONEncoder` writes a finite Double: its shortest description, without a trailing ".0".
    public mutating func double(_ value: Double) {
        precondition(value.isFinite, "JSON has no \(value)")
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        bytes.append(contentsOf: text.utf8)
    }

    public mutating func string(_ value: String?) {
        guard var text = value else { null(); return }
        raw(UInt8(ascii: "\""))
        text.withUTF8 { utf8 in
            var start = 0
            for (i, byte) in utf8.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                bytes.append(contentsOf: utf8[start..<i])
                start = i + 1
                switch byte {
                case UInt8(ascii: "\""): raw("\\\"")
                case UInt8(ascii: "\\"): raw("\\\\")
                case 0x08: raw("\\b")
                case 0x09: raw("\\t")
                case 0x0A: raw("\\n")
                case 0x0C: raw("\\f")
                case 0x0D: raw("\\r")
                default:
                    let hex: [UInt8] = Array("0123456789abcdef".utf8)
                    raw("\\u00"); raw(hex[Int(byte >> 4)]); raw(hex[Int(byte & 0xF)])
                }
            }
            bytes.append(contentsOf: utf8[start...])
        }
        raw(UInt8(ascii: "\""))
    }

    /// `[…]`, each element written by `element`.
    public mutating func array<S: Sequence>(_ items: S, _ element: (inout ContractJSONWriter, S.Element) -> Void) {
        beginArray()
        var first = true
        for item in items {
            if !first { comma() }
            first = false
            element(&self, item)
        }
        endArray()
    }

    public mutating func strings(_ values: [String]) { array(values) { $0.string($1) } }
}

/// A document that writes its own `ContractJSON` bytes (see `ContractJSONWriter`); printed and
/// served through `jsonBytes()` instead of JSONEncoder.
public protocol ContractJSONDocument: Encodable {
    func jsonBytes() -> [UInt8]
}
