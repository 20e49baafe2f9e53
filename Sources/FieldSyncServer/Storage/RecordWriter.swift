import FieldSyncCore
import Foundation
import Logging
import PostgresNIO

/// Loads and writes a batch's `entity` and `instance` records inside the push
/// transaction; what happens to each item is decided in FieldSyncCore
/// (``PushDecision/decide(_:records:references:project:projects:)``), without I/O.
///
/// Concurrency: before reading, the batch takes a transaction-scoped advisory lock on
/// every record it touches, in sorted order, so concurrent batches (from any number of
/// connections or server processes) serialise per record without deadlocks, and no
/// update is lost between the read of a state and its write.
struct RecordWriter {
    /// Who writes: references are checked against its scope, rows record it as author.
    let scope: CallerScope
    let connection: PostgresConnection
    let logger: Logger

    var account: UUID { scope.account }
    var user: UUID { scope.user }

    typealias Loaded = LoadedRecord
    typealias FormInfo = PushForm

    /// The advisory-lock keys of the records `items` touch, sorted: every batch takes
    /// them in this order (the push in ``PushBatchStore/claim(_:)``, or ``process(_:project:device:batchId:locked:)``),
    /// so batches never deadlock.
    static func lockKeys(account: UUID, _ items: [(index: Int, item: VersionedItem)]) -> [String] {
        Array(Set(items.map { "\(account.lowercased):\($0.item.kind.rawValue):\($0.item.id.lowercased)" })).sorted()
    }

    /// - Parameter locked: the caller already took ``lockKeys(account:_:)`` in this
    ///   transaction, in an earlier statement (the push folds them into its batch claim).
    func process(
        _ items: [(index: Int, item: VersionedItem)], project: UUID, device: UUID, batchId: UUID,
        locked: Bool = false
    ) async throws -> [Int: PushResult] {
        guard !items.isEmpty else { return [:] }
        if !locked {
            let keys = Self.lockKeys(account: account, items)
            try await connection.query(
                "SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM (SELECT unnest(\(keys)::text[]) AS k ORDER BY 1) s",
                logger: logger
            ).drain()
        }
        // The loads run in a statement after the one that took the locks: under READ
        // COMMITTED it sees every write of the batches that held them before us.
        let entityIds = Array(Set(items.filter { $0.item.kind == .entity }.map(\.item.id) + items.compactMap { $0.item.uuid("entityId") }))
        let instanceIds = items.filter { $0.item.kind == .instance }.map(\.item.id)
        let itemUnits = Array(Set(items.compactMap { $0.item.uuid("orgUnitId") }))
        let typeIds = Array(Set(items.compactMap { $0.item.uuid("entityTypeId") }))
        let (entities, units, knownTypes) = try await loadEntitiesAndReferences(
            entityIds: entityIds, instanceIds: instanceIds, unitIds: itemUnits, typeIds: typeIds)
        let instances = instanceIds.isEmpty ? [:] : try await loadInstances(instanceIds)
        let forms = try await loadForms(items.compactMap { $0.item.fixed["formId"]?.stringValue })

        let decision = PushDecision.decide(
            items, records: [.entity: entities, .instance: instances],
            references: PushReferences(units: units, entityTypes: knownTypes, forms: forms),
            project: project, projects: Set(scope.projects))
        func rows(_ kind: ItemKind) -> [(UUID, Loaded)] {
            let records = decision.records[kind] ?? [:]
            return (decision.touched[kind] ?? []).compactMap { id in records[id].map { (id, $0) } }
        }
        // Entities and the write log of every applied write (any kind) in one statement,
        // then instances (their own statements, only when the batch has some).
        try await flushEntities(rows(.entity), log: decision.applied, device: device, batchId: batchId)
        try await flushInstances(rows(.instance), forms: forms)
        return decision.results
    }

    // MARK: loading

    func loadEntities(_ ids: [UUID]) async throws -> [UUID: Loaded] {
        var out: [UUID: Loaded] = [:]
        let rows = try await connection.query(
            "SELECT id, project_id, entity_type_id, org_unit_id, state::text FROM entities WHERE account_id = \(account) AND id = ANY(\(ids)::uuid[])",
            logger: logger)
        for try await (id, projectId, type, unit, state) in rows.decode((UUID, UUID, UUID, UUID, String).self) {
            out[id] = Loaded(
                state: Self.state(state), projectId: projectId,
                fixed: ["entityTypeId": .string(type.lowercased), "orgUnitId": .string(unit.lowercased)], isNew: false, attachments: [])
        }
        return out
    }

