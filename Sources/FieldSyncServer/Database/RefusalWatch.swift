import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// Where the database listens: what ``RefusalWatch`` connects to.
public enum DatabaseEndpoint: Sendable, Hashable {
    case tcp(host: String, port: Int)
    case unixSocket(path: String)

    /// The endpoint the pool of `configuration` connects to.
    public init?(_ configuration: PostgresClient.Configuration) {
        if let path = configuration.unixSocketPath {
            self = .unixSocket(path: path)
        } else if let host = configuration.host, let port = configuration.port {
            self = .tcp(host: host, port: port)
        } else {
            return nil
        }
    }
}

/// Knows, fast, whether the database refuses connections.
///
/// PostgresNIO's pool never tells a waiting request that its connects fail: it queues
/// the request and retries (failing requests only once its circuit breaker trips, after
/// a minute). So when a request has waited ``grace`` for a connection and no request got
/// one in that time, the watch opens a plain socket to the endpoint: refused (nothing
/// listens, the socket file is gone, the host is unreachable) means the database is down
/// and the waiting request answers 503 at once; a connect that succeeds or hangs means
/// the database is there but slow, and the request keeps its deadline. One probe runs at
/// a time and every waiting request shares it. A refusal is remembered for
/// ``remember``, so requests meanwhile fail without waiting; while it is remembered,
/// each request starts a new probe once the last is ``reprobe`` old, and the first
/// probe or lease that succeeds forgets it (the server recovers by itself).
final class RefusalWatch: Sendable {
    static let grace: Duration = .milliseconds(100)
    static let reprobe: Duration = .milliseconds(200)
    static let remember: Duration = .seconds(1)
    static let probeTimeout: Duration = .milliseconds(500)

    let endpoint: DatabaseEndpoint?
    let logger: Logger

    private struct State {
        var lastLease: ContinuousClock.Instant?
        var refusal: (at: ContinuousClock.Instant, reason: String)?
        var probe: Task<String?, Never>?
        var probeStarted: ContinuousClock.Instant?
    }
    private let state = Mutex(State())

    init(endpoint: DatabaseEndpoint?, logger: Logger) {
        self.endpoint = endpoint
        self.logger = logger
    }

    /// A request got a connection: the database accepts them.
    func leased() {
        let now = ContinuousClock.now
        let wasRefused = state.withLock { s in
            s.lastLease = now
            defer { s.refusal = nil }
            return s.refusal != nil
        }
        if wasRefused { logger.notice("the database accepts connections again") }
    }

    /// Why the database refused connections, when it did within ``remember`` and nothing
    /// succeeded since; starts a new probe when the last one is ``reprobe`` old.
    func knownRefusal() -> String? {
        guard endpoint != nil else { return nil }
        let now = ContinuousClock.now
        let (reason, reprobe) = state.withLock { s -> (String?, Bool) in
            guard let r = s.refusal, now - r.at < Self.remember else { return (nil, false) }
            let stale = s.probe == nil && (s.probeStarted.map { now - $0 >= Self.reprobe } ?? true)
            return (r.reason, stale)
        }
        if reprobe { _ = startProbe() }
        return reason
    }

    /// Watches one request waiting for its connection, until `deadline` (``Database``'s
    /// deadline race runs this in the task that keeps the deadline and cancels it when the
    /// request ends): ``DatabaseUnavailable`` as soon as a probe finds the database
    /// refusing connections; `nil` once the lease is made or no probe fits before the
    /// deadline.
    func watch(_ lease: LeaseFlag, until deadline: ContinuousClock.Instant) async -> (any Error)? {
        guard endpoint != nil else { return nil }
        do { try await Task.sleep(until: min(ContinuousClock.now.advanced(by: Self.grace), deadline), clock: .continuous) } catch { return nil }
        while !Task.isCancelled, !lease.isSet {
            let now = ContinuousClock.now
            // A probe that could outlast the deadline is not started: the deadline answers.
            guard deadline - now > Self.probeTimeout else { return nil }
            let someoneLeased = state.withLock { s in s.lastLease.map { now - $0 < Self.grace } ?? false }
            if !someoneLeased, let task = startProbe(), let reason = await task.value {
                if lease.isSet { return nil }
                return DatabaseUnavailable(description: "the database refuses connections: \(reason)")
            }
            do { try await Task.sleep(for: Self.reprobe) } catch { return nil }
        }
        return nil
    }

    /// The running probe, or a new one.
    private func startProbe() -> Task<String?, Never>? {
        guard let endpoint else { return nil }
        let now = ContinuousClock.now
        return state.withLock { s -> Task<String?, Never> in
            if let running = s.probe { return running }
            s.probeStarted = now
            let task = Task.detached { [logger] () -> String? in
                let reason = await Self.connect(endpoint, timeout: Self.probeTimeout)
                let finished = ContinuousClock.now
                let first = self.state.withLock { s -> Bool in
                    s.probe = nil
                    if let reason {
                        defer { s.refusal = (finished, reason) }
                        return s.refusal == nil
                    }
                    s.refusal = nil
                    return false
                }
                if first, let reason { logger.warning("the database refuses connections", metadata: ["error": "\(reason)"]) }
                return reason
            }
            s.probe = task
            return task
        }
    }

    /// Opens and closes a socket to `endpoint`: why it was refused, or `nil` when it
    /// connected or did not answer within `timeout` (a hanging database, left to the deadline).
    static func connect(_ endpoint: DatabaseEndpoint, timeout: Duration) async -> String? {
        let millis = max(1, timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.milliseconds(millis))
        do {
            let channel: any Channel
            switch endpoint {
            case .tcp(let host, let port): channel = try await bootstrap.connect(host: host, port: port).get()
            case .unixSocket(let path): channel = try await bootstrap.connect(unixDomainSocketPath: path).get()
            }
            try? await channel.close()
            return nil
        } catch {
            return isTimeout(error) ? nil : String(describing: error)
        }
    }

    static func isTimeout(_ error: any Error) -> Bool {
        if case ChannelError.connectTimeout = error { return true }
        if let e = error as? NIOConnectionError {
            if e.dnsAAAAError != nil || e.dnsAError != nil { return false }
            return !e.connectionErrors.isEmpty && e.connectionErrors.allSatisfy { isTimeout($0.error) }
        }
        return false
    }
}

/// Set once a request got its connection.
final class LeaseFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .releasing) }
    var isSet: Bool { flag.load(ordering: .acquiring) }
}
