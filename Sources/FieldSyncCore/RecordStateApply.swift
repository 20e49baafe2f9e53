extension RecordState {
    /// Checks a pushed write against this state, in the protocol's order:
    ///
    /// 1. its dot already applied (`version[replica] >= counter`) → `.duplicate`;
    /// 2. its base covers its own dot → `.invalidVersion`;
    /// 3. its previous own write not applied (`base[replica] > version[replica]`)
    ///    → `.outOfOrder`;
    /// 4. `base[replica] < version[replica]` (the author did not see a write of its
    ///    own that was applied), or any other dot named by base not applied
    ///    (`base[r] > version[r]`) → `.invalidVersion`;
    /// 5. else `.ok`.
    ///
    /// A write with a counter below 1 (see `VersionedWrite.structuralError`) is
    /// `.invalidVersion`, so it can never pass as a duplicate. The content (including
    /// `shapeError(of:)`) is checked after this.
    public func check(_ write: VersionedWrite) -> WriteCheck {
        let replica = write.replica
        guard write.counter >= 1 else {
            return .invalidVersion("counter must be at least 1, got \(write.counter)")
        }
        if version.covers(write.dot) { return .duplicate }
        if write.base.covers(write.dot) {
            return .invalidVersion(
                "base \(write.base) covers the write's own dot \(write.dot)")
        }
        let previous = write.base[replica]
        let applied = version[replica]
        if previous > applied { return .outOfOrder }
        if previous < applied {
            return .invalidVersion(
                "base names \(replica)'s previous write as \(previous), but its write \(applied) "
                    + "to this record was applied")
        }
        for other in write.base.replicas where other != replica {
            if write.base[other] > version[other] {
                return .invalidVersion(
                    "base names \(other):\(write.base[other]), which was not applied to this "
                        + "record (version \(version))")
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
            var values = (fields[name] ?? []).filter { !write.base.covers($0.dot) && $0.dot != dot }
            values.append(FieldValue(value: value, dot: dot, editedAt: write.editedAt))
            fields[name] = RecordState.sorted(values)
        }
        version.include(dot)
        if before.isEmpty { return .created }
        if isInConflict { return .conflict }
        if !write.base.covers(before) { return .merged }
        return .updated
    }

    /// The base a supervisor write (replica `server`) must use to cover every value
    /// currently shown: the record's version. It covers every dot applied, hence
    /// every value of every field, so the write resolves each conflicted field it
    /// changes and leaves the other fields as they are; and its `server` entry names
    /// the previous server write, as the check requires.
    public func resolutionBase() -> VersionVector {
        version
    }

    /// A supervisor write as replica `server` on this state: base `resolutionBase()`,
    /// counter one above the record's `server` entry (dots are per record). It passes
    /// `check(_:)` while the state is unchanged; callers serialise server writes to a
    /// record (e.g. by locking its row) so two of them never take the same counter.
    public func serverWrite(changes: [String: JSONValue], editedAt: Timestamp) -> VersionedWrite {
        let replica = VersionedWrite.serverReplica
        return VersionedWrite(
            base: resolutionBase(), replica: replica, counter: version[replica] + 1,
            editedAt: editedAt, changes: changes)
    }
}
