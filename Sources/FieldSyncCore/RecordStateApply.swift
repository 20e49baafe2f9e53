extension RecordState {
    /// Checks a pushed write against this state, in the protocol's order. "Applied"
    /// means in ``applied``, the exact set of dots applied to this record, never "covered
    /// by the version vector" (a device's counters on one record have gaps):
    ///
    /// 1. its dot applied → `.duplicate`;
    /// 2. its base covers its own dot (`base[replica] ≥ counter`) → `.invalidVersion`;
    /// 3. its previous own write (`base[replica]`, when named) not applied → `.outOfOrder`;
    /// 4. a later own write applied than the one `base[replica]` names (the base forgets
    ///    a write its own author made to this record, or the write arrives after a later
    ///    one of its replica: a device's writes to one record arrive in its own order)
    ///    → `.invalidVersion`;
    /// 5. any other dot the base names (`replica:base[replica]` for each replica) not
    ///    applied → `.invalidVersion`;
    /// 6. else `.ok`.
    ///
    /// So a base only ever covers writes its author has seen. A write with a counter
    /// below 1 (see `VersionedWrite.structuralError`) is `.invalidVersion`, so it can
    /// never pass as a duplicate. The content (including `shapeError(of:)`) is checked
    /// after this.
    public func check(_ write: VersionedWrite) -> WriteCheck {
        let replica = write.replica
        guard write.counter >= 1 else {
            return .invalidVersion("counter must be at least 1, got \(write.counter)")
        }
        if applied.contains(write.dot) { return .duplicate }
        if write.base.covers(write.dot) {
            return .invalidVersion(
                "base \(write.base) covers the write's own dot \(write.dot)")
        }
        let previous = write.base[replica]
        if previous > 0 && !applied.contains(Dot(replica: replica, counter: previous)) { return .outOfOrder }
        let latest = applied.greatest(of: replica)
        if latest > previous {
            return .invalidVersion(
                previous == 0
                    ? "base names no previous write of \(replica), but its write \(latest) to this record was applied"
                    : "base names \(replica)'s previous write as \(previous), but its write \(latest) to this record was applied")
        }
        for other in write.base.replicas where other != replica {
            let named = Dot(replica: other, counter: write.base[other])
            if !applied.contains(named) {
                return .invalidVersion("base names \(named), which was not applied to this record")
            }
        }
        return .ok
    }

    /// The write's shape problem for this record (see
    /// `VersionedWrite.validateShape(creating:)`; creating means this state is empty),
    /// `nil` when there is none.
    public func shapeError(of write: VersionedWrite) -> String? {
        write.validateShape(creating: isEmpty)
    }

    /// Applies a write that passed `check(_:)` (and the content checks):
    /// for each changed field, removes the values whose dots the write's base covers
    /// and adds the write's value with its dot; the version becomes the pointwise
    /// maximum with the write's dot. Fields the write does not change are untouched.
    ///
    /// Answers `.created` when the state was empty, else `.conflict` when any field
    /// holds two or more values afterwards, else `.merged` when the base did not
    /// cover the version before the write, else `.updated`.
    @discardableResult
    public mutating func apply(_ write: VersionedWrite) -> ApplyOutcome {
        let before = version
        let dot = write.dot
        for (name, value) in write.changes {
            // The kept values stay in precedence order (a field's list always is): the new
            // value goes in before the first one it takes precedence over, no sort.
            var values = (fields[name] ?? []).filter { !write.base.covers($0.dot) && $0.dot != dot }
            let new = FieldValue(value: value, dot: dot, editedAt: write.editedAt)
            let at = values.firstIndex { new.takesPrecedence(over: $0) } ?? values.endIndex
            values.insert(new, at: at)
            fields[name] = values
        }
        version.include(dot)
        applied.insert(dot)
        if before.isEmpty { return .created }
        if isInConflict { return .conflict }
        if !write.base.covers(before) { return .merged }
        return .updated
    }

    /// The base a supervisor write (replica `server`) must use to cover every value
    /// currently shown: the record's version. It covers every dot applied, hence
    /// every value of every field, so the write resolves each conflicted field it
    /// changes and leaves the other fields as they are; each of its entries is a dot
    /// applied (a replica's greatest), and its `server` entry names the previous server
    /// write, as the check requires.
    public func resolutionBase() -> VersionVector {
        version
    }

    /// A supervisor write as replica `server` on this state: base `resolutionBase()`,
    /// counter one above the greatest `server` dot applied (dots are per record). It passes
    /// `check(_:)` while the state is unchanged; callers serialise server writes to a
    /// record (e.g. by locking its row) so two of them never take the same counter.
    public func serverWrite(changes: [String: JSONValue], editedAt: Timestamp) -> VersionedWrite {
        let replica = VersionedWrite.serverReplica
        return VersionedWrite(
            base: resolutionBase(), replica: replica, counter: applied.greatest(of: replica) + 1,
            editedAt: editedAt, changes: changes)
    }
}
