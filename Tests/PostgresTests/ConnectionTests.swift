import Postgres
import TestSupport
import XCTest

final class ConnectionTests: XCTestCase {
    var db: Connection!

    override func setUpWithError() throws {
        (db, _) = try TestCluster.freshConnection()
    }

    func testParametersRoundTripIncludingNullAndUnicode() throws {
        let name = "Zoë 🚀 \"quoted\" \\ back\tslash; DROP TABLE x;--"
        let row = try XCTUnwrap(db.query("SELECT $1::text, $2::text, $3::bigint, $4::float8, $5::bool, $6::int",
                                         [name, SQLNull(), Int64(9_007_199_254_740_993), 0.25, true, Optional<Int>.none]).first)
        XCTAssertEqual(try row.decode(0, as: String.self), name)
        XCTAssertNil(try row.decodeIfPresent(1, as: String.self))
        XCTAssertEqual(try row.decode(2, as: Int64.self), 9_007_199_254_740_993)
        XCTAssertEqual(try row.decode(3, as: Double.self), 0.25)
        XCTAssertEqual(try row.decode(4, as: Bool.self), true)
        XCTAssertNil(try row.decodeIfPresent(5, as: Int.self))
        XCTAssertThrowsError(try row.decode(1, as: String.self)) { error in
            XCTAssertEqual((error as? PostgresError)?.code, .decoding)
        }
        XCTAssertEqual(try db.query("SELECT length($1::text)", [name]).first?.decode(0, as: Int.self), name.count)
    }

    /// A prepared statement is prepared once per connection and text, takes parameters (NULL too)
    /// like `query`, survives a rolled-back transaction, and is prepared anew when it is gone.
    func testPreparedStatementsAreReusedAndRecover() throws {
        let sql = "SELECT $1::text, $2::int + 1"
        for i in 0..<3 {
            let row = try XCTUnwrap(db.queryPrepared(sql, ["run \(i)", i]).first)
            XCTAssertEqual(try row.decode(0, as: String.self), "run \(i)")
            XCTAssertEqual(try row.decode(1, as: Int.self), i + 1)
        }
        let count = { try self.db.query("SELECT count(*) FROM pg_prepared_statements WHERE statement = $1", [sql]).first!.decode(0, as: Int.self) }
        XCTAssertEqual(try count(), 1)
        XCTAssertNil(try db.queryPrepared(sql, [SQLNull(), 1]).first?.decodeIfPresent(0, as: String.self))
        XCTAssertThrowsError(try db.transaction { db in
            _ = try db.queryPrepared(sql, ["in a transaction", 1])
            throw PostgresError(code: .server, message: "roll back")
        })
        XCTAssertEqual(try db.queryPrepared(sql, ["after the rollback", 1]).first?.decode(0, as: String.self), "after the rollback")
        try db.execute("DISCARD ALL")
        XCTAssertEqual(try db.queryPrepared(sql, ["after DISCARD ALL", 2]).first?.decode(1, as: Int.self), 3)
        XCTAssertEqual(try count(), 1)
        // Errors are the server's, as with `query`; the statement stays usable.
        XCTAssertThrowsError(try db.queryPrepared(sql, ["x", "not a number"])) { error in
            XCTAssertEqual((error as? PostgresError)?.sqlState, "22P02")
        }
        XCTAssertEqual(try db.queryPrepared(sql, ["again", 0]).first?.decode(1, as: Int.self), 1)
    }

