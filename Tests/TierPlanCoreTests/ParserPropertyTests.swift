import TierPlanCore
import XCTest

/// Seeded property tests of the usage line and accounts CSV parsers (the fuzzers of Fuzz/ in
/// miniature, run by every `swift test`): valid inputs mutated byte by byte, and random bytes,
/// never crash a parser, and always give a value or an error that names its file and line.
final class ParserPropertyTests: XCTestCase {
    static let ndjsonLines = [
        #"{"type":"storage","id":"s-acme-2026-09-28","account":"acme","at":"2026-09-28T06:00:00Z","bytes":60043464097}"#,
        #"{"type":"feature","id":"f-2","account":"acme","user":"u1","feature":"reports","at":"2026-09-28T08:04:00Z","count":5}"#,
        #"{"type":"feature","id":"f-\u00e9","account":"a","user":"u\"1","feature":"sharing","at":"2026-10-01 06:03:00.25+02:00","extra":null}"#,
        #"  { "type" : "storage" , "id" : "s-9" , "account" : "acme" , "at" : "2026-02-28" , "bytes" : 0 , "ok" : true }"#,
    ]
    static let csvLines = [
        "type,id,account,user,feature,at,bytes,count",
        "storage,s-1,acme,,,2026-10-01T06:00:00Z,81234567890,",
        "feature,f-9,acme,u7,reports,2026-10-01T06:03:00Z,,1",
        #""feature","f,""q""",acme,"u 1",reports,2026-10-01T06:03:00.5z,,3"#,
    ]

    /// Every line gives an event that satisfies the parser's own rules, or an InputError on that line.
    func checkUsage(_ line: [UInt8], format: UsageFormat, number: Int, padding: Int) {
        let parser = UsageLineParser(file: "usage.\(format.rawValue)", format: format)
        // The line inside a larger buffer, as LineReader hands it out (start index not 0).
        let buffer = [UInt8](repeating: 10, count: padding) + line + [10]
        let slice = buffer[padding..<(padding + line.count)]
        _ = parser.isHeader(slice)
        switch parser.parse(slice, number: number) {
        case .success(.storage(let id, let account, _, let bytes)):
            XCTAssert(!id.isEmpty && id.utf8.count <= 200 && !account.isEmpty && bytes >= 0, "\(line)")
        case .success(.feature(let id, let account, let user, let feature, _, let count)):
            XCTAssert(!id.isEmpty && id.utf8.count <= 200 && !account.isEmpty && !user.isEmpty && !feature.isEmpty && count >= 1)
        case .failure(let error):
            XCTAssertEqual(error.line, number, "\(error)")
            XCTAssertEqual(error.file, parser.file)
            XCTAssertFalse(error.description.isEmpty)
        }
    }

    func testUsageLinesNeverCrashAndErrorsNameTheLine() {
        var rng = PropertyRNG(seed: 0x7469_6572_706C_616E)   // "tierplan"
        var mutator = ParserMutator(rng: PropertyRNG(seed: 14))
        var parsed = 0
        for format in UsageFormat.allCases {
            let valid = format == .ndjson ? Self.ndjsonLines : Self.csvLines
            for line in valid { checkUsage(Array(line.utf8), format: format, number: 1, padding: 0) }
            for i in 0..<3_000 {
                let line = i % 10 == 0 ? mutator.noise(maxLength: 120) : mutator.mutate(Array(rng.pick(valid).utf8))
                checkUsage(line, format: format, number: 1 + rng.below(1_000_000), padding: rng.below(3))
                parsed += 1
            }
        }
        XCTAssertEqual(parsed, 6_000)
        // Both formats still read their valid lines as events.
        for line in Self.ndjsonLines {
            guard case .success = UsageLineParser(file: "u", format: .ndjson).parse(line, number: 1) else { return XCTFail(line) }
        }
    }

    static let accountsText = """
        account_id,name,tier,status,created_at,addons,discount_pct,segment,owner,canceled_at
        acme,Acme Corp,starter,active,2025-03-14,,0,smb,alice,
        globex,Globex,team,active,2024-11-02,seats_5:1,10,mid,bob,
        initech,Initech,starter,active,2026-01-20,storage_100:1,0,smb,alice,
        umbrella,"Umbrella, Inc.",team,active,2023-06-01,storage_100:2;automation:1,12.5,enterprise,carol,
        hooli,Hooli,team,past_due,2025-09-09T10:00:00+01:00,automation:1,0,mid,bob,
        wonka,Wonka,starter,canceled,2024-01-05,,0,smb,bob,2026-09-30

        """

    func testAccountsCSVNeverCrashesAndErrorsNameALine() {
        XCTAssertEqual(try AccountsCSV.parse(Self.accountsText, file: "accounts.csv", catalog: sampleCatalog).count, 6)
        var mutator = ParserMutator(rng: PropertyRNG(seed: 0xACC0_0075))
        var accepted = 0, refused = 0
        for i in 0..<1_500 {
            let bytes = i % 20 == 0 ? mutator.noise(maxLength: 300) : mutator.mutate(Array(Self.accountsText.utf8))
            let text = String(decoding: bytes, as: UTF8.self)
            do {
                let accounts = try AccountsCSV.parse(text, file: "accounts.csv", catalog: sampleCatalog)
                accepted += 1
                XCTAssertEqual(Set(accounts.map(\.id)).count, accounts.count)
                for account in accounts {
                    XCTAssertGreaterThanOrEqual(account.mrr(in: sampleCatalog), 0)
                    _ = sampleCatalog.limits(tier: account.tier, addons: account.addons)
                }
            } catch let errors as InputErrors {
                refused += 1
                XCTAssertFalse(errors.errors.isEmpty)
                for error in errors.errors {
                    XCTAssertEqual(error.file, "accounts.csv")
                    XCTAssert((1...lastLine(of: text)).contains(error.line), "\(error) in \(text.debugDescription)")
                }
            } catch {
                XCTFail("unexpected \(error)")
            }
        }
        // The mutations reach both outcomes.
        XCTAssertGreaterThan(accepted, 50)
        XCTAssertGreaterThan(refused, 500)
    }
}
