import CLibPQ
import Foundation

/// One libpq connection with a single owner: not Sendable, closed when it goes away.
///
/// Every value goes in as a bound parameter; results are read in text format and decoded
/// through `PostgresDecodable`.
public final class Connection {
    private let conn: OpaquePointer
    /// What it was opened with (to open another one to the same database).
    public let conninfo: String

    /// Connects with a `postgresql://` URL or a `key=value` string; an empty string means
    /// libpq's own `PG*` environment variables.
    public init(_ conninfo: String) throws {
        guard let conn = PQconnectdb(conninfo) else {
            throw PostgresError(code: .connectionFailed, message: "cannot connect to PostgreSQL: out of memory")
        }
        guard PQstatus(conn) == CONNECTION_OK else {
            let message = Self.trimmed(PQerrorMessage(conn))
            PQfinish(conn)
            throw PostgresError(code: .connectionFailed, message: "cannot connect to PostgreSQL: \(message)")
        }
        self.conn = conn
        self.conninfo = conninfo
        // Notices (e.g. "relation already exists, skipping") are not errors; keep stderr clean.
        PQsetNoticeReceiver(conn, { _, _ in }, nil)
    }

    deinit { PQfinish(conn) }

    /// True inside a transaction block (or a failed one).
    public var inTransaction: Bool { PQtransactionStatus(conn) != PQTRANS_IDLE }

    /// False once the connection to the server is lost (a pool then replaces it).
    public var isHealthy: Bool { PQstatus(conn) == CONNECTION_OK }

    /// The server's process id for this connection (useful to cancel or spot it in pg_stat_activity).
    public var backendPID: Int { Int(PQbackendPID(conn)) }

    // MARK: Queries

    /// Runs one statement with bound parameters and returns every row.
    @discardableResult
    public func query(_ sql: String, _ parameters: [any PostgresEncodable] = []) throws -> QueryResult {
        QueryResult(try run(sql, parameters))
    }

    /// Runs one statement with bound parameters through a prepared statement of this connection:
    /// the first call with a text prepares it, later ones skip PostgreSQL's parsing and analysis (and
    /// its planning when it finds a generic plan as good). For the few statements a server runs again
    /// and again; `sql` must come from a fixed set of texts (the cache lives as long as the connection).
    @discardableResult
    public func queryPrepared(_ sql: String, _ parameters: [any PostgresEncodable] = []) throws -> QueryResult {
        QueryResult(try runPrepared(sql, parameters))
    }

