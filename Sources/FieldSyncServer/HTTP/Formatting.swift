import FieldSyncCore
import Foundation

extension UUID {
    /// The protocol writes UUIDs in lower case.
    public var lowercased: String { lowercasedText }
}

extension Timestamp {
    /// The current time, to the millisecond.
    static func now() -> Timestamp {
        Timestamp(Date())
    }
}

extension Date {
    /// RFC 3339 with milliseconds, UTC.
    var rfc3339: String {
        Timestamp(self).description
    }
}
