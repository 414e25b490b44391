import CLibPQ

/// The rows of one statement, read from libpq's result (text format) when decoded: no copy of
/// every value up front, and whole numbers parsed straight from the result's bytes.
public struct QueryResult: Sendable {
    public let columns: [String]
    public let rows: [Row]

    /// Takes ownership of `result` (cleared when the last row goes away).
    init(_ result: OpaquePointer) {
        let storage = ResultStorage(result)
        let rowCount = Int(PQntuples(result))
        self.columns = storage.index.names
        self.rows = (0..<rowCount).map { Row(storage: storage, row: Int32($0)) }
    }

    /// The first row, or nil when there is none.
    public var first: Row? { rows.first }
}

/// A libpq result, read-only once made (so shared between rows and threads), cleared at the end.
@usableFromInline
final class ResultStorage: @unchecked Sendable {
    @usableFromInline let result: OpaquePointer
    @usableFromInline let index: ColumnIndex
    @usableFromInline let columnCount: Int

    init(_ result: OpaquePointer) {
        self.result = result
        columnCount = Int(PQnfields(result))
        index = ColumnIndex(names: (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) })
    }

    deinit { PQclear(result) }

    /// The bytes of a value, nil for SQL NULL.
    @usableFromInline
    func bytes(row: Int32, column: Int) -> UnsafeBufferPointer<UInt8>? {
        if PQgetisnull(result, row, Int32(column)) == 1 { return nil }
        let length = Int(PQgetlength(result, row, Int32(column)))
        return PQgetvalue(result, row, Int32(column)).withMemoryRebound(to: UInt8.self, capacity: length) {
            UnsafeBufferPointer(start: $0, count: length)
        }
    }
}

@usableFromInline
final class ColumnIndex: Sendable {
    @usableFromInline let names: [String]
    let positions: [String: Int]
    init(names: [String]) {
        self.names = names
        var positions: [String: Int] = [:]
        for (i, name) in names.enumerated() where positions[name] == nil { positions[name] = i }
        self.positions = positions
    }
}

/// One result row; columns by position or by name, decoded to the type asked for.
public struct Row: Sendable {
    @usableFromInline let storage: ResultStorage
    @usableFromInline let row: Int32
    @usableFromInline var index: ColumnIndex { storage.index }

    /// Raw text values, nil for SQL NULL.
    public var values: [String?] {
        (0..<storage.columnCount).map { column in storage.bytes(row: row, column: column).map { String(decoding: $0, as: UTF8.self) } }
    }

    /// The value of column `column`; throws on NULL or a value that does not decode.
    /// (Inlinable, so that callers reading many rows get it specialized to the type they ask for.)
    @inlinable
    public func decode<T: PostgresDecodable>(_ column: Int, as type: T.Type = T.self) throws -> T {
        guard let value = try decodeIfPresent(column, as: type) else {
            throw PostgresError(code: .decoding, message: "column \(index.names[column]) is NULL, expected \(T.self)")
        }
        return value
    }

    /// The value of column `column`, nil for NULL; throws on a value that does not decode.
    @inlinable
    public func decodeIfPresent<T: PostgresDecodable>(_ column: Int, as type: T.Type = T.self) throws -> T? {
        guard column >= 0, column < storage.columnCount else {
            throw PostgresError(code: .decoding, message: "no column at position \(column)")
        }
        guard let bytes = storage.bytes(row: row, column: column) else { return nil }
        guard let value = T(postgresBytes: bytes) else {
            throw PostgresError(code: .decoding,
                                message: "column \(index.names[column]) value '\(String(decoding: bytes, as: UTF8.self))' is not a \(T.self)")
        }
        return value
    }

    public func decode<T: PostgresDecodable>(_ name: String, as type: T.Type = T.self) throws -> T {
        try decode(position(of: name), as: type)
    }

    public func decodeIfPresent<T: PostgresDecodable>(_ name: String, as type: T.Type = T.self) throws -> T? {
        try decodeIfPresent(position(of: name), as: type)
    }

    private func position(of name: String) throws -> Int {
        guard let position = index.positions[name] else {
            throw PostgresError(code: .decoding, message: "no column named \(name)")
        }
        return position
    }
}
