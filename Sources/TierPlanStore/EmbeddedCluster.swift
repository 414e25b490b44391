import Foundation
import Postgres
import TierPlanCore
#if canImport(Glibc)
import Glibc
#endif

/// The local PostgreSQL cluster tierplan starts for itself when no database is configured:
/// initdb + pg_ctl on a data folder under `.tierplan/`, reachable only through a Unix socket.
///
/// Run as root, the server runs as the `postgres` OS user (it refuses root); when that user
/// cannot reach the working directory the cluster lives under /tmp instead, named after it.
public struct EmbeddedCluster: Sendable {
    /// Folder holding `data/`, the socket and `postgres.log`.
    public let home: String
    public let port: Int
    public let database = "tierplan"
    /// `fsync=off`: only for throwaway test clusters.
    public let unsafeFastStorage: Bool

    public init(home: String, port: Int = 5432, unsafeFastStorage: Bool = false) {
        self.home = home
        self.port = port
        self.unsafeFastStorage = unsafeFastStorage
    }

    /// The cluster for the current directory (`TIERPLAN_HOME` overrides the folder).
    public static func forCurrentDirectory() -> EmbeddedCluster {
        if let home = ProcessInfo.processInfo.environment["TIERPLAN_HOME"], !home.isEmpty {
            return EmbeddedCluster(home: home)
        }
        let cwd = FileManager.default.currentDirectoryPath
        let local = cwd + "/.tierplan"
        // The socket path must stay under ~100 bytes; root needs a path `postgres` can traverse.
        if local.utf8.count < 80 && (!runningAsRoot || postgresCanTraverse(cwd)) { return EmbeddedCluster(home: local) }
        let name = URL(fileURLWithPath: cwd).lastPathComponent.filter { $0.isLetter || $0.isNumber || $0 == "-" }.prefix(20)
        return EmbeddedCluster(home: "/tmp/tierplan-\(name)-\(stableHash(cwd))")
    }

    public var dataDirectory: String { home + "/data" }
    public var logFile: String { home + "/postgres.log" }

    /// Connection string of the cluster's `tierplan` database.
    public var url: String { "postgresql:///\(database)?host=\(home)&port=\(port)&user=postgres" }
    var maintenanceURL: String { "postgresql:///postgres?host=\(home)&port=\(port)&user=postgres" }

    public enum State: String, Sendable { case absent, stopped, running }

    public var state: State {
        guard FileManager.default.fileExists(atPath: dataDirectory + "/PG_VERSION") else { return .absent }
        return runningPID != nil ? .running : .stopped
    }

