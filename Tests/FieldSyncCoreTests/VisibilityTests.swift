import FieldSyncCore
import Testing

/// Which value a conflicted field shows: the greatest (editedAt, replica), replicas as
/// byte strings, then the counter.
@Suite("Visible values")
struct VisibilityTests {
    func value(_ v: String, _ replica: String, _ counter: Int64, at seconds: Int64, ms: Int64 = 0) -> FieldValue {
        FieldValue(value: .string(v), replica: replica, counter: counter, editedAt: time(seconds, ms: ms))
    }

    func shown(_ values: FieldValue...) -> JSONValue? {
        RecordState(fields: ["f": values], version: [:]).visibleFields()["f"]
    }

    @Test("the latest editedAt wins, to the millisecond")
    func latestWins() {
        #expect(shown(value("old", "dev-z", 9, at: 1), value("new", "dev-a", 1, at: 1, ms: 1)) == .string("new"))
        var state = RecordState()
        push(write("dev-b", 1, at: 5, ["f": .string("late")]), write("dev-a", 1, at: 4, ["f": .string("early")]), onto: &state)
        #expect(state.visibleFields()["f"] == .string("late"))
    }

    @Test("a tie on editedAt is broken by the greater replica")
    func replicaBreaksTie() {
        var state = RecordState()
        push(write("dev-b", 1, at: 5, ["f": .string("b")]), write("dev-a", 2, at: 5, ["f": .string("a")]), onto: &state)
        #expect(state.visibleFields()["f"] == .string("b"))
    }

    @Test("replicas compare as UTF-8 byte strings")
    func replicaBytes() {
        // "Z" (0x5A) < "a" (0x61) bytewise; "é" (0xC3 0xA9) > "z" (0x7A).
        #expect(shown(value("lower", "a", 1, at: 1), value("upper", "Z", 1, at: 1)) == .string("lower"))
        #expect(shown(value("e-acute", "é", 1, at: 1), value("z", "z", 1, at: 1)) == .string("e-acute"))
        // A prefix sorts before its extensions.
        #expect(shown(value("long", "dev-ab", 1, at: 1), value("short", "dev-a", 9, at: 1)) == .string("long"))
    }

    @Test("a tie on editedAt and replica is broken by the greater counter")
    func counterBreaksTie() {
        #expect(shown(value("first", "dev-a", 3, at: 1), value("second", "dev-a", 12, at: 1)) == .string("second"))
    }

    @Test("conflicts list every value of conflicted fields only, the visible one first")
    func conflictsListing() {
        var state = RecordState()
        push(
            write("dev-a", 1, at: 1, ["f": .string("a"), "g": .string("only")]),
            write("dev-b", 1, at: 3, ["f": .string("b")]),
            write("dev-c", 1, at: 2, ["f": .string("c")]),
            onto: &state)
        #expect(state.conflicts().keys.sorted() == ["f"])
        #expect(state.conflicts()["f"]?.map(\.replica) == ["dev-b", "dev-c", "dev-a"])
        #expect(state.visibleValue(of: "f")?.dot == Dot(replica: "dev-b", counter: 1))
    }

    @Test("the stored order does not depend on the order values arrived")
    func deterministicOrder() {
        let a = value("a", "dev-a", 1, at: 1), b = value("b", "dev-b", 1, at: 1), c = value("c", "dev-c", 2, at: 0)
        let one = RecordState(fields: ["f": [a, b, c]], version: [:])
        let two = RecordState(fields: ["f": [c, a, b]], version: [:])
        #expect(one == two)
        #expect(one.fields["f"] == [b, a, c])
        #expect(one.version == ["dev-a": 1, "dev-b": 1, "dev-c": 2])
    }
}
