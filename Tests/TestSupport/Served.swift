import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A `tierplan serve` process on a free loopback port, and plain HTTP against it.
public struct Served {
    public let process: Process
    public let base: URL

    /// Starts `serve` on `databaseURL` and waits until `/healthz` answers 200 (tries 5 random ports).
    public static func start(databaseURL: String, pool: Int = 2, environment: [String: String] = [:]) throws -> Served {
        for _ in 0..<5 {
            let port = Int.random(in: 20_000...45_000)
            let process = try CLI.start(["serve", "--host", "127.0.0.1", "--port", String(port), "--pool", String(pool)], databaseURL: databaseURL,
                                         environment: environment)
            let base = URL(string: "http://127.0.0.1:\(port)")!
            for _ in 0..<300 where process.isRunning {
                if HTTP.get(base.appendingPathComponent("healthz")).status == 200 { return Served(process: process, base: base) }
                Thread.sleep(forTimeInterval: 0.1)
            }
            if process.isRunning { process.terminate(); process.waitUntilExit() }
        }
        throw CLIError("serve did not answer /healthz on any of 5 ports")
    }

    /// SIGTERM, then waits up to `seconds` for the exit; true when it ended (SIGKILL otherwise).
    @discardableResult
    public func stop(within seconds: Double = 30) -> Bool {
        process.terminate()
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        let ended = !process.isRunning
        if !ended { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return ended
    }
}

/// One HTTP exchange's outcome (status nil: no answer at all).
public struct HTTPResult: Sendable {
    public var status: Int?
    public var headers: [String: String] = [:]
    public var body = ""
}

/// Blocking HTTP for tests (URLSession underneath, 10 s timeout).
public enum HTTP {
    public static func get(_ url: URL, headers: [String: String] = [:]) -> HTTPResult {
        var request = URLRequest(url: url, timeoutInterval: 10)
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result = HTTPResult()
        URLSession.shared.dataTask(with: request) { data, response, _ in
            if let response = response as? HTTPURLResponse {
                result.status = response.statusCode
                for (k, v) in response.allHeaderFields { result.headers[String(describing: k).lowercased()] = String(describing: v) }
            }
            result.body = data.map { String(decoding: $0, as: UTF8.self) } ?? ""
            done.signal()
        }.resume()
        _ = done.wait(timeout: .now() + 15)
        return result
    }
}

public struct CLIError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
