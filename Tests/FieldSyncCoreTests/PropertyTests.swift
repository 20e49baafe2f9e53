import FieldSyncCore
import Testing

/// "The final state depends only on the set of writes applied, never on the order in
/// which they arrive", checked on seeded random valid histories.
@Suite("Order independence")
struct PropertyTests {
    @Test("the permutation helper yields n! distinct orders")
    func permutationHelper() {
        let all = permutations([1, 2, 3, 4])
        #expect(all.count == 24)
        #expect(Set(all.map { $0.map(String.init).joined() }).count == 24)
    }

    @Test("histories are valid: replayed in generation order, every write applies", arguments: 0..<20)
    func historiesAreValid(seed: UInt64) {
        let history = HistoryGenerator.history(seed: seed, writes: 40)
        var state = RecordState()
        for w in history {
            #expect(state.check(w) == .ok)
            state.apply(w)
        }
        #expect(state == RecordState.replay(history))
    }

    @Test("the generated histories exercise conflicts, concurrent writes, gaps and retries")
    func generatorCoverage() {
        var conflicted = 0, resolved = 0, merged = 0, outOfOrder = 0, unknownDot = 0, gaps = 0, ties = 0
        for seed in UInt64(0)..<40 {
            let history = HistoryGenerator.history(seed: 2000 + seed, writes: 25)
            var state = RecordState()
            for w in history {
                if !w.base.covers(state.version) { merged += 1 }
                state.apply(w)
                if w.base[w.replica] > 0 && w.counter > w.base[w.replica] + 1 { gaps += 1 }
            }
            if state.isInConflict { conflicted += 1 } else { resolved += 1 }
            for values in state.fields.values where values.count > 1 && values[0].editedAt == values[1].editedAt {
                ties += 1
            }
            for w in history.reversed() {
                switch RecordState().check(w) {
                case .outOfOrder: outOfOrder += 1
                case .invalidVersion: unknownDot += 1
                default: break
                }
            }
        }
        #expect(conflicted >= 10 && resolved >= 5 && merged >= 40 && outOfOrder >= 40 && unknownDot >= 40)
        #expect(gaps >= 40 && ties >= 10)
    }

    @Test("every permutation of a small history gives the same state, equal to the oracle", arguments: 0..<40)
    func allPermutations(seed: UInt64) {
        let size = 3 + Int(seed % 4)  // 3...6 writes
        let history = HistoryGenerator.history(seed: 1000 + seed, writes: size)
        let expected = RecordState.replay(history)
        #expect(expected.fields == Oracle.fields(of: history))
        #expect(expected.version == Oracle.version(of: history))
        for order in permutations(history) {
            var state = RecordState()
            let left = state.applyAll(order)
            #expect(left.isEmpty)
            #expect(state == expected)
            if state != expected { return }
        }
    }

    @Test("shuffles of a larger history give the same state, equal to the oracle", arguments: 0..<6)
    func manyShuffles(seed: UInt64) {
        var rng = SplitMix64(seed: 77 + seed)
        let history = HistoryGenerator.history(seed: 2000 + seed, writes: 25 + Int(seed) * 3)
        let expected = RecordState.replay(history)
        #expect(expected.fields == Oracle.fields(of: history))
        #expect(expected.version == Oracle.version(of: history))
        for _ in 0..<200 {
            let order = history.shuffled(using: &rng)
            var state = RecordState()
            #expect(state.applyAll(order).isEmpty)
            #expect(state == expected)
            if state != expected { return }
        }
    }

    @Test("applying a write twice equals applying it once", arguments: 0..<20)
    func idempotentWrites(seed: UInt64) {
        var rng = SplitMix64(seed: 300 + seed)
        let history = HistoryGenerator.history(seed: 3000 + seed, writes: 15)
        let once = RecordState.replay(history)
        #expect(RecordState.replay(history + history.shuffled(using: &rng)) == once)
        #expect(RecordState.replay(history.flatMap { [$0, $0] }) == once)
        for w in history {
            #expect(once.check(w) == .duplicate)
        }
    }

    @Test("every value's dot is covered by the version, and nothing unseen is dropped", arguments: 0..<20)
    func invariants(seed: UInt64) {
        let history = HistoryGenerator.history(seed: 4000 + seed, writes: 30)
        let state = RecordState.replay(history)
        for (name, values) in state.fields {
            #expect(!values.isEmpty)
            for v in values { #expect(state.version.covers(v.dot)) }
            // A write's value is gone only if another write to the field saw it.
            for w in history where w.changes[name] != nil && !values.contains(where: { $0.dot == w.dot }) {
                #expect(history.contains { $0.changes[name] != nil && $0.base.covers(w.dot) })
            }
        }
    }
}
