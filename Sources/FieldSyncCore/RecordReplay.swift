extension RecordState {
    /// The state reached by pushing `writes` to an empty record, in the given order,
    /// as the server and its clients would: see `applyAll(_:)`.
    public static func replay(_ writes: [VersionedWrite]) -> RecordState {
        var state = RecordState()
        state.applyAll(writes)
        return state
    }

    /// Pushes `writes` in the given order as the server would answer them, with
    /// clients sending again what could not be applied yet: writes that pass
    /// `check(_:)` and `shapeError(of:)` are applied, duplicates are skipped, and the
    /// rest (`out_of_order`, or a base naming a write not applied yet) are retried
    /// after the others, pass after pass, until a pass applies nothing.
    ///
    /// Returns the writes never applied, in their given order (those that are
    /// invalid however late they come, or whose base names writes not in the set).
    @discardableResult
    public mutating func applyAll(_ writes: [VersionedWrite]) -> [VersionedWrite] {
        var pending = writes
        while !pending.isEmpty {
            var retry: [VersionedWrite] = []
            var progressed = false
            for write in pending {
                switch check(write) {
                case .duplicate:
                    continue
                case .outOfOrder, .invalidVersion:
                    retry.append(write)
                case .ok:
                    if shapeError(of: write) != nil {
                        retry.append(write)
                    } else {
                        apply(write)
                        progressed = true
                    }
                }
            }
            pending = retry
            if !progressed { break }
        }
        return pending
    }
}