    /// Whole numbers are parsed from the result's bytes: the edges of each width, signs, and values
    /// that are not whole numbers or do not fit are decoding errors, never a wrong number.
    func testIntegersDecodeFromBytesAtTheirEdges() throws {
        let row = try XCTUnwrap(db.query("""
            SELECT $1::bigint, $2::bigint, '-0'::text, '+7'::text, '2147483648'::text, '12a'::text, ''::text, '-'::text,
                   '99999999999999999999'::text, 1.5::float8
            """, [Int64.max, Int64.min]).first)
        XCTAssertEqual(try row.decode(0, as: Int64.self), .max)
        XCTAssertEqual(try row.decode(1, as: Int.self), Int.min)
        XCTAssertEqual(try row.decode(2, as: Int.self), 0)
        XCTAssertEqual(try row.decode(3, as: Int32.self), 7)
        XCTAssertEqual(try row.decode(4, as: Int64.self), 2_147_483_648)
        for (column, type) in [(4, Int32.self as any PostgresDecodable.Type), (5, Int.self), (6, Int.self), (7, Int.self), (8, Int64.self), (9, Int.self)] {
            XCTAssertThrowsError(try row.decode(column, as: type), "column \(column)") { error in
                XCTAssertEqual((error as? PostgresError)?.code, .decoding)
            }
        }
        XCTAssertEqual(try row.decode(9, as: Double.self), 1.5)
        XCTAssertEqual(row.values.count, 10)
    }

    /// Rows read the libpq result lazily: they stay valid after the connection is gone.
    func testRowsOutliveTheirConnection() throws {
        let rows: [Row] = try {
            let (other, _) = try TestCluster.freshConnection()
            return try other.query("SELECT g, 'row ' || g FROM generate_series(1, 3) g").rows
        }()   // the connection is closed here
        XCTAssertEqual(try rows.reversed().map { try $0.decode(1, as: String.self) }, ["row 3", "row 2", "row 1"])
    }

    func testArraysRoundTrip() throws {
        let values = ["a", "b c", "quote\"d", "back\\slash", "", "NULL"]
        let row = try XCTUnwrap(db.query("SELECT $1::text[]", [PostgresArray(values)]).first)
        XCTAssertEqual(try row.decode(0, as: PostgresArray<String>.self).elements, values)
        // The writer and the reader both work on bytes: JSON text, non-ASCII, empty and NULL elements, numbers.
        let json = ["{\"a\":\"x \\\"y\\\" \\\\ z\"}", "→ ünïcode, with a comma", "{}"]
        XCTAssertEqual(try db.query("SELECT $1::text[]", [PostgresArray(json)]).first!.decode(0, as: PostgresArray<String>.self).elements, json)
        let read = try XCTUnwrap(db.query("SELECT '{}'::text[], ARRAY[1, NULL, -9223372036854775808, 42]::int8[], ARRAY['NULL', NULL]::text[]").first)
        XCTAssertEqual(try read.decode(0, as: PostgresArray<String>.self).elements, [])
        XCTAssertEqual(try read.decode(1, as: PostgresArray<Int64>.self).elements, [1, Int64.min, 42], "NULL elements are dropped")
        XCTAssertEqual(try read.decode(2, as: PostgresArray<String>.self).elements, ["NULL"], "a quoted \"NULL\" is text")
    }

    func testUniqueViolationCarriesSQLState() throws {
        try db.execute("CREATE TABLE t (id int PRIMARY KEY)")
        try db.execute("INSERT INTO t VALUES ($1)", [1])
        XCTAssertThrowsError(try db.execute("INSERT INTO t VALUES ($1)", [1])) { error in
            let pg = error as? PostgresError
            XCTAssertEqual(pg?.sqlState, "23505")
            XCTAssertTrue(pg?.isUniqueViolation ?? false)
            XCTAssertTrue(pg?.detail?.contains("(id)=(1)") ?? false, "\(String(describing: pg?.detail))")
        }
        // The connection stays usable after an error.
        XCTAssertEqual(try db.query("SELECT count(*) FROM t").first?.decode(0, as: Int.self), 1)
    }

    func testTransactionRollsBackOnError() throws {
        try db.execute("CREATE TABLE t (id int PRIMARY KEY)")
        struct Boom: Error {}
        XCTAssertThrowsError(try db.transaction { db in
            try db.execute("INSERT INTO t VALUES (1)")
            throw Boom()
        })
        XCTAssertEqual(try db.query("SELECT count(*) FROM t").first?.decode(0, as: Int.self), 0)
        try db.transaction { db in try db.execute("INSERT INTO t VALUES (2)") }
        XCTAssertEqual(try db.query("SELECT count(*) FROM t").first?.decode(0, as: Int.self), 1)
    }

