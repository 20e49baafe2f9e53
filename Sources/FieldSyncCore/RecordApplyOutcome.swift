/// What applying a write did to its record; the raw value is the push result status.
public enum ApplyOutcome: String, Sendable, Hashable, Codable {
    /// The record did not exist (its version was empty).
    case created
    /// The write's base covered the record's whole version and no field is in conflict.
    case updated
    /// The write's base did not cover the record's version (it was made concurrently
    /// with writes already applied), and no field is in conflict afterwards.
    case merged
    /// Some field of the record holds two or more values after the write.
    case conflict
}

extension ApplyOutcome {
    /// The push result status of the applied write (the same word).
    public var pushStatus: PushStatus {
        switch self {
        case .created: .created
        case .updated: .updated
        case .merged: .merged
        case .conflict: .conflict
        }
    }
}
