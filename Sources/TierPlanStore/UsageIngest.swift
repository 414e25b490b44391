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
        try c.encode(rejected, forKey: .rejected); try c.encodeIfPresent(rejectsFile, forKey: .rejectsFile)
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
/// features in SQL, then one set-based insert per usage table (duplicates skipped by
/// (account_id, id)) with the daily rollups updated in the same transaction.
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
                case .success(let event): try emit(event, number)
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
                    try emit(event, count)
                }
            }
        }
    }

    private func ingest(file: String, format: String, lines: () -> Int, into db: Connection,
                        source: (_ emit: (UsageEvent, Int) throws -> Void, _ fail: (InputError, String) -> Void) throws -> Void) throws -> IngestSummary {
        let started = Date()
        var errors: [InputError] = []
        var rejects: [(line: Int, reason: String, input: String)] = []
        var lastReport = Date()
        var storageRows = 0, featureRows = 0

        let summary: IngestSummary = try db.transaction { db in
            // One ingest at a time: rollup upserts never deadlock and the no-duplicate fast path stays safe.
            try db.execute("SELECT pg_advisory_xact_lock(hashtext('tierplan.ingest'))")
            try db.execute("""
                CREATE TEMP TABLE staging_usage (
                    line bigint, type text, account_id text, id text, user_id text, feature_key text,
                    at timestamptz, bytes bigint, count bigint
                ) ON COMMIT DROP
                """)
            try db.copyIn("COPY staging_usage FROM STDIN") { copy in
                func emit(_ event: UsageEvent, _ number: Int) throws {
                    if number & 0x3FFF == 0, Date().timeIntervalSince(lastReport) >= 0.5 {
                        lastReport = Date()
                        progress(IngestProgress(phase: "reading", lines: number, seconds: lastReport.timeIntervalSince(started)))
                    }
                    guard errors.isEmpty || onError == .skip else { return }
                    let line = String(number)
                    switch event {
                    case let .storage(id, account, at, value):
                        storageRows += 1
                        try copy.writeRow([line, "storage", account, id, nil, nil, at.iso, String(value), nil])
                    case let .feature(id, account, user, feature, at, count):
                        featureRows += 1
                        try copy.writeRow([line, "feature", account, id, user, feature, at.iso, nil, String(count)])
                    }
                }
                func fail(_ error: InputError, _ input: String) {
                    if onError == .skip {
                        rejects.append((error.line, error.description, input))
                    } else if errors.count < maxListedErrors {
                        errors.append(error)
                    } else if errors.count == maxListedErrors {
                        errors.append(InputError(file: file, line: error.line, reason: "more errors not listed"))
                    }
                }
                try source(emit, fail)
            }
            if !errors.isEmpty, onError == .abort { throw InputErrors(errors) }
            // The planner must know the staging table's size, and the group-bys must not spill to disk.
            try db.execute("ANALYZE staging_usage")
            try db.execute("SET LOCAL work_mem = '256MB'")
            progress(IngestProgress(phase: "checking accounts and features", lines: lines(), seconds: Date().timeIntervalSince(started)))

            // Lines whose account or feature tierplan does not know.
            let unknownSQL = """
                SELECT s.line, 'account' AS field, s.account_id AS value, s.type, s.id, s.account_id, s.user_id, s.feature_key,
                       s.at, s.bytes, s.count
                FROM staging_usage s WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.account_id = s.account_id)
                UNION ALL
                SELECT s.line, 'feature', s.feature_key, s.type, s.id, s.account_id, s.user_id, s.feature_key, s.at, s.bytes, s.count
                FROM staging_usage s
                WHERE s.type = 'feature' AND EXISTS (SELECT 1 FROM accounts a WHERE a.account_id = s.account_id)
                  AND NOT EXISTS (SELECT 1 FROM features f WHERE f.key = s.feature_key)
                """
            let limit = onError == .abort ? " ORDER BY 1 LIMIT \(maxListedErrors)" : " ORDER BY 1"
            let unknown = try db.query(unknownSQL + limit).rows
            for row in unknown {
                let field: String = try row.decode(1)
                let value: String = try row.decode(2)
                let error = InputError(file: file, line: try row.decode(0), field: field, value: value, reason: "unknown \(field)")
                if onError == .abort { errors.append(error) } else {
                    rejects.append((error.line, error.description, try Self.canonicalJSON(row)))
                }
            }
            if !errors.isEmpty { throw InputErrors(errors) }
            if !unknown.isEmpty {
                try db.execute("""
                    DELETE FROM staging_usage s
                    WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.account_id = s.account_id)
                       OR (s.type = 'feature' AND NOT EXISTS (SELECT 1 FROM features f WHERE f.key = s.feature_key))
                    """)
            }

            progress(IngestProgress(phase: "inserting", lines: lines(), seconds: Date().timeIntervalSince(started)))
            var summary = IngestSummary(file: file, format: format, lines: lines())
            if storageRows > 0 {
                let storage = try db.query("""
                    WITH new_samples AS (
                        INSERT INTO storage_samples (account_id, id, at, bytes)
                        SELECT account_id, id, at, bytes FROM staging_usage WHERE type = 'storage'
                        ON CONFLICT (account_id, id) DO NOTHING
                        RETURNING account_id, at, bytes
                    ), rolled AS (
                        INSERT INTO daily_storage AS d (account_id, day, max_bytes, last_at, last_bytes, samples)
                        SELECT account_id, (at AT TIME ZONE 'UTC')::date, max(bytes), max(at),
                               (array_agg(bytes ORDER BY at DESC, bytes DESC))[1], count(*)
                        FROM new_samples GROUP BY account_id, (at AT TIME ZONE 'UTC')::date
                        ON CONFLICT (account_id, day) DO UPDATE SET
                            max_bytes = greatest(d.max_bytes, excluded.max_bytes),
                            last_bytes = CASE WHEN (excluded.last_at, excluded.last_bytes) > (d.last_at, d.last_bytes)
                                              THEN excluded.last_bytes ELSE d.last_bytes END,
                            last_at = greatest(d.last_at, excluded.last_at),
                            samples = d.samples + excluded.samples
                    )
                    SELECT (SELECT count(*) FROM new_samples), (SELECT count(*) FROM staging_usage WHERE type = 'storage')
                    """).first!
                summary.storageNew = try storage.decode(0)
                summary.storageDuplicates = try storage.decode(1, as: Int.self) - summary.storageNew
            }
            if featureRows > 0 {
                let duplicates = try db.query("""
                    SELECT EXISTS (SELECT 1 FROM staging_usage s JOIN feature_events f ON f.account_id = s.account_id AND f.id = s.id
                                   WHERE s.type = 'feature')
                        OR EXISTS (SELECT 1 FROM staging_usage WHERE type = 'feature' GROUP BY account_id, id HAVING count(*) > 1)
                    """).first!.decode(0, as: Bool.self)
                if duplicates {
                    let features = try db.query("""
                        WITH new_events AS (
                            INSERT INTO feature_events (account_id, id, user_id, feature_key, at, count)
                            SELECT account_id, id, user_id, feature_key, at, count FROM staging_usage WHERE type = 'feature'
                            ON CONFLICT (account_id, id) DO NOTHING
                            RETURNING account_id, user_id, feature_key, (at AT TIME ZONE 'UTC')::date AS day, count
                        ), by_feature AS (
                            INSERT INTO daily_feature_usage AS d (account_id, day, feature_key, events, uses)
                            SELECT account_id, day, feature_key, count(*), sum(count) FROM new_events GROUP BY account_id, day, feature_key
                            ON CONFLICT (account_id, day, feature_key) DO UPDATE SET
                                events = d.events + excluded.events, uses = d.uses + excluded.uses
                        ), by_user AS (
                            INSERT INTO daily_active_users AS d (account_id, day, user_id, events)
                            SELECT account_id, day, user_id, count(*) FROM new_events GROUP BY account_id, day, user_id
                            ON CONFLICT (account_id, day, user_id) DO UPDATE SET events = d.events + excluded.events
                        )
                        SELECT (SELECT count(*) FROM new_events), (SELECT count(*) FROM staging_usage WHERE type = 'feature')
                        """).first!
                    summary.featureNew = try features.decode(0)
                    summary.featureDuplicates = try features.decode(1, as: Int.self) - summary.featureNew
                } else {
                    // Nothing is a duplicate: a plain insert, and the rollups straight from staging.
                    summary.featureNew = try db.execute("""
                        INSERT INTO feature_events (account_id, id, user_id, feature_key, at, count)
                        SELECT account_id, id, user_id, feature_key, at, count FROM staging_usage WHERE type = 'feature'
                        """)
                    try db.execute("""
                        INSERT INTO daily_feature_usage AS d (account_id, day, feature_key, events, uses)
                        SELECT account_id, (at AT TIME ZONE 'UTC')::date, feature_key, count(*), sum(count)
                        FROM staging_usage WHERE type = 'feature' GROUP BY 1, 2, 3
                        ON CONFLICT (account_id, day, feature_key) DO UPDATE SET
                            events = d.events + excluded.events, uses = d.uses + excluded.uses
                        """)
                    try db.execute("""
                        INSERT INTO daily_active_users AS d (account_id, day, user_id, events)
                        SELECT account_id, (at AT TIME ZONE 'UTC')::date, user_id, count(*)
                        FROM staging_usage WHERE type = 'feature' GROUP BY 1, 2, 3
                        ON CONFLICT (account_id, day, user_id) DO UPDATE SET events = d.events + excluded.events
                        """)
                }
            }
            summary.rejected = rejects.count
            return summary
        }
        var result = summary
        // After the commit, so a failed ingest never leaves a rejects file behind.
        if onError == .skip, let rejectsPath {
            try Self.writeRejects(rejects.sorted { $0.line < $1.line }, to: rejectsPath)
            result.rejectsFile = rejectsPath
        }
        result.seconds = Date().timeIntervalSince(started)
        return result
    }

    /// One JSON object per rejected line: its number, why, and the input (as read, or as parsed).
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

    /// The event of a staged row as an NDJSON line (what a fixed input would carry).
    static func canonicalJSON(_ row: Row) throws -> String {
        var object: [String: Any] = ["type": try row.decode(3, as: String.self), "id": try row.decode(4, as: String.self),
                                     "account": try row.decode(5, as: String.self)]
        if let user: String = try row.decodeIfPresent(6) { object["user"] = user }
        if let feature: String = try row.decodeIfPresent(7) { object["feature"] = feature }
        object["at"] = try row.decode(8, as: String.self).replacingOccurrences(of: " ", with: "T").replacingOccurrences(of: "+00", with: "Z")
        if let bytes: Int64 = try row.decodeIfPresent(9) { object["bytes"] = bytes }
        if let count: Int64 = try row.decodeIfPresent(10) { object["count"] = count }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}