    func testCopyInStreamsRowsWithEscapes() throws {
        try db.execute("CREATE TABLE t (id int, name text)")
        let copied = try db.copyIn("COPY t FROM STDIN") { copy in
            for i in 0..<10_000 { try copy.writeRow([String(i), i == 7 ? "tab\there\nnewline \\ é" : (i == 8 ? nil : "n\(i)")]) }
        }
        XCTAssertEqual(copied, 10_000)
        XCTAssertEqual(try db.query("SELECT count(*) FROM t").first?.decode(0, as: Int.self), 10_000)
        XCTAssertEqual(try db.query("SELECT name FROM t WHERE id = 7").first?.decode(0, as: String.self), "tab\there\nnewline \\ é")
        XCTAssertNil(try db.query("SELECT name FROM t WHERE id = 8").first?.decodeIfPresent(0, as: String.self))
    }

    /// Field by field: numbers at their limits, raw array literals, and rows far larger than a chunk.
    func testCopyInFieldByField() throws {
        try db.execute("CREATE TABLE t (n bigint, tags bigint[], name text, note text)")
        let numbers: [Int64] = [0, 7, -7, 10, 99, 100, -1_000_000, .max, .min]
        let long = String(repeating: "x\\y\t", count: 40_000)   // 160 KB of escapes: the buffer grows past its chunk
        try db.copyIn("COPY t FROM STDIN") { copy in
            for number in numbers {
                copy.integer(number)
                copy.raw { writer in
                    writer.append(UInt8(ascii: "{")); writer.appendDecimal(number); writer.append(UInt8(ascii: ","))
                    writer.appendDecimal(number / 2); writer.append(UInt8(ascii: "}"))
                }
                copy.text(number == 7 ? long : "n\(number)")
                copy.null()
                try copy.endRow()
            }
        }
        let rows = try db.query("SELECT n, tags::text, name, note IS NULL FROM t ORDER BY n").rows
        XCTAssertEqual(try rows.map { try $0.decode(0, as: Int64.self) }, numbers.sorted())
        XCTAssertEqual(try rows.map { try $0.decode(1, as: String.self) }, numbers.sorted().map { "{\($0),\($0 / 2)}" })
        XCTAssertEqual(try db.query("SELECT name FROM t WHERE n = 7").first?.decode(0, as: String.self), long)
        XCTAssertTrue(try rows.allSatisfy { try $0.decode(3, as: Bool.self) })
    }

    /// Binary COPY: text, a date and arrays of every element size, read back as PostgreSQL prints them.
    func testCopyInBinary() throws {
        try db.execute("SET TIME ZONE 'UTC'")
        try db.execute("CREATE TABLE t (name text, month date, small smallint[], mid integer[], big bigint[], at timestamptz[])")
        try db.copyIn("COPY t FROM STDIN (FORMAT binary)") { copy in
            copy.binaryHeader()
            for row in 0..<3 {
                copy.binaryRow(fields: 6)
                copy.binaryText(row == 0 ? "tab\there é" : "n\(row)")
                copy.binaryDate(daysSince2000: Int32(9_770 + row))   // 2026-10-01 + row
                copy.binaryArray(elementOID: 21, elementSize: 2, count: row) { copy.binaryInt16(Int16($0) - 1) }
                copy.binaryArray(elementOID: 23, elementSize: 4, count: 2) { copy.binaryInt32(Int32.max - Int32($0)) }
                copy.binaryArray(elementOID: 20, elementSize: 8, count: 1) { _ in copy.binaryInt64(.min) }
                // Microseconds since 2000-01-01 UTC: 2026-10-01T06:00:00.5Z.
                copy.binaryArray(elementOID: 1184, elementSize: 8, count: 1) { _ in copy.binaryInt64(844_149_600_500_000) }
                try copy.endBinaryRow()
            }
            copy.binaryTrailer()
        }
        let rows = try db.query("SELECT name, month::text, small::text, mid::text, big::text, at::text FROM t ORDER BY month").rows
        XCTAssertEqual(try rows.map { row in try (0..<6).map { try row.decode($0, as: String.self) }.joined(separator: "|") }, [
            "tab\there é|2026-10-01|{}|{2147483647,2147483646}|{-9223372036854775808}|{\"2026-10-01 06:00:00.5+00\"}",
            "n1|2026-10-02|{-1}|{2147483647,2147483646}|{-9223372036854775808}|{\"2026-10-01 06:00:00.5+00\"}",
            "n2|2026-10-03|{-1,0}|{2147483647,2147483646}|{-9223372036854775808}|{\"2026-10-01 06:00:00.5+00\"}",
        ])
    }

