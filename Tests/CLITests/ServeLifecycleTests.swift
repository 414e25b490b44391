import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TestSupport
import XCTest

/// `tierplan serve` as a process: up on a real database, then SIGTERM ends it cleanly (exit 0):
/// the HTTP server stops first, then the database pool, a Service of the application, closes.
final class ServeLifecycleTests: XCTestCase {
    func status(_ url: URL) -> Int? {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var code: Int?
        URLSession.shared.dataTask(with: url) { _, response, _ in
            code = (response as? HTTPURLResponse)?.statusCode
            done.signal()
        }.resume()
        _ = done.wait(timeout: .now() + 5)
        return code
    }

    func testSigtermEndsServeWithExitZero() throws {
        let url = try TestCluster.freshDatabase()
        var server: Process?
        var health: URL?
        for _ in 0..<5 where health == nil {
            let port = Int.random(in: 20_000...45_000)
            let process = try CLI.start(["serve", "--host", "127.0.0.1", "--port", String(port), "--pool", "2"], databaseURL: url)
            let probe = URL(string: "http://127.0.0.1:\(port)/healthz")!
            for _ in 0..<300 where process.isRunning {
                if status(probe) == 200 { health = probe; server = process; break }
                Thread.sleep(forTimeInterval: 0.1)
            }
            if health == nil, process.isRunning { process.terminate(); process.waitUntilExit() }
        }
        let running = try XCTUnwrap(server, "serve did not answer /healthz on any of 5 ports")
        running.terminate()   // SIGTERM
        let deadline = Date().addingTimeInterval(30)
        while running.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        XCTAssertFalse(running.isRunning, "serve still running 30 s after SIGTERM")
        if running.isRunning { kill(running.processIdentifier, SIGKILL) }
        running.waitUntilExit()
        XCTAssertEqual(running.terminationReason, .exit)
        XCTAssertEqual(running.terminationStatus, 0)
        XCTAssertNil(status(health!), "nothing listens any more")
    }
}
