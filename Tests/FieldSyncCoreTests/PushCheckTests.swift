import FieldSyncCore
import Testing

/// The Push section's check order: duplicate, base covering own dot, out of order,
/// other unknown dot, ok.
@Suite("Push checks")
struct PushCheckTests {
    /// A record holding dev-a's writes 3 and 7 and server's write 1.
    func record() -> RecordState {
        var state = RecordState()
        push(
            write("dev-a", 3, ["name": .string("Amina")]),
            write("server", 1, base: ["dev-a": 3], ["village": .string("Subil")]),
            write("dev-a", 7, base: ["dev-a": 3, "server": 1], ["name": .string("Aminata")]),
            onto: &state)
        return state
    }

    @Test("a write whose dot was applied is a duplicate, leaving the state unchanged even when its content differs")
    func duplicate() {
        var state = record()
        let before = state
        let again = write("dev-a", 7, base: ["dev-a": 3, "server": 1], at: 9, ["name": .string("Other")])
        #expect(state.check(again) == .duplicate)
        #expect(state.applyAll([again]).isEmpty)
        #expect(state == before)
        #expect(state.visibleFields()["name"] == .string("Aminata"))
    }

    @Test(
        "an earlier dot of a replica that was never applied to this record is not a duplicate: arriving after a later write of its replica, it is invalid_version"
    )
    func earlierDotIsNotDuplicate() {
        // dev-a wrote 3 and 7 here; 5 went to another record (or never existed).
        let late = write("dev-a", 5, base: ["dev-a": 3], ["name": .null])
        #expect(record().check(late).errorCode == "invalid_version")
        #expect(record().applied.contains(Dot(replica: "dev-a", counter: 5)) == false)
    }

    @Test("a base naming a dot its replica never applied to this record is invalid_version, even below the vector's entry (issue 11, case 1)")
    func baseNamingAGap() {
        // dev-b wrote 17 and 42 to the record; dev-b:20 went elsewhere.
        var state = RecordState()
        push(
            write("dev-b", 17, ["name": .string("A")]),
            write("dev-b", 42, base: ["dev-b": 17], ["village": .string("V")]), onto: &state)
        let forged = write("dev-c", 1, base: ["dev-b": 20], ["name": .string("X"), "village": .string("Y")])
        #expect(state.check(forged).errorCode == "invalid_version")
        // Pointwise, {"dev-b":20} ≤ {"dev-b":42}: the old rule accepted it and its base covered
        // dev-b:17's value, which its author never saw.
        #expect(state.version.covers(forged.base))
        let honest = write("dev-c", 1, base: ["dev-b": 42], ["name": .string("X")])
        #expect(state.check(honest) == .ok)
    }

    @Test("a write whose dot was never applied, with a base covering that dot, is invalid_version, not unchanged (issue 11, case 2)")
    func baseCoveringOwnUnappliedDot() {
        var state = RecordState()
        push(write("dev-a", 15, ["name": .string("A")]), onto: &state)
        let w = write("dev-a", 12, base: ["dev-a": 15], ["name": .string("B")])
        #expect(state.check(w).errorCode == "invalid_version")
    }

    @Test("whether a forged base is accepted does not depend on what arrived before it (issue 11, case 3)")
    func forgedBaseRejectedInEveryOrder() {
        let a = write("dev-b", 17, ["name": .string("A")])
        let b = write("dev-b", 42, base: ["dev-b": 17], ["name": .string("B")])
        let forged = write("dev-c", 3, base: ["dev-b": 20], ["name": .string("X")])
        for order in [[a, forged, b], [a, b, forged]] {
            var state = RecordState()
            var verdicts: [WriteCheck] = []
            for w in order {
                let v = state.check(w)
                if w == forged { verdicts.append(v) }
                if v == .ok { state.apply(w) }
            }
            #expect(verdicts.allSatisfy { $0.errorCode == "invalid_version" })
            #expect(state.applied.contains(forged.dot) == false)
        }
    }

    @Test("a base covering the write's own dot is invalid_version")
    func baseCoversOwnDot() {
        let w = write("dev-a", 9, base: ["dev-a": 9, "server": 1], ["name": .null])
        let verdict = record().check(w)
        #expect(verdict.errorCode == "invalid_version")
        let onEmpty = RecordState().check(write("dev-b", 1, base: ["dev-b": 4], ["name": .null]))
        #expect(onEmpty.errorCode == "invalid_version")
    }

