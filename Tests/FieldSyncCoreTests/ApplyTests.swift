import FieldSyncCore
import Testing

/// The Versions section's rules for applying writes, and the push statuses.
@Suite("Applying writes")
struct ApplyTests {
    @Test("the first write creates the record; one seeing everything updates it")
    func createdThenUpdated() {
        var state = RecordState()
        let outcomes = push(
            write("dev-a", 1, ["name": .string("Amina")]),
            write("dev-a", 2, base: ["dev-a": 1], ["name": .string("Aminata")]),
            onto: &state)
        #expect(outcomes == [.created, .updated])
        #expect(state.visibleFields() == ["name": .string("Aminata")])
        #expect(!state.isInConflict)
    }

    @Test("concurrent writes to one field conflict and keep both values")
    func concurrentSameField() {
        var state = RecordState()
        let outcomes = push(
            write("dev-a", 4, at: 1, ["village": .string("Debidwar")]),
            write("dev-b", 7, at: 2, ["village": .string("Subil")]),
            onto: &state)
        #expect(outcomes == [.created, .conflict])
        #expect(state.isInConflict)
        #expect(state.visibleFields() == ["village": .string("Subil")])
        #expect(
            state.conflicts() == [
                "village": [
                    FieldValue(value: .string("Subil"), replica: "dev-b", counter: 7, editedAt: time(2)),
                    FieldValue(value: .string("Debidwar"), replica: "dev-a", counter: 4, editedAt: time(1)),
                ]
            ])
    }

    @Test("concurrent writes to different fields merge without conflict")
    func concurrentDifferentFields() {
        var state = RecordState()
        let outcomes = push(
            write("dev-a", 1, ["name": .string("Amina"), "village": .string("Subil")]),
            write("dev-a", 2, base: ["dev-a": 1], ["name": .string("Aminata")]),
            write("dev-b", 1, base: ["dev-a": 1], ["village": .string("Debidwar")]),
            onto: &state)
        #expect(outcomes == [.created, .updated, .merged])
        #expect(!state.isInConflict)
        #expect(state.visibleFields() == ["name": .string("Aminata"), "village": .string("Debidwar")])
    }

    @Test("a write removes only the seen values of the fields it changes")
    func onlyChangedFieldsLoseValues() {
        var state = RecordState()
        push(
            write("dev-a", 1, ["name": .string("Amina")]),
            write("dev-b", 1, at: 1, ["name": .string("Amna")]),
            write("dev-c", 1, base: ["dev-a": 1, "dev-b": 1], ["village": .string("Subil")]),
            onto: &state)
        #expect(state.fields["name"]?.count == 2)
        #expect(state.conflicts().keys.sorted() == ["name"])
    }

    @Test("a write whose base covers every value of a conflicted field resolves it")
    func resolution() {
        var state = RecordState()
        push(
            write("dev-a", 4, at: 1, ["village": .string("Debidwar")]),
            write("dev-b", 7, at: 2, ["village": .string("Subil")]),
            onto: &state)
        let resolve = write("dev-a", 5, base: ["dev-a": 4, "dev-b": 7], at: 3, ["village": .string("Subil")])
        #expect(push(resolve, onto: &state) == [.updated])
        #expect(!state.isInConflict)
        #expect(
            state.fields["village"] == [
                FieldValue(value: .string("Subil"), replica: "dev-a", counter: 5, editedAt: time(3))
            ])
    }

    @Test("a base covering only some values leaves the unseen ones in conflict")
    func partialResolution() {
        var state = RecordState()
        push(
            write("dev-a", 4, at: 1, ["village": .string("Debidwar")]),
            write("dev-b", 7, at: 2, ["village": .string("Subil")]),
            write("dev-a", 5, base: ["dev-a": 4], at: 3, ["village": .string("Comilla")]),
            onto: &state)
        #expect(state.conflicts()["village"]?.map(\.value) == [.string("Comilla"), .string("Subil")])
    }

    @Test("a supervisor resolves as replica server with the record's version as base")
    func serverResolution() {
        var state = RecordState()
        push(
            write("dev-a", 4, at: 1, ["village": .string("Debidwar"), "name": .string("Amina")]),
            write("dev-b", 7, at: 2, ["village": .string("Subil")]),
            onto: &state)
        #expect(state.resolutionBase() == state.version)
        let resolve = state.serverWrite(changes: ["village": .string("Debidwar")], editedAt: time(5))
        #expect(resolve.replica == "server" && resolve.counter == 1)
        #expect(push(resolve, onto: &state) == [.updated])
        #expect(!state.isInConflict)
        #expect(state.visibleFields() == ["village": .string("Debidwar"), "name": .string("Amina")])
        let again = state.serverWrite(changes: ["name": .null], editedAt: time(6))
        #expect(again.counter == 2 && again.base["server"] == 1)
        #expect(push(again, onto: &state) == [.updated])
    }

    @Test("null is a value: it clears the field, shows as null and can conflict")
    func nullIsAValue() {
        var state = RecordState()
        push(
            write("dev-a", 1, ["name": .string("Amina")]),
            write("dev-a", 2, base: ["dev-a": 1], ["name": .null]),
            onto: &state)
        #expect(state.visibleFields() == ["name": .null])
        #expect(push(write("dev-b", 1, base: ["dev-a": 1], at: -1, ["name": .string("Amna")]), onto: &state) == [.conflict])
        #expect(state.conflicts()["name"]?.map(\.value) == [.null, .string("Amna")])
    }

    @Test("deleted: true is a tombstone field like any other, and deleted: false restores")
    func tombstone() {
        var state = RecordState()
        push(
            write("dev-a", 1, ["name": .string("Amina")]),
            write("server", 1, base: ["dev-a": 1], ["deleted": .bool(true)]),
            onto: &state)
        #expect(state.visibleFields() == ["name": .string("Amina"), "deleted": .bool(true)])
        // A concurrent edit of another field does not conflict with the tombstone.
        #expect(push(write("dev-a", 2, base: ["dev-a": 1], ["name": .string("Aminata")]), onto: &state) == [.merged])
        #expect(state.visibleFields() == ["name": .string("Aminata"), "deleted": .bool(true)])
        #expect(push(write("dev-b", 1, base: ["dev-a": 2, "server": 1], ["deleted": .bool(false)]), onto: &state) == [.updated])
        #expect(state.visibleFields() == ["name": .string("Aminata"), "deleted": .bool(false)])
    }

    @Test("a concurrent delete and restore conflict on the deleted field")
    func deleteRestoreConflict() {
        var state = RecordState()
        push(
            write("dev-a", 1, ["deleted": .bool(true)]),
            write("dev-b", 1, at: 1, ["deleted": .bool(false)]),
            onto: &state)
        #expect(state.visibleFields() == ["deleted": .bool(false)])
        #expect(state.conflicts()["deleted"]?.count == 2)
    }

    @Test("the record's vector is the pointwise maximum of the dots applied")
    func vectorIsPointwiseMax() {
        var state = RecordState()
        push(
            write("dev-a", 3, ["a": .number(1)]),
            write("dev-b", 9, base: ["dev-a": 3], ["b": .number(1)]),
            write("dev-a", 5, base: ["dev-a": 3], ["a": .number(2)]),
            write("server", 2, base: ["dev-a": 5, "dev-b": 9], ["c": .number(1)]),
            onto: &state)
        #expect(state.version == ["dev-a": 5, "dev-b": 9, "server": 2])
    }

    @Test("a write whose base missed some applied write answers merged, even without conflict")
    func mergedStatus() {
        var state = RecordState()
        push(write("dev-a", 1, ["a": .number(1)]), write("dev-a", 2, base: ["dev-a": 1], ["b": .number(1)]), onto: &state)
        #expect(push(write("dev-b", 1, base: ["dev-a": 1], ["c": .number(1)]), onto: &state) == [.merged])
        #expect(push(write("dev-b", 2, base: ["dev-a": 2, "dev-b": 1], ["c": .number(2)]), onto: &state) == [.updated])
    }

    @Test("conflict is answered while any field of the record is in conflict, even one the write did not touch")
    func conflictAnywhere() {
        var state = RecordState()
        push(write("dev-a", 1, ["a": .number(1)]), write("dev-b", 1, ["a": .number(2)]), onto: &state)
        #expect(push(write("dev-a", 2, base: ["dev-a": 1, "dev-b": 1], ["b": .number(1)]), onto: &state) == [.conflict])
    }
}
