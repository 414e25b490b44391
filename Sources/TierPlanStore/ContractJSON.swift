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
