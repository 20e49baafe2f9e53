import FieldSyncCore
import FieldSyncODK
import Foundation
import Logging
import PostgresNIO

/// The reads and the little bookkeeping behind Central's entity routes (pyodk's
/// `entity_lists`, `entity_list_properties`, `entities`): entity lists are FieldSync's
/// entity types, found by name; entities are FieldSync's, with Central's integer version
/// read from the write log (``IntegerVersions``). Every read is filtered by the caller's
/// scope.
struct CentralEntityStore {
    let scope: CallerScope
    let connection: PostgresConnection
    let logger: Logger

    var account: UUID { scope.account }

    /// An entity type as Central's entity list.
    struct EntityList: Sendable {
        var id: UUID
        var name: String
        var createdAt: Date
    }

    /// The entity type named `name` (names are not unique in FieldSync: the oldest wins,
    /// as it did when the name was first used).
    func entityList(named name: String) async throws -> EntityList? {
        try await connection.query(
            """
            SELECT id, name, created_at FROM entity_types WHERE account_id = \(account) AND name = \(name)
            ORDER BY created_at, id LIMIT 1
            """, logger: logger
        ).collect { row in
            let (id, name, created) = try row.decode((UUID, String, Date).self)
            return EntityList(id: id, name: name, createdAt: created)
        }.first
    }

    /// A property of an entity list, and the form that declared it (nil: made through the API).
    struct Property: Sendable {
        var name: String
        var formId: String?
        var createdAt: Date
    }

    func properties(of list: UUID) async throws -> [Property] {
        try await connection.query(
            """
            SELECT name, form_id, created_at FROM odk_dataset_properties
            WHERE account_id = \(account) AND entity_type_id = \(list) ORDER BY created_at, name
            """, logger: logger
        ).collect { row in
            let (name, form, created) = try row.decode((String, String?, Date).self)
            return Property(name: name, formId: form, createdAt: created)
        }
    }

    /// What a form's entity declaration makes (as Central does at publish): its entity
    /// list, when no entity type has that name yet, and the properties it saves to.
    func declare(_ entity: XFormEntityDeclaration, formId: String, catalog: CatalogStore) async throws {
        let list: UUID
        if let existing = try await entityList(named: entity.dataset) {
            list = existing.id
        } else {
            list = UUID()
            try await catalog.createEntityType(account: account, id: list, name: entity.dataset)
        }
        for property in entity.properties { _ = try await addProperty(property.name, to: list, formId: formId) }
    }

    /// Adds a property; false when the list already has it.
    func addProperty(_ name: String, to list: UUID, formId: String? = nil) async throws -> Bool {
        let inserted = try await connection.query(
            """
            INSERT INTO odk_dataset_properties (account_id, entity_type_id, name, form_id)
            VALUES (\(account), \(list), \(name), \(formId)) ON CONFLICT DO NOTHING RETURNING 1
            """, logger: logger
        ).collect { _ in true }
        return !inserted.isEmpty
    }

    /// The writes applied to an entity, in the order they were applied (Central's
    /// versions 1, 2, …).
    func appliedWrites(_ entity: UUID) async throws -> [Dot] {
        try await connection.query(
            """
            SELECT replica, counter FROM record_writes
            WHERE account_id = \(account) AND kind = 'entity' AND record_id = \(entity) ORDER BY seq
            """, logger: logger
        ).collect { row in
            let (replica, counter) = try row.decode((String, Int64).self)
            return Dot(replica: replica, counter: counter)
        }
    }

    /// Whether an entity exists in the account at all, whoever may see it, and where.
    func entityPlacement(_ entity: UUID) async throws -> (type: UUID, project: UUID)? {
        try await connection.query(
            "SELECT entity_type_id, project_id FROM entities WHERE account_id = \(account) AND id = \(entity)", logger: logger
        ).collect { try $0.decode((UUID, UUID).self) }.first.map { (type: $0.0, project: $0.1) }
    }

    /// An entity as Central shows it.
    struct Entity: Sendable {
        var id: UUID
        /// The stored document (`fields`, `version`, `conflicts`).
        var document: JSONValue
        var hasConflicts: Bool
        var createdAt: Date
        var updatedAt: Date
        var creatorOdkId: Int64
        /// Central's current version: the number of writes applied.
        var version: Int
        /// When the current version was written, and by whom.
        var versionAt: Date
        var versionAuthorOdkId: Int64

        var fields: [String: JSONValue] { document["fields"]?.objectValue ?? [:] }
        var deleted: Bool { fields["deleted"] == .bool(true) }
    }

    /// The entities of `list` in `project` the caller may see (admins all, others those
    /// under their units), oldest first; `id` narrows to one. Deleted ones are included:
    /// the caller decides.
    func entities(list: UUID, project: UUID, id: UUID? = nil) async throws -> [Entity] {
        try await connection.query(
            """
            SELECT e.id, e.doc::text, e.has_conflicts, e.created_at, e.updated_at, coalesce(cu.odk_id, 0),
                   coalesce(w.n, 0), coalesce(w.last_at, e.updated_at), coalesce(wu.odk_id, cu.odk_id, 0)
            FROM entities e
            JOIN org_units o ON o.account_id = e.account_id AND o.id = e.org_unit_id
            LEFT JOIN users cu ON cu.id = e.created_by
            LEFT JOIN LATERAL (
                SELECT count(*) AS n, max(r.received_at) AS last_at,
                       (SELECT r2.user_id FROM record_writes r2
                        WHERE r2.account_id = e.account_id AND r2.kind = 'entity' AND r2.record_id = e.id
                        ORDER BY r2.seq DESC LIMIT 1) AS last_user
                FROM record_writes r WHERE r.account_id = e.account_id AND r.kind = 'entity' AND r.record_id = e.id
            ) w ON true
            LEFT JOIN users wu ON wu.id = w.last_user
            WHERE e.account_id = \(account) AND e.entity_type_id = \(list) AND e.project_id = \(project)
              AND (\(id == nil) OR e.id = \(id ?? UUID()))
              AND (\(scope.everything) OR o.path <@ \(scope.subtrees)::ltree[])
            ORDER BY e.created_at, e.id
            """, logger: logger
        ).collect { row in
            let (id, doc, conflicts, created, updated, creator, n, at, author) =
                try row.decode((UUID, String, Bool, Date, Date, Int64, Int64, Date, Int64).self)
            return Entity(
                id: id, document: (try? JSONParser.parse(doc)) ?? .object([:]), hasConflicts: conflicts,
                createdAt: created, updatedAt: updated, creatorOdkId: creator, version: max(1, Int(n)),
                versionAt: at, versionAuthorOdkId: author)
        }
    }

    /// Where an admin with no org unit of its own files what it creates: the account's
    /// first root unit.
    func firstRootUnit() async throws -> UUID? {
        try await connection.query(
            """
            SELECT id FROM org_units WHERE account_id = \(account) AND parent_id IS NULL AND validation_status = 'validated'
            ORDER BY created_at, id LIMIT 1
            """, logger: logger
        ).collect { try $0.decode(UUID.self) }.first
    }
}