    /// One statement for what a batch reads besides instances: the entities it writes or
    /// references, the org units its items and those records name (whether each exists
    /// for the caller and is in scope), and which of the named entity types exist.
    func loadEntitiesAndReferences(
        entityIds: [UUID], instanceIds: [UUID], unitIds: [UUID], typeIds: [UUID]
    ) async throws -> (entities: [UUID: Loaded], units: [UUID: Bool], types: Set<UUID>) {
        var entities: [UUID: Loaded] = [:]
        var units: [UUID: Bool] = [:]
        var types = Set<UUID>()
        let rows = try await connection.execute(
            ReferenceLoad(
                account: account, user: user, everything: scope.everything, subtrees: scope.subtrees,
                entityIds: entityIds, instanceIds: instanceIds, unitIds: unitIds, typeIds: typeIds), logger: logger)
        for try await (what, id, projectId, type, unit, state, inScope) in rows {
            switch what {
            case 0:
                guard let projectId, let type, let unit, let state else { continue }
                entities[id] = Loaded(
                    state: Self.state(state), projectId: projectId,
                    fixed: ["entityTypeId": .string(type.lowercased), "orgUnitId": .string(unit.lowercased)], isNew: false, attachments: [])
            case 1: units[id] = inScope
            default: types.insert(id)
            }
        }
        return (entities, units, types)
    }

    /// The statement of ``loadEntitiesAndReferences(entityIds:instanceIds:unitIds:typeIds:)``, prepared once per connection.
    struct ReferenceLoad: PostgresPreparedStatement {
        static let sql = """
            SELECT 0::int2, e.id, e.project_id, e.entity_type_id, e.org_unit_id, e.state::text, false
            FROM entities e WHERE e.account_id = $1 AND e.id = ANY($5::uuid[])
            UNION ALL
            SELECT 1::int2, o.id, NULL, NULL, NULL, NULL, $3::bool OR o.path <@ $4::ltree[]
            FROM org_units o
            WHERE o.account_id = $1 AND (o.validation_status = 'validated' OR o.created_by = $2)
              AND o.id = ANY($7::uuid[]
                  || ARRAY(SELECT e.org_unit_id FROM entities e WHERE e.account_id = $1 AND e.id = ANY($5::uuid[]))
                  || ARRAY(SELECT i.org_unit_id FROM instances i WHERE i.account_id = $1 AND i.id = ANY($6::uuid[])))
            UNION ALL
            SELECT 2::int2, t.id, NULL, NULL, NULL, NULL, false
            FROM entity_types t WHERE t.account_id = $1 AND t.id = ANY($8::uuid[])
            """
        typealias Row = (Int16, UUID, UUID?, UUID?, UUID?, String?, Bool)
        let account: UUID, user: UUID, everything: Bool, subtrees: [String]
        let entityIds: [UUID], instanceIds: [UUID], unitIds: [UUID], typeIds: [UUID]

        func makeBindings() throws -> PostgresBindings {
            var b = PostgresBindings(capacity: 8)
            b.append(account); b.append(user); b.append(everything); b.append(subtrees)
            b.append(entityIds); b.append(instanceIds); b.append(unitIds); b.append(typeIds)
            return b
        }

        func decodeRow(_ row: PostgresRow) throws -> Row {
            try row.decode(Row.self)
        }
    }

