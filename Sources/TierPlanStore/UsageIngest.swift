import Foundation
import Postgres
import TierPlanCore
#if canImport(Glibc)
import Glibc
#endif

/// Reads a file or stdin line by line in large chunks, handing out each line's bytes.
public final class LineReader {
    private let fd: Int32
    private let ownsDescriptor: Bool
    private var buffer: [UInt8] = []
    private var start = 0
    private var eof = false
    public private(set) var lineNumber = 0
    public private(set) var bytesRead = 0

    /// `path` of `-` means standard input.
    public init(path: String) throws {
        if path == "-" {
            fd = 0
            ownsDescriptor = false
        } else {
            fd = open(path, O_RDONLY)
            guard fd >= 0 else { throw StoreError.refused("\(path): cannot open: \(String(cString: strerror(errno)))") }
            var info = stat()
            if fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
                close(fd)
                throw StoreError.refused("\(path): is a directory")
            }
            ownsDescriptor = true
        }
    }

    deinit { if ownsDescriptor { close(fd) } }

    /// The first bytes of the input without consuming them (format detection).
    public func peek() throws -> ArraySlice<UInt8> {
        if buffer.count - start < 4096 && !eof { try fill() }
        return buffer[start..<min(buffer.count, start + 4096)]
    }

    /// Calls `body` with each line (without its `\n` or `\r\n`) and its 1-based number.
    public func forEachLine(_ body: (ArraySlice<UInt8>, Int) throws -> Void) throws {
        while true {
            if let newline = buffer[start...].firstIndex(of: 10) {
                var end = newline
                if end > start, buffer[end - 1] == 13 { end -= 1 }
                lineNumber += 1
                try body(buffer[start..<end], lineNumber)
                start = newline + 1
                continue
            }
            if eof {
                if start < buffer.count {
                    var end = buffer.count
                    if buffer[end - 1] == 13 { end -= 1 }
                    lineNumber += 1
                    try body(buffer[start..<end], lineNumber)
                    start = buffer.count
                }
                return
            }
            try fill()
        }
    }

    private func fill() throws {
        if start > 0 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        let chunk = 1 << 20
        let old = buffer.count
        buffer.reserveCapacity(old + chunk)
        buffer.append(contentsOf: repeatElement(0, count: chunk))
        let n = buffer.withUnsafeMutableBytes { raw in read(fd, raw.baseAddress! + old, chunk) }
        guard n >= 0 else {
            buffer.removeSubrange(old...)
            throw StoreError.refused("read failed: \(String(cString: strerror(errno)))")
        }
        buffer.removeSubrange((old + n)...)
        // A UTF-8 byte order mark (spreadsheet exports) is not part of the first line.
        if bytesRead == 0, buffer.starts(with: [0xEF, 0xBB, 0xBF]) { start = 3 }
        bytesRead += n
        if n == 0 { eof = true }
    }
}

/// What to do with a bad line.
public enum OnError: String, Sendable, CaseIterable { case abort, skip }

/// What an ingest did: lines read, new and duplicate events per type, rejects.
public struct IngestSummary: Encodable, Sendable, Equatable {
    public var file: String
    public var format: String
    public var lines: Int
    public var storageNew: Int = 0
    public var storageDuplicates: Int = 0
    public var featureNew: Int = 0
    public var featureDuplicates: Int = 0
    public var rejected: Int = 0
    public var rejectsFile: String?
    public var seconds: Double = 0

    public var new: Int { storageNew + featureNew }
    public var duplicates: Int { storageDuplicates + featureDuplicates }

