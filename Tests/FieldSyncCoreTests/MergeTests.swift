import FieldSyncCore
import Testing

/// The state join used by clients: a semilattice whose join of two causally closed
/// replays is the replay of their union.
@Suite("Merging states")
struct MergeTests {
    /// Three causally closed random subsets of a history, each replayed in a random order.
    func partialStates(seed: UInt64) -> (history: [VersionedWrite], parts: [[VersionedWrite]], states: [RecordState]) {
        var rng = SplitMix64(seed: 500 + seed)
        let history = HistoryGenerator.history(seed: 5000 + seed, writes: 20)
        var parts: [[VersionedWrite]] = []
        var states: [RecordState] = []
        for _ in 0..<3 {
            let chosen = history.filter { _ in rng.chance(1, in: 4) }
            let part = HistoryGenerator.causallyClosed(chosen, in: history)
            parts.append(part)
            var state = RecordState()
            #expect(state.applyAll(part.shuffled(using: &rng)).isEmpty)
            states.append(state)
        }
        return (history, parts, states)
    }

    @Test("merge is commutative, associative and idempotent", arguments: 0..<40)
    func semilattice(seed: UInt64) {
        let (_, _, s) = partialStates(seed: seed)
        let (a, b, c) = (s[0], s[1], s[2])
        #expect(a.merging(b) == b.merging(a))
        #expect(a.merging(b).merging(c) == a.merging(b.merging(c)))
        #expect(a.merging(a) == a)
        #expect(a.merging(RecordState()) == a)
        #expect(a.merging(b).merging(b) == a.merging(b))
    }

    @Test("merging the states of two partial replays equals the replay of their union", arguments: 0..<40)
    func mergeEqualsUnion(seed: UInt64) {
        let (history, parts, s) = partialStates(seed: seed)
        let union = Set(parts[0].map(\.dot)).union(parts[1].map(\.dot))
        let replayed = RecordState.replay(history.filter { union.contains($0.dot) })
        #expect(s[0].merging(s[1]) == replayed)
        #expect(
            s[0].merging(s[1]).merging(s[2])
                == RecordState.replay(
                    history.filter {
                        union.contains($0.dot) || parts[2].contains($0)
                    }))
    }

    @Test("a value one side overwrote is not revived by the side that has not seen the overwrite")
    func overwriteWins() {
        var old = RecordState()
        push(write("dev-a", 1, ["f": .string("old")]), onto: &old)
        var new = old
        push(write("dev-b", 1, base: ["dev-a": 1], ["f": .string("new")]), onto: &new)
        #expect(old.merging(new).visibleFields() == ["f": .string("new")])
        #expect(!old.merging(new).isInConflict)
    }

    @Test("concurrent values from both sides are both kept")
    func concurrentKept() {
        var a = RecordState()
        push(write("dev-a", 1, ["f": .string("a")]), onto: &a)
        var b = RecordState()
        push(write("dev-b", 1, at: 1, ["f": .string("b")]), onto: &b)
        let merged = a.merging(b)
        #expect(merged.conflicts()["f"]?.map(\.value) == [.string("b"), .string("a")])
        #expect(merged.version == ["dev-a": 1, "dev-b": 1])
    }

    @Test("two values with one dot but different contents merge the same either way")
    func sameDotDifferentContent() {
        let x = RecordState(fields: ["f": [FieldValue(value: .number(0), replica: "d", counter: 1, editedAt: time(0))]], version: [:])
        let y = RecordState(fields: ["f": [FieldValue(value: .number(-0.0), replica: "d", counter: 1, editedAt: time(0))]], version: [:])
        #expect(x.merging(y) == y.merging(x))
        #expect(x.merging(y).fields["f"]?.count == 1)
    }
}