    func loadInstances(_ ids: [UUID]) async throws -> [UUID: Loaded] {
        var out: [UUID: Loaded] = [:]
        let rows = try await connection.query(
            """
            SELECT i.id, i.project_id, f.form_id, i.form_version, i.org_unit_id, i.entity_id, i.period,
                   CASE WHEN i.location IS NULL THEN NULL ELSE ST_AsGeoJSON(i.location)::text END, i.location_z, i.attachments::text, i.state::text
            FROM instances i JOIN forms f ON f.account_id = i.account_id AND f.id = i.form_uuid
            WHERE i.account_id = \(account) AND i.id = ANY(\(ids)::uuid[])
            """, logger: logger)
        for try await (id, projectId, formId, version, unit, entity, period, location, z, attachments, state)
            in rows.decode((UUID, UUID, String, String, UUID, UUID?, String?, String?, Double?, String, String).self)
        {
            var fixed: [String: JSONValue] = ["formId": .string(formId), "formVersion": .string(version), "orgUnitId": .string(unit.lowercased)]
            if let entity { fixed["entityId"] = .string(entity.lowercased) }
            if let period { fixed["period"] = .string(period) }
            if let location, let point = try? JSONParser.parse(location), let c = point["coordinates"]?.arrayValue, c.count >= 2 {
                fixed["location"] = GeoPoint(longitude: c[0].numberValue ?? 0, latitude: c[1].numberValue ?? 0, altitude: z).geoJSON
            }
            let list = ((try? JSONParser.parse(attachments))?.arrayValue ?? []).compactMap { a -> VersionedItem.Attachment? in
                guard let n = a["name"]?.stringValue, let s = a["sha256"]?.stringValue else { return nil }
                return .init(name: n, sha256: s, size: Int64(a["size"]?.numberValue ?? 0), contentType: a["contentType"]?.stringValue)
            }
            out[id] = Loaded(state: Self.state(state), projectId: projectId, fixed: fixed, isNew: false, attachments: list)
        }
        return out
    }

    /// A stored state (an unreadable one reads as no state).
    static func state(_ text: String) -> RecordState {
        RecordState(stateText: text) ?? RecordState()
    }

    /// Org units that exist for the caller (validated, or its own proposals), and whether each is in scope.
    func orgUnitScope(_ ids: [UUID]) async throws -> [UUID: Bool] {
        var out: [UUID: Bool] = [:]
        let rows = try await connection.query(
            """
            SELECT o.id, \(scope.everything) OR o.path <@ \(scope.subtrees)::ltree[]
            FROM org_units o
            WHERE o.account_id = \(account) AND o.id = ANY(\(ids)::uuid[]) AND (o.validation_status = 'validated' OR o.created_by = \(user))
            """, logger: logger)
        for try await (id, inScope) in rows.decode((UUID, Bool).self) { out[id] = inScope }
        return out
    }

    /// Forms by the key an instance names them with (its `formId` text, or its `id`).
    func loadForms(_ keys: [String]) async throws -> [String: FormInfo] {
        guard !keys.isEmpty else { return [:] }
        let unique = Array(Set(keys))
        var out: [String: FormInfo] = [:]
        let rows = try await connection.query(
            """
            SELECT f.id, f.form_id, v.version, v.fields::text FROM forms f JOIN form_versions v ON v.account_id = f.account_id AND v.form_uuid = f.id
            WHERE f.account_id = \(account) AND (f.form_id = ANY(\(unique)::text[]) OR f.id::text = ANY(\(unique.map { $0.lowercased() })::text[]))
            """, logger: logger)
        for try await (id, formId, version, fields) in rows.decode((UUID, String, String, String?).self) {
            let value = fields.flatMap { try? JSONParser.parse($0) } ?? .null
            for key in [formId, id.lowercased] {
                out[key, default: FormInfo(id: id, formId: formId, versions: [:])].versions[version] = value
            }
        }
        return out
    }

    // MARK: writing

