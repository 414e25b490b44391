import Crypto
import Foundation
import Hummingbird
import Logging
import NIOCore

/// A webhook receiver on loopback, as a billing job or chat tool would run one: it recomputes the
/// HMAC-SHA256 over `t.body` with the endpoint's secret, refuses a timestamp more than 5 minutes from
/// its own clock (set by the test, never the machine's), and keeps what it accepted. It can be told to
/// fail (503) or to answer slowly.
final class WebhookReceiver: @unchecked Sendable {   // every var is guarded by `lock`
    struct Received {
        var path: String
        var eventID: String
        var body: Data
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
    }

    private let lock = NSLock()
    private var _accepted: [Received] = []
    private var _refused: [String] = []
    private var _failing = false
    private var _delay: Duration = .zero
    private var _secrets: [String: String] = [:]
    private var _now: Int64 = 0
    private var task: Task<Void, Error>?
    private(set) var port = 0

    var accepted: [Received] { lock.withLock { _accepted } }
    /// Why requests were refused (bad signature, stale timestamp, bad Slack shape).
    var refused: [String] { lock.withLock { _refused } }
    var failing: Bool { get { lock.withLock { _failing } } set { lock.withLock { _failing = newValue } } }
    var delay: Duration { get { lock.withLock { _delay } } set { lock.withLock { _delay = newValue } } }
    /// The receiver's clock, in Unix seconds (the test sets it to the `TIERPLAN_NOW` it uses).
    var now: Int64 { get { lock.withLock { _now } } set { lock.withLock { _now = newValue } } }
    func setSecret(_ secret: String, for path: String) { lock.withLock { _secrets[path] = secret } }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    func start() async throws {
        let router = Router()
        for path in ["/billing", "/crm", "/slack"] {
            router.post(RouterPath(path)) { [self] request, _ -> Response in
                let buffer = try await request.body.collect(upTo: 1 << 22)
                return await self.handle(path: path, headers: request.headers, body: Data(buffer.readableBytesView))
            }
        }
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "webhook-receiver")
        logger.logLevel = .critical   // its shutdown at the end of each test is not news
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) }, logger: logger)
        task = Task { try await app.runService(gracefulShutdownSignals: []) }
        for await p in ports { port = p; break }
    }

    func stop() { task?.cancel() }

    private func refuse(_ why: String, _ status: HTTPResponse.Status) -> Response {
        lock.withLock { _refused.append(why) }
        return Response(status: status)
    }

    private func handle(path: String, headers: HTTPFields, body: Data) async -> Response {
        let (failing, delay, secret, now) = lock.withLock { (_failing, _delay, _secrets[path] ?? "", _now) }
        if failing { return Response(status: .serviceUnavailable) }
        func header(_ name: String) -> String? { headers.first { $0.name.canonicalName == name }?.value }
        guard let eventID = header("tierplan-event-id"), let header = header("tierplan-signature") else {
            return refuse("missing headers", .badRequest)
        }
        // Verify as a receiver would: parse t and v1, recompute, compare in constant time, check the age.
        var t: Int64?, v1: [String] = []
        for part in header.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1).map(String.init)
            if kv.count == 2, kv[0] == "t" { t = Int64(kv[1]) }
            if kv.count == 2, kv[0] == "v1" { v1.append(kv[1]) }
        }
        guard let t else { return refuse("no timestamp", .badRequest) }
        let expected = HMAC<SHA256>.authenticationCode(for: Data("\(t).".utf8) + body, using: SymmetricKey(data: Data(secret.utf8)))
        let hex = expected.map { String(format: "%02x", $0) }.joined()
        guard v1.contains(where: { $0.count == hex.count && zip($0.utf8, hex.utf8).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0 }) else {
            return refuse("bad signature for \(eventID)", .badRequest)
        }
        guard abs(now - t) <= 300 else { return refuse("stale timestamp \(t) for \(eventID) (receiver's now \(now))", .badRequest) }
        if path == "/slack" {
            // Slack's incoming webhooks take an object with a non-empty "text" (and optional blocks etc.).
            guard let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any], let text = object["text"] as? String,
                  !text.isEmpty, Set(object.keys).isSubset(of: ["text", "blocks", "attachments", "mrkdwn", "username", "icon_emoji"]) else {
                return refuse("not a Slack message: \(String(decoding: body, as: UTF8.self))", .badRequest)
            }
        }
        lock.withLock { _accepted.append(Received(path: path, eventID: eventID, body: body)) }
        if delay > .zero { try? await Task.sleep(for: delay) }
        return Response(status: .ok)
    }
}
