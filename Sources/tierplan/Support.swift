import ArgumentParser
import Foundation
import TierPlanCore
import TierPlanStore

/// `--database-url`, shared by every command that reads or writes data.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .customLong("database-url"), help: "PostgreSQL URL or key=value string (default: DATABASE_URL, PG*, else the embedded cluster).")
    var databaseURL: String?

    var target: DatabaseTarget { DatabaseTarget.resolve(explicit: databaseURL) }

    /// The store of a command: the embedded cluster started and migrated when it is the target, the
    /// schema checked otherwise.
    func repository() throws -> PostgresRepository {
        try target.repository { Console.note($0) }
    }
}

/// `--json`: exactly one JSON document on stdout.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print exactly one JSON document on stdout.")
    var json = false

    /// The one way a command prints its result: `value` as JSON with `--json`, else `text()`.
    func print<T: Encodable>(_ value: T, text: () throws -> Void) throws {
        if json { try Console.json(value) } else { try text() }
    }

    /// As above, for documents that write their own JSON.
    func print<T: ContractJSONDocument>(_ value: T, text: () throws -> Void) throws {
        if json { Console.out(bytes: value.jsonBytes()) } else { try text() }
    }
}

/// Writing to the terminal: results to stdout, messages and progress to stderr.
enum Console {
    static let stderrIsTerminal = isatty(2) == 1

    /// Who runs this command, for the audit log: the OS user (`cli:alice`).
    static var operatorName: String {
        "cli:" + (ProcessInfo.processInfo.environment["USER"] ?? ProcessInfo.processInfo.environment["LOGNAME"] ?? "unknown")
    }

    static func note(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    /// Writes bytes and a newline to stdout.
    static func out(bytes: [UInt8]) {
        FileHandle.standardOutput.write(Data(bytes + [UInt8(ascii: "\n")]))
    }

    /// Writes text to stdout as it is.
    static func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    /// Prints `value` as one JSON document with snake_case keys.
    static func json<T: Encodable>(_ value: T) throws {
        out(try ContractJSON.text(value))
    }

    /// A progress line rewritten in place, only on a terminal.
    static func progress(_ text: String) {
        guard stderrIsTerminal else { return }
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + text).utf8))
    }

    static func endProgress() {
        guard stderrIsTerminal else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }

    static func grouped(_ n: Int) -> String { Rationale.grouped(n) }
}

/// Runs a command body; any error becomes a clear message on stderr and a non-zero exit.
func runReportingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as ExitCode {
        throw error
    } catch let errors as InputErrors {
        Console.endProgress()
        if errors.errors.count == 1 {
            Console.note("error: \(errors.errors[0]) (input refused, nothing was written)")
        } else {
            for error in errors.errors.prefix(50) { Console.note("error: \(error)") }
            if errors.errors.count > 50 { Console.note("error: … and \(errors.errors.count - 50) more") }
            Console.note("error: input refused, nothing was written (\(errors.errors.count) errors)")
        }
        throw ExitCode(1)
    } catch StoreError.unavailable(let detail) {
        Console.endProgress()
        Console.note("error: the database is unavailable: \(detail)")
        Console.note("error: each command is one transaction, so nothing of it stayed; run it again once the database is back")
        throw ExitCode(1)
    } catch {
        Console.endProgress()
        Console.note("error: \(error)")
        throw ExitCode(1)
    }
}

extension Day: ExpressibleByArgument {
    public init?(argument: String) { self.init(iso: argument) }
}

/// Reads a whole text file (or stdin for `-`), with a clear error.
func readText(_ path: String) throws -> String {
    if path == "-" {
        return String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
    }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw StoreError.refused("\(path): cannot read the file (does it exist?)")
    }
    guard let text = String(data: data, encoding: .utf8) else { throw StoreError.refused("\(path): not UTF-8 text") }
    return text
}