    enum CodingKeys: String, CodingKey {
        case file, format, lines, new, duplicates, storageNew, storageDuplicates, featureNew, featureDuplicates, rejected, rejectsFile, seconds
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(file, forKey: .file); try c.encode(format, forKey: .format); try c.encode(lines, forKey: .lines)
        try c.encode(new, forKey: .new); try c.encode(duplicates, forKey: .duplicates)
        try c.encode(storageNew, forKey: .storageNew); try c.encode(storageDuplicates, forKey: .storageDuplicates)
        try c.encode(featureNew, forKey: .featureNew); try c.encode(featureDuplicates, forKey: .featureDuplicates)
        try c.encode(rejected, forKey: .rejected); try c.encode(rejectsFile, forKey: .rejectsFile)
        try c.encode((seconds * 1000).rounded() / 1000, forKey: .seconds)
    }
}

/// Progress of a running ingest, for a terminal line.
public struct IngestProgress: Sendable {
    public var phase: String
    public var lines: Int
    public var seconds: Double
}

/// Usage ingest, in one transaction: parse and check each line (accounts and features against the
/// database's, read first), then store the events with an ingest number and merge exactly the new
/// ones into the rollups (`UsageRollup`).
///
/// Storing takes one of two paths. A file that can be read twice is first COPYed straight into
/// `usage_events` inside a savepoint, its events summed up into the rollup as they are sent: the
/// common nightly case, all new, costs one COPY into the keyed table. The first duplicate (stored
/// before, or repeated in the input) stops that COPY with a unique violation; the savepoint is rolled
/// back and the file read again into a staging table, from which one INSERT … ON CONFLICT DO NOTHING
/// in line order keeps the first line of each (time, account, id) and skips the stored ones; the rows
/// it kept are read back into the rollup. Standard input and generated events take the staging path
/// directly.
public struct UsageIngest {
    public var onError: OnError = .abort
    public var rejectsPath: String?
    /// Errors listed at most, in abort mode.
    public var maxListedErrors = 100
    public var progress: (IngestProgress) -> Void = { _ in }

    public init() {}

    /// One pass over the input: calls `emit` with each event and `fail` with each bad line.
    typealias Source = (_ emit: (UsageEvent, Int, String?) throws -> Void, _ fail: (InputError, String) -> Void) throws -> Void

    /// Ingests a file or stdin (`-`), NDJSON or CSV.
    public func run(path: String, format explicitFormat: UsageFormat? = nil, into db: Connection) throws -> IngestSummary {
        var reader = try LineReader(path: path)
        let format = try explicitFormat ?? UsageFormat.detect(fileName: path == "-" ? nil : path, firstBytes: reader.peek())
        let parser = UsageLineParser(file: path, format: format)
        var passes = 0
        return try ingest(file: path, format: format.rawValue, lines: { reader.lineNumber }, rereadable: path != "-", into: db) { emit, fail in
            passes += 1
            if passes > 1 { reader = try LineReader(path: path) }
            try reader.forEachLine { bytes, number in
                if bytes.allSatisfy({ $0 == 32 || $0 == 9 }) { return }
                if number == 1 && parser.isHeader(bytes) { return }
                switch parser.parse(bytes, number: number) {
                case .success(let event): try emit(event, number, onError == .skip ? String(decoding: bytes, as: UTF8.self) : nil)
                case .failure(let error): fail(error, String(decoding: bytes, as: UTF8.self))
                }
            }
        }
    }

    /// Ingests events made in memory (the demo's generator) through the same checks and SQL.
    public func run(events label: String, into db: Connection, _ produce: ((UsageEvent) throws -> Void) throws -> Void) throws -> IngestSummary {
        var count = 0
        return try ingest(file: label, format: "events", lines: { count }, rereadable: false, into: db) { emit, _ in
            try withoutActuallyEscaping(emit) { emit in
                try produce { event in
                    count += 1
                    try emit(event, count, nil)
                }
            }
        }
    }

    /// Bad lines as they are found: listed (abort mode, up to `maxListedErrors`) or kept for the
    /// rejects file (skip mode); and the events that passed, per kind.
    struct Refusals {
        var errors: [InputError] = []
        var count = 0
        var rejects: [(line: Int, reason: String, input: String)] = []
        var passed = (storage: 0, feature: 0)
    }