    /// Runs one statement with bound parameters; returns the number of rows it affected.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [any PostgresEncodable] = []) throws -> Int {
        let result = try run(sql, parameters)
        defer { PQclear(result) }
        return Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    /// Runs a script of several statements that takes no parameters (migrations, DDL).
    public func executeScript(_ sql: String) throws {
        guard let result = PQexec(conn, sql) else { throw connectionError(query: sql) }
        defer { PQclear(result) }
        try check(result, query: sql)
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    public func transaction<T>(_ body: (Connection) throws -> T) throws -> T {
        try execute("BEGIN")
        let value: T
        do {
            value = try body(self)
        } catch {
            _ = try? execute("ROLLBACK")
            throw error
        }
        try execute("COMMIT")
        return value
    }

    /// Reads a large result in batches through a cursor, so only `batchSize` rows are in memory (two
    /// batches: the next is fetched while `body` works on this one, so `body` must not use this
    /// connection). Must run inside a transaction.
    public func forEachBatch(_ sql: String, _ parameters: [any PostgresEncodable] = [], batchSize: Int = 5_000,
                             _ body: ([Row]) throws -> Void) throws {
        // Every row will be read: plan for the total time, not for the first rows (the cursor default).
        try execute("SET LOCAL cursor_tuple_fraction = 1.0")
        try execute("DECLARE tierplan_batch_cursor NO SCROLL CURSOR FOR " + sql, parameters)
        let fetch = "FETCH FORWARD \(batchSize) FROM tierplan_batch_cursor"
        // The next batch is asked for before `body` works on this one, so the server reads it meanwhile.
        try send(fetch)
        var pending = true
        defer {
            if pending { _ = try? receive(fetch) }
            _ = try? execute("CLOSE tierplan_batch_cursor")
        }
        while true {
            let batch = try receive(fetch)
            pending = false
            if batch.rows.isEmpty { break }
            let more = batch.rows.count == batchSize
            if more { try send(fetch); pending = true }
            try body(batch.rows)
            if !more { break }
        }
    }

    /// Sends a statement without waiting for its result (`receive` collects it); nothing else may use
    /// the connection in between.
    private func send(_ sql: String) throws {
        guard PQsendQuery(conn, sql) == 1 else { throw connectionError(query: sql) }
    }

    /// The result of the statement `send` sent.
    private func receive(_ sql: String) throws -> QueryResult {
        var kept: OpaquePointer?
        var failure: Error?
        while let result = PQgetResult(conn) {
            if kept == nil && failure == nil {
                do { try check(result, query: sql); kept = result; continue } catch { failure = error }
            }
            PQclear(result)
        }
        if let failure { throw failure }
        guard let kept else { throw connectionError(query: sql) }
        return QueryResult(kept)
    }

    // MARK: COPY

    /// Streams rows into `COPY … FROM STDIN`; returns the number of rows copied.
    /// If `produce` throws, the COPY is ended with an error so the server keeps nothing of it.
    @discardableResult
    public func copyIn(_ sql: String, _ produce: (CopyWriter) throws -> Void) throws -> Int {
        let start = try run(sql, [])
        let status = PQresultStatus(start)
        PQclear(start)
        guard status == PGRES_COPY_IN else {
            throw PostgresError(code: .protocolViolation, message: "statement did not start COPY FROM STDIN", query: sql)
        }
        let writer = CopyWriter(conn: conn)
        do {
            try produce(writer)
            try writer.flush()
        } catch {
            _ = PQputCopyEnd(conn, "aborted by client: \(error)")
            // When the server stopped the COPY (a write failed), its error, with its SQLSTATE, is the one to throw.
            var serverError: Error?
            while let result = PQgetResult(conn) {
                if serverError == nil { do { try check(result, query: sql) } catch let failure { serverError = failure } }
                PQclear(result)
            }
            if let failed = error as? PostgresError, failed.code == .copyFailed, let serverError { throw serverError }
            throw error
        }
        guard PQputCopyEnd(conn, nil) == 1 else { throw connectionError(query: sql) }
        var copied = 0
        var firstError: Error?
        while let result = PQgetResult(conn) {
            if firstError == nil {
                do {
                    try check(result, query: sql)
                    copied = Int(String(cString: PQcmdTuples(result))) ?? 0
                } catch { firstError = error }
            }
            PQclear(result)
        }
        if let firstError { throw firstError }
        return copied
    }

    // MARK: Internals

    private func run(_ sql: String, _ parameters: [any PostgresEncodable]) throws -> OpaquePointer {
        try withParameterValues(parameters, sql) { count, values in PQexecParams(conn, sql, count, nil, values, nil, nil, 0) }
    }

    /// The statement names of this connection's prepared statements, by their text.
    private var prepared: [String: String] = [:]
    private var preparedCount = 0

    private func runPrepared(_ sql: String, _ parameters: [any PostgresEncodable], retried: Bool = false) throws -> OpaquePointer {
        let name: String
        if let known = prepared[sql] {
            name = known
        } else {
            preparedCount += 1
            name = "tierplan_\(preparedCount)"
            guard let result = PQprepare(conn, name, sql, Int32(parameters.count), nil) else { throw connectionError(query: sql) }
            defer { PQclear(result) }
            try check(result, query: sql)
            prepared[sql] = name
        }
        do {
            return try withParameterValues(parameters, sql) { count, values in PQexecPrepared(conn, name, count, values, nil, nil, 0) }
        } catch let error as PostgresError where !retried && !inTransaction && ["26000", "0A000"].contains(error.sqlState ?? "") {
            // The statement is gone (DISCARD ALL) or its result changed shape (a migration): prepare it anew, once.
            prepared[sql] = nil
            _ = try? execute("DEALLOCATE \(name)")
            return try runPrepared(sql, parameters, retried: true)
        }
    }

    /// Calls libpq with the parameters as C strings (NULL for nil), then checks its result.
    private func withParameterValues(_ parameters: [any PostgresEncodable], _ sql: String,
                                     _ call: (Int32, UnsafePointer<UnsafePointer<CChar>?>?) -> OpaquePointer?) throws -> OpaquePointer {
        let texts = parameters.map { $0.postgresText }
        let cStrings: [UnsafeMutablePointer<CChar>?] = texts.map { $0.flatMap { strdup($0) } }
        defer { cStrings.forEach { free($0) } }
        let result: OpaquePointer? = cStrings.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return call(0, nil) }
            return base.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) { values in
                call(Int32(buffer.count), values)
            }
        }
        guard let result else { throw connectionError(query: sql) }
        do {
            try check(result, query: sql)
        } catch {
            PQclear(result)
            throw error
        }
        return result
    }

    private func check(_ result: OpaquePointer, query: String) throws {
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_COPY_IN, PGRES_EMPTY_QUERY, PGRES_SINGLE_TUPLE:
            return
        default:
            func field(_ code: UInt8) -> String? {
                guard let value = PQresultErrorField(result, Int32(code)) else { return nil }
                return String(cString: value)
            }
            let message = field(UInt8(ascii: "M")) ?? Self.trimmed(PQresultErrorMessage(result))
            let sqlState = field(UInt8(ascii: "C"))
            // Every error the server sends has a SQLSTATE; one without it is libpq's own, in practice
            // the connection lost ("server closed the connection unexpectedly"), even while PQstatus
            // still says CONNECTION_OK.
            throw PostgresError(code: sqlState == nil ? .connectionFailed : .server, message: message, sqlState: sqlState,
                                detail: field(UInt8(ascii: "D")), hint: field(UInt8(ascii: "H")), query: query)
        }
    }

    private func connectionError(query: String?) -> PostgresError {
        PostgresError(code: .connectionFailed, message: Self.trimmed(PQerrorMessage(conn)), query: query)
    }

    /// libpq's message on one line (it ends with a newline and may hold several, e.g. "Is the server running…").
    static func trimmed(_ text: UnsafePointer<CChar>?) -> String {
        guard let text else { return "unknown libpq error" }
        return String(cString: text).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: "; ")
    }
}