    /// Upserts entity rows and, in the same statement, logs `log`'s writes (any kind) in
    /// `record_writes`, as sent by `device` in batch `batchId`.
    func flushEntities(_ rows: [(UUID, Loaded)], log: [VersionedItem] = [], device: UUID? = nil, batchId: UUID? = nil) async throws {
        guard !rows.isEmpty || !log.isEmpty else { return }
        let ids = rows.map(\.0)
        let projects = rows.map(\.1.projectId)
        let types = try rows.map { try Self.reference("entityTypeId", of: $0) }
        let units = try rows.map { try Self.reference("orgUnitId", of: $0) }
        // Written straight from the states (the generic JSONValue route built a tree per
        // value first, the largest CPU cost of a push; shared records hold many values).
        // The document's conflicts are copied from the state's text (the same values).
        let stored = rows.map { $0.1.state.storedText() }
        let states = stored.map { String(decoding: $0.bytes, as: UTF8.self) }
        let conflicts = rows.map(\.1.state.isInConflict)
        let isNew = rows.map(\.1.isNew)
        let docs = zip(rows, stored).map { row, text in
            let (id, r) = row
            return Self.entityDocumentText(
                r.state, stored: text, id: id, project: r.projectId, type: r.fixed["entityTypeId"] ?? .null, unit: r.fixed["orgUnitId"] ?? .null)
        }
        assert(
            zip(rows, zip(states, docs)).allSatisfy { row, text in
                let (id, r) = row
                return (try? JSONParser.parse(text.0)) == r.state.stateJSON
                    && (try? JSONParser.parse(text.1))
                        == r.state.recordDocument(
                            kind: .entity, id: id,
                            attributes: [
                                "projectId": .string(r.projectId.lowercased), "entityTypeId": r.fixed["entityTypeId"] ?? .null,
                                "orgUnitId": r.fixed["orgUnitId"] ?? .null,
                            ])
            }, "the direct writers must match RecordState.stateJSON and recordDocument")
        _ = try await connection.execute(
            EntityFlush(
                account: account, user: user, device: device, batchId: batchId, ids: ids, projects: projects, types: types, units: units,
                states: states, docs: docs, conflicts: conflicts, isNew: isNew,
                logKinds: log.map(\.kind.rawValue), logIds: log.map(\.id), logReplicas: log.map(\.write.replica),
                logCounters: log.map(\.write.counter)),
            logger: logger)
    }

    /// Logs a write made outside a push (a supervisor's resolve, replica `server`).
    func logWrite(kind: ItemKind, id: UUID, _ write: VersionedWrite) async throws {
        try await connection.query(
            """
            INSERT INTO record_writes (account_id, kind, record_id, replica, counter, user_id)
            VALUES (\(account), \(kind.rawValue), \(id), \(write.replica), \(write.counter), \(user))
            """, logger: logger)
    }

    /// The stored document (JSON text) of an entity or an instance.
    func document(kind: ItemKind, id: UUID) async throws -> String? {
        let query: PostgresQuery =
            kind == .entity
            ? "SELECT doc::text FROM entities WHERE account_id = \(account) AND id = \(id)"
            : "SELECT doc::text FROM instances WHERE account_id = \(account) AND id = \(id)"
        return try await connection.query(query, logger: logger).collect { try $0.decode(String.self) }.first
    }

