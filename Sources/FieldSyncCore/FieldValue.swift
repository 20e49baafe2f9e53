/// One value of a field's multi-value register: the value a write gave the field,
/// with the write's dot and `editedAt`.
///
/// This is also the wire shape of a conflict entry:
/// `{"value":"Subil","replica":"dev-b","counter":7,"editedAt":"2026-11-20T08:15:30.123Z"}`.
/// A `null` value is a value (the field was cleared).
public struct FieldValue: Sendable, Hashable, Codable {
    /// The value written (any JSON, `null` included).
    public var value: JSONValue
    /// The replica that wrote it.
    public var replica: String
    /// The writing replica's counter.
    public var counter: Int64
    /// When the author edited it, as the device reported.
    public var editedAt: Timestamp

    /// A value written by `replica`'s write number `counter` at `editedAt`.
    public init(value: JSONValue, replica: String, counter: Int64, editedAt: Timestamp) {
        self.value = value
        self.replica = replica
        self.counter = counter
        self.editedAt = editedAt
    }

    /// A value written by the write `dot` at `editedAt`.
    public init(value: JSONValue, dot: Dot, editedAt: Timestamp) {
        self.init(value: value, replica: dot.replica, counter: dot.counter, editedAt: editedAt)
    }

    /// The dot of the write that wrote this value.
    public var dot: Dot { Dot(replica: replica, counter: counter) }

    /// Whether this value is shown before `other` when both are in one field: the
    /// greater `editedAt` wins, then the greater replica (compared as UTF-8 bytes),
    /// then the greater counter. Two values with the same dot (which a valid history
    /// never has) are ordered by their content, so the order is total.
    public func takesPrecedence(over other: FieldValue) -> Bool {
        if editedAt != other.editedAt { return editedAt > other.editedAt }
        let byReplica = bytewiseCompare(replica, other.replica)
        if byReplica != 0 { return byReplica > 0 }
        if counter != other.counter { return counter > other.counter }
        return JSONOrder.compare(value, other.value) > 0
    }
}
