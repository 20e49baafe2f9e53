/// ODK Central's integer versions of a record, read from FieldSync's exact versions.
///
/// Central numbers an entity's versions 1, 2, 3, … and its clients name the version they
/// edited by that number (pyodk's `baseVersion`, Collect's entity block). In FieldSync
/// version N of a record is the state after the first N writes applied to it, in the
/// order the server applied them: its vector is the pointwise maximum of those N dots.
/// A device's writes to one record are applied in its own order (PROTOCOL.md, Versions),
/// so the first N dots of each replica are exactly the dots ≤ that maximum: the vector
/// names only applied writes, and covers exactly the N writes.
public enum IntegerVersions {
    /// The current integer version: how many writes were applied (0: no record yet).
    public static func current(_ applied: [Dot]) -> Int { applied.count }

    /// The vector of version `n` (1-based) of a record whose applied writes, in
    /// application order, are `applied`; nil when there is no version `n`.
    public static func vector(_ applied: [Dot], version n: Int) -> VersionVector? {
        guard n >= 1, n <= applied.count else { return nil }
        var v = VersionVector()
        for dot in applied.prefix(n) { v.include(dot) }
        return v
    }

    /// The base of a write by `replica` made on version `n`: version `n`'s vector, and the
    /// replica's own latest write to the record (a writer has always seen its own writes,
    /// and the protocol wants `base[replica]` to name its previous write). nil when there
    /// is no version `n`.
    public static func base(_ applied: [Dot], version n: Int, replica: String) -> VersionVector? {
        guard var v = vector(applied, version: n) else { return nil }
        if let own = applied.last(where: { $0.replica == replica }) { v.include(own) }
        return v
    }
}