    /// Takes the advisory lock of one record (as a push does for each of its records).
    func lock(kind: ItemKind, id: UUID) async throws {
        let key = "\(account.lowercased):\(kind.rawValue):\(id.lowercased)"
        try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended(\(key), 0))", logger: logger).drain()
    }

    /// A reference every stored record has (an entity's type, a record's unit): the push
    /// decision guarantees it, so a missing one is a bug, answered as an internal error.
    static func reference(_ name: String, of row: (UUID, Loaded)) throws -> UUID {
        guard let id = row.1.fixed[name]?.stringValue.flatMap(UUID.init(text:)) else {
            throw StoredRecordInvariant(message: "record \(row.0.lowercased) has no \(name) to store")
        }
        return id
    }

    /// A record about to be stored lacks what every stored record has.
    struct StoredRecordInvariant: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    // MARK: direct JSON writers (same documents as RecordState.stateJSON / recordDocument)

    /// ``RecordState/recordDocument(kind:id:attributes:)`` of an entity, as text.
    static func entityDocumentText(
        _ state: RecordState, stored: StoredStateText, id: UUID, project: UUID, type: JSONValue, unit: JSONValue
    ) -> String {
        var w = JSONWriter(capacity: 256)
        w.raw("{\"kind\":\"entity\",\"id\":")
        w.write(string: id.lowercased)
        w.raw(",\"projectId\":")
        w.write(string: project.lowercased)
        w.raw(",\"entityTypeId\":")
        w.write(type)
        w.raw(",\"orgUnitId\":")
        w.write(unit)
        w.raw(",\"fields\":{")
        var k = 0
        for (name, values) in state.fields {
            guard let visible = values.first else { continue }
            if k > 0 { w.raw(",") }
            k += 1
            w.write(string: name)
            w.raw(":")
            w.write(visible.value)
        }
        w.raw("},\"version\":")
        w.write(version: state.version)
        if !stored.conflicts.isEmpty { w.raw(",") }
        stored.writeConflicts(into: &w)
        w.raw("}")
        return String(decoding: w.bytes, as: UTF8.self)
    }

    /// The statement of ``flushEntities(_:log:on:)``, prepared once per connection (it is
    /// the push's largest statement: planning it every time costs more than running it).
    ///
    /// New entities are inserted and existing ones updated, each by a plain statement, not
    /// an upsert: the writer holds every record's advisory lock and has read it after
    /// taking it, so it knows which exist (an upsert probed the primary key of every row
    /// first). Were that ever wrong, the insert fails on the key instead of overwriting.
    struct EntityFlush: PostgresPreparedStatement {
        // A data-modifying CTE runs to completion whether or not the outer statement reads it.
        static let sql = """
            WITH t AS (
                SELECT * FROM unnest($5::uuid[], $6::uuid[], $7::uuid[], $8::uuid[], $9::text[], $10::text[], $11::bool[], $16::bool[])
                     AS t(id, project, type, unit, state, doc, conflict, is_new)
            ), ins AS (
                INSERT INTO entities (account_id, id, project_id, entity_type_id, org_unit_id, state, doc, has_conflicts, created_by)
                SELECT $1, t.id, t.project, t.type, t.unit, t.state, t.doc, t.conflict, $2 FROM t WHERE t.is_new
                RETURNING 1
            ), upd AS (
                UPDATE entities e SET state = t.state, doc = t.doc, has_conflicts = t.conflict, updated_at = now(),
                    feed_xid = pg_current_xact_id(), feed_seq = nextval('feed_seq')
                FROM t WHERE NOT t.is_new AND e.account_id = $1 AND e.id = t.id
                RETURNING 1
            )
            INSERT INTO record_writes (account_id, kind, record_id, replica, counter, user_id, device_id, batch_id)
            SELECT $1, w.kind, w.id, w.replica, w.counter, $2, $3, $4
            FROM unnest($12::text[], $13::uuid[], $14::text[], $15::int8[]) AS w(kind, id, replica, counter)
            ON CONFLICT DO NOTHING
            """
        typealias Row = ()
        let account: UUID, user: UUID, device: UUID?, batchId: UUID?
        let ids: [UUID], projects: [UUID], types: [UUID], units: [UUID]
        let states: [String], docs: [String], conflicts: [Bool], isNew: [Bool]
        let logKinds: [String], logIds: [UUID], logReplicas: [String], logCounters: [Int64]

        func makeBindings() throws -> PostgresBindings {
            var b = PostgresBindings(capacity: 16)
            b.append(account); b.append(user); b.append(device); b.append(batchId)
            b.append(ids); b.append(projects); b.append(types); b.append(units)
            b.append(states); b.append(docs); b.append(conflicts)
            b.append(logKinds); b.append(logIds); b.append(logReplicas); b.append(logCounters); b.append(isNew)
            return b
        }

        func decodeRow(_ row: PostgresRow) throws -> Row {}
    }

    func flushInstances(_ rows: [(UUID, Loaded)], forms: [String: FormInfo]) async throws {
        guard !rows.isEmpty else { return }
        let nilUUID = OrgUnitImport.nilUUID
        let ids = rows.map(\.0)
        let projects = rows.map(\.1.projectId)
        let formUUIDs = rows.map { forms[$0.1.fixed["formId"]?.stringValue ?? ""]?.id ?? nilUUID }
        let formIds = rows.map { forms[$0.1.fixed["formId"]?.stringValue ?? ""]?.formId ?? "" }
        let versionsText = rows.map { $0.1.fixed["formVersion"]?.stringValue ?? "" }
        let units = try rows.map { try Self.reference("orgUnitId", of: $0) }
        let entities = rows.map { UUID(text: $0.1.fixed["entityId"]?.stringValue ?? "") ?? nilUUID }
        let periods = rows.map { $0.1.fixed["period"]?.stringValue ?? "" }
        let points = rows.map { r in r.1.fixed["location"].flatMap { try? GeoPoint(geoJSON: $0, field: "location") } }
        let lon = points.map { $0?.longitude ?? .nan }
        let lat = points.map { $0?.latitude ?? .nan }
        let z = points.map { $0?.altitude ?? .nan }
        let attachments = rows.map { JSONWriter.string(.array($0.1.attachments.map(\.json))) }
        let states = rows.map { $0.1.state.stateText }
        let conflicts = rows.map(\.1.state.isInConflict)
        let docs = zip(rows, formIds).map { row, formId in
            let (id, r) = row
            var attributes: [String: JSONValue] = ["projectId": .string(r.projectId.lowercased), "formId": .string(formId)]
            for name in ["formVersion", "orgUnitId", "entityId", "period", "location"] { attributes[name] = r.fixed[name] ?? .null }
            if !r.attachments.isEmpty { attributes["attachments"] = .array(r.attachments.map(\.json)) }
            return JSONWriter.string(r.state.recordDocument(kind: .instance, id: id, attributes: attributes))
        }
        // complete: every listed attachment stored; outsideOrgUnit: location not covered by the unit's polygon.
        try await connection.query(
            """
            INSERT INTO instances (account_id, id, project_id, form_uuid, form_version, org_unit_id, entity_id, period, location, location_z,
                                   attachments, complete, outside_org_unit, state, doc, has_conflicts, created_by)
            SELECT \(account), t.id, t.project, t.form, t.fv, t.unit, NULLIF(t.entity, \(nilUUID)), NULLIF(t.period, ''), g.loc, NULLIF(t.z, 'NaN'),
                   t.att::jsonb, c.complete, o.outside, t.state,
                   t.doc::jsonb || jsonb_build_object('complete', c.complete, 'outsideOrgUnit', o.outside), t.conflict, \(user)
            FROM unnest(\(ids)::uuid[], \(projects)::uuid[], \(formUUIDs)::uuid[], \(versionsText)::text[], \(units)::uuid[], \(entities)::uuid[],
                        \(periods)::text[], \(lon)::float8[], \(lat)::float8[], \(z)::float8[], \(attachments)::text[], \(states)::text[],
                        \(docs)::text[], \(conflicts)::bool[])
                 AS t(id, project, form, fv, unit, entity, period, lon, lat, z, att, state, doc, conflict)
            CROSS JOIN LATERAL (SELECT CASE WHEN t.lon = 'NaN' THEN NULL ELSE ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326) END AS loc) g
            CROSS JOIN LATERAL (SELECT NOT EXISTS (
                SELECT 1 FROM jsonb_array_elements(t.att::jsonb) a
                WHERE NOT EXISTS (SELECT 1 FROM attachments s WHERE s.account_id = \(account) AND s.sha256 = decode(a->>'sha256', 'hex'))) AS complete) c
            CROSS JOIN LATERAL (SELECT coalesce((SELECT NOT ST_Covers(u.geom, g.loc) FROM org_units u
                WHERE u.account_id = \(account) AND u.id = t.unit AND u.geom IS NOT NULL AND g.loc IS NOT NULL), false) AS outside) o
            ON CONFLICT (account_id, id) DO UPDATE SET attachments = EXCLUDED.attachments, complete = EXCLUDED.complete,
                state = EXCLUDED.state, doc = EXCLUDED.doc, has_conflicts = EXCLUDED.has_conflicts,
                updated_at = now(), feed_xid = pg_current_xact_id(), feed_seq = nextval('feed_seq')
            """, logger: logger)
        // Which instance lists which file, so a later upload can complete it.
        let names = rows.flatMap { id, r in r.attachments.map { _ in id } }
        let attNames = rows.flatMap { $0.1.attachments.map(\.name) }
        let shas = rows.flatMap { $0.1.attachments.map(\.sha256) }
        if !names.isEmpty {
            try await connection.query(
                """
                INSERT INTO instance_attachments (account_id, instance_id, name, sha256)
                SELECT \(account), t.id, t.name, decode(t.sha, 'hex') FROM unnest(\(names)::uuid[], \(attNames)::text[], \(shas)::text[]) AS t(id, name, sha)
                ON CONFLICT (account_id, instance_id, name) DO UPDATE SET sha256 = EXCLUDED.sha256
                """, logger: logger)
        }
    }
}

extension AsyncSequence where Self: Sendable {
    /// Every element (for the rows of a prepared statement: consumes them, releasing the connection).
    func collectAll() async throws -> [Element] {
        var out: [Element] = []
        for try await element in self { out.append(element) }
        return out
    }
}