    /// The accounts and features events may name, read at the start of the ingest's transaction.
    struct References {
        let accounts: Set<String>
        let features: Set<String>
        init(_ db: Connection) throws {
            accounts = Set(try db.query("SELECT account_id FROM accounts").rows.map { try $0.decode(0, as: String.self) })
            features = Set(try db.query("SELECT key FROM features").rows.map { try $0.decode(0, as: String.self) })
        }
    }

    /// The phases, in one transaction; the rejects file is written after the commit.
    private func ingest(file: String, format: String, lines: () -> Int, rereadable: Bool, into db: Connection,
                        source: Source) throws -> IngestSummary {
        let started = Date()
        func report(_ phase: String) { progress(IngestProgress(phase: phase, lines: lines(), seconds: Date().timeIntervalSince(started))) }
        var refusals = Refusals()
        var result: IngestSummary = try db.transaction { db in
            // One ingest at a time: the duplicate checks stay true until the insert, and a prune waits.
            try db.execute("SELECT pg_advisory_xact_lock(hashtext('tierplan.ingest'))")
            let references = try References(db)
            let ingestID = try db.query("SELECT nextval('usage_ingests')").first!.decode(0, as: Int.self)
            // The new events summed up: on the direct path as they are copied (every one is new if the
            // COPY succeeds), on the staging path read back from the rows the insert kept.
            var rollup: UsageRollup?
            if rereadable {
                try db.execute("SAVEPOINT direct")
                do {
                    var direct = UsageRollup()
                    try copy(db, direct: ingestID, references: references, file: file, started: started, refusals: &refusals,
                             rollup: &direct, source: source)
                    rollup = direct
                } catch let error as PostgresError where error.sqlState == "23505" {   // a duplicate: the staging path
                    try db.execute("ROLLBACK TO SAVEPOINT direct")
                    refusals = Refusals()
                }
            }
            if rollup == nil {
                var unused = UsageRollup()
                try copy(db, direct: nil, references: references, file: file, started: started, refusals: &refusals,
                         rollup: &unused, source: source)
                report("inserting")
                try db.execute("""
                    INSERT INTO usage_events (account_id, id, kind, at, bytes, user_id, feature_key, count, ingest)
                    SELECT account_id, id, type, at, bytes, user_id, feature_key, count, $1 FROM staging_usage ORDER BY line
                    ON CONFLICT (at, account_id, id) DO NOTHING
                    """, [ingestID])
                rollup = try self.rollup(storedBy: ingestID, db)
            }
            report("updating rollups")
            try Self.write(rollup!, into: db)
            var summary = IngestSummary(file: file, format: format, lines: lines())
            summary.storageNew = rollup!.storageEvents
            summary.featureNew = rollup!.featureEvents
            summary.storageDuplicates = refusals.passed.storage - summary.storageNew
            summary.featureDuplicates = refusals.passed.feature - summary.featureNew
            summary.rejected = refusals.rejects.count
            return summary
        }
        // After the commit, so a failed ingest never leaves a rejects file behind.
        if onError == .skip, let rejectsPath {
            try Self.writeRejects(refusals.rejects.sorted { $0.line < $1.line }, to: rejectsPath)
            result.rejectsFile = rejectsPath
        }
        result.seconds = Date().timeIntervalSince(started)
        return result
    }

