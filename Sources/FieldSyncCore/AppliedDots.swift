/// The exact set of dots applied to one record: for each replica, the counters of its
/// writes to that record, ascending.
///
/// A device keeps one counter for all its records, so its counters on one record have
/// gaps: `{"dev-a": 9}` in a version vector does not mean that `dev-a:5` was written to
/// the record. Every rule of PROTOCOL.md that says "applied" (a duplicate, a base naming
/// a dot, the previous own write) asks this set, never the vector. The vector is this
/// set's pointwise maximum (``vector``).
///
/// Stored inside a record's state as `"dots":{"dev-a":[3,9,12],"server":[1]}`.
public struct AppliedDots: Sendable, Hashable {
    /// Replica → its counters on this record, ascending, each ≥ 1, no duplicates.
    public private(set) var counters: [String: [Int64]]

    /// No dot applied.
    public init() {
        counters = [:]
    }

    /// The given dots (any order, duplicates and counters below 1 ignored).
    public init<S: Sequence>(_ dots: S) where S.Element == Dot {
        counters = [:]
        for dot in dots { insert(dot) }
    }

    /// Replica → counters, as stored (sorted and deduplicated here).
    public init(counters: [String: [Int64]]) {
        var normalised = counters
        for (replica, list) in counters where replica.isEmpty || !Self.isStrictlyAscendingFromOne(list) {
            // Stored lists are already ascending (``stateText`` writes them so); only
            // others pay for the sort.
            let kept = Array(Set(list.filter { $0 >= 1 })).sorted()
            normalised[replica] = kept.isEmpty || replica.isEmpty ? nil : kept
        }
        self.counters = normalised
    }

    /// Whether no dot was applied.
    public var isEmpty: Bool { counters.isEmpty }

    /// The number of dots applied.
    public var count: Int { counters.values.reduce(0) { $0 + $1.count } }

    /// Whether `dot` was applied to the record.
    public func contains(_ dot: Dot) -> Bool {
        guard let list = counters[dot.replica] else { return false }
        let k = Self.lowerBound(list, dot.counter)
        return k < list.count && list[k] == dot.counter
    }

    /// The greatest counter of `replica` applied, 0 when none.
    public func greatest(of replica: String) -> Int64 {
        counters[replica]?.last ?? 0
    }

    /// The greatest counter of `replica` applied that is ≤ `limit`, 0 when none.
    public func greatest(of replica: String, atMost limit: Int64) -> Int64 {
        guard let list = counters[replica] else { return 0 }
        let k = Self.lowerBound(list, limit)
        if k < list.count && list[k] == limit { return limit }
        return k > 0 ? list[k - 1] : 0
    }

    /// Adds `dot` (a counter below 1 or an empty replica is not a dot and is ignored).
    public mutating func insert(_ dot: Dot) {
        guard dot.counter >= 1, !dot.replica.isEmpty else { return }
        let k: Int
        if let list = counters[dot.replica] {
            k = Self.lowerBound(list, dot.counter)
            if k < list.count && list[k] == dot.counter { return }
        } else {
            k = 0
        }
        // In place: the table's array is the only reference, so no copy of it.
        counters[dot.replica, default: []].insert(dot.counter, at: k)
    }

    /// Adds every dot of `other`.
    public mutating func formUnion(_ other: AppliedDots) {
        for (replica, list) in other.counters {
            for counter in list { insert(Dot(replica: replica, counter: counter)) }
        }
    }

    /// The pointwise maximum: the record's version vector.
    public var vector: VersionVector {
        // Every list is non-empty and ≥ 1 (``insert(_:)`` and ``init(counters:)`` keep them
        // so): `mapValues` keeps the table's layout, where filtering would hash every replica again.
        VersionVector(positiveEntries: counters.mapValues { $0.last ?? 0 })
    }

    /// Every dot, replicas in byte order, counters ascending.
    public var dots: [Dot] {
        counters.keys.sorted(by: bytewiseLess).flatMap { r in (counters[r] ?? []).map { Dot(replica: r, counter: $0) } }
    }

    /// Whether `list` is non-empty, strictly ascending and starts at 1 or above.
    private static func isStrictlyAscendingFromOne(_ list: [Int64]) -> Bool {
        guard let first = list.first, first >= 1 else { return false }
        var previous = first
        for counter in list.dropFirst() {
            guard counter > previous else { return false }
            previous = counter
        }
        return true
    }

    /// The first index whose counter is ≥ `value` (binary search; `list.count` if none).
    private static func lowerBound(_ list: [Int64], _ value: Int64) -> Int {
        var low = 0
        var high = list.count
        while low < high {
            let mid = low + (high - low) / 2
            if list[mid] < value { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
