import Foundation
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `tierplan serve` as a process: SIGTERM ends it cleanly (exit 0) after the requests in flight are
/// answered: the HTTP server stops taking connections, finishes what it has, then the database pool,
/// a Service of the application, closes.
final class ServeLifecycleTests: XCTestCase {
    func testSigtermEndsServeWithExitZero() throws {
        let served = try Served.start(databaseURL: try TestCluster.freshDatabase())
        XCTAssertTrue(served.stop(), "serve still running 30 s after SIGTERM")
        XCTAssertEqual(served.process.terminationReason, .exit)
        XCTAssertEqual(served.process.terminationStatus, 0)
        XCTAssertNil(HTTP.get(served.base.appendingPathComponent("healthz")).status, "nothing listens any more")
    }

    /// A sign-in whose body is still arriving when SIGTERM comes is answered in full (401: no such
    /// user, checked in the database), and only then does serve exit 0.
    func testSigtermFinishesTheRequestInFlight() throws {
        let served = try Served.start(databaseURL: try TestCluster.freshDatabase())
        let body = "csrf=c1&next=%2F&name=nobody&password=wrong-password"
        let socket = try LoopbackSocket(port: served.base.port!)
        try socket.send("POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n"
                        + "Cookie: tierplan_login_csrf=c1\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body.prefix(20))
        Thread.sleep(forTimeInterval: 0.3)   // the head is read and the route waits for the rest of the body
        served.process.terminate()           // SIGTERM
        Thread.sleep(forTimeInterval: 1)
        XCTAssertTrue(served.process.isRunning, "serve must wait for the request in flight")
        try socket.send(String(body.dropFirst(20)))
        let answer = try socket.receiveAll()
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 401"), "the request in flight gets its answer: \(answer.prefix(200))")
        XCTAssertTrue(answer.contains("Wrong name or password."), String(answer.prefix(2000)))
        let deadline = Date().addingTimeInterval(30)
        while served.process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        XCTAssertFalse(served.process.isRunning, "serve still running 30 s after SIGTERM")
        if served.process.isRunning { served.stop(within: 0) }
        served.process.waitUntilExit()
        XCTAssertEqual(served.process.terminationReason, .exit)
        XCTAssertEqual(served.process.terminationStatus, 0)
    }
}

/// A plain TCP connection to 127.0.0.1, to send a request in pieces.
final class LoopbackSocket {
    let fd: Int32

    init(port: Int) throws {
        fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard fd >= 0, connected == 0 else { throw CLIError("cannot connect to 127.0.0.1:\(port): errno \(errno)") }
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else {
            throw CLIError("send failed: errno \(errno)")
        }
    }

    /// Everything until the server closes the connection (or 20 s pass).
    func receiveAll() throws -> String {
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            data += buffer[0..<n]
        }
        return String(decoding: data, as: UTF8.self)
    }
}
