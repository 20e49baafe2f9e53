import FieldSyncCore
import Foundation
import Logging
import PostgresNIO

/// Reading and writing single org units inside a transaction that holds the
/// account's tree lock (``lockTree()``): proposals, reviews and supervisors' writes.
/// Paths are ltree strings of labels `u<32 hex digits>` (see ``OrgUnitImport/label(_:)``).
struct OrgUnitStore {
    let account: UUID
    let connection: PostgresConnection
    let logger: Logger

    /// One stored unit.
    struct Row {
        var id: UUID
        var path: String
        var status: String
        var createdBy: UUID?
        var state: RecordState
    }

    /// One tree change at a time per account (imports, approvals, moves) keeps paths consistent.
    func lockTree() async throws {
        try await connection.query("SELECT pg_advisory_xact_lock(hashtext('orgunits:' || \(account.lowercased)))", logger: logger).drain()
    }

    func load(_ id: UUID) async throws -> Row? {
        let rows = try await connection.query(
            "SELECT id, path::text, validation_status, created_by, state::text FROM org_units WHERE account_id = \(account) AND id = \(id)",
            logger: logger)
        var out: Row?
        for try await (id, path, status, createdBy, state) in rows.decode((UUID, String, String, UUID?, String).self) {
            out = Row(id: id, path: path, status: status, createdBy: createdBy, state: RecordWriter.state(state))
        }
        return out
    }

    /// The paths of the given units (the caller's assigned units, say).
    func paths(of ids: [UUID]) async throws -> [String] {
        guard !ids.isEmpty else { return [] }
        return try await connection.query(
            "SELECT path::text FROM org_units WHERE account_id = \(account) AND id = ANY(\(ids)::uuid[])", logger: logger
        ).collect { try $0.decode(String.self) }
    }

    func typeExists(_ id: UUID) async throws -> Bool {
        try await connection.query("SELECT 1 FROM orgunit_types WHERE account_id = \(account) AND id = \(id)", logger: logger)
            .collect { _ in true }.first ?? false
    }

    /// Whether `path` lies in the subtree of one of `roots` (a unit is in its own subtree).
    static func isWithin(_ path: String, _ roots: [String]) -> Bool {
        roots.contains { path == $0 || path.hasPrefix($0 + ".") }
    }

    /// Writes `state` as the unit's row: columns from its visible fields, its path under
    /// its visible parent; when the path changed, the whole subtree follows in the same
    /// transaction. Returns the new path.
    ///
    /// Throws 422 `invalid_parent` when the visible parent is the unit itself or one of
    /// its descendants, and `unknown_reference` when it does not exist.
    @discardableResult
    func store(id: UUID, state: RecordState, status: String, previousPath: String?, user: UUID, field: String = "parentId") async throws -> String {
        let visible = state.visibleFields()
        let label = OrgUnitImport.label(id)
        var path = label
        if let parent = visible["parentId"]?.stringValue.flatMap(UUID.init(text:)) {
            guard let parentRow = try await load(parent) else {
                throw APIError.invalid("parent \(parent.lowercased) does not exist", field: field, code: ErrorCode.unknownReference)
            }
            if parentRow.path.split(separator: ".").contains(Substring(label)) {
                throw APIError.invalid("org unit \(id.lowercased) can't move under its own descendant \(parent.lowercased)", field: field,
                                       code: ErrorCode.invalidParent)
            }
            path = parentRow.path + "." + label
        }
        let unit = try OrgUnitFields.unit(id: id, visible: visible, path: "changes")
        let normalized = try await OrgUnitImport.normalizeGeometry([unit])
        try await OrgUnitImport.write([(normalized[0], path, state)], status: status, account: account, user: user, on: connection, logger: logger)
        if let previousPath, previousPath != path {
            try await OrgUnitImport.repath(from: previousPath, to: path, account: account, except: [id], on: connection, logger: logger)
        }
        return path
    }

    /// Sets a unit's validation status (a proposal rejected), showing it again in the feed.
    func setStatus(_ id: UUID, _ status: String) async throws {
        try await connection.query(
            """
            UPDATE org_units SET validation_status = \(status), doc = jsonb_set(doc, '{status}', to_jsonb(\(status)::text)),
                updated_at = now(), feed_xid = pg_current_xact_id(), feed_seq = nextval('feed_seq')
            WHERE account_id = \(account) AND id = \(id)
            """, logger: logger)
    }

    /// Records who wrote which dot (as the other kinds do).
    func recordWrite(id: UUID, _ write: VersionedWrite, user: UUID, device: UUID?, batchId: UUID?) async throws {
        try await connection.query(
            """
            INSERT INTO record_writes (account_id, kind, record_id, replica, counter, user_id, device_id, batch_id)
            VALUES (\(account), 'orgUnit', \(id), \(write.replica), \(write.counter), \(user), \(device), \(batchId))
            ON CONFLICT DO NOTHING
            """, logger: logger)
    }
}
