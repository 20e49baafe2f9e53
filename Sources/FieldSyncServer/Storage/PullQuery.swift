import FieldSyncCore
import Foundation
import Logging
import PostgresNIO

/// One page of the changes feed, for one caller (see ``FeedCursor`` for the ordering).
struct PullQuery {
    /// What the caller sees (a pull narrowed to one project has only that one).
    let scope: CallerScope
    let connection: PostgresConnection
    let logger: Logger

    struct Page {
        var documents: [String]
        var cursor: FeedCursor
        var hasMore: Bool
    }

    func page(after cursor: FeedCursor, limit: Int) async throws -> Page {
        let cx = String(cursor.xid)
        let cs = cursor.seq
        let n = Int64(limit)
        let a = scope.account
        let rows = try await connection.query(
            """
            WITH snap AS (SELECT \(unescaped: FeedCursor.boundarySQL) AS xmin),
            supervised_users AS (
                SELECT u.id FROM users u
                WHERE \(scope.supervisor) AND u.account_id = \(a) AND EXISTS (
                    SELECT 1 FROM org_units o
                    WHERE o.account_id = \(a) AND o.id = ANY(u.org_unit_ids) AND o.path <@ \(scope.subtrees)::ltree[]))
            SELECT u.x::text, u.seq, u.doc FROM (
                (SELECT p.feed_xid AS x, p.feed_seq AS seq,
                        json_strip_nulls(json_build_object(
                            'kind', 'position', 'id', p.id, 'projectId', p.project_id, 'deviceId', p.device_id,
                            'capturedAt', to_char(p.captured_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                            'location', json_build_object('type', 'Point', 'coordinates',
                                CASE WHEN p.location_z IS NULL THEN json_build_array(ST_X(p.location), ST_Y(p.location))
                                     ELSE json_build_array(ST_X(p.location), ST_Y(p.location), p.location_z) END),
                            'accuracy', p.accuracy, 'altitude', p.altitude, 'transport', p.transport))::text AS doc
                 FROM positions p, snap
                 WHERE p.account_id = \(a) AND (p.feed_xid, p.feed_seq) > (\(cx)::xid8, \(cs)) AND p.feed_xid < snap.xmin
                   AND p.project_id = ANY(\(scope.projects)::uuid[])
                   AND (\(scope.everything) OR p.user_id = \(scope.user) OR p.user_id IN (SELECT id FROM supervised_users))
                 ORDER BY p.feed_xid, p.feed_seq LIMIT \(n) + 1)
                UNION ALL
                (SELECT e.feed_xid, e.feed_seq, e.doc::text
                 FROM entities e, snap
                 WHERE e.account_id = \(a) AND (e.feed_xid, e.feed_seq) > (\(cx)::xid8, \(cs)) AND e.feed_xid < snap.xmin
                   AND e.project_id = ANY(\(scope.projects)::uuid[])
                   AND (\(scope.everything) OR EXISTS (
                        SELECT 1 FROM org_units o WHERE o.account_id = \(a) AND o.id = e.org_unit_id AND o.path <@ \(scope.subtrees)::ltree[]))
                 ORDER BY e.feed_xid, e.feed_seq LIMIT \(n) + 1)
                UNION ALL
                (SELECT i.feed_xid, i.feed_seq, i.doc::text
                 FROM instances i, snap
                 WHERE i.account_id = \(a) AND (i.feed_xid, i.feed_seq) > (\(cx)::xid8, \(cs)) AND i.feed_xid < snap.xmin
                   AND i.project_id = ANY(\(scope.projects)::uuid[])
                   AND (\(scope.everything) OR EXISTS (
                        SELECT 1 FROM org_units o WHERE o.account_id = \(a) AND o.id = i.org_unit_id AND o.path <@ \(scope.subtrees)::ltree[]))
                 ORDER BY i.feed_xid, i.feed_seq LIMIT \(n) + 1)
                UNION ALL
                (SELECT ou.feed_xid, ou.feed_seq, ou.doc::text
                 FROM org_units ou, snap
                 WHERE ou.account_id = \(a) AND (ou.feed_xid, ou.feed_seq) > (\(cx)::xid8, \(cs)) AND ou.feed_xid < snap.xmin
                   AND (ou.project_id IS NULL OR ou.project_id = ANY(\(scope.projects)::uuid[]))
                   AND (ou.validation_status = 'validated' OR ou.created_by = \(scope.user) OR \(scope.everything) OR \(scope.supervisor))
                   AND (\(scope.everything) OR ou.path <@ \(scope.subtrees)::ltree[])
                 ORDER BY ou.feed_xid, ou.feed_seq LIMIT \(n) + 1)
            ) u
            ORDER BY u.x, u.seq
            LIMIT \(n) + 1
            """, logger: logger)
        var documents: [String] = []
        var last = cursor
        var hasMore = false
        for try await (x, seq, doc) in rows.decode((String, Int64, String).self) {
            if documents.count == limit {
                hasMore = true
                continue
            }
            documents.append(doc)
            last = FeedCursor(xid: UInt64(x) ?? last.xid, seq: seq)
        }
        return Page(documents: documents, cursor: last, hasMore: hasMore)
    }
}