    /// Every good line by COPY, straight into `usage_events` under `direct` (an ingest number) or into
    /// a staging table; malformed lines and unknown accounts or features go to `refusals`, and in
    /// abort mode any of them refuses the input once it has been read to the end (every error listed).
    /// `input` (the line as read, given only in skip mode) goes to the rejects file with its reason.
    private func copy(_ db: Connection, direct: Int?, references: References, file: String, started: Date,
                      refusals: inout Refusals, rollup: inout UsageRollup, source: Source) throws {
        var lastReport = Date()
        if direct == nil {
            try db.execute("""
                CREATE TEMP TABLE staging_usage (
                    account_id text, id text, type text, at timestamptz, bytes bigint, user_id text, feature_key text,
                    count bigint, line bigint
                ) ON COMMIT DROP
                """)
        }
        let sql = direct == nil ? "COPY staging_usage FROM STDIN"
            : "COPY usage_events (account_id, id, kind, at, bytes, user_id, feature_key, count, ingest) FROM STDIN"
        try db.copyIn(sql) { copy in
            func fail(_ error: InputError, _ input: String) {
                refusals.count += 1
                if onError == .skip { refusals.rejects.append((error.line, error.description, input)) }
                else if refusals.errors.count < maxListedErrors { refusals.errors.append(error) }
            }
            func emit(_ event: UsageEvent, _ number: Int, _ input: String?) throws {
                if number & 0x3FFF == 0, Date().timeIntervalSince(lastReport) >= 0.5 {
                    lastReport = Date()
                    progress(IngestProgress(phase: "reading", lines: number, seconds: lastReport.timeIntervalSince(started)))
                }
                guard references.accounts.contains(event.account) else {
                    return fail(InputError(file: file, line: number, field: "account", value: event.account, reason: "unknown account"), input ?? "")
                }
                if case let .feature(_, _, _, feature, _, _) = event, !references.features.contains(feature) {
                    return fail(InputError(file: file, line: number, field: "feature", value: feature, reason: "unknown feature"), input ?? "")
                }
                guard refusals.count == 0 || onError == .skip else { return }   // refused anyway: only look for more errors
                if direct != nil { rollup.add(event) }
                // The same row on both paths but for its last field: the ingest number, or the line's.
                switch event {
                case let .storage(id, account, at, value):
                    refusals.passed.storage += 1
                    copy.text(account); copy.text(id); copy.text("storage")
                    copy.raw { writer in at.withISOBytes { writer.append($0) } }
                    copy.integer(value); copy.null(); copy.null(); copy.null()
                case let .feature(id, account, user, feature, at, count):
                    refusals.passed.feature += 1
                    copy.text(account); copy.text(id); copy.text("feature")
                    copy.raw { writer in at.withISOBytes { writer.append($0) } }
                    copy.null(); copy.text(user); copy.text(feature); copy.integer(count)
                }
                copy.integer(Int64(direct ?? number))
                try copy.endRow()
            }
            try source(emit, fail)
            if onError == .abort && refusals.count > 0 {
                var errors = refusals.errors.sorted { $0.line < $1.line }
                if refusals.count > errors.count {
                    errors.append(InputError(file: file, line: errors.last!.line, reason: "more errors not listed"))
                }
                throw InputErrors(errors)
            }
        }
        if direct == nil {
            // The planner must know the staging table's size, and the group-bys must not spill to disk.
            try db.execute("ANALYZE staging_usage")
        }
        try db.execute("SET LOCAL work_mem = '256MB'")
    }

    /// The events this ingest stored under `ingest` (the staging path, where some lines were
    /// duplicates), summed up as a rollup. The server reduces them first, through the BRIN index on the
    /// pages just appended: storage to a row per account and day, features to a row per account, user,
    /// feature and day, so what comes back follows the rollup, not the events.
    private func rollup(storedBy ingest: Int, _ db: Connection) throws -> UsageRollup {
        var rollup = UsageRollup()
        try db.forEachBatch("""
            SELECT account_id, date_trunc('month', day)::date, extract(day FROM day)::int, max(bytes), max(at),
                   (array_agg(bytes ORDER BY at DESC, bytes DESC))[1], count(*)
            FROM (SELECT account_id, (at AT TIME ZONE 'UTC')::date AS day, at, bytes FROM usage_events
                  WHERE ingest = $1 AND kind = 'storage') e
            GROUP BY account_id, day
            """, [ingest], batchSize: 20_000) { rows in
            for row in rows {
                rollup.addStorage(account: try row.decode(0), month: try row.decode(1), UsageRollup.StorageDay(
                    day: try row.decode(2), maxBytes: try row.decode(3), lastAt: try row.decode(4), lastBytes: try row.decode(5),
                    samples: try row.decode(6)))
            }
        }
        try db.forEachBatch("""
            SELECT account_id, user_id, feature_key, (at AT TIME ZONE 'UTC')::date, count(*) FROM usage_events
            WHERE ingest = $1 AND kind = 'feature' GROUP BY 1, 2, 3, 4
            """, [ingest], batchSize: 20_000) { rows in
            for row in rows {
                rollup.addFeature(account: try row.decode(0), user: try row.decode(1), feature: try row.decode(2),
                                  at: try row.decode(3, as: Day.self).start, events: try row.decode(4))
            }
        }
        return rollup
    }

