import FieldSyncCore
import Foundation
import Logging
import PostgresNIO

/// What devices download to work offline: org-unit types, entity types, forms and their
/// versions.
struct CatalogStore {
    let connection: PostgresConnection
    let logger: Logger

    /// One stored version of a form, with the form it belongs to.
    struct FormVersionRow: Sendable {
        var form: UUID
        var formId: String
        var name: String
        var projects: [UUID]
        var version: String
        /// `nil` when the version declares no questions (answers are not checked).
        var fields: JSONValue?
        var createdAt: Date
    }

    // MARK: types

    func createOrgUnitType(account: UUID, id: UUID, name: String, depth: Int32) async throws {
        do {
            try await connection.query(
                "INSERT INTO orgunit_types (account_id, id, name, depth) VALUES (\(account), \(id), \(name), \(depth))", logger: logger)
        } catch { throw UniqueViolation.map(error, field: "id", what: "an org-unit type with this id") }
    }

    func orgUnitTypes(account: UUID) async throws -> [JSONValue] {
        try await connection.query("SELECT id, name, depth FROM orgunit_types WHERE account_id = \(account) ORDER BY depth, name", logger: logger)
            .collect { row -> JSONValue in
                let (id, name, depth) = try row.decode((UUID, String, Int32).self)
                return .object(["id": .string(id.lowercased), "name": .string(name), "depth": .number(Double(depth))])
            }
    }

    func createEntityType(account: UUID, id: UUID, name: String) async throws {
        do {
            try await connection.query("INSERT INTO entity_types (account_id, id, name) VALUES (\(account), \(id), \(name))", logger: logger)
        } catch { throw UniqueViolation.map(error, field: "id", what: "an entity type with this id") }
    }

    func entityTypes(account: UUID) async throws -> [JSONValue] {
        try await connection.query("SELECT id, name FROM entity_types WHERE account_id = \(account) ORDER BY name", logger: logger)
            .collect { row -> JSONValue in
                let (id, name) = try row.decode((UUID, String).self)
                return .object(["id": .string(id.lowercased), "name": .string(name)])
            }
    }

    // MARK: forms

    /// Creates a form with its first version (run it in a transaction); answers the
    /// version's creation time.
    func createForm(account: UUID, id: UUID, formId: String, name: String, projects: [UUID], version: String, fields: JSONValue?) async throws -> Date
    {
        do {
            try await connection.query(
                "INSERT INTO forms (account_id, id, form_id, name, project_ids) VALUES (\(account), \(id), \(formId), \(name), \(projects))",
                logger: logger)
        } catch { throw UniqueViolation.map(error, field: "formId", what: "a form with this id or formId") }
        return try await addVersion(account: account, form: id, version: version, fields: fields)
    }

    /// Adds a version to a form; answers its creation time.
    func addVersion(account: UUID, form: UUID, version: String, fields: JSONValue?) async throws -> Date {
        let fieldsText = fields.map { JSONWriter.string($0) }
        do {
            let created = try await connection.query(
                """
                INSERT INTO form_versions (account_id, form_uuid, version, fields) VALUES (\(account), \(form), \(version), \(fieldsText)::jsonb)
                RETURNING created_at
                """, logger: logger
            ).collect { try $0.decode(Date.self) }.first
            guard let created else { throw APIError.unavailable("the new form version was not stored") }
            return created
        } catch { throw UniqueViolation.map(error, field: "version", what: "this version of the form") }
    }

    /// A form's `formId` and projects; nil when it is not in the account.
    func form(account: UUID, _ id: UUID) async throws -> (formId: String, projects: [UUID])? {
        try await connection.query("SELECT form_id, project_ids FROM forms WHERE account_id = \(account) AND id = \(id)", logger: logger)
            .collect { row in
                let (formId, projects) = try row.decode((String, [UUID]).self)
                return (formId: formId, projects: projects)
            }.first
    }

    /// The versions of the forms visible (all, or those of one of `projects`), grouped by
    /// form (ordered by `formId`), oldest version first; or of the one form `only`.
    func versions(account: UUID, all: Bool, projects: [UUID], only: UUID? = nil) async throws -> [FormVersionRow] {
        try await connection.query(
            """
            SELECT f.id, f.form_id, f.name, f.project_ids, v.version, v.fields::text, v.created_at
            FROM forms f JOIN form_versions v ON v.account_id = f.account_id AND v.form_uuid = f.id
            WHERE f.account_id = \(account) AND (\(all) OR f.project_ids && \(projects)::uuid[])
              AND (\(only == nil) OR f.id = \(only))
            ORDER BY f.form_id, f.id, v.created_at, v.version
            """, logger: logger
        ).collect { row in
            let (id, formId, name, projects, version, fields, created) = try row.decode((UUID, String, String, [UUID], String, String?, Date).self)
            return FormVersionRow(
                form: id, formId: formId, name: name, projects: projects, version: version,
                fields: fields.flatMap { try? JSONParser.parse($0) }, createdAt: created)
        }
    }
}
