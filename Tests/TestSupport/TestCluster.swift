import Foundation
import Postgres
import TierPlanStore
#if canImport(Glibc)
import Glibc
#endif

/// One throwaway PostgreSQL cluster per test process (fsync off), started on first use and
/// deleted at exit; each test gets a fresh database of its own.
public enum TestCluster {
    nonisolated(unsafe) private static var cluster: EmbeddedCluster?
    nonisolated(unsafe) private static var counter = 0
    private static let lock = NSLock()

    /// A new, migrated, empty database; returns its connection string.
    public static func freshDatabase(migrated: Bool = true) throws -> String {
        lock.lock()
        defer { lock.unlock() }
        let cluster = try started()
        counter += 1
        let name = "t\(getpid())_\(counter)"
        let admin = try Connection("postgresql:///postgres?host=\(cluster.home)&port=\(cluster.port)&user=postgres")
        try admin.execute("DROP DATABASE IF EXISTS \(name)")
        try admin.execute("CREATE DATABASE \(name)")
        let url = "postgresql:///\(name)?host=\(cluster.home)&port=\(cluster.port)&user=postgres"
        if migrated { try Schema.migrate(try Connection(url)) }
        return url
    }

    /// A connection to a new, migrated, empty database.
    public static func freshConnection() throws -> (Connection, String) {
        let url = try freshDatabase()
        let db = try Connection(url)
        try db.execute("SET TIME ZONE 'UTC'")
        return (db, url)
    }

    public static var home: String? { cluster?.home }

    private static func started() throws -> EmbeddedCluster {
        if let cluster { return cluster }
        let home = "/tmp/tierplan-test-\(getpid())"
        let cluster = EmbeddedCluster(home: home, unsafeFastStorage: true)
        try? cluster.destroy()
        try cluster.up()
        self.cluster = cluster
        atexit {
            try? TestCluster.cluster?.destroy()
        }
        return cluster
    }
}

/// The result of running the real `tierplan` binary.
public struct CLIResult {
    public let status: Int32
    public let stdout: String
    public let stderr: String

    public var json: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(stdout.utf8))) as? [String: Any]
    }
}

/// Runs the `tierplan` executable built next to the test bundle.
public enum CLI {
    public static var binary: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
        // The xctest bundle may sit one folder deeper on some platforms.
        for _ in 0..<3 {
            let candidate = dir.appendingPathComponent("tierplan").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir.deleteLastPathComponent()
        }
        return "tierplan"
    }

    /// Runs `tierplan args…` with `DATABASE_URL=url`; `stdin` is fed to its standard input.
    @discardableResult
    public static func run(_ args: [String], databaseURL: String?, stdin: String? = nil,
                           environment extra: [String: String] = [:], directory: String? = nil) throws -> CLIResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = args
        var environment = ProcessInfo.processInfo.environment
        for key in ["DATABASE_URL", "PGHOST", "PGDATABASE", "PGUSER", "PGPORT", "PGSERVICE", "PGHOSTADDR"] { environment[key] = nil }
        if let databaseURL { environment["DATABASE_URL"] = databaseURL }
        for (k, v) in extra { environment[k] = v }
        process.environment = environment
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("tierplan-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        let outURL = tmp.appendingPathComponent("out"), errURL = tmp.appendingPathComponent("err"), inURL = tmp.appendingPathComponent("in")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        FileManager.default.createFile(atPath: inURL.path, contents: Data((stdin ?? "").utf8))
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        process.standardInput = try FileHandle(forReadingFrom: inURL)
        try process.run()
        process.waitUntilExit()
        return CLIResult(status: process.terminationStatus,
                         stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                         stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    }
}

extension CLI {
    /// Starts `tierplan args…` in the background and returns the running process; its output is
    /// discarded, or written to `output`.out and `output`.err when given (read them once it ended).
    public static func start(_ args: [String], databaseURL: String, output: URL? = nil, environment extra: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = args
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = databaseURL
        for (k, v) in extra { environment[k] = v }
        process.environment = environment
        if let output {
            for name in ["out", "err"] { FileManager.default.createFile(atPath: output.path + "." + name, contents: nil) }
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output.path + ".out"))
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: output.path + ".err"))
        } else {
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
        }
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }
}

/// A temporary folder for input files, removed by the caller.
public func temporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("tierplan-test-files-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The repository root (for examples/).
public let repositoryRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
