import Foundation
import NIOPosix
import Postgres
import ServiceLifecycle

/// A few libpq connections shared by the server (or the one connection of a command). libpq blocks,
/// so in the server every call runs on a thread pool of its own (never on the event loops), and each
/// connection has one user at a time. A Service of the application: it closes its connections and
/// threads when the application shuts down.
public final class DatabasePool: Service, @unchecked Sendable {   // `idle` is guarded by `lock`
    let conninfo: String
    /// nil for a command's single connection: its calls run on the caller's task, one at a time.
    let threads: NIOThreadPool?
    private let lock = NSLock()
    private var idle: [Connection] = []

    /// `size` connections at most, as many threads.
    public init(conninfo: String, size: Int = 8) {
        self.conninfo = conninfo
        let threads = NIOThreadPool(numberOfThreads: size)
        threads.start()
        self.threads = threads
    }

    /// A command's pool: the connection it already opened (after starting the cluster and checking the
    /// schema), used in place by one caller at a time.
    init(connection: Connection, conninfo: String) {
        self.conninfo = conninfo
        threads = nil
        idle = [connection]
    }

    /// Runs `body` with a connection on the pool's threads.
    func withConnection<T: Sendable>(_ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        guard let threads else { return try borrow(body) }
        return try await threads.runIfActive { [self] in try borrow(body) }
    }

    private func borrow<T>(_ body: (Connection) throws -> T) throws -> T {
        let connection: Connection
        do { connection = try checkout() } catch let error as PostgresError { throw Self.classified(error, healthy: false) }
        do {
            let value = try body(connection)
            checkin(connection)
            return value
        } catch let error as PostgresError {
            let healthy = connection.isHealthy && error.code != .connectionFailed
            if healthy { checkin(connection) }
            throw Self.classified(error, healthy: healthy)
        } catch {
            if connection.isHealthy { checkin(connection) }
            throw error
        }
    }

    /// What a libpq error means to a caller: the database gone (no connection, a broken one, SQLSTATE
    /// class 08, or the server shutting down: 57P01–57P03) or a value it refused (class 22, data
    /// exception); anything else stays as it is.
    static func classified(_ error: PostgresError, healthy: Bool) -> Error {
        let state = error.sqlState ?? ""
        if error.code == .connectionFailed || !healthy || state.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(state) {
            return StoreError.unavailable(error.message)
        }
        if state.hasPrefix("22") { return StoreError.invalidValue(error.message) }
        return error
    }

    /// Throws when the database cannot be reached (a round trip on a pooled connection).
    public func check() async throws {
        try await withConnection { _ = try $0.execute("SELECT 1") }
    }

    /// Runs until the application shuts down (after the HTTP server stopped taking requests), then
    /// closes the pool.
    public func run() async throws {
        try? await gracefulShutdown()
        try await shutdown()
    }

    public func shutdown() async throws {
        try await threads?.shutdownGracefully()
        lock.withLock { idle.removeAll() }
    }

    private func checkout() throws -> Connection {
        if let connection = lock.withLock({ idle.popLast() }), connection.isHealthy { return connection }
        let connection = try Connection(conninfo)
        try connection.execute("SET TIME ZONE 'UTC'")
        return connection
    }

    private func checkin(_ connection: Connection) {
        lock.withLock { idle.append(connection) }
    }
}