    /// Merges an ingest's rollup into the stored ones: day sets are OR-ed in (one upsert per
    /// account, key and month), and each storage month it touches is read, merged day by day in
    /// `UsageRollup.merge` and written back whole. Its cost follows the rollup, not the events.
    static func write(_ rollup: UsageRollup, into db: Connection) throws {
        for (table, column, sets) in [("feature_days", "feature_key", rollup.features), ("user_days", "user_id", rollup.users)] where !sets.isEmpty {
            try db.execute("CREATE TEMP TABLE new_\(table) (account_id text, key text, month date, days integer) ON COMMIT DROP")
            try db.copyIn("COPY new_\(table) FROM STDIN") { copy in
                for (key, days) in sets {
                    copy.text(key.account); copy.text(key.key); copy.text(key.month.iso); copy.integer(Int64(days))
                    try copy.endRow()
                }
            }
            // In key order: the index is walked once instead of at random (750k user months: 7.1 s → 5.4 s).
            try db.execute("""
                INSERT INTO \(table) AS d (account_id, \(column), month, days)
                SELECT account_id, key, month, days FROM new_\(table) ORDER BY account_id, key, month
                ON CONFLICT (account_id, \(column), month) DO UPDATE SET days = d.days | excluded.days
                """)
        }
        guard rollup.storageEvents > 0 else { return }
        var months = Dictionary(uniqueKeysWithValues: rollup.storage.map { ($0.key, $0.days) })
        var stored = Set<UsageRollup.MonthKey>()
        let keys = Array(months.keys)
        try db.forEachBatch("""
            SELECT m.account_id, m.month, m.days, m.max_bytes, m.last_at, m.last_bytes, m.samples
            FROM storage_months m JOIN unnest($1::text[], $2::date[]) AS k (account_id, month) USING (account_id, month)
            """, [PostgresArray(keys.map(\.account)), PostgresArray(keys.map(\.month.iso))], batchSize: 20_000) { rows in
            for row in rows {
                let key = UsageRollup.MonthKey(account: try row.decode(0), month: try row.decode(1))
                let days: PostgresArray<Int> = try row.decode(2), maxBytes: PostgresArray<Int64> = try row.decode(3)
                let lastAt: PostgresArray<Timestamp> = try row.decode(4), lastBytes: PostgresArray<Int64> = try row.decode(5)
                let samples: PostgresArray<Int> = try row.decode(6)
                let storedDays = days.elements.indices.map {
                    UsageRollup.StorageDay(day: days.elements[$0], maxBytes: maxBytes.elements[$0], lastAt: lastAt.elements[$0],
                                           lastBytes: lastBytes.elements[$0], samples: samples.elements[$0])
                }
                months[key] = UsageRollup.merge(storedDays, months[key] ?? [])
                stored.insert(key)
            }
        }
        // Months not stored yet go straight into the table (no other writer: the ingest lock), the
        // merged ones through a staging table that replaces them.
        try db.execute("CREATE TEMP TABLE merged_storage_months (LIKE storage_months) ON COMMIT DROP")
        // In binary: 9M days at 100k accounts were 11 s of the server parsing array literals as text.
        let epoch2000 = Day(year: 2000, month: 1, day: 1)
        let micros2000 = epoch2000.start.microseconds
        for merged in [false, true] {
            let table = merged ? "merged_storage_months" : "storage_months"
            try db.copyIn("COPY \(table) (account_id, month, days, max_bytes, last_at, last_bytes, samples) FROM STDIN (FORMAT binary)") { copy in
                copy.binaryHeader()
                for (key, days) in months where stored.contains(key) == merged {
                    copy.binaryRow(fields: 7)
                    copy.binaryText(key.account)
                    copy.binaryDate(daysSince2000: Int32(key.month.days(since: epoch2000)))
                    copy.binaryArray(elementOID: 21, elementSize: 2, count: days.count) { copy.binaryInt16(Int16(days[$0].day)) }
                    copy.binaryArray(elementOID: 20, elementSize: 8, count: days.count) { copy.binaryInt64(days[$0].maxBytes) }
                    copy.binaryArray(elementOID: 1184, elementSize: 8, count: days.count) { copy.binaryInt64(days[$0].lastAt.microseconds - micros2000) }
                    copy.binaryArray(elementOID: 20, elementSize: 8, count: days.count) { copy.binaryInt64(days[$0].lastBytes) }
                    copy.binaryArray(elementOID: 23, elementSize: 4, count: days.count) { copy.binaryInt32(Int32(days[$0].samples)) }
                    try copy.endBinaryRow()
                }
                copy.binaryTrailer()
            }
        }
        try db.execute("""
            UPDATE storage_months m SET days = n.days, max_bytes = n.max_bytes, last_at = n.last_at, last_bytes = n.last_bytes, samples = n.samples
            FROM merged_storage_months n WHERE m.account_id = n.account_id AND m.month = n.month
            """)
    }