/// Buffers rows of a `COPY … FROM STDIN` and hands them to libpq in large chunks. The buffer is
/// raw memory: an ingest appends hundreds of millions of bytes a few at a time, and an array's
/// uniqueness and exclusivity checks on each of them cost more than the bytes.
public final class CopyWriter {
    private let conn: OpaquePointer
    private var bytes: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private var count = 0
    private var rowStarted = false
    /// Under a socket buffer (~200 KB), so a chunk is handed over whole and the server works on it
    /// while the next is made. At 256 KB the two took turns: the server reads a CopyData message
    /// whole before it parses any of it, so the sender waited for it to finish the previous chunk
    /// and it waited for the sender (2M storage rows: COPY 10.8 s at 256 KB, 5.8 s at 32 KB).
    private let chunkSize = 32 * 1024

    init(conn: OpaquePointer) {
        self.conn = conn
        capacity = chunkSize + 4096
        bytes = .allocate(capacity: capacity)
    }

    deinit { bytes.deallocate() }

    /// Room for `more` bytes after `count`.
    @inline(__always) private func reserve(_ more: Int) {
        guard count + more > capacity else { return }
        let larger = max(capacity * 2, count + more)
        let moved = UnsafeMutablePointer<UInt8>.allocate(capacity: larger)
        moved.update(from: bytes, count: count)
        bytes.deallocate()
        bytes = moved
        capacity = larger
    }

    @inline(__always) private func put(_ byte: UInt8) {
        reserve(1)
        bytes[count] = byte
        count += 1
    }

    /// Appends one row in COPY text format, escaping each field; nil is NULL (`\N`).
    public func writeRow(_ fields: [String?]) throws {
        for field in fields {
            if let field { text(field) } else { null() }
        }
        try endRow()
    }

    /// Field by field, without building strings (the ingest writes millions of rows): each call
    /// appends one field of the current row; `endRow` ends it.
    public func text(_ field: String) {
        separate()
        var field = field
        field.withUTF8 { utf8 in
            // Most fields need no escaping: append them whole.
            if !utf8.contains(where: { $0 == 92 || $0 == 9 || $0 == 10 || $0 == 13 }) {
                append(utf8)
                return
            }
            for byte in utf8 {
                switch byte {
                case 92: put(92); put(92)
                case 9: put(92); put(116)
                case 10: put(92); put(110)
                case 13: put(92); put(114)
                default: put(byte)
                }
            }
        }
    }

