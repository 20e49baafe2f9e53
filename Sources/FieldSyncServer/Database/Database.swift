import Foundation
import Logging
import PostgresNIO
import Synchronization

/// The server's handle on PostgreSQL: a `PostgresClient` pool plus a deadline on
/// every use, because the pool otherwise waits forever for a database that is gone.
///
/// Every operation either finishes within `timeout` or throws ``DatabaseUnavailable``,
/// which the HTTP layer answers as 503 `unavailable`. A database that refuses
/// connections (stopped, its socket gone) is answered at once rather than at the
/// deadline: the pool only queues requests while its connects fail, so when a request
/// waits for a connection and nobody got one lately, a ``RefusalWatch`` tries to connect
/// to the database's endpoint itself; a refusal fails the waiting requests and, for a
/// second, every new one, until a probe or a lease succeeds again. The deadline stays
/// for a database that accepts connections and then does not answer.
public final class Database: Sendable {
    public let client: PostgresClient
    let timeout: Duration
    let logger: Logger
    let watch: RefusalWatch

    /// `endpoint` is where the pool connects (``DatabaseEndpoint/init(_:)``); without it
    /// refusals are only noticed at the deadline.
    public init(client: PostgresClient, timeout: Duration, logger: Logger, endpoint: DatabaseEndpoint? = nil) {
        self.client = client
        self.timeout = timeout
        self.logger = logger
        self.watch = RefusalWatch(endpoint: endpoint, logger: logger)
    }

    /// Runs `body` on a leased connection, within the deadline.
    @discardableResult
    public func withConnection<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await leased(timeout: timeout, body)
    }

    /// Runs `body` in a READ COMMITTED transaction (BEGIN … COMMIT, ROLLBACK on error),
    /// within the deadline (or `timeout`). Errors thrown by `body` come back as thrown (the
    /// server never uses PostgresNIO's `withTransaction`, which wraps them), so typed API
    /// errors keep their status.
    @discardableResult
    public func transaction<T: Sendable>(
        timeout: Duration? = nil,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await leased(timeout: timeout ?? self.timeout) { [logger] connection in
            try await connection.query("BEGIN", logger: logger)
            let result: T
            do {
                result = try await body(connection)
                try await connection.query("COMMIT", logger: logger)
            } catch {
                await Self.rollback(connection, logger: logger)
                throw error
            }
            return result
        }
    }

    /// Leases a connection for `body` within `limit`: at once ``DatabaseUnavailable``
    /// when the database is known to refuse connections, or as soon as the watch finds
    /// it refusing while this request waits for a connection. Errors of the pool itself
    /// (before a connection was leased) are ``DatabaseUnavailable`` too.
    func leased<T: Sendable>(timeout limit: Duration, _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        if let reason = watch.knownRefusal() {
            throw DatabaseUnavailable(description: "the database refuses connections: \(reason)")
        }
        let lease = LeaseFlag()
        return try await withDeadline(limit, watch: { [watch] deadline in await watch.watch(lease, until: deadline) }) { [client, watch] in
            do {
                return try await client.withConnection { connection in
                    lease.set()
                    watch.leased()
                    return try await body(connection)
                }
            } catch {
                if lease.isSet || error is CancellationError { throw error }
                throw DatabaseUnavailable(description: "no database connection: \(String(reflecting: error))")
            }
        }
    }

    /// Ends a failed transaction, also when the request that ran it was cancelled (its
    /// deadline passed): the ROLLBACK runs outside the cancelled task, and a connection
    /// that can't roll back is closed, so the pool never hands out a connection still
    /// inside a transaction (whose open xid would also hold back the changes feed).
    static func rollback(_ connection: PostgresConnection, logger: Logger) async {
        let rolledBack = await Task.detached {
            do {
                try await connection.query("ROLLBACK", logger: logger)
                return true
            } catch {
                return false
            }
        }.value
        if !rolledBack {
            logger.warning("could not roll back a failed transaction; closing its connection")
            try? await connection.close()
        }
    }

    /// `SELECT 1` within `timeout`: is the database reachable now? (At once `false`
    /// while it refuses connections.)
    public func ping(timeout: Duration) async -> Bool {
        do {
            return try await leased(timeout: timeout) { [logger] c in
                try await c.query("SELECT 1", logger: logger).drain()
                return true
            }
        } catch {
            return false
        }
    }
}

/// The database did not answer in time, or the connection to it failed.
public struct DatabaseUnavailable: Error, CustomStringConvertible {
    public var description: String
}

/// Runs `operation` in its own task and returns its result, or throws
/// ``DatabaseUnavailable`` after `limit`. On a timeout the operation is cancelled and
/// left to wind down on its own: a query stuck on a dead socket can't hold the caller.
/// `watch`, when given, runs beside the operation until the deadline it is given (in the
/// task that keeps the deadline); an error it returns ends the race with that error at
/// once (the operation is cancelled likewise).
func withDeadline<T: Sendable>(
    _ limit: Duration,
    watch: (@Sendable (ContinuousClock.Instant) async -> (any Error)?)? = nil,
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    let race = DeadlineRace<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            race.start(continuation: continuation, limit: limit, watch: watch, operation: operation)
        }
    } onCancel: {
        race.cancelWork()
    }
}

/// The shared state of one ``withDeadline(_:_:)``: whichever of the work and the timer
/// finishes first resumes the continuation; the other is cancelled.
private final class DeadlineRace<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var work: Task<Void, Never>?
        var timer: Task<Void, Never>?
    }
    private let state = Mutex(State())

    func start(
        continuation: CheckedContinuation<T, any Error>, limit: Duration, watch: (@Sendable (ContinuousClock.Instant) async -> (any Error)?)?,
        operation: @escaping @Sendable () async throws -> T
    ) {
        state.withLock { $0.continuation = continuation }
        let work = Task {
            do {
                self.finish(.success(try await operation()))
            } catch {
                self.finish(.failure(error))
            }
        }
        // One task both watches (while the lease is awaited) and keeps the deadline, so a
        // lease costs one task and one timer beside its work, not two of each.
        let timer = Task {
            let deadline = ContinuousClock.now.advanced(by: limit)
            if let watch, let error = await watch(deadline) {
                self.finish(.failure(error))
                return
            }
            do {
                try await Task.sleep(until: deadline, clock: .continuous)
            } catch {
                return
            }
            self.finish(.failure(DatabaseUnavailable(description: "the database did not answer within \(limit)")))
        }
        let finished = state.withLock {
            $0.work = work
            $0.timer = timer
            return $0.continuation == nil
        }
        // The work may have finished before the task was stored.
        if finished { timer.cancel() }
    }

    func finish(_ result: Result<T, any Error>) {
        let (continuation, work, timer) = state.withLock { s in
            defer { s.continuation = nil }
            return (s.continuation, s.work, s.timer)
        }
        guard let continuation else { return }
        continuation.resume(with: result)
        if case .failure(let e) = result, e is DatabaseUnavailable { work?.cancel() }
        timer?.cancel()
    }

    func cancelWork() {
        let work = state.withLock { $0.work }
        work?.cancel()
    }
}

extension PostgresRowSequence {
    /// Consumes every row (releasing the connection) and decodes each with `transform`.
    func collect<T>(_ transform: (PostgresRow) throws -> T) async throws -> [T] {
        var out: [T] = []
        for try await row in self { out.append(try transform(row)) }
        return out
    }

    /// Consumes every row, discarding them.
    func drain() async throws {
        for try await _ in self {}
    }
}