    func testCopyAbortedMidStreamLeavesNoRows() throws {
        try db.execute("CREATE TABLE t (id int)")
        struct ProducerFailed: Error {}
        XCTAssertThrowsError(try db.copyIn("COPY t FROM STDIN") { copy in
            for i in 0..<100_000 {
                try copy.writeRow([String(i)])
                if i == 60_000 { throw ProducerFailed() }   // after several chunks went to the server
            }
        }) { error in XCTAssertTrue(error is ProducerFailed) }
        XCTAssertEqual(try db.query("SELECT count(*) FROM t").first?.decode(0, as: Int.self), 0)
    }

    func testCopyWithBadDataFailsWithServerError() throws {
        try db.execute("CREATE TABLE t (id int)")
        XCTAssertThrowsError(try db.copyIn("COPY t FROM STDIN") { copy in
            try copy.writeRow(["1"])
            try copy.writeRow(["not a number"])
        }) { error in XCTAssertEqual((error as? PostgresError)?.sqlState, "22P02") }
        XCTAssertEqual(try db.query("SELECT count(*) FROM t").first?.decode(0, as: Int.self), 0)
    }

    func testBatchesThroughCursor() throws {
        var seen = 0, batches = 0
        try db.transaction { db in
            try db.forEachBatch("SELECT g FROM generate_series(1, $1::int) g", [12_345], batchSize: 1_000) { rows in
                seen += rows.count
                batches += 1
            }
        }
        XCTAssertEqual(seen, 12_345)
        XCTAssertEqual(batches, 13)
    }

    /// The next batch is fetched while the body works: rows still come in order, an exact multiple of
    /// the batch size ends cleanly, and a body that throws leaves the connection usable.
    func testBatchesArePipelinedInOrderAndAnErrorLeavesTheConnectionUsable() throws {
        var values: [Int] = []
        try db.transaction { db in
            try db.forEachBatch("SELECT g FROM generate_series(1, 3000) g ORDER BY g", batchSize: 1_000) { rows in
                values += try rows.map { try $0.decode(0, as: Int.self) }
            }
        }
        XCTAssertEqual(values, Array(1...3000))
        struct Stop: Error {}
        XCTAssertThrowsError(try db.transaction { db in
            try db.forEachBatch("SELECT g FROM generate_series(1, 3000) g", batchSize: 1_000) { _ in throw Stop() }
        }) { XCTAssertTrue($0 is Stop) }
        XCTAssertEqual(try db.query("SELECT 41 + 1").first?.decode(0, as: Int.self), 42)
    }

    func testConnectionFailureSaysWhy() throws {
        XCTAssertThrowsError(try Connection("postgresql:///nope?host=/nonexistent-socket-dir&port=1")) { error in
            let pg = error as? PostgresError
            XCTAssertEqual(pg?.code, .connectionFailed)
            XCTAssertTrue(pg?.message.contains("cannot connect to PostgreSQL") ?? false)
            XCTAssertTrue(pg?.message.contains("/nonexistent-socket-dir") ?? false, pg?.message ?? "")
        }
        XCTAssertThrowsError(try Connection("this is not a conninfo")) { error in
            XCTAssertEqual((error as? PostgresError)?.code, .connectionFailed)
        }
    }

    func testSyntaxErrorCarriesMessage() throws {
        XCTAssertThrowsError(try db.query("SELEC 1")) { error in
            let pg = error as? PostgresError
            XCTAssertEqual(pg?.sqlState, "42601")
            XCTAssertTrue(pg?.message.contains("syntax error") ?? false)
        }
    }
}
