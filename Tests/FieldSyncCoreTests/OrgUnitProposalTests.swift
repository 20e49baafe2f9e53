import FieldSyncCore
import Testing

/// Org units, PROTOCOL.md: an agent's write is a proposal; approval applies the
/// approved fields as a versioned write with the proposal's base.
@Suite("Org-unit proposals")
struct OrgUnitProposalTests {
    /// An imported unit: the server wrote name and parent once.
    func unit() -> RecordState {
        var state = RecordState()
        push(write("server", 1, ["name": .string("Comilla"), "parentId": .string("p1")]), onto: &state)
        return state
    }

    @Test("a proposal may name its author's earlier, still pending proposal in its base")
    func ownPendingProposalInBase() {
        let second = write("dev-a", 2, base: ["server": 1, "dev-a": 1], ["name": .string("Cumilla")])
        #expect(unit().check(second) == .outOfOrder, "as a direct write it would be out of order")
        #expect(unit().checkProposal(second) == .ok)
    }

    @Test("a proposal naming a dot of another replica that was never applied is invalid_version")
    func unknownDot() {
        #expect(unit().checkProposal(write("dev-a", 1, base: ["server": 2], ["name": .null])).errorCode == "invalid_version")
        #expect(unit().checkProposal(write("dev-a", 1, base: ["dev-a": 1], ["name": .null])).errorCode == "invalid_version")
        #expect(unit().checkProposal(write("dev-a", 0, ["name": .null])).errorCode == "invalid_version")
    }

    @Test("approving replaces what the author saw, keeps fields not approved, and writes as server")
    func approveSomeFields() {
        var state = unit()
        let proposal = write("dev-a", 4, base: ["server": 1], at: 5, ["name": .string("Cumilla"), "aliases": .array([.string("Comilla")])])
        let approval = state.approvalWrite(of: proposal, fields: ["name"])
        #expect(approval.replica == "server")
        #expect(approval.counter == 2)
        #expect(approval.changes.keys.sorted() == ["name"])
        #expect(approval.editedAt == proposal.editedAt)
        #expect(state.apply(approval) == .updated)
        #expect(state.visibleFields()["name"] == .string("Cumilla"))
        #expect(state.visibleFields()["aliases"] == nil)
        #expect(!state.isInConflict)
    }

    @Test("two approvals made from the same stale view end in a conflict, both values kept")
    func staleApprovalsConflict() {
        var state = unit()
        let a = write("dev-a", 1, base: ["server": 1], at: 5, ["name": .string("Cumilla")])
        let b = write("dev-b", 1, base: ["server": 1], at: 6, ["name": .string("Kumilla")])
        state.apply(state.approvalWrite(of: a, fields: ["name"]))
        let outcome = state.apply(state.approvalWrite(of: b, fields: ["name"]))
        #expect(outcome == .conflict)
        let values = state.conflicts()["name"]?.map(\.value) ?? []
        #expect(Set(values) == [.string("Cumilla"), .string("Kumilla")])
        #expect(state.visibleFields()["name"] == .string("Kumilla"), "the later editedAt is shown")
    }

    @Test("an approval whose proposal saw the latest approved value replaces it without conflict")
    func freshApprovalUpdates() {
        var state = unit()
        let a = write("dev-a", 1, base: ["server": 1], at: 5, ["name": .string("Cumilla")])
        state.apply(state.approvalWrite(of: a, fields: ["name"]))
        let b = write("dev-b", 1, base: state.version, at: 6, ["name": .string("Kumilla")])
        #expect(state.apply(state.approvalWrite(of: b, fields: ["name"])) == .updated)
        #expect(state.conflicts().isEmpty)
    }

    @Test("the approval's base drops the author's own pending dots, which the unit never applied")
    func baseLimitedToApplied() {
        let state = unit()
        let p = write("dev-a", 2, base: ["server": 1, "dev-a": 1], ["name": .string("x")])
        let approval = state.approvalWrite(of: p, fields: ["name"])
        #expect(approval.base == ["server": 1])
        #expect(state.check(approval) == .ok)
    }
}
