import FieldSyncCore
import Foundation

/// A position in the changes feed: the writing transaction's id (xid8) and the
/// record's sequence number, in that order.
///
/// Why the transaction id: a sequence number alone is taken before commit, so a
/// transaction can take a smaller number and commit after a reader went past it. The
/// pull therefore only returns rows of transactions older than the oldest one still
/// running in this database (`pg_snapshot_xip` of `pg_current_snapshot()`, less the
/// transactions that backends of other databases hold; `pg_snapshot_xmax` when none):
/// those are all committed and can never be joined by another row below them. Ordering by (xid, seq) then pages
/// through a set that only grows at its end.
struct FeedCursor: Sendable, Equatable, CustomStringConvertible {
    var xid: UInt64
    var seq: Int64

    static let start = FeedCursor(xid: 0, seq: 0)

    /// Opaque to clients: `c1.<xid>.<seq>`.
    var description: String { "c1.\(xid).\(seq)" }

    /// Parses a cursor; an empty one is the start; anything else malformed is 400.
    init(parsing text: String?) throws {
        guard let text, !text.isEmpty else {
            self = .start
            return
        }
        let parts = text.split(separator: ".")
        guard parts.count == 3, parts[0] == "c1", let x = UInt64(parts[1]), let s = Int64(parts[2]) else {
            throw APIError.badRequest("cursor is not one this server issued; start again from an empty cursor", field: "cursor")
        }
        self.xid = x
        self.seq = s
    }

    init(xid: UInt64, seq: Int64) {
        self.xid = xid
        self.seq = seq
    }
}
