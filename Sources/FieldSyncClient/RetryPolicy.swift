/// How requests are retried: exponential backoff with jitter, bounded in attempts
/// and in total time.
///
/// Retried: 429 (waiting at least `Retry-After`), 503, and failures to connect; a
/// connection lost after the request was sent is retried only for idempotent
/// requests (GET, DELETE, a push, which is idempotent by `batchId`, …).
///
/// A server this client has never heard from gets only ``attemptsBeforeFirstAnswer``
/// tries, so that a server that is not running is reported quickly; once it has
/// answered, lost connections get the whole budget (e.g. while it restarts).
public struct RetryPolicy: Sendable {
    /// Attempts in all, the first one included (1 = no retry).
    public var maxAttempts: Int
    /// The delay before the first retry; it doubles on each further one.
    public var baseDelay: Duration
    /// The longest single delay (before jitter), unless `Retry-After` asks for more.
    public var maxDelay: Duration
    /// No retry starts once this much time has passed since the first attempt.
    public var maxTotal: Duration
    /// Attempts while the server has never answered this client.
    public var attemptsBeforeFirstAnswer: Int

    public init(
        maxAttempts: Int = 6, baseDelay: Duration = .milliseconds(250), maxDelay: Duration = .seconds(8),
        maxTotal: Duration = .seconds(30), attemptsBeforeFirstAnswer: Int = 3
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.attemptsBeforeFirstAnswer = max(1, attemptsBeforeFirstAnswer)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxTotal = maxTotal
    }

    /// Never retry.
    public static let none = RetryPolicy(maxAttempts: 1)

    /// The delay before retry number `retry` (1 for the first retry): a random
    /// duration between half and all of `baseDelay · 2^(retry-1)` (capped at
    /// `maxDelay`), and never less than `retryAfter`.
    public func delay(beforeRetry retry: Int, retryAfter: Duration? = nil) -> Duration {
        let exponent = min(max(retry - 1, 0), 20)
        var d = baseDelay * (1 << exponent)
        if d > maxDelay { d = maxDelay }
        let jittered = d * Double.random(in: 0.5...1.0)
        if let retryAfter, retryAfter > jittered { return retryAfter }
        return jittered
    }
}