    @Test("a write whose previous own write was not applied is out_of_order")
    func outOfOrder() {
        let w = write("dev-a", 12, base: ["dev-a": 10, "server": 1], ["name": .null])
        #expect(record().check(w) == .outOfOrder)
        #expect(RecordState().check(write("dev-b", 4, base: ["dev-b": 2], ["x": .null])) == .outOfOrder)
    }

    @Test("a base that forgets a write of its own replica the server applied is invalid_version")
    func forgottenOwnWrite() {
        let w = write("dev-a", 12, base: ["dev-a": 3, "server": 1], ["name": .null])
        #expect(record().check(w).errorCode == "invalid_version")
    }

    @Test("a base naming another dot the server has not applied is invalid_version")
    func unknownDot() {
        let state = record()
        #expect(state.check(write("dev-b", 1, base: ["server": 2], ["x": .null])).errorCode == "invalid_version")
        #expect(state.check(write("dev-b", 1, base: ["dev-c": 1], ["x": .null])).errorCode == "invalid_version")
        #expect(state.check(write("dev-a", 8, base: ["dev-a": 7, "dev-a2": 1], ["x": .null])).errorCode == "invalid_version")
    }

    @Test("the checks run in the protocol's order")
    func order() {
        let state = record()
        // Duplicate wins over a base covering its own dot.
        #expect(state.check(write("dev-a", 7, base: ["dev-a": 7], ["x": .null])) == .duplicate)
        // A base covering its own dot wins over out of order.
        #expect(state.check(write("dev-a", 9, base: ["dev-a": 9], ["x": .null])).errorCode == "invalid_version")
        // Out of order wins over an unknown dot of another replica.
        #expect(state.check(write("dev-a", 9, base: ["dev-a": 8, "dev-z": 5], ["x": .null])) == .outOfOrder)
    }

    @Test("a write made on an older or partial version is fine: only dots not applied are refused")
    func concurrentBaseIsOk() {
        let state = record()
        #expect(state.check(write("dev-b", 1, ["x": .null])) == .ok)
        #expect(state.check(write("dev-b", 1, base: ["dev-a": 3], ["x": .null])) == .ok)
        // dev-a:5 is below dev-a's entry (7) but was never applied here (dev-a wrote 3 and 7).
        #expect(state.check(write("dev-b", 1, base: ["dev-a": 5], ["x": .null])).errorCode == "invalid_version")
        #expect(state.check(write("dev-a", 8, base: ["dev-a": 7], ["x": .null])) == .ok)
    }

    @Test("a device's counters need not be contiguous on one record")
    func gapsInCounters() {
        var state = RecordState()
        let outcomes = push(
            write("dev-a", 3, ["name": .string("a")]),
            write("dev-a", 7, base: ["dev-a": 3], ["name": .string("b")]),
            write("dev-a", 12, base: ["dev-a": 7], ["name": .string("c")]),
            onto: &state)
        #expect(outcomes == [.created, .updated, .updated])
        #expect(state.version == ["dev-a": 12])
        #expect(state.visibleFields() == ["name": .string("c")])
    }

    @Test("a counter below 1 is refused, never taken for a duplicate")
    func counterBelowOne() {
        let w = write("dev-a", 0, ["name": .null])
        #expect(w.structuralError != nil)
        #expect(record().check(w).errorCode == "invalid_version")
    }

    @Test("changes may be empty only on the write that creates a record")
    func emptyChanges() {
        var state = RecordState()
        let creating = write("dev-a", 1, [:])
        #expect(state.shapeError(of: creating) == nil)
        #expect(state.apply(creating) == .created)
        #expect(state.visibleFields().isEmpty)
        #expect(state.version == ["dev-a": 1])
        let later = write("dev-a", 2, base: ["dev-a": 1], [:])
        #expect(state.check(later) == .ok)
        #expect(state.shapeError(of: later) != nil)
        #expect(later.validateShape(creating: false) != nil)
        #expect(later.validateShape(creating: true) == nil)
    }
}
