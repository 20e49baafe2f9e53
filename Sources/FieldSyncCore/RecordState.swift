/// The sync state of one mutable record (instance, entity or org unit): every field
/// as a multi-value register, the exact set of dots applied, and the record's version
/// vector (that set's pointwise maximum).
///
/// Each field holds the set of its concurrent values, stored in precedence order
/// (the visible value first; see `FieldValue.takesPrecedence(over:)`), so equal
/// states are equal values and encode to the same JSON. Fields never hold an empty
/// list. The version is the pointwise maximum of the dots of all writes applied and
/// covers the dot of every value held.
///
/// Stored as `{"fields":{"name":[FIELDVALUE, …]},"version":{"dev-b":7},"dots":{"dev-b":[2,7]}}`. Arrays are
/// in precedence order, so equal states give equal JSON up to member order (jsonb
/// ignores it; use `JSONEncoder`'s `.sortedKeys` for byte-identical text).
public struct RecordState: Sendable, Hashable, Codable {
    /// Field name → its values, visible value first.
    public internal(set) var fields: [String: [FieldValue]]
    /// The pointwise maximum of the dots of all writes applied (``applied``'s vector).
    public internal(set) var version: VersionVector
    /// Exactly the dots of the writes applied to this record: what "applied" means in
    /// every check (see ``check(_:)``).
    public internal(set) var applied: AppliedDots

    /// The state of a record that does not exist yet: no fields, empty version.
    public init() {
        fields = [:]
        version = VersionVector()
        applied = AppliedDots()
    }

    /// A state with the given values, normalised: values sorted in precedence order,
    /// one value per dot within a field (the one that takes precedence), empty fields
    /// dropped; the applied set holds `applied`, every value's dot and every entry of
    /// `version` (each entry of a vector is a dot that was applied); the version is that
    /// set's maximum.
    ///
    /// Without `applied` (a state stored before dot sets were kept, or a device's view of
    /// a pulled record), the set is only what the values and the vector prove was applied:
    /// a write naming any other dot is rejected, never wrongly accepted.
    public init(fields: [String: [FieldValue]], version: VersionVector, applied: AppliedDots = AppliedDots()) {
        var normalised: [String: [FieldValue]] = [:]
        var dots = applied
        for (replica, counter) in version.entries { dots.insert(Dot(replica: replica, counter: counter)) }
        for (name, values) in fields {
            for value in values { dots.insert(value.dot) }
            let kept = RecordState.normalised(values)
            if !kept.isEmpty { normalised[name] = kept }
        }
        self.fields = normalised
        // A value of a device's pulled view carries no real dot (counter 0): the version
        // is the one given, raised to the applied set's maximum.
        self.version = version.merging(dots.vector)
        self.applied = dots
    }

    /// A state read back from its stored text: `dots` were written by ``stateText`` from
    /// ``applied``, which holds every value's dot and every vector entry (``apply(_:)``
    /// and the migration that added them keep it so), and `version` is their maximum; so
    /// they are taken as they are, without re-inserting every value's dot (a hot shared
    /// entity holds ~50 values, read on every write to it). Values are normalised as in
    /// ``init(fields:version:applied:)``. Without stored dots, that initialiser derives them.
    init(storedFields fields: [String: [FieldValue]], version: VersionVector, dots: AppliedDots?) {
        guard let dots, !dots.isEmpty else {
            self = RecordState(fields: fields, version: version)
            return
        }
        // Stored lists are in precedence order, one value per dot (``stateText`` wrote them
        // from a state, whose lists ``apply(_:)`` and this initialiser keep so): a list in
        // strict precedence order is taken as it is, without hashing every value's dot
        // (~50 in a hot shared entity's field); only others are normalised. In place: no
        // new table unless one must change.
        var kept = fields
        for (name, values) in fields where !RecordState.isInStrictPrecedenceOrder(values) {
            let normal = RecordState.normalised(values)
            kept[name] = normal.isEmpty ? nil : normal
        }
        self.fields = kept
        self.version = version
        self.applied = dots
    }

    /// Whether `values` is non-empty and each value takes precedence over the next.
    static func isInStrictPrecedenceOrder(_ values: [FieldValue]) -> Bool {
        guard !values.isEmpty else { return false }
        var k = 1
        while k < values.count {
            guard values[k - 1].takesPrecedence(over: values[k]) else { return false }
            k += 1
        }
        return true
    }

    /// One field's values in precedence order, one per dot (the one that takes
    /// precedence); a single value is already so.
    static func normalised(_ values: [FieldValue]) -> [FieldValue] {
        if values.count <= 1 { return values }
        var byDot: [Dot: FieldValue] = [:]
        for value in values {
            if let kept = byDot[value.dot], kept.takesPrecedence(over: value) { continue }
            byDot[value.dot] = value
        }
        return RecordState.sorted(Array(byDot.values))
    }

    /// Each field's visible value: the one with the greatest (`editedAt`, replica as
    /// UTF-8 bytes, counter). A tombstone shows as `"deleted": true`; a cleared field
    /// as `null`.
    public func visibleFields() -> [String: JSONValue] {
        fields.compactMapValues { $0.first?.value }
    }

    /// The visible value of one field with its dot and time, `nil` when never written.
    public func visibleValue(of field: String) -> FieldValue? {
        fields[field]?.first
    }

    /// The fields in conflict (two or more values), each with all its values, the
    /// visible one first, then in decreasing precedence.
    public func conflicts() -> [String: [FieldValue]] {
        fields.filter { $0.value.count >= 2 }
    }

    /// Whether any field holds two or more values.
    public var isInConflict: Bool {
        fields.values.contains { $0.count >= 2 }
    }

    /// Whether no write has been applied (the record does not exist).
    public var isEmpty: Bool { version.isEmpty }

    /// Values in precedence order, the visible one first.
    static func sorted(_ values: [FieldValue]) -> [FieldValue] {
        values.sorted { $0.takesPrecedence(over: $1) }
    }

    enum CodingKeys: String, CodingKey {
        case fields, version, dots
    }

    /// Decodes a stored state and normalises it (see `init(fields:version:)`).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let fields = try c.decode([String: [FieldValue]].self, forKey: .fields)
        let version = try c.decode(VersionVector.self, forKey: .version)
        let dots = try c.decodeIfPresent([String: [Int64]].self, forKey: .dots) ?? [:]
        self.init(fields: fields, version: version, applied: AppliedDots(counters: dots))
    }

    /// Encodes `fields` (values in precedence order) and `version`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        var nested = c.nestedContainer(keyedBy: NameKey.self, forKey: .fields)
        for name in fields.keys.sorted(by: bytewiseLess) {
            try nested.encode(fields[name] ?? [], forKey: NameKey(name))
        }
        try c.encode(version, forKey: .version)
        var dots = c.nestedContainer(keyedBy: NameKey.self, forKey: .dots)
        for replica in applied.counters.keys.sorted(by: bytewiseLess) {
            try dots.encode(applied.counters[replica] ?? [], forKey: NameKey(replica))
        }
    }
}
