/// The verdict of `RecordState.check(_:)` on a pushed write, before its content is
/// looked at.
public enum WriteCheck: Sendable, Hashable {
    /// The write may be applied.
    case ok
    /// Its dot was already applied: no effect, answered `unchanged` (even when its
    /// content differs: the first one stands).
    case duplicate
    /// The author's previous write to this record has not been applied: rejected with
    /// `out_of_order`; the client sends the earlier write, then retries.
    case outOfOrder
    /// The base covers the write's own dot, or names a dot not applied to this record:
    /// rejected with `invalid_version` and this message.
    case invalidVersion(String)

    /// The protocol's error code for a rejection, `nil` for `ok` and `duplicate`.
    public var errorCode: String? {
        switch self {
        case .ok, .duplicate: nil
        case .outOfOrder: ErrorCode.outOfOrder
        case .invalidVersion: ErrorCode.invalidVersion
        }
    }

    /// A human sentence for a rejection, `nil` for `ok` and `duplicate`.
    public var message: String? {
        switch self {
        case .ok, .duplicate: nil
        case .outOfOrder:
            "the previous write of this replica to this record has not been applied; send it first"
        case .invalidVersion(let message): message
        }
    }
}
