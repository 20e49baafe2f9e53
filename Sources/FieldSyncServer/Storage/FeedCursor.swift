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

    /// The feed boundary now, as one SQL expression of type xid8: rows whose `feed_xid` is
    /// below it are committed and no row can join below it later. It is the oldest
    /// transaction still running in this snapshot, else the snapshot's xmax. Transactions
    /// still running in other databases of the cluster can't write our feed, nor can
    /// autovacuum and other non-client backends (whose ANALYZE holds an xid in this
    /// database, seen holding a pull back under load): they are left out, conservatively,
    /// only while a backend holds them now. The pull and the tree both use it.
    ///
    /// `pg_stat_activity` is read after the statement's snapshot, so a transaction of
    /// another database that was running at the snapshot and ends in that instant is
    /// counted as ours: that pull's boundary stays below it (a lag of one pull, never a
    /// skip). Excluding only what is seen as ours instead would be unsafe: one of ours
    /// ending in that instant would be passed over while the snapshot can't see its rows.
    static let boundarySQL = """
        (WITH cur AS (SELECT pg_current_snapshot() AS s),
              other_xids AS (SELECT backend_xid FROM pg_stat_activity
                             WHERE backend_xid IS NOT NULL
                               AND (datname IS DISTINCT FROM current_database() OR backend_type <> 'client backend'))
         SELECT coalesce(
             (SELECT min(x) FROM cur, pg_snapshot_xip(cur.s) AS x WHERE xid(x) NOT IN (SELECT backend_xid FROM other_xids)),
             (SELECT pg_snapshot_xmax(s) FROM cur)))
        """

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
