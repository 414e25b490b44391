import CLibPQ

/// The rows of one statement, copied out of libpq (text format).
public struct QueryResult {
    public let columns: [String]
    public let rows: [Row]

    init(_ result: OpaquePointer) throws {
        let columnCount = Int(PQnfields(result))
        let names = (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
        let index = ColumnIndex(names: names)
        var rows: [Row] = []
        let rowCount = Int(PQntuples(result))
        rows.reserveCapacity(rowCount)
        for r in 0..<rowCount {
            var values: [String?] = []
            values.reserveCapacity(columnCount)
            for c in 0..<columnCount {
                if PQgetisnull(result, Int32(r), Int32(c)) == 1 {
                    values.append(nil)
                } else {
                    values.append(String(cString: PQgetvalue(result, Int32(r), Int32(c))))
                }
            }
            rows.append(Row(values: values, index: index))
        }
        self.columns = names
        self.rows = rows
    }

    /// The first row, or nil when there is none.
    public var first: Row? { rows.first }
}

final class ColumnIndex: Sendable {
    let names: [String]
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
    /// Raw text values, nil for SQL NULL.
    public let values: [String?]
    let index: ColumnIndex

    /// The value of column `column`; throws on NULL or a value that does not decode.
    public func decode<T: PostgresDecodable>(_ column: Int, as type: T.Type = T.self) throws -> T {
        guard let value = try decodeIfPresent(column, as: type) else {
            throw PostgresError(code: .decoding, message: "column \(index.names[column]) is NULL, expected \(T.self)")
        }
        return value
    }

    /// The value of column `column`, nil for NULL; throws on a value that does not decode.
    public func decodeIfPresent<T: PostgresDecodable>(_ column: Int, as type: T.Type = T.self) throws -> T? {
        guard column < values.count else {
            throw PostgresError(code: .decoding, message: "no column at position \(column)")
        }
        guard let text = values[column] else { return nil }
        guard let value = T(postgresText: text) else {
            throw PostgresError(code: .decoding, message: "column \(index.names[column]) value '\(text)' is not a \(T.self)")
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
