import FieldSyncCore
import Foundation
import Logging
import NIOCore
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

    func typeExists(_ id: UUID) async throws -> Bool {
        try await connection.query("SELECT 1 FROM orgunit_types WHERE account_id = \(account) AND id = \(id)", logger: logger)
            .collect { _ in true }.first ?? false
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
                throw APIError.invalid(
                    "org unit \(id.lowercased) can't move under its own descendant \(parent.lowercased)", field: field,
                    code: ErrorCode.invalidParent)
            }
            path = parentRow.path + "." + label
        }
        let unit = try OrgUnitFields.unit(id: id, visible: visible, path: "changes")
        let normalized = try await OrgUnitImport.normalizeGeometry([unit])
        try await write(normalized.map { ($0, path, state) }, status: status, user: user)
        if let previousPath, previousPath != path {
            try await repath(from: previousPath, to: path, except: [id])
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

    /// A unit's document (`OrgUnit`), as JSON text.
    func document(_ id: UUID) async throws -> String? {
        try await connection.query("SELECT doc::text FROM org_units WHERE account_id = \(account) AND id = \(id)", logger: logger)
            .collect { try $0.decode(String.self) }.first
    }

    /// `GET /v1/orgunits/{id}/summary` of the unit `id` at `path`, for its whole subtree:
    /// the instances, how many lie outside their unit's polygon, how many wait for
    /// attachments, how many records are in conflict, and the changes awaiting review.
    /// Records are counted in the projects of `scope` only.
    func summary(of id: UUID, at path: String, scope: CallerScope) async throws -> String? {
        try await connection.query(
            """
            WITH sub AS (SELECT id FROM org_units WHERE account_id = \(account) AND path <@ \(path)::ltree)
            SELECT json_build_object(
                'orgUnitId', \(id),
                'units', (SELECT count(*) FROM sub),
                'instances', count(i.id),
                'outsideOrgUnit', count(i.id) FILTER (WHERE i.outside_org_unit),
                'incomplete', count(i.id) FILTER (WHERE NOT i.complete),
                'instancesInConflict', count(i.id) FILTER (WHERE i.has_conflicts),
                'entitiesInConflict', (SELECT count(*) FROM entities e WHERE e.account_id = \(account) AND e.has_conflicts
                                         AND e.org_unit_id IN (SELECT id FROM sub) AND e.project_id = ANY(\(scope.projects)::uuid[])),
                'pendingChanges', (SELECT count(*) FROM orgunit_change_requests r WHERE r.account_id = \(account) AND r.status = 'pending'
                                     AND r.org_unit_id IN (SELECT id FROM sub)))::text
            FROM instances i
            WHERE i.account_id = \(account) AND i.org_unit_id IN (SELECT id FROM sub) AND i.project_id = ANY(\(scope.projects)::uuid[])
            """, logger: logger
        ).collect { try $0.decode(String.self) }.first
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

    // MARK: import and tree writes

    /// Imports `units` (their geometry normalised, ``OrgUnitImport/normalizeGeometry(_:)``)
    /// under the account's tree lock; run it in one transaction. Returns the ids, in
    /// input order.
    func importUnits(_ units: [OrgUnitImport.Unit], by user: UUID) async throws -> [UUID] {
        let c = connection
        let ids = units.map(\.id)
        let parents = units.compactMap(\.parentId)
        let types = Array(Set(units.compactMap(\.typeId)))
        try await lockTree()
        let knownTypes = Set(
            try await c.query("SELECT id FROM orgunit_types WHERE account_id = \(account) AND id = ANY(\(types)::uuid[])", logger: logger)
                .collect { try $0.decode(UUID.self) })
        for u in units {
            if let t = u.typeId, !knownTypes.contains(t) {
                throw APIError.invalid(
                    "org-unit type \(t.lowercased) does not exist in this account", field: "\(u.path).orgUnitTypeId", code: ErrorCode.unknownReference
                )
            }
        }
        struct Existing { var path: String; var state: RecordState }
        var existing: [UUID: Existing] = [:]
        let rows = try await c.query(
            "SELECT id, path::text, state::text FROM org_units WHERE account_id = \(account) AND id = ANY(\(ids + parents)::uuid[])", logger: logger)
        for try await (id, path, state) in rows.decode((UUID, String, String).self) {
            existing[id] = Existing(path: path, state: RecordWriter.state(state))
        }
        // Paths: parents first, from the file or the database; cycles refused.
        let byId = Dictionary(units.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
        var paths: [UUID: String] = [:]
        func resolve(_ id: UUID, _ visiting: inout Set<UUID>) throws -> String {
            if let p = paths[id] { return p }
            guard let u = byId[id] else {
                guard let e = existing[id] else { throw APIError.invalid("unknown parent", code: ErrorCode.unknownReference) }
                return e.path
            }
            guard visiting.insert(id).inserted else {
                throw APIError.invalid("org unit \(id.lowercased) is its own ancestor", field: "\(u.path).parentId", code: ErrorCode.invalidParent)
            }
            var path = OrgUnitImport.label(id)
            if let parent = u.parentId {
                guard byId[parent] != nil || existing[parent] != nil else {
                    throw APIError.invalid(
                        "parent \(parent.lowercased) does not exist", field: "\(u.path).parentId", code: ErrorCode.unknownReference)
                }
                let parentPath = try resolve(parent, &visiting)
                if parentPath.split(separator: ".").contains(Substring(OrgUnitImport.label(id))) {
                    throw APIError.invalid(
                        "org unit \(id.lowercased) would be moved under its own descendant", field: "\(u.path).parentId",
                        code: ErrorCode.invalidParent)
                }
                path = parentPath + "." + path
            }
            visiting.remove(id)
            paths[id] = path
            return path
        }
        for u in units {
            var visiting = Set<UUID>()
            _ = try resolve(u.id, &visiting)
        }
        // Versioned writes for what changed.
        let now = Timestamp.now()
        var rowsToWrite: [(OrgUnitImport.Unit, String, RecordState)] = []
        var moved: [(old: String, new: String)] = []
        for u in units {
            var state = existing[u.id]?.state ?? RecordState()
            let visible = state.visibleFields()
            let changes = u.fields.filter { visible[$0.key] != $0.value || state.conflicts()[$0.key] != nil }
            guard let path = paths[u.id] else { throw APIError.unavailable("org unit \(u.id.lowercased) has no resolved path") }
            if changes.isEmpty, existing[u.id]?.path == path { continue }
            if !changes.isEmpty { state.apply(state.serverWrite(changes: changes, editedAt: now)) }
            if let old = existing[u.id]?.path, old != path { moved.append((old, path)) }
            rowsToWrite.append((u, path, state))
        }
        if !rowsToWrite.isEmpty {
            try await write(rowsToWrite, user: user)
        }
        // Descendants not in the file follow a moved unit.
        for m in moved {
            try await repath(from: m.old, to: m.new, except: ids)
        }
        return ids
    }

    /// Moves the descendants of a unit whose path changed from `old` to `new` (all of
    /// them, in one statement, in the caller's transaction), except `except` (written
    /// by the caller itself). They appear again in the feed.
    func repath(from old: String, to new: String, except: [UUID] = []) async throws {
        try await connection.query(
            """
            UPDATE org_units SET path = \(new)::ltree || subpath(path, nlevel(\(old)::ltree)),
                feed_xid = pg_current_xact_id(), feed_seq = nextval('feed_seq')
            WHERE account_id = \(account) AND path <@ \(old)::ltree AND path <> \(old)::ltree AND NOT (id = ANY(\(except)::uuid[]))
            """, logger: logger)
    }

    /// Upserts the units with one statement. `status` is their validation status:
    /// `validated`, or `pending` for a unit an agent proposed.
    func write(_ rows: [(OrgUnitImport.Unit, String, RecordState)], status: String = "validated", user: UUID) async throws {
        let nilUUID = OrgUnitImport.nilUUID
        let ids = rows.map(\.0.id)
        let parentIds = rows.map { $0.0.parentId ?? nilUUID }
        let names = rows.map(\.0.name)
        let typeIds = rows.map { $0.0.typeId ?? nilUUID }
        let paths = rows.map(\.1)
        let geoms = rows.map { ByteBuffer(bytes: $0.0.area?.ewkb ?? []) }
        let simplified = rows.map { ByteBuffer(bytes: $0.0.area?.simplifiedEWKB ?? []) }
        let lon = rows.map { $0.0.location?.longitude ?? $0.0.area?.interiorPoint.lon ?? .nan }
        let lat = rows.map { $0.0.location?.latitude ?? $0.0.area?.interiorPoint.lat ?? .nan }
        let z = rows.map { $0.0.location?.altitude ?? .nan }
        let aliases = rows.map { JSONWriter.string(.array($0.0.aliases.map(JSONValue.string))) }
        let states = rows.map { $0.2.stateText }
        let versions = rows.map { JSONWriter.string($0.2.version.json) }
        let docs = rows.map { row in
            JSONWriter.string(row.2.recordDocument(kind: .orgUnit, id: row.0.id, attributes: ["projectId": .null, "status": .string(status)]))
        }
        try await connection.query(
            """
            INSERT INTO org_units (account_id, id, parent_id, name, org_unit_type_id, path, geom, simplified_geom, location, location_z,
                                   aliases, validation_status, state, version, doc, created_by)
            SELECT \(account), t.id, NULLIF(t.parent, \(nilUUID)), t.name, NULLIF(t.type, \(nilUUID)), t.path::ltree,
                   ST_GeomFromEWKB(NULLIF(t.geom, ''::bytea)), ST_GeomFromEWKB(NULLIF(t.simple, ''::bytea)),
                   CASE WHEN t.lon = 'NaN' THEN NULL ELSE ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326) END, NULLIF(t.z, 'NaN'),
                   ARRAY(SELECT jsonb_array_elements_text(t.aliases::jsonb)), \(status), t.state::jsonb, t.version::jsonb, t.doc::jsonb, \(user)
            FROM unnest(\(ids)::uuid[], \(parentIds)::uuid[], \(names)::text[], \(typeIds)::uuid[], \(paths)::text[], \(geoms)::bytea[],
                        \(simplified)::bytea[], \(lon)::float8[], \(lat)::float8[], \(z)::float8[], \(aliases)::text[], \(states)::text[],
                        \(versions)::text[], \(docs)::text[])
                 AS t(id, parent, name, type, path, geom, simple, lon, lat, z, aliases, state, version, doc)
            ON CONFLICT (account_id, id) DO UPDATE SET
                parent_id = EXCLUDED.parent_id, name = EXCLUDED.name, org_unit_type_id = EXCLUDED.org_unit_type_id, path = EXCLUDED.path,
                geom = EXCLUDED.geom, simplified_geom = EXCLUDED.simplified_geom, location = EXCLUDED.location, location_z = EXCLUDED.location_z,
                aliases = EXCLUDED.aliases, validation_status = EXCLUDED.validation_status, state = EXCLUDED.state, version = EXCLUDED.version,
                doc = EXCLUDED.doc, updated_at = now(), feed_xid = pg_current_xact_id(), feed_seq = nextval('feed_seq')
            """, logger: logger)
    }
}
