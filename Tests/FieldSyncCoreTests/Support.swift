import FieldSyncCore
import Testing

/// A time `seconds` (plus `ms`) after a fixed instant, so tests read in small numbers.
func time(_ seconds: Int64, ms: Int64 = 0) -> Timestamp {
    Timestamp(millisecondsSinceEpoch: 1_795_000_000_000 + seconds * 1000 + ms)
}

/// A write by `replica` number `counter` made on `base` at `time(at)`.
func write(
    _ replica: String, _ counter: Int64, base: VersionVector = [:], at seconds: Int64 = 0,
    _ changes: [String: JSONValue]
) -> VersionedWrite {
    VersionedWrite(
        base: base, replica: replica, counter: counter, editedAt: time(seconds), changes: changes)
}

/// Applies writes that must pass the check, in order; returns the outcomes.
@discardableResult
func push(_ writes: VersionedWrite..., onto state: inout RecordState) -> [ApplyOutcome] {
    writes.map { w in
        #expect(state.check(w) == .ok, "write \(w.dot) should pass the check")
        return state.apply(w)
    }
}

/// Core's seeded generator (`SplitMix64`), so every property test run sees the same cases.
extension SplitMix64 {
    mutating func chance(_ numerator: Int, in denominator: Int) -> Bool {
        Int.random(in: 0..<denominator, using: &self) < numerator
    }
}

/// Random valid histories of writes to one record, in an order the server could have
/// received them. Each replica (devices and `server`) has its own global counter that
/// also advances for writes to other records (so counters per record have gaps); a
/// write's base is what its author has seen: its own previous write to the record,
/// plus for other replicas some write of theirs that already exists (knowledge only
/// grows; before a write its author pulls nothing, some writes, or everything). editedAt values are drawn from a few seconds so ties are frequent.
enum HistoryGenerator {
    static let fieldNames = ["name", "village", "age", "deleted"]

    static func history(seed: UInt64, writes count: Int) -> [VersionedWrite] {
        var rng = SplitMix64(seed: seed)
        let all = ["dev-a", "dev-b", "dev-c", "Dev-d", "server"]
        let replicas = Array(all.shuffled(using: &rng).prefix(Int.random(in: 2...5, using: &rng)))
        var counters: [String: Int64] = [:]
        var known: [String: VersionVector] = [:]
        var existing: [String: [Int64]] = [:]
        var writes: [VersionedWrite] = []
        for replica in replicas { counters[replica] = Int64.random(in: 0...4, using: &rng) }
        for _ in 0..<count {
            let replica = replicas[Int.random(in: 0..<replicas.count, using: &rng)]
            var base = known[replica] ?? VersionVector()
            let pull = Int.random(in: 0..<3, using: &rng)  // none, partial, everything
            for other in replicas where other != replica && pull > 0 {
                let newer = (existing[other] ?? []).filter { $0 > base[other] }
                if pull == 2, let last = newer.last {
                    base[other] = last
                } else if let pick = newer.randomElement(using: &rng), rng.chance(2, in: 3) {
                    base[other] = pick
                }
            }
            let counter = (counters[replica] ?? 0) + Int64.random(in: 1...3, using: &rng)
            counters[replica] = counter
            let w = VersionedWrite(
                base: base, replica: replica, counter: counter,
                editedAt: time(Int64.random(in: 0...3, using: &rng)),
                changes: randomChanges(using: &rng))
            writes.append(w)
            existing[replica, default: []].append(counter)
            base[replica] = counter
            known[replica] = base
        }
        return writes
    }

    static func randomChanges(using rng: inout SplitMix64) -> [String: JSONValue] {
        let pool: [JSONValue] = [
            .string("Amina"), .string("Subil"), .string("Debidwar"), .null, .number(3), .number(-0.5),
            .bool(true), .bool(false), .array([.string("x")]), .object(["k": .number(1)]),
        ]
        var changes: [String: JSONValue] = [:]
        let names = fieldNames.shuffled(using: &rng).prefix(Int.random(in: 1...3, using: &rng))
        for name in names {
            changes[name] =
                name == "deleted"
                ? .bool(rng.chance(1, in: 2))
                : pool[Int.random(in: 0..<pool.count, using: &rng)]
        }
        return changes
    }

    /// The smallest superset of `chosen` closed under "the base covers it": a set of
    /// writes some replica could hold together (every write it names is in it).
    static func causallyClosed(_ chosen: [VersionedWrite], in history: [VersionedWrite]) -> [VersionedWrite] {
        var dots = Set(chosen.map(\.dot))
        var work = chosen
        while let w = work.popLast() {
            for v in history where w.base.covers(v.dot) && !dots.contains(v.dot) {
                dots.insert(v.dot)
                work.append(v)
            }
        }
        return history.filter { dots.contains($0.dot) }
    }
}

/// The protocol's semantics stated directly on a set of writes, independently of the
/// order-based code: a value of field f survives unless another write of the set that
/// changes f has a base covering its dot; values are ordered by (editedAt, replica
/// bytes, counter), greatest first; the vector is the pointwise maximum of the dots.
enum Oracle {
    static func fields(of writes: [VersionedWrite]) -> [String: [FieldValue]] {
        var fields: [String: [FieldValue]] = [:]
        for w in writes {
            for (name, value) in w.changes {
                let seen = writes.contains { o in
                    o.dot != w.dot && o.changes[name] != nil && o.base.covers(w.dot)
                }
                if !seen {
                    fields[name, default: []].append(FieldValue(value: value, dot: w.dot, editedAt: w.editedAt))
                }
            }
        }
        return fields.mapValues { $0.sorted(by: shownBefore) }
    }

    static func version(of writes: [VersionedWrite]) -> VersionVector {
        var v = VersionVector()
        for w in writes where w.counter > v[w.replica] { v[w.replica] = w.counter }
        return v
    }

    static func shownBefore(_ a: FieldValue, _ b: FieldValue) -> Bool {
        if a.editedAt.millisecondsSinceEpoch != b.editedAt.millisecondsSinceEpoch {
            return a.editedAt.millisecondsSinceEpoch > b.editedAt.millisecondsSinceEpoch
        }
        let (ra, rb) = (Array(a.replica.utf8), Array(b.replica.utf8))
        if ra != rb { return rb.lexicographicallyPrecedes(ra) }
        return a.counter > b.counter
    }
}

/// Every permutation of `items` (Heap's algorithm).
func permutations<T>(_ items: [T]) -> [[T]] {
    var a = items
    var result: [[T]] = [a]
    var c = Array(repeating: 0, count: a.count)
    var i = 0
    while i < a.count {
        if c[i] < i {
            a.swapAt(i % 2 == 0 ? 0 : c[i], i)
            result.append(a)
            c[i] += 1
            i = 0
        } else {
            c[i] = 0
            i += 1
        }
    }
    return result
}
