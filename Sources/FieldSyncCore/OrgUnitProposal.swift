/// Org-unit writes from agents are proposals: they wait for a supervisor's review
/// instead of being applied (PROTOCOL.md, Org units). These are the version rules for
/// them, kept here with the rest of the sync semantics.
extension RecordState {
    /// Checks a proposal's version against the approved state of its unit.
    ///
    /// A proposal is not applied when it arrives, so its author's earlier proposals to
    /// the same unit may still be pending: `base[replica]` may name them and is not
    /// compared with the applied dots (no `out_of_order`). Otherwise the rules of
    /// `check(_:)` hold: a base covering the write's own dot, or naming a dot of another
    /// replica that is not in the unit's applied set, is `.invalidVersion`. Duplicates are
    /// found by the caller among stored proposals (same unit, replica and counter).
    public func checkProposal(_ write: VersionedWrite) -> WriteCheck {
        guard write.counter >= 1 else {
            return .invalidVersion("counter must be at least 1, got \(write.counter)")
        }
        if write.base.covers(write.dot) {
            return .invalidVersion("base \(write.base) covers the write's own dot \(write.dot)")
        }
        for other in write.base.replicas where other != write.replica {
            let named = Dot(replica: other, counter: write.base[other])
            if !applied.contains(named) {
                return .invalidVersion("base names \(named), which was not applied to this org unit")
            }
        }
        return .ok
    }

    /// The write that approving `fields` of `proposal` applies to this (approved) state.
    ///
    /// It is a write of replica `server` (counter one above the greatest `server` dot
    /// applied) whose base is the proposal's base, limited to the dots applied to the
    /// unit (each entry lowered to that replica's greatest applied dot at or below it, so
    /// the base names only applied dots): it replaces exactly the values the proposal's
    /// author had seen. A value written
    /// since (another approval, a supervisor's edit) is not covered and stays beside
    /// the approved one, so two approvals made from stale views end in a conflict
    /// instead of one silently overwriting the other. `editedAt` is the proposal's.
    public func approvalWrite(of proposal: VersionedWrite, fields: Set<String>) -> VersionedWrite {
        var base = VersionVector()
        for replica in proposal.base.replicas {
            base[replica] = applied.greatest(of: replica, atMost: proposal.base[replica])
        }
        let replica = VersionedWrite.serverReplica
        return VersionedWrite(
            base: base, replica: replica, counter: applied.greatest(of: replica) + 1,
            editedAt: proposal.editedAt, changes: proposal.changes.filter { fields.contains($0.key) })
    }
}
