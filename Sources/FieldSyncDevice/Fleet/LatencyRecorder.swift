import FieldSyncCore
import Synchronization

/// Push latencies of a fleet, in milliseconds, with percentiles.
public final class LatencyRecorder: Sendable {
    private let samples = Mutex<[Double]>([])

    public init() {}

    public func record(_ d: Duration) {
        let ms = Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
        samples.withLock { $0.append(ms) }
    }

    public var count: Int { samples.withLock { $0.count } }

    /// The `p`-th percentile (0…100), nearest rank (``Percentile/nearestRank(_:_:)``);
    /// 0 without samples.
    public func percentile(_ p: Double) -> Double {
        Percentile.nearestRank(samples.withLock { $0 }.sorted(), p) ?? 0
    }
}
