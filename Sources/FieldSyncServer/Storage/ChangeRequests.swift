import FieldSyncCore
import Foundation
import Logging
import PostgresNIO

/// Agents' org-unit proposals: listing them within the caller's scope and reviewing
/// them (PROTOCOL.md, Org units).
///
/// Who sees which requests: agents their own, supervisors those on units of their
/// subtrees, admins all of the account.
struct ChangeRequests {
    let scope: CallerScope
    let connection: PostgresConnection
    let logger: Logger

    /// One change request as JSON text: id, orgUnitId, operation (`create|update`),
    /// status, authorId, deviceId, base, replica, counter, editedAt, changes, and once
    /// reviewed approvedFields, comment, reviewedBy, reviewedAt, result {status, version}.
    /// Members without a value are left out.
    static let documentSQL = """
        (SELECT jsonb_object_agg(k, v) FROM jsonb_each(jsonb_build_object(
            'id', r.id, 'orgUnitId', r.org_unit_id, 'operation', CASE WHEN r.is_creation THEN 'create' ELSE 'update' END,
            'status', r.status, 'authorId', r.created_by, 'deviceId', r.device_id, 'base', r.base, 'replica', r.replica,
            'counter', r.counter, 'editedAt', to_char(r.edited_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
            'changes', r.changes, 'approvedFields', to_jsonb(r.approved_fields), 'comment', r.comment, 'reviewedBy', r.reviewed_by,
            'reviewedAt', to_char(r.reviewed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
            'createdAt', to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
            'result', CASE WHEN r.applied_status IS NULL THEN NULL
                           ELSE jsonb_build_object('status', r.applied_status, 'version', r.applied_version) END
        )) AS e(k, v) WHERE v <> 'null'::jsonb)::text
        """

    /// A page of requests, oldest first. `after` is the previous page's cursor.
    func list(status: String?, orgUnit: UUID?, after: (Date, UUID)?, limit: Int) async throws -> (items: [String], cursor: (Date, UUID)?) {
        let a = scope.account
        let everything = scope.everything
        let ownOnly = scope.role == .agent
        let afterTime = after?.0 ?? Date(timeIntervalSince1970: 0)
        let afterId = after?.1 ?? OrgUnitImport.nilUUID
        let rows = try await connection.query(
            """
            SELECT r.created_at, r.id, \(unescaped: Self.documentSQL)
            FROM orgunit_change_requests r
            LEFT JOIN org_units o ON o.account_id = r.account_id AND o.id = r.org_unit_id
            WHERE r.account_id = \(a)
              AND (\(status ?? "") = '' OR r.status = \(status ?? ""))
              AND (\(orgUnit == nil) OR r.org_unit_id = \(orgUnit ?? OrgUnitImport.nilUUID))
              AND (r.created_at, r.id) > (\(afterTime), \(afterId))
              AND CASE WHEN \(everything) THEN true
                       WHEN \(ownOnly) THEN r.created_by = \(scope.user)
                       ELSE o.path <@ \(scope.subtrees)::ltree[] END
            ORDER BY r.created_at, r.id
            LIMIT \(Int64(limit)) + 1
            """, logger: logger)
        var items: [String] = []
        var last: (Date, UUID)?
        var more = false
        for try await (at, id, doc) in rows.decode((Date, UUID, String).self) {
            if items.count == limit { more = true; continue }
            items.append(doc)
            last = (at, id)
        }
        return (items, more ? last : nil)
    }

