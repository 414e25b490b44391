import TierPlanCore
import XCTest

final class UsageParsingTests: XCTestCase {
    let ndjson = UsageLineParser(file: "usage.ndjson", format: .ndjson)
    let csv = UsageLineParser(file: "usage.csv", format: .csv)

    func testStorageAndFeatureLines() throws {
        let storage = try ndjson.parse(#"{"type":"storage","id":"s-1","account":"acme","at":"2026-10-01T06:00:00Z","bytes":81234567890}"#, number: 1).get()
        XCTAssertEqual(storage, .storage(id: "s-1", account: "acme", at: Timestamp(iso: "2026-10-01T06:00:00Z")!, bytes: 81_234_567_890))
        let feature = try ndjson.parse(#" { "type" : "feature", "id":"f-9","account":"acme","user":"u7","feature":"reports","at":"2026-10-01T06:03:00Z","count":1, "extra": null } "#, number: 2).get()
        XCTAssertEqual(feature, .feature(id: "f-9", account: "acme", user: "u7", feature: "reports", at: Timestamp(iso: "2026-10-01T06:03:00Z")!, count: 1))
        let fromCSV = try csv.parse("feature,f-9,acme,u7,reports,2026-10-01T06:03:00Z,,", number: 2).get()
        XCTAssertEqual(fromCSV, .feature(id: "f-9", account: "acme", user: "u7", feature: "reports", at: Timestamp(iso: "2026-10-01T06:03:00Z")!, count: 1))
        XCTAssertTrue(csv.isHeader(ArraySlice("type,id,account,user,feature,at,bytes,count".utf8)))
    }

    func testEscapesInStrings() throws {
        let event = try ndjson.parse(#"{"type":"feature","id":"f\"1","account":"Zo\u00eb \ud83d\ude80","user":"u","feature":"r","at":"2026-10-01T06:03:00Z"}"#, number: 1).get()
        XCTAssertEqual(event.account, "Zoë 🚀")
    }

    func testBadLinesNameLineFieldAndValue() {
        let cases: [(String, String?, String?)] = [
            (#"{"type":"storage","id":"s","account":"a","at":"2026-10-01T06:00:00Z","bytes":-5}"#, "bytes", "-5"),
            (#"{"type":"storage","id":"s","account":"a","at":"yesterday","bytes":5}"#, "at", "yesterday"),
            (#"{"type":"storage","id":"s","account":"a","at":"2026-02-30T06:00:00Z","bytes":5}"#, "at", "2026-02-30T06:00:00Z"),
            (#"{"type":"storage","id":"s","account":"a","at":"2026-10-01T06:00:00Z","bytes":1.5}"#, "bytes", "1.5"),
            (#"{"type":"click","id":"s","account":"a","at":"2026-10-01T06:00:00Z"}"#, "type", "click"),
            (#"{"type":"feature","id":"s","account":"a","at":"2026-10-01T06:00:00Z","feature":"x"}"#, "user", nil),
            (#"{"type":"storage","account":"a","at":"2026-10-01T06:00:00Z","bytes":5}"#, "id", nil),
            (#"{"type":"storage","id":"s","account":"a","at":"2026-10-01T06:00:00Z","bytes":5"#, nil, nil),
            (#"not json"#, nil, nil),
        ]
        for (line, field, value) in cases {
            guard case .failure(let error) = ndjson.parse(line, number: 42) else { XCTFail("accepted \(line)"); continue }
            XCTAssertEqual(error.line, 42)
            XCTAssertEqual(error.file, "usage.ndjson")
            XCTAssertEqual(error.field, field, line)
            XCTAssertEqual(error.value, value, line)
        }
    }

    func testTimestamps() {
        XCTAssertEqual(Timestamp(iso: "2026-10-01T06:00:00Z")?.iso, "2026-10-01T06:00:00Z")
        XCTAssertEqual(Timestamp(iso: "2026-10-01T06:00:00.5+02:00")?.iso, "2026-10-01T04:00:00.500000Z")
        XCTAssertEqual(Timestamp(iso: "2026-10-01T23:30:00-01:00")?.day.iso, "2026-10-02")
        XCTAssertEqual(Timestamp(iso: "2026-10-01")?.iso, "2026-10-01T00:00:00Z")
        XCTAssertNil(Timestamp(iso: "2026-10-01T25:00:00Z"))
        XCTAssertNil(Timestamp(iso: "2026-10-01T06:00:00"))
        XCTAssertEqual(Day(iso: "2024-02-29")?.adding(days: 1).iso, "2024-03-01")
        XCTAssertNil(Day(iso: "2023-02-29"))
        XCTAssertEqual(Day(iso: "1970-01-01")?.daysSinceEpoch, 0)
        XCTAssertEqual(Timestamp(iso: "1969-12-31T23:59:59Z")?.day.iso, "1969-12-31")
    }

    func testFormatDetection() {
        XCTAssertEqual(UsageFormat.detect(fileName: "x.csv", firstBytes: ArraySlice("{".utf8)), .csv)
        XCTAssertEqual(UsageFormat.detect(fileName: nil, firstBytes: ArraySlice("  {\"type\"".utf8)), .ndjson)
        XCTAssertEqual(UsageFormat.detect(fileName: nil, firstBytes: ArraySlice("type,id".utf8)), .csv)
    }
}
