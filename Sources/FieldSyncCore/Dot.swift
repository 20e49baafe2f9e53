/// One write's identity within a record: the replica that made it and that replica's
/// counter at the time (`{"replica":"dev-b","counter":7}`).
///
/// A replica is a device id, or `server` for edits made through the supervisor API.
/// Counters start at 1; a device keeps one counter for all its records, so the
/// counters of its writes to one record grow but need not be contiguous.
public struct Dot: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The device id, or `server`.
    public var replica: String
    /// The replica's counter when it made the write (≥ 1 in a valid write).
    public var counter: Int64

    /// A dot for `replica`'s write number `counter`.
    public init(replica: String, counter: Int64) {
        self.replica = replica
        self.counter = counter
    }

    /// `dev-b:7`.
    public var description: String { "\(replica):\(counter)" }
}

/// Orders strings by their UTF-8 bytes, as the protocol compares replicas (Swift's own
/// `<` on `String` follows Unicode canonical ordering instead).
@inline(__always)
func bytewiseLess(_ a: String, _ b: String) -> Bool {
    a.utf8.lexicographicallyPrecedes(b.utf8)
}

/// `-1`, `0` or `1` as `a` sorts before, with, or after `b` byte by byte.
func bytewiseCompare(_ a: String, _ b: String) -> Int {
    if bytewiseLess(a, b) { return -1 }
    if bytewiseLess(b, a) { return 1 }
    return 0
}