    /// Reviews a request: `approve` (all its fields, or `fields`) applies them to the
    /// unit as a versioned write with the request's base (see
    /// `RecordState.approvalWrite(of:fields:)`); `reject` leaves the unit as it is (a
    /// proposed new unit becomes `rejected`). Answers the request as JSON text. Run it in
    /// a transaction: it takes the account's tree lock.
    func review(id: UUID, approve: Bool, fields: [String]?, comment: String?) async throws -> String {
        guard scope.reviews else {
            throw APIError.forbidden("only supervisors and admins review org-unit changes")
        }
        let a = scope.account
        let c = connection
        let store = OrgUnitStore(account: a, connection: c, logger: logger)
        try await store.lockTree()
        let found = try await c.query(
            """
            SELECT r.org_unit_id, r.status, r.is_creation, r.base::text, r.replica, r.counter, r.edited_at, r.changes::text, o.path::text
            FROM orgunit_change_requests r LEFT JOIN org_units o ON o.account_id = r.account_id AND o.id = r.org_unit_id
            WHERE r.account_id = \(a) AND r.id = \(id) FOR UPDATE OF r
            """, logger: logger
        ).collect { try $0.decode((UUID, String, Bool, String, String, Int64, Date, String, String?).self) }
        guard let (unitId, status, creation, baseText, replica, counter, editedAt, changesText, unitPath) = found.first else {
            throw APIError.notFound("org-unit change \(id.lowercased) does not exist")
        }
        guard scope.everything || unitPath.map(scope.covers(path:)) == true else {
            throw APIError.forbidden("org unit \(unitId.lowercased) is outside the org units you supervise")
        }
        guard status == "pending" else {
            throw APIError.conflict(ErrorCode.alreadyReviewed, "this change was already reviewed (\(status))")
        }
        let changes = (try? JSONParser.parse(changesText))?.objectValue ?? [:]
        let proposal = VersionedWrite(
            base: (try? JSONParser.parse(baseText)).flatMap(VersionVector.init(json:)) ?? VersionVector(),
            replica: replica, counter: counter,
            editedAt: Timestamp(editedAt),
            changes: changes)
        var appliedStatus: String?
        var appliedVersion: String?
        var approved: [String]?
        if approve {
            let chosen = fields ?? changes.keys.sorted()
            for (k, f) in chosen.enumerated() where changes[f] == nil {
                throw APIError.invalid(
                    "this change does not propose \"\(f.prefix(60))\"; it proposes \(changes.keys.sorted().joined(separator: ", "))",
                    field: "fields[\(k)]")
            }
            guard !chosen.isEmpty || changes.isEmpty else { throw APIError.invalid("approve at least one field", field: "fields") }
            approved = chosen
            guard let row = try await store.load(unitId) else { throw APIError.notFound("org unit \(unitId.lowercased) does not exist") }
            if creation {
                for required in ["name", "parentId"] where changes[required] != nil && !chosen.contains(required) {
                    throw APIError.invalid("a new org unit needs its \(required) approved", field: "fields")
                }
                var state = row.state
                if Set(chosen) != Set(changes.keys) {
                    state = RecordState()
                    var w = proposal
                    w.changes = changes.filter { chosen.contains($0.key) }
                    state.apply(w)
                }
                if let parent = state.visibleFields()["parentId"]?.stringValue.flatMap(UUID.init(text:)),
                    let p = try await store.load(parent), p.status != "validated"
                {
                    throw APIError.conflict(
                        ErrorCode.invalidParent, "its parent \(parent.lowercased) is itself awaiting review; review the parent first")
                }
                try await store.store(id: unitId, state: state, status: "validated", previousPath: row.path, user: scope.user)
                appliedStatus = PushStatus.created.rawValue
                appliedVersion = JSONWriter.string(state.version.json)
            } else {
                guard row.status == "validated" else {
                    throw APIError.conflict(ErrorCode.alreadyReviewed, "org unit \(unitId.lowercased) is \(row.status); it can't take changes")
                }
                var state = row.state
                let write = state.approvalWrite(of: proposal, fields: Set(chosen))
                let outcome = state.apply(write)
                try await store.store(id: unitId, state: state, status: "validated", previousPath: row.path, user: scope.user)
                try await store.recordWrite(id: unitId, write, user: scope.user, device: nil, batchId: nil)
                appliedStatus = outcome.pushStatus.rawValue
                appliedVersion = JSONWriter.string(state.version.json)
            }
        } else if creation {
            try await store.setStatus(unitId, "rejected")
        }
        try await c.query(
            """
            UPDATE orgunit_change_requests SET status = \(approve ? "approved" : "rejected"), approved_fields = \(approved),
                comment = \(comment), reviewed_by = \(scope.user), reviewed_at = now(),
                applied_status = \(appliedStatus), applied_version = \(appliedVersion)::jsonb
            WHERE account_id = \(a) AND id = \(id)
            """, logger: logger)
        return try await c.query(
            "SELECT \(unescaped: Self.documentSQL) FROM orgunit_change_requests r WHERE r.account_id = \(a) AND r.id = \(id)", logger: logger
        ).collect { try $0.decode(String.self) }.first ?? "{}"
    }
}