    /// A whole number, in decimal.
    public func integer(_ value: Int64) {
        separate()
        appendDecimal(value)
    }

    /// NULL.
    public func null() {
        separate()
        put(92); put(78)
    }

    /// A field whose bytes `write` appends itself: they must need no escaping (no backslash, tab or
    /// line break), e.g. a timestamp or an array literal of numbers. `appendDecimal` and `append`
    /// help it along.
    public func raw(_ write: (CopyWriter) -> Void) {
        separate()
        write(self)
    }

    /// Inside `raw`: appends bytes as they are.
    public func append(_ byte: UInt8) { put(byte) }
    public func append(_ utf8: UnsafeBufferPointer<UInt8>) {
        guard let base = utf8.baseAddress, !utf8.isEmpty else { return }
        reserve(utf8.count)
        (bytes + count).update(from: base, count: utf8.count)
        count += utf8.count
    }

    /// Inside `raw`: appends a whole number in decimal.
    public func appendDecimal(_ value: Int64) {
        reserve(20)
        if value < 0 { bytes[count] = 45; count += 1 }
        var magnitude = value.magnitude
        var digits = 1
        var rest = magnitude / 10
        while rest > 0 { digits += 1; rest /= 10 }
        var at = count + digits - 1
        repeat {
            bytes[at] = 48 + UInt8(magnitude % 10)
            magnitude /= 10
            at -= 1
        } while magnitude > 0
        count += digits
    }

    // MARK: Binary format (`COPY … FROM STDIN (FORMAT binary)`): nothing for the server to parse.

    /// Starts binary COPY data: the signature, no flags, no header extension.
    public func binaryHeader() {
        for byte: UInt8 in [0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00] { put(byte) }   // PGCOPY\n\377\r\n\0
        binaryInt32(0)
        binaryInt32(0)
    }

    /// Starts a binary row of `fields` fields.
    public func binaryRow(fields: Int) { binaryInt16(Int16(fields)) }

    /// A text field in binary COPY (UTF-8 as it is).
    public func binaryText(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            binaryInt32(Int32(utf8.count))
            append(utf8)
        }
    }

    /// A `date` field: days since 2000-01-01.
    public func binaryDate(daysSince2000 days: Int32) {
        binaryInt32(4)
        binaryInt32(days)
    }

    /// A one-dimensional array field without NULLs of `count` elements of type `elementOID`, each
    /// `elementSize` bytes, written by `element(i)` (with `binaryInt16`, `binaryInt32` or `binaryInt64`).
    public func binaryArray(elementOID: Int32, elementSize: Int32, count: Int, _ element: (Int) -> Void) {
        binaryInt32(20 + Int32(count) * (4 + elementSize))
        binaryInt32(1)            // dimensions
        binaryInt32(0)            // no NULLs
        binaryInt32(elementOID)
        binaryInt32(Int32(count))
        binaryInt32(1)            // lower bound
        for index in 0..<count {
            binaryInt32(elementSize)
            element(index)
        }
    }

    /// Big-endian integers, as binary COPY wants them.
    public func binaryInt16(_ value: Int16) { withUnsafeBytes(of: value.bigEndian) { append($0.bindMemory(to: UInt8.self)) } }
    public func binaryInt32(_ value: Int32) { withUnsafeBytes(of: value.bigEndian) { append($0.bindMemory(to: UInt8.self)) } }
    public func binaryInt64(_ value: Int64) { withUnsafeBytes(of: value.bigEndian) { append($0.bindMemory(to: UInt8.self)) } }

    /// Ends a binary row.
    public func endBinaryRow() throws {
        if count >= chunkSize { try flush() }
    }

    /// Ends binary COPY data.
    public func binaryTrailer() { binaryInt16(-1) }

    /// Ends the current row.
    public func endRow() throws {
        put(10)
        rowStarted = false
        if count >= chunkSize { try flush() }
    }

    @inline(__always) private func separate() {
        if rowStarted { put(9) } else { rowStarted = true }
    }

    func flush() throws {
        guard count > 0 else { return }
        let sent = bytes.withMemoryRebound(to: CChar.self, capacity: count) { PQputCopyData(conn, $0, Int32(count)) }
        guard sent == 1 else {
            throw PostgresError(code: .copyFailed, message: Connection.trimmed(PQerrorMessage(conn)))
        }
        count = 0
    }
}
