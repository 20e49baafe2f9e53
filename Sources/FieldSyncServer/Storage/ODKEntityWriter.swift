import FieldSyncCore
import Foundation
import Logging
import PostgresNIO

/// Writes an entity for an ODK client (pyodk through Central's API): Central's integer
/// `baseVersion` becomes the exact FieldSync version it names (``IntegerVersions``), and
/// the change becomes a versioned write by the client's device (counters assigned by the
/// server, as for Collect), applied by the same ``RecordWriter`` as every push. So an
/// update made on an old version is merged per field, never last-received-wins: fields
/// others changed since stay, a field both changed keeps both values as a conflict.
///
/// Runs inside the caller's transaction; takes the entity's advisory lock first, so the
/// version read and the write it bases are one step against concurrent writers.
struct ODKEntityWriter {
    let scope: CallerScope
    let project: UUID
    let connection: PostgresConnection
    let logger: Logger

    /// Which version an update is made on.
    enum Base: Sendable, Equatable {
        /// The version the client read; stale ones are refused (409) unless `force`.
        case version(Int, force: Bool)
        /// Whatever is current (Central's `force=true` without a version).
        case current
    }

    /// One entity change: a create (`base` nil) or an update, delete included.
    struct Change: Sendable {
        var entity: UUID
        var list: UUID
        var base: Base?
        /// `label` is the field `label`; nil keeps it.
        var label: String?
        var data: [String: JSONValue]
        var delete = false
    }

    /// Writes `change` as `device`'s next write; answers the push result (status and
    /// version) or throws the refusal as a typed error.
    /// `register` false: the caller registered the device already (Collect's submissions).
    func write(_ change: Change, device: UUID, userAgent: String?, register: Bool = true) async throws -> PushResult {
        let records = RecordWriter(scope: scope, connection: connection, logger: logger)
        let store = CentralEntityStore(scope: scope, connection: connection, logger: logger)
        try await records.lock(kind: .entity, id: change.entity)
        let applied = try await store.appliedWrites(change.entity)
        let placement = try await store.entityPlacement(change.entity)
        let replica = device.lowercased
        var base = VersionVector()
        var item: [String: JSONValue] = [:]
        if let wanted = change.base {
            guard let placement, placement.type == change.list, placement.project == project else {
                throw APIError.notFound("entity \(change.entity.lowercased) does not exist in this entity list")
            }
            let current = max(1, IntegerVersions.current(applied))
            let n: Int
            switch wanted {
            case .current: n = current
            case .version(let v, let force):
                guard v >= 1, v <= current else {
                    throw APIError.conflict(
                        ErrorCode.invalidVersion, "baseVersion \(v) does not exist: the entity is at version \(current)", field: "baseVersion")
                }
                guard v == current || force else {
                    throw APIError.conflict(
                        ErrorCode.invalidVersion,
                        "the entity changed since version \(v) (it is at version \(current)); read it again, or send force=true to merge your change per field",
                        field: "baseVersion")
                }
                n = v
            }
            // No log (records written before it was kept): the write is based on the stored vector.
            if let b = IntegerVersions.base(applied, version: n, replica: replica) {
                base = b
            } else {
                base = try await storedVersion(change.entity)
            }
        } else {
            if placement != nil || !applied.isEmpty {
                throw APIError.conflict(ErrorCode.alreadyExists, "an entity with uuid \(change.entity.lowercased) already exists", field: "uuid")
            }
            var unit = scope.orgUnits.first
            if unit == nil, scope.everything { unit = try await store.firstRootUnit() }
            guard let unit else {
                throw APIError.forbidden("you have no org unit to file entities under; an admin gives you one (PATCH /v1/users/{id})")
            }
            item["entityTypeId"] = .string(change.list.lowercased)
            item["orgUnitId"] = .string(unit.lowercased)
        }
        var changes = change.data
        if let label = change.label { changes["label"] = .string(label) }
        if change.delete { changes["deleted"] = .bool(true) }
        if register {
            _ = try await DeviceRegistry(connection: connection, logger: logger).register(
                account: scope.account, device: device, model: "ODK Central API", appVersion: userAgent, user: scope.user)
        }
        let counter = try await ODKStore(account: scope.account, connection: connection, logger: logger).nextCounter(device: device)
        item["kind"] = .string("entity")
        item["id"] = .string(change.entity.lowercased)
        item["replica"] = .string(replica)
        item["counter"] = .number(Double(counter))
        item["editedAt"] = .string(Timestamp.now().description)
        item["base"] = base.json
        item["changes"] = .object(changes)
        let versioned: VersionedItem
        do throws(ItemError) { versioned = try VersionedItem(json: .object(item), kind: .entity, path: "entity", device: device) } catch {
            throw APIError(error)
        }
        let results = try await records.process(
            [(0, versioned)], project: project, device: device,
            batchId: OpenRosa.namedUUID("entity-write", scope.account, "\(replica):\(counter)"))
        guard let result = results[0] else { throw APIError.unavailable("the entity write was not processed") }
        if result.status == .rejected {
            throw APIError(result.error ?? ItemError.invalidField("entity", "the entity write was refused"))
        }
        try await keepVersion(change.entity)
        return result
    }

    /// Keeps the entity's visible fields at the version this write made (the number of
    /// writes applied to it, under its lock): what a phone that read this version saw
    /// (``fields(of:atVersion:)``).
    func keepVersion(_ entity: UUID) async throws {
        try await connection.query(
            """
            INSERT INTO odk_entity_versions (account_id, entity_id, version, fields)
            SELECT e.account_id, e.id,
                   (SELECT count(*) FROM record_writes r WHERE r.account_id = e.account_id AND r.kind = 'entity' AND r.record_id = e.id),
                   coalesce(e.doc::jsonb -> 'fields', '{}'::jsonb)
            FROM entities e WHERE e.account_id = \(scope.account) AND e.id = \(entity)
            ON CONFLICT DO NOTHING
            """, logger: logger)
    }

    /// The entity's visible fields at Central version `version`, when an ODK route made
    /// that version (nil otherwise).
    func fields(of entity: UUID, atVersion version: Int) async throws -> [String: JSONValue]? {
        try await connection.query(
            """
            SELECT fields::text FROM odk_entity_versions
            WHERE account_id = \(scope.account) AND entity_id = \(entity) AND version = \(Int64(version))
            """, logger: logger
        ).collect { try $0.decode(String.self) }.first.flatMap { (try? JSONParser.parse($0))?.objectValue }
    }

    /// The version vector stored with an entity (for records whose writes were not logged).
    func storedVersion(_ entity: UUID) async throws -> VersionVector {
        let text =
            try await connection.query(
                "SELECT (state::jsonb -> 'version')::text FROM entities WHERE account_id = \(scope.account) AND id = \(entity)", logger: logger
            ).collect { try $0.decode(String?.self) }.first ?? nil
        guard let text, let json = try? JSONParser.parse(text) else { return VersionVector() }
        return VersionVector(json: json) ?? VersionVector()
    }
}
