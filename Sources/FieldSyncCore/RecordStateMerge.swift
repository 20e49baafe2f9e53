extension RecordState {
    /// The join of two states (as a client merging what it holds with what it
    /// pulled would compute): within each field, a value survives if both states hold
    /// it, or if one holds it and the other's version does not cover its dot (the other
    /// has not seen it, so has not overwritten it); the version is the pointwise
    /// maximum and the applied dots their union. Commutative, associative and idempotent;
    /// for states reached by applying causally closed sets of writes, it equals the state
    /// of applying their union.
    public func merging(_ other: RecordState) -> RecordState {
        var fields: [String: [FieldValue]] = [:]
        for name in Set(self.fields.keys).union(other.fields.keys) {
            let mine = RecordState.byDot(self.fields[name] ?? [])
            let theirs = RecordState.byDot(other.fields[name] ?? [])
            var kept: [FieldValue] = []
            for (dot, value) in mine {
                if let twin = theirs[dot] {
                    kept.append(twin.takesPrecedence(over: value) ? twin : value)
                } else if !other.version.covers(dot) {
                    kept.append(value)
                }
            }
            for (dot, value) in theirs where mine[dot] == nil && !version.covers(dot) {
                kept.append(value)
            }
            if !kept.isEmpty { fields[name] = kept }
        }
        var dots = applied
        dots.formUnion(other.applied)
        return RecordState(fields: fields, version: version.merging(other.version), applied: dots)
    }

    /// Replaces this state with its join with `other` (see `merging(_:)`).
    public mutating func merge(_ other: RecordState) {
        self = merging(other)
    }

    private static func byDot(_ values: [FieldValue]) -> [Dot: FieldValue] {
        var result: [Dot: FieldValue] = [:]
        for value in values {
            if let kept = result[value.dot], kept.takesPrecedence(over: value) { continue }
            result[value.dot] = value
        }
        return result
    }
}
