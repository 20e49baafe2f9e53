import FieldSyncCore
import FieldSyncODK
import Foundation
import Logging
import PostgresNIO

/// Applies the entity block of a Collect submission (`meta/entity`) as an entity write
/// by the submitting phone, inside the submission's transaction.
///
/// Central's integer versions name FieldSync's exact versions (``IntegerVersions``): an
/// update is based on the version the phone had from the server (`trunkVersion`, or
/// `baseVersion` outside an offline chain) plus the phone's own latest write, so updates
/// made offline by several phones are merged per field, never last-received-wins. An
/// update whose predecessor has not arrived (the entity itself, the previous update of its
/// offline chain, or the version it names) is held and applied as soon as it has: never
/// dropped, whatever order the submissions arrive in.
struct ODKSubmissionEntities {
    let scope: CallerScope
    let project: UUID
    let connection: PostgresConnection
    let logger: Logger

    /// An entity update from one submission, as applied or held.
    struct Update: Sendable {
        var instanceID: String
        var entity: UUID
        var list: UUID
        var branch: String?
        /// The version the phone edited (its own, inside an offline chain); nil: the
        /// current one (Collect's create-or-update of an entity it never had).
        var baseVersion: Int?
        var trunkVersion: Int?
        var label: String?
        var data: [String: JSONValue]
        var device: UUID
        /// Who sent it: a held update is written in its sender's scope, whoever releases it.
        var user: UUID

        /// The server version the update's chain starts from: `trunkVersion`, or version 1
        /// for a chain on an entity the phone created offline (Collect leaves
        /// trunkVersion empty then); nil outside a chain.
        var trunk: Int? { trunkVersion ?? (branch != nil ? 1 : nil) }
    }

    /// Applies `block`; answers a clause for the OpenRosa message ("; entity updated").
    func apply(_ block: ODKSubmissionEntity, instanceID: String, device: UUID, userAgent: String?) async throws -> String {
        let store = CentralEntityStore(scope: scope, connection: connection, logger: logger)
        guard let list = try await store.entityList(named: block.dataset) else {
            throw APIError.invalid(
                "the submission's entity list \(block.dataset.prefix(100)) does not exist; upload the form that declares it again",
                field: "meta/entity@dataset", code: ErrorCode.unknownReference)
        }
        guard let id = UUID(text: block.id) else {
            throw APIError.invalid("the entity id \(block.id.prefix(60)) is not a UUID", field: "meta/entity@id")
        }
        let data = block.propertyTexts.mapValues { JSONValue.string($0) }
        try await RecordWriter(scope: scope, connection: connection, logger: logger).lock(kind: .entity, id: id)
        let placement = try await store.entityPlacement(id)
        if block.create, placement == nil || !block.update {
            guard placement == nil else {
                // Central records this as an entity error and keeps the submission: so do we.
                logger.warning("odk entity not created: the id is taken", metadata: ["entity": "\(id.lowercased)"])
                return "; entity \(id.lowercased) already exists, so it was not created again"
            }
            _ = try await ODKEntityWriter(scope: scope, project: project, connection: connection, logger: logger)
                .write(
                    .init(entity: id, list: list.id, base: nil, label: block.label, data: data), device: device, userAgent: userAgent, register: false
                )
            return "; entity created" + (try await release(id))
        }
        let update = Update(
            instanceID: instanceID, entity: id, list: list.id, branch: block.branchId, baseVersion: block.baseVersion,
            trunkVersion: block.trunkVersion, label: block.label, data: data, device: device, user: scope.user)
        if let waiting = try await waitsFor(update) {
            try await hold(update)
            logger.info("odk entity update held", metadata: ["entity": "\(id.lowercased)", "waitsFor": "\(waiting)"])
            return "; entity update held until \(waiting) arrives"
        }
        try await applyUpdate(update)
        return "; entity updated" + (try await release(id))
    }

    /// What `update` waits for, or nil when it can be applied now.
    func waitsFor(_ update: Update) async throws -> String? {
        let store = CentralEntityStore(scope: scope, connection: connection, logger: logger)
        guard let placement = try await store.entityPlacement(update.entity) else { return "entity \(update.entity.lowercased)" }
        guard placement.type == update.list, placement.project == project else {
            throw APIError.conflict(
                ErrorCode.alreadyExists, "entity \(update.entity.lowercased) belongs to another entity list or project",
                field: "meta/entity@id")
        }
        guard let base = update.baseVersion else { return nil }
        if let branch = update.branch, let trunk = update.trunk, base > trunk {
            let previous = try await connection.query(
                """
                SELECT 1 FROM odk_entity_branch_writes WHERE account_id = \(scope.account) AND entity_id = \(update.entity)
                  AND branch_id = \(branch) AND base_version = \(Int64(base - 1))
                """, logger: logger
            ).collect { _ in true }
            if previous.isEmpty { return "the update on version \(base - 1) of offline branch \(branch.prefix(60))" }
        }
        let version = update.trunk ?? base
        let current = IntegerVersions.current(try await store.appliedWrites(update.entity))
        return version > max(1, current) ? "version \(version)" : nil
    }

