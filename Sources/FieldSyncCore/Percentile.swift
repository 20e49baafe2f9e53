/// The nearest-rank percentile that every figure of BENCHMARKS.md and of the fleet
/// report uses, in one place so that the CLI and the load generators agree.
public enum Percentile {
    /// The `p`-th percentile (0…100) of `sorted` (ascending) by nearest rank: the
    /// smallest sample with at least `p`% of the samples at or below it, i.e. the
    /// element at rank ⌈p/100 · n⌉ (1-based); `p` 0 gives the smallest, 100 the largest.
    /// `nil` without samples.
    public static func nearestRank<T>(_ sorted: [T], _ p: Double) -> T? {
        guard !sorted.isEmpty else { return nil }
        let clamped = p.isNaN ? 0 : min(max(p, 0), 100)
        let rank = Int((clamped / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}
