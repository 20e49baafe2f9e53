/// A versioned write, as pushed: the version it was made on (`base`), its own dot
/// (`replica`, `counter`), when it was made, and the fields it changed.
///
/// Decodes from a push item's members `base`, `replica`, `counter`, `editedAt` and
/// `changes` (other members are ignored); an absent `base` is the empty vector.
/// A change to `null` clears the field; `deleted: true` is a tombstone field like
/// any other, `deleted: false` restores the record.
public struct VersionedWrite: Sendable, Hashable, Codable {
    /// The replica of edits made through the supervisor API.
    public static let serverReplica = "server"

    /// The record version the author had seen; `base[replica]` names the author's
    /// previous write to the record (absent for none).
    public var base: VersionVector
    /// The writing replica (a device id, or `server`).
    public var replica: String
    /// The writing replica's counter for this write (≥ 1).
    public var counter: Int64
    /// When the author made the edit.
    public var editedAt: Timestamp
    /// The fields this write sets, name → new value.
    public var changes: [String: JSONValue]

    /// A write by `replica` number `counter`, made on `base`.
    public init(
        base: VersionVector, replica: String, counter: Int64, editedAt: Timestamp,
        changes: [String: JSONValue]
    ) {
        self.base = base
        self.replica = replica
        self.counter = counter
        self.editedAt = editedAt
        self.changes = changes
    }

    /// This write's dot, (`replica`, `counter`).
    public var dot: Dot { Dot(replica: replica, counter: counter) }

    /// A problem with the write on its own, whatever the record's state: a counter
    /// below 1 or an empty replica. `nil` when there is none. Check this with the
    /// item's other structural checks, before `RecordState.check(_:)`.
    public var structuralError: String? {
        if counter < 1 { return "counter must be at least 1, got \(counter)" }
        if replica.isEmpty { return "replica must not be empty" }
        return nil
    }

    /// The write's structural problem (see `structuralError`), or, when `creating` is
    /// `false`, empty `changes` (allowed only on the write that creates a record).
    /// `nil` when the write is well-formed.
    public func validateShape(creating: Bool) -> String? {
        if let error = structuralError { return error }
        if changes.isEmpty && !creating {
            return "changes may be empty only on the write that creates a record"
        }
        return nil
    }

    enum CodingKeys: String, CodingKey {
        case base, replica, counter, editedAt, changes
    }

    /// Decodes the write's members of a push item; `base` may be absent (empty).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        base = try c.decodeIfPresent(VersionVector.self, forKey: .base) ?? VersionVector()
        replica = try c.decode(String.self, forKey: .replica)
        counter = try c.decode(Int64.self, forKey: .counter)
        editedAt = try c.decode(Timestamp.self, forKey: .editedAt)
        changes = try c.decode([String: JSONValue].self, forKey: .changes)
    }

    /// Encodes `base`, `replica`, `counter`, `editedAt` and `changes`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(base, forKey: .base)
        try c.encode(replica, forKey: .replica)
        try c.encode(counter, forKey: .counter)
        try c.encode(editedAt, forKey: .editedAt)
        var fields = c.nestedContainer(keyedBy: NameKey.self, forKey: .changes)
        for name in changes.keys.sorted(by: bytewiseLess) {
            try fields.encode(changes[name] ?? .null, forKey: NameKey(name))
        }
    }
}