    /// Writes `update` as its phone's next write, based on the exact version it names.
    /// Collect sends every saved property, changed or not: a property (or the label) equal
    /// to its value at the version the phone had from the server is left out, as it is no
    /// edit (when that version was made by an ODK route, which keeps its fields). An
    /// update that then changes nothing writes nothing, and still counts in its chain.
    func applyUpdate(_ update: Update) async throws {
        let base: ODKEntityWriter.Base = update.baseVersion.map { .version(update.trunk ?? $0, force: true) } ?? .current
        let writer = ODKEntityWriter(scope: scope, project: project, connection: connection, logger: logger)
        var label = update.label, data = update.data
        if let had = update.trunk ?? update.baseVersion, let seen = try await writer.fields(of: update.entity, atVersion: had) {
            (label, data) = Self.edits(label: label, data: data, comparedWith: seen)
        }
        if label != nil || !data.isEmpty {
            _ = try await writer.write(
                .init(entity: update.entity, list: update.list, base: base, label: label, data: data),
                device: update.device, userAgent: nil, register: false)
        } else {
            logger.info("odk entity update changes nothing", metadata: ["entity": "\(update.entity.lowercased)"])
        }
        if let branch = update.branch, let version = update.baseVersion {
            try await connection.query(
                """
                INSERT INTO odk_entity_branch_writes (account_id, entity_id, branch_id, base_version, instance_id)
                VALUES (\(scope.account), \(update.entity), \(branch), \(Int64(version)), \(update.instanceID)) ON CONFLICT DO NOTHING
                """, logger: logger)
        }
    }

    /// What an update edits: the label and the properties whose text differs from the
    /// version the phone had (`seen`, its visible fields then), as Collect shows values.
    static func edits(label: String?, data: [String: JSONValue], comparedWith seen: [String: JSONValue]) -> (String?, [String: JSONValue]) {
        func text(_ v: JSONValue?) -> String { v.map(EntityListCSV.text) ?? "" }
        let keptLabel = label.flatMap { $0 == text(seen["label"]) ? nil : $0 }
        return (keptLabel, data.filter { name, value in text(value) != text(seen[name]) })
    }

    func hold(_ update: Update) async throws {
        try await connection.query(
            """
            INSERT INTO odk_held_entity_updates (account_id, instance_id, entity_id, entity_type_id, project_id, branch_id,
                                                 base_version, trunk_version, label, data, device_id, user_id)
            VALUES (\(scope.account), \(update.instanceID), \(update.entity), \(update.list), \(project), \(update.branch),
                    \(Int64(update.baseVersion ?? 0)), \(update.trunkVersion.map(Int64.init)), \(update.label),
                    \(JSONWriter.string(.object(update.data)))::jsonb, \(update.device), \(scope.user))
            ON CONFLICT DO NOTHING
            """, logger: logger)
    }

    func forget(_ update: Update) async throws {
        try await connection.query(
            "DELETE FROM odk_held_entity_updates WHERE account_id = \(scope.account) AND instance_id = \(update.instanceID)", logger: logger)
    }

    /// Applies the held updates of `entity` that no longer wait, each releasing the next,
    /// until none can go; answers a clause naming how many went. Every entity write of an
    /// ODK route calls it (Collect's blocks, Central's creates and updates). Each update is
    /// written in the scope its sender has now; one its sender may no longer write (or
    /// that can never apply) is dropped and logged, never blocking the write that released it.
    func release(_ entity: UUID) async throws -> String {
        var released = 0
        var scopes: [UUID: CallerScope?] = [:]
        while true {
            let held = try await connection.query(
                """
                SELECT instance_id, entity_type_id, branch_id, base_version, trunk_version, label, data::text, device_id, user_id
                FROM odk_held_entity_updates
                WHERE account_id = \(scope.account) AND entity_id = \(entity) AND project_id = \(project)
                ORDER BY base_version, held_at, instance_id
                """, logger: logger
            ).collect { row -> Update in
                let (instance, list, branch, base, trunk, label, data, device, user) =
                    try row.decode((String, UUID, String?, Int64, Int64?, String?, String, UUID, UUID).self)
                let fields = (try? JSONParser.parse(data))?.objectValue ?? [:]
                return Update(
                    instanceID: instance, entity: entity, list: list, branch: branch, baseVersion: base == 0 ? nil : Int(base),
                    trunkVersion: trunk.map(Int.init), label: label, data: fields, device: device, user: user)
            }
            var progressed = false
            for update in held {
                // A held update that can never apply (its entity was made in another list)
                // must not block the write that released it: it is dropped, and logged.
                let waiting: String?
                do { waiting = try await waitsFor(update) } catch {
                    logger.warning(
                        "odk held entity update dropped: its entity is in another list or project",
                        metadata: ["entity": "\(entity.lowercased)"])
                    try await forget(update)
                    progressed = true
                    break
                }
                guard waiting == nil else { continue }
                if scopes[update.user] == nil {
                    scopes[update.user] = .some(try await AuthStore(connection: connection, logger: logger).scope(ofUser: update.user))
                }
                do {
                    guard let senderScope = scopes[update.user] ?? nil, senderScope.account == scope.account else {
                        throw APIError.forbidden("the sender of the held update no longer exists")
                    }
                    try await ODKSubmissionEntities(scope: senderScope, project: project, connection: connection, logger: logger).applyUpdate(update)
                    released += 1
                } catch let refused as APIError {
                    logger.warning(
                        "odk held entity update dropped: its sender may not write it now",
                        metadata: ["entity": "\(entity.lowercased)", "reason": "\(refused.code)"])
                }
                try await forget(update)
                progressed = true
                break
            }
            if !progressed { break }
        }
        return released == 0 ? "" : "; \(released) held update\(released == 1 ? "" : "s") applied"
    }
}