    /// One JSON object per rejected line: its number, why, and the line as read.
    static func writeRejects(_ rejects: [(line: Int, reason: String, input: String)], to path: String) throws {
        var text = ""
        for reject in rejects {
            let object: [String: Any] = ["line": reject.line, "error": reject.reason, "input": reject.input]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            text += String(decoding: data, as: UTF8.self) + "\n"
        }
        // Written whole, then moved into place: never a half-written rejects file.
        let temporary = path + ".partial"
        try text.write(toFile: temporary, atomically: false, encoding: .utf8)
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        try FileManager.default.moveItem(atPath: temporary, toPath: path)
    }
}

/// What `tierplan usage prune` did: the raw events before `before` deleted (or counted, dry run).
public struct UsagePruneSummary: Sendable, Encodable {
    public var asOf: String
    public var retentionDays: Int
    /// The first day kept: events before its start (UTC) are deleted.
    public var before: String
    public var deleted: Int
    public var dryRun: Bool

    enum CodingKeys: String, CodingKey { case asOf = "as_of", retentionDays = "retention_days", before, deleted, dryRun = "dry_run" }
}

/// Retention of raw usage: events older than `policy.raw_retention_days` before as_of go; the
/// rollups stay, so signals and plans do not change. An event sent again after its raw row was
/// pruned is stored again, and its rollups do not move (day sets and the daily maximum are the same;
/// only the storage sample counts grow): idempotence is promised within the retention.
public enum UsagePrune {
    public static func execute(_ db: Connection, asOf: Day, dryRun: Bool) throws -> UsagePruneSummary {
        try db.transaction { db in
            // Not while an ingest is checking duplicates against the rows about to go.
            try db.execute("SELECT pg_advisory_xact_lock(hashtext('tierplan.ingest'))")
            let days = try CatalogStore.read(db).policy.rawRetentionDays
            let before = asOf.adding(days: -days)
            let deleted = dryRun
                ? try db.query("SELECT count(*) FROM usage_events WHERE at < $1::date", [before.iso]).first!.decode(0, as: Int.self)
                : try db.execute("DELETE FROM usage_events WHERE at < $1::date", [before.iso])
            return UsagePruneSummary(asOf: asOf.iso, retentionDays: days, before: before.iso, deleted: deleted, dryRun: dryRun)
        }
    }
}