    /// The postmaster's pid when it is alive.
    public var runningPID: Int32? {
        guard let text = try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8),
              let first = text.split(separator: "\n").first, let pid = Int32(first) else { return nil }
        return kill(pid, 0) == 0 || errno == EPERM ? pid : nil
    }

    /// Creates the cluster if needed, starts it if stopped, and makes sure the database exists.
    /// Returns true when it had to start the server.
    @discardableResult
    public func up() throws -> Bool {
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let lock = try FileLock(path: home + "/.lock")
        defer { lock.release() }
        if runningAsRoot { try chownToPostgres(home) }
        var started = false
        if state == .absent {
            try? FileManager.default.removeItem(atPath: dataDirectory)
            try run(["initdb", "-D", dataDirectory, "--locale=C.UTF-8", "-E", "UTF8", "--no-sync", "-A", "trust", "-U", "postgres"],
                    log: home + "/initdb.log", what: "initdb")
        }
        if state == .stopped {
            var options = "-k \(home) -c listen_addresses= -p \(port) -c max_connections=100"
            if unsafeFastStorage { options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off" }
            try run(["pg_ctl", "-D", dataDirectory, "-l", logFile, "-w", "-t", "60", "-o", options, "start"],
                    log: home + "/pg_ctl.log", what: "pg_ctl start")
            started = true
        }
        try createDatabaseIfMissing()
        return started
    }

    /// Stops the server (fast shutdown); the data stays. `immediately`: `-m immediate`, a crash as
    /// far as the data is concerned (no checkpoint, WAL replayed at the next start): for fault tests.
    public func down(immediately: Bool = false) throws {
        guard state == .running else { return }
        try run(["pg_ctl", "-D", dataDirectory, "-m", immediately ? "immediate" : "fast", "-w", "stop"],
                log: home + "/pg_ctl.log", what: "pg_ctl stop")
    }

    /// Stops the server and deletes the folder.
    public func destroy() throws {
        try? down()
        try? FileManager.default.removeItem(atPath: home)
    }

    private func createDatabaseIfMissing() throws {
        let admin = try Connection(maintenanceURL)
        let exists = try admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]).rows.isEmpty == false
        if !exists {
            do { try admin.execute("CREATE DATABASE tierplan") }
            catch let error as PostgresError where error.sqlState == "42P04" {}   // created meanwhile
        }
    }

    /// Runs a server binary, as `postgres` when we are root, through a shell that closes inherited
    /// descriptors first (a daemon holding our pipes would hang us), output to `log`.
    private func run(_ arguments: [String], log: String, what: String) throws {
        let binary = Self.binDirectory + "/" + arguments[0]
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw ClusterError("\(binary) not found: install PostgreSQL (apt-get install -y postgresql)")
        }
        var command = [binary] + arguments.dropFirst()
        if runningAsRoot { command = ["runuser", "-u", "postgres", "--"] + command }
        let script = #"for fd in $(ls /proc/$$/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done 2>/dev/null; cd /; LOG="$1"; shift; exec "$@" >"$LOG" 2>&1 </dev/null"#
        if runningAsRoot { FileManager.default.createFile(atPath: log, contents: nil); try chownToPostgres(log) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")   // dash cannot close descriptors above 9
        process.arguments = ["-c", script, "bash", log] + command
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            let server = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
            let tail = (output + "\n" + server).split(separator: "\n").suffix(6).joined(separator: "\n")
            throw ClusterError("\(what) failed (exit \(process.terminationStatus)) for the cluster at \(home):\n\(tail)")
        }
    }

    /// Where initdb and pg_ctl live: `pg_config --bindir`, else the newest /usr/lib/postgresql/N/bin.
    static let binDirectory: String = {
        if let path = ProcessInfo.processInfo.environment["TIERPLAN_PG_BINDIR"], !path.isEmpty { return path }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "pg_config --bindir 2>/dev/null"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        if (try? process.run()) != nil {
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            let path = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if FileManager.default.isExecutableFile(atPath: path + "/initdb") { return path }
        }
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        let newest = versions.compactMap(Int.init).max()
        return newest.map { "/usr/lib/postgresql/\($0)/bin" } ?? "/usr/lib/postgresql/15/bin"
    }()
}

/// Why the embedded cluster could not be started or stopped.
public struct ClusterError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

var runningAsRoot: Bool { geteuid() == 0 }

/// True when the `postgres` OS user can reach `path` (every parent must be traversable).
private func postgresCanTraverse(_ path: String) -> Bool {
    guard let user = getpwnam("postgres") else { return false }
    let uid = user.pointee.pw_uid, gid = user.pointee.pw_gid
    var current = URL(fileURLWithPath: path).standardized
    while true {
        var info = stat()
        guard stat(current.path, &info) == 0 else { return false }
        let mode = info.st_mode
        let ok = (info.st_uid == uid && mode & S_IXUSR != 0) || (info.st_gid == gid && mode & S_IXGRP != 0) || mode & S_IXOTH != 0
        if !ok { return false }
        if current.path == "/" { return true }
        current.deleteLastPathComponent()
    }
}

private func chownToPostgres(_ path: String) throws {
    guard let user = getpwnam("postgres") else {
        throw ClusterError("running as root needs the 'postgres' OS user: install PostgreSQL (apt-get install -y postgresql)")
    }
    guard chown(path, user.pointee.pw_uid, user.pointee.pw_gid) == 0 else {
        throw ClusterError("cannot hand \(path) to the postgres user: \(String(cString: strerror(errno)))")
    }
}

/// FNV-1a, printed in hex: a short stable name for a folder.
func stableHash(_ text: String) -> String {
    String(StableHash.fnv1a(text), radix: 16).prefix(8).description
}

/// An exclusive advisory lock on a file, so two processes never initdb or start one cluster at once.
final class FileLock {
    private let fd: Int32
    init(path: String) throws {
        fd = open(path, O_CREAT | O_RDWR, 0o644)
        guard fd >= 0 else { throw ClusterError("cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX) == 0 else { close(fd); throw ClusterError("cannot lock \(path)") }
    }
    func release() { flock(fd, LOCK_UN); close(fd) }
}
