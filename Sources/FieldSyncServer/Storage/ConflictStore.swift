import FieldSyncCore
import Foundation
import Logging
import PostgresNIO

/// The records with conflicted fields a caller sees, of every versioned kind, oldest
/// change first (`GET /v1/conflicts`).
struct ConflictStore {
    let scope: CallerScope
    let connection: PostgresConnection
    let logger: Logger

    /// A page position: the last record's (update time in µs, kind letter `e|i|o`, id).
    struct Position: Sendable {
        var micros: Int64
        var kind: String
        var id: UUID
    }

    /// One page: the records' documents (JSON text), each with its position.
    func page(entities: Bool, instances: Bool, orgUnits: Bool, after: Position?, limit: Int) async throws -> [(doc: String, position: Position)] {
        let account = scope.account
        let (hasAfter, afterMicros, afterKind, afterId) = (after != nil, after?.micros ?? 0, after?.kind ?? "", after?.id ?? OrgUnitImport.nilUUID)
        return try await connection.query(
            """
            SELECT doc, us, k, id FROM (
                SELECT e.doc::text AS doc, (extract(epoch FROM e.updated_at) * 1000000)::int8 AS us, 'e' AS k, e.id FROM entities e
                WHERE \(entities) AND e.account_id = \(account) AND e.has_conflicts AND e.project_id = ANY(\(scope.projects)::uuid[])
                  AND (\(scope.everything) OR EXISTS (SELECT 1 FROM org_units o WHERE o.account_id = \(account) AND o.id = e.org_unit_id
                                                      AND o.path <@ \(scope.subtrees)::ltree[]))
                UNION ALL
                SELECT i.doc::text AS doc, (extract(epoch FROM i.updated_at) * 1000000)::int8 AS us, 'i' AS k, i.id FROM instances i
                WHERE \(instances) AND i.account_id = \(account) AND i.has_conflicts AND i.project_id = ANY(\(scope.projects)::uuid[])
                  AND (\(scope.everything) OR EXISTS (SELECT 1 FROM org_units o WHERE o.account_id = \(account) AND o.id = i.org_unit_id
                                                      AND o.path <@ \(scope.subtrees)::ltree[]))
                UNION ALL
                SELECT u.doc::text AS doc, (extract(epoch FROM u.updated_at) * 1000000)::int8 AS us, 'o' AS k, u.id FROM org_units u
                WHERE \(orgUnits) AND u.account_id = \(account) AND u.validation_status = 'validated' AND u.doc ? 'conflicts'
                  AND (\(scope.everything) OR u.path <@ \(scope.subtrees)::ltree[])
            ) r
            WHERE NOT \(hasAfter) OR (us, k, id) > (\(afterMicros), \(afterKind), \(afterId))
            ORDER BY us, k, id LIMIT \(Int64(limit) + 1)
            """, logger: logger
        ).collect { row in
            let (doc, us, k, id) = try row.decode((String, Int64, String, UUID).self)
            return (doc, Position(micros: us, kind: k, id: id))
        }
    }
}
