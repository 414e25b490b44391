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

/// Usage ingest: parse and check each line, COPY into a staging table, check accounts and
/// features in SQL, then one set-based insert into `usage_events` (duplicates skipped by
/// (account_id, id)) with the rollups updated from the inserted rows in the same statement.
public struct UsageIngest {
    public var onError: OnError = .abort
    public var rejectsPath: String?
    /// Errors listed at most, in abort mode.
    public var maxListedErrors = 100
    public var progress: (IngestProgress) -> Void = { _ in }

    public init() {}

    /// Ingests a file or stdin (`-`), NDJSON or CSV.
    public func run(_ reader: LineReader, file: String, format explicitFormat: UsageFormat? = nil, into db: Connection) throws -> IngestSummary {
        let format = try explicitFormat ?? UsageFormat.detect(fileName: file == "-" ? nil : file, firstBytes: reader.peek())
        let parser = UsageLineParser(file: file, format: format)
        return try ingest(file: file, format: format.rawValue, lines: { reader.lineNumber }, into: db) { emit, fail in
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
        return try ingest(file: label, format: "events", lines: { count }, into: db) { emit, _ in
            try withoutActuallyEscaping(emit) { emit in
                try produce { event in
                    count += 1
                    try emit(event, count, nil)
                }
            }
        }
    }

    /// Bad lines as they are found: listed (abort mode, up to `maxListedErrors`) or kept for the
    /// rejects file (skip mode).
    struct Refusals {
        var errors: [InputError] = []
        var count = 0
        var rejects: [(line: Int, reason: String, input: String)] = []
    }

    /// The phases, in one transaction: stage every line, check accounts and features, insert what is
    /// new with its rollups. The rejects file is written after the commit.
    private func ingest(file: String, format: String, lines: () -> Int, into db: Connection,
                        source: (_ emit: (UsageEvent, Int, String?) throws -> Void, _ fail: (InputError, String) -> Void) throws -> Void) throws -> IngestSummary {
        let started = Date()
        func report(_ phase: String) { progress(IngestProgress(phase: phase, lines: lines(), seconds: Date().timeIntervalSince(started))) }
        var refusals = Refusals()
        var result: IngestSummary = try db.transaction { db in
            // One ingest at a time: the duplicate checks below stay true until the insert.
            try db.execute("SELECT pg_advisory_xact_lock(hashtext('tierplan.ingest'))")
            try stage(db, started: started, refusals: &refusals, source: source)
            report("checking accounts and features")
            try refuseUnknownReferences(db, file: file, refusals: &refusals)
            report("inserting")
            var summary = try insertNew(db, into: IngestSummary(file: file, format: format, lines: lines()))
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

    /// Every well-formed line into a staging table by COPY; malformed ones go to `refusals`.
    /// `input` (the line as read) is kept only in skip mode, for the rejects file.
    private func stage(_ db: Connection, started: Date, refusals: inout Refusals,
                       source: (_ emit: (UsageEvent, Int, String?) throws -> Void, _ fail: (InputError, String) -> Void) throws -> Void) throws {
        let keepInput = onError == .skip
        var lastReport = Date()
        try db.execute("""
            CREATE TEMP TABLE staging_usage (
                line bigint, type text, account_id text, id text, user_id text, feature_key text,
                at timestamptz, bytes bigint, count bigint, input text
            ) ON COMMIT DROP
            """)
        try db.copyIn("COPY staging_usage FROM STDIN") { copy in
            func emit(_ event: UsageEvent, _ number: Int, _ input: String?) throws {
                if number & 0x3FFF == 0, Date().timeIntervalSince(lastReport) >= 0.5 {
                    lastReport = Date()
                    progress(IngestProgress(phase: "reading", lines: number, seconds: lastReport.timeIntervalSince(started)))
                }
                let line = String(number)
                switch event {
                case let .storage(id, account, at, value):
                    try copy.writeRow([line, "storage", account, id, nil, nil, at.iso, String(value), nil, keepInput ? input : nil])
                case let .feature(id, account, user, feature, at, count):
                    try copy.writeRow([line, "feature", account, id, user, feature, at.iso, nil, String(count), keepInput ? input : nil])
                }
            }
            func fail(_ error: InputError, _ input: String) {
                refusals.count += 1
                if onError == .skip { refusals.rejects.append((error.line, error.description, input)) }
                else if refusals.errors.count < maxListedErrors { refusals.errors.append(error) }
            }
            try source(emit, fail)
        }
        // The planner must know the staging table's size, and the group-bys must not spill to disk.
        try db.execute("ANALYZE staging_usage")
        try db.execute("SET LOCAL work_mem = '256MB'")
    }

    /// Lines whose account or feature tierplan does not know (checked even when other lines are
    /// malformed, so that one pass lists every error). Abort mode throws every error found so far;
    /// skip mode rejects those lines and goes on without them.
    private func refuseUnknownReferences(_ db: Connection, file: String, refusals: inout Refusals) throws {
        let unknown = try db.query("""
            SELECT s.line, 'account' AS field, s.account_id AS value, s.input
            FROM staging_usage s WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.account_id = s.account_id)
            UNION ALL
            SELECT s.line, 'feature', s.feature_key, s.input
            FROM staging_usage s
            WHERE s.type = 'feature' AND EXISTS (SELECT 1 FROM accounts a WHERE a.account_id = s.account_id)
              AND NOT EXISTS (SELECT 1 FROM features f WHERE f.key = s.feature_key)
            ORDER BY 1
            """ + (onError == .abort ? " LIMIT \(maxListedErrors)" : "")).rows
        for row in unknown {
            let field: String = try row.decode(1)
            let error = InputError(file: file, line: try row.decode(0), field: field, value: try row.decode(2), reason: "unknown \(field)")
            refusals.count += 1
            if onError == .abort { refusals.errors.append(error) } else { refusals.rejects.append((error.line, error.description, try row.decodeIfPresent(3) ?? "")) }
        }
        if !refusals.errors.isEmpty {
            var errors = refusals.errors.sorted { $0.line < $1.line }
            if errors.count > maxListedErrors || refusals.count > errors.count || unknown.count == maxListedErrors {
                errors = Array(errors.prefix(maxListedErrors))
                errors.append(InputError(file: file, line: errors.last!.line, reason: "more errors not listed"))
            }
            throw InputErrors(errors)
        }
        if !unknown.isEmpty {
            try db.execute("""
                DELETE FROM staging_usage s
                WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.account_id = s.account_id)
                   OR (s.type = 'feature' AND NOT EXISTS (SELECT 1 FROM features f WHERE f.key = s.feature_key))
                """)
        }
    }

    /// One statement: every staged event into `usage_events` in key order, the first line of an
    /// (account, id) winning and one already stored skipped (ON CONFLICT DO NOTHING covers repeats
    /// inside the input too), and the rollups built from exactly the rows it inserted (RETURNING).
    /// Key order makes the index inserts sequential; the rollups have one row per account and day
    /// (storage) or per account, key and month (feature and user day sets), so they cost a group-by,
    /// not an upsert per event.
    private func insertNew(_ db: Connection, into summary: IngestSummary) throws -> IngestSummary {
        var summary = summary
        let staged = try db.query("""
            SELECT count(*) FILTER (WHERE type = 'storage'), count(*) FILTER (WHERE type = 'feature') FROM staging_usage
            """).first!
        let new = try db.query("""
            WITH new AS (
                INSERT INTO usage_events (account_id, id, kind, at, bytes, user_id, feature_key, count)
                SELECT account_id, id, type, at, bytes, user_id, feature_key, count FROM staging_usage ORDER BY account_id, id, line
                ON CONFLICT (account_id, id) DO NOTHING
                RETURNING kind, account_id, at, (at AT TIME ZONE 'UTC')::date AS day, bytes, user_id, feature_key
            ), storage AS (
                INSERT INTO daily_storage AS d (account_id, day, max_bytes, last_at, last_bytes, samples)
                SELECT account_id, day, max(bytes), max(at), (array_agg(bytes ORDER BY at DESC, bytes DESC))[1], count(*)
                FROM new WHERE kind = 'storage' GROUP BY 1, 2
                ON CONFLICT (account_id, day) DO UPDATE SET
                    max_bytes = greatest(d.max_bytes, excluded.max_bytes),
                    last_bytes = CASE WHEN (excluded.last_at, excluded.last_bytes) > (d.last_at, d.last_bytes)
                                      THEN excluded.last_bytes ELSE d.last_bytes END,
                    last_at = greatest(d.last_at, excluded.last_at),
                    samples = d.samples + excluded.samples
            ), features AS (
                INSERT INTO feature_days AS d (account_id, feature_key, month, days)
                SELECT account_id, feature_key, date_trunc('month', day)::date, bit_or(day_bit(day))
                FROM new WHERE kind = 'feature' GROUP BY 1, 2, 3
                ON CONFLICT (account_id, feature_key, month) DO UPDATE SET days = d.days | excluded.days
            ), users AS (
                INSERT INTO user_days AS d (account_id, user_id, month, days)
                SELECT account_id, user_id, date_trunc('month', day)::date, bit_or(day_bit(day))
                FROM new WHERE kind = 'feature' GROUP BY 1, 2, 3
                ON CONFLICT (account_id, user_id, month) DO UPDATE SET days = d.days | excluded.days
            )
            SELECT count(*) FILTER (WHERE kind = 'storage'), count(*) FILTER (WHERE kind = 'feature') FROM new
            """).first!
        summary.storageNew = try new.decode(0)
        summary.featureNew = try new.decode(1)
        summary.storageDuplicates = try staged.decode(0, as: Int.self) - summary.storageNew
        summary.featureDuplicates = try staged.decode(1, as: Int.self) - summary.featureNew
        return summary
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
/// only daily_storage's sample count grows): idempotence is promised within the retention.
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
