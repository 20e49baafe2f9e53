import FieldSyncCore
import Foundation
import Hummingbird
import Logging
import PostgresNIO

/// What devices download to work offline: org-unit types, entity types, forms and
/// their versions. Admins create them; everyone in the account lists them.
struct CatalogController {
    let database: Database
    let config: ServerConfiguration
    let logger: Logger
    var admin: AdminController { AdminController(database: database, config: config, logger: logger) }

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.post("orgunit-types", use: createOrgUnitType)
        router.get("orgunit-types", use: listOrgUnitTypes)
        router.post("entity-types", use: createEntityType)
        router.get("entity-types", use: listEntityTypes)
        router.post("forms", use: createForm)
        router.get("forms", use: listForms)
        router.post("forms/:id/versions", use: addFormVersion)
        router.get("forms/:id/versions", use: listFormVersions)
    }

    func account(_ request: Request, _ context: AppRequestContext, admin needsAdmin: Bool) async throws -> UUID {
        let caller = try context.requireCaller()
        if needsAdmin { try caller.requireAdmin() }
        return try await admin.account(caller, request)
    }

    @Sendable func createOrgUnitType(_ request: Request, context: AppRequestContext) async throws -> Response {
        let account = try await self.account(request, context, admin: true)
        let r = try await admin.readBody(request)
        let (id, name, depth) = try admin.validate { () throws(ItemError) in
            let depth = try r.integer("depth")
            guard let depth, depth >= 0, depth <= 100 else { throw ItemError.invalidField("depth", "depth must be a whole number from 0 to 100") }
            return (try r.uuid("id") ?? UUID(), try AdminController.name(r), Int32(depth))
        }
        try await admin.requireAccountExists(account)
        do {
            try await database.withConnection { [logger] c in
                try await c.query("INSERT INTO orgunit_types (account_id, id, name, depth) VALUES (\(account), \(id), \(name), \(depth))", logger: logger)
            }
        } catch { throw AdminController.mapUnique(error, field: "id", what: "an org-unit type with this id") }
        return JSONBody.response(.object(["id": .string(id.lowercased), "name": .string(name), "depth": .number(Double(depth))]), status: .created)
    }

    @Sendable func listOrgUnitTypes(_ request: Request, context: AppRequestContext) async throws -> Response {
        let account = try await self.account(request, context, admin: false)
        let items = try await database.withConnection { [logger] c in
            try await c.query("SELECT id, name, depth FROM orgunit_types WHERE account_id = \(account) ORDER BY depth, name", logger: logger)
                .collect { row -> JSONValue in
                    let (id, name, depth) = try row.decode((UUID, String, Int32).self)
                    return .object(["id": .string(id.lowercased), "name": .string(name), "depth": .number(Double(depth))])
                }
        }
        return JSONBody.response(.object(["items": .array(items)]))
    }

    @Sendable func createEntityType(_ request: Request, context: AppRequestContext) async throws -> Response {
        let account = try await self.account(request, context, admin: true)
        let r = try await admin.readBody(request)
        let (id, name) = try admin.validate { () throws(ItemError) in (try r.uuid("id") ?? UUID(), try AdminController.name(r)) }
        try await admin.requireAccountExists(account)
        do {
            try await database.withConnection { [logger] c in
                try await c.query("INSERT INTO entity_types (account_id, id, name) VALUES (\(account), \(id), \(name))", logger: logger)
            }
        } catch { throw AdminController.mapUnique(error, field: "id", what: "an entity type with this id") }
        return JSONBody.response(.object(["id": .string(id.lowercased), "name": .string(name)]), status: .created)
    }

    @Sendable func listEntityTypes(_ request: Request, context: AppRequestContext) async throws -> Response {
        let account = try await self.account(request, context, admin: false)
        let items = try await database.withConnection { [logger] c in
            try await c.query("SELECT id, name FROM entity_types WHERE account_id = \(account) ORDER BY name", logger: logger)
                .collect { row -> JSONValue in
                    let (id, name) = try row.decode((UUID, String).self)
                    return .object(["id": .string(id.lowercased), "name": .string(name)])
                }
        }
        return JSONBody.response(.object(["items": .array(items)]))
    }

    /// Reads a form's `fields` declaration: `[{"name","type","required"?,"choices"?}]`,
    /// normalised to those members (anything else sent is dropped, so what is stored and
    /// echoed is exactly the documented `FormField`). `nil` when absent.
    static func formFields(_ r: ObjectReader) throws(ItemError) -> [JSONValue]? {
        guard let fields = try r.array("fields") else { return nil }
        let types: Set<String> = ["text", "integer", "decimal", "date", "select_one", "select_multiple", "geopoint"]
        var names = Set<String>()
        var out: [JSONValue] = []
        for (k, f) in fields.enumerated() {
            let fr = try ObjectReader(f, path: "fields[\(k)]")
            try RequestChecks.rejectNullMembers(fr, of: ["name", "type", "required", "choices"])
            let name = try fr.requiredString("name")
            guard !name.isEmpty, names.insert(name).inserted else { throw ItemError.invalidField(fr.field("name"), "field names must be non-empty and unique; \"\(name)\" repeats") }
            let type = try fr.requiredString("type")
            guard types.contains(type) else { throw ItemError.invalidField(fr.field("type"), "type must be one of \(types.sorted().joined(separator: ", ")); got \"\(type)\"") }
            var field: [String: JSONValue] = ["name": .string(name), "type": .string(type)]
            if let required = try fr.bool("required") { field["required"] = .bool(required) }
            if let choices = try fr.array("choices") {
                for (c, choice) in choices.enumerated() where choice.stringValue == nil {
                    throw ItemError.invalidField("\(fr.field("choices"))[\(c)]", "choices must be strings, got \(choice.typeName)")
                }
                field["choices"] = .array(choices)
            }
            if type.hasPrefix("select_"), (field["choices"]?.arrayValue ?? []).isEmpty {
                throw ItemError.invalidField(fr.field("choices"), "\(type) needs a non-empty array of string choices")
            }
            out.append(.object(field))
        }
        return out
    }

    /// A version as listed (`FormVersion`): the form's `id` and `formId` beside it.
    /// `fields` is `null` when the version declares no questions (answers are not
    /// checked), which differs from `[]` (no answer is allowed).
    static func versionJSON(form: UUID, formId: String, version: String, fields: JSONValue?, createdAt: Date) -> JSONValue {
        .object([
            "id": .string(form.lowercased), "formId": .string(formId), "version": .string(version),
            "fields": fields ?? .null, "createdAt": .string(createdAt.rfc3339),
        ])
    }

    /// A form (`Form`): its latest version's `version` and `fields`, and every version,
    /// oldest first. `versions` is never empty (a form is created with its first).
    static func formJSON(id: UUID, formId: String, name: String, projects: [UUID], versions: [JSONValue]) -> JSONValue {
        let latest = versions.last
        return .object([
            "id": .string(id.lowercased), "formId": .string(formId), "name": .string(name),
            "projectIds": .array(projects.map { .string($0.lowercased) }),
            "version": latest?["version"] ?? .null, "fields": latest?["fields"] ?? .null,
            "versions": .array(versions),
        ])
    }

    @Sendable func createForm(_ request: Request, context: AppRequestContext) async throws -> Response {
        let account = try await self.account(request, context, admin: true)
        let r = try await admin.readBody(request)
        struct NewForm { var id: UUID; var formId: String; var name: String; var version: String; var projects: [UUID]; var fields: JSONValue? }
        let f = try admin.validate { () throws(ItemError) -> NewForm in
            var projects: [UUID] = []
            for (k, v) in (try r.array("projectIds") ?? []).enumerated() {
                guard let u = v.stringValue.flatMap(UUID.init(text:)) else { throw ItemError.invalidField("projectIds[\(k)]", "projectIds must hold UUIDs") }
                projects.append(u)
            }
            return NewForm(id: try r.uuid("id") ?? UUID(), formId: try AdminController.name(r, "formId"), name: try AdminController.name(r),
                           version: try AdminController.name(r, "version"), projects: projects, fields: try Self.formFields(r).map(JSONValue.array))
        }
        try await admin.requireAccountExists(account)
        try await admin.requireReferences(account: account, projects: f.projects, units: [])
        let fieldsText = f.fields.map { JSONWriter.string($0) }
        let createdAt: Date
        do {
            createdAt = try await database.transaction { [logger] c in
                try await c.query("INSERT INTO forms (account_id, id, form_id, name, project_ids) VALUES (\(account), \(f.id), \(f.formId), \(f.name), \(f.projects))", logger: logger)
                return try await c.query(
                    "INSERT INTO form_versions (account_id, form_uuid, version, fields) VALUES (\(account), \(f.id), \(f.version), \(fieldsText)::jsonb) RETURNING created_at",
                    logger: logger
                ).collect { try $0.decode(Date.self) }.first ?? Date()
            }
        } catch { throw AdminController.mapUnique(error, field: "formId", what: "a form with this id or formId") }
        let version = Self.versionJSON(form: f.id, formId: f.formId, version: f.version, fields: f.fields, createdAt: createdAt)
        return JSONBody.response(Self.formJSON(id: f.id, formId: f.formId, name: f.name, projects: f.projects, versions: [version]), status: .created)
    }

    @Sendable func listForms(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let account = try await self.account(request, context, admin: false)
        let everything = caller.role == .admin || caller.role == .superuser
        let mine = caller.projectIds
        let items = try await database.withConnection { [logger] c in
            try await c.query(
                """
                SELECT f.id, f.form_id, f.name, f.project_ids, v.version, v.fields::text, v.created_at
                FROM forms f JOIN form_versions v ON v.account_id = f.account_id AND v.form_uuid = f.id
                WHERE f.account_id = \(account) AND (\(everything) OR f.project_ids && \(mine)::uuid[])
                ORDER BY f.form_id, f.id, v.created_at, v.version
                """, logger: logger
            ).collect { row in try row.decode((UUID, String, String, [UUID], String, String?, Date).self) }
        }
        // Rows come grouped by form, versions oldest first.
        var forms: [JSONValue] = []
        var start = items.startIndex
        while start < items.endIndex {
            let id = items[start].0
            var end = start
            while end < items.endIndex && items[end].0 == id { end += 1 }
            let versions = items[start..<end].map { row in
                Self.versionJSON(form: row.0, formId: row.1, version: row.4, fields: row.5.flatMap { try? JSONParser.parse($0) }, createdAt: row.6)
            }
            let first = items[start]
            forms.append(Self.formJSON(id: first.0, formId: first.1, name: first.2, projects: first.3, versions: versions))
            start = end
        }
        return JSONBody.response(.object(["items": .array(forms)]))
    }

    @Sendable func addFormVersion(_ request: Request, context: AppRequestContext) async throws -> Response {
        let account = try await self.account(request, context, admin: true)
        guard let formUUID = context.parameters.get("id").flatMap(UUID.init(text:)) else { throw APIError.notFound("no such form") }
        let r = try await admin.readBody(request)
        let (version, fields) = try admin.validate { () throws(ItemError) in (try AdminController.name(r, "version"), try Self.formFields(r).map(JSONValue.array)) }
        let fieldsText = fields.map { JSONWriter.string($0) }
        let formId = try await database.withConnection { [logger] c in
            try await c.query("SELECT form_id FROM forms WHERE account_id = \(account) AND id = \(formUUID)", logger: logger).collect { try $0.decode(String.self) }.first
        }
        guard let formId else { throw APIError.notFound("no such form") }
        let createdAt: Date
        do {
            createdAt = try await database.withConnection { [logger] c in
                try await c.query(
                    "INSERT INTO form_versions (account_id, form_uuid, version, fields) VALUES (\(account), \(formUUID), \(version), \(fieldsText)::jsonb) RETURNING created_at",
                    logger: logger
                ).collect { try $0.decode(Date.self) }.first ?? Date()
            }
        } catch { throw AdminController.mapUnique(error, field: "version", what: "this version of the form") }
        return JSONBody.response(Self.versionJSON(form: formUUID, formId: formId, version: version, fields: fields, createdAt: createdAt), status: .created)
    }

    @Sendable func listFormVersions(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let account = try await self.account(request, context, admin: false)
        guard let formUUID = context.parameters.get("id").flatMap(UUID.init(text:)) else { throw APIError.notFound("no such form") }
        // 404 for a form that is not in the account; 403 for one of a project the caller is not in.
        let projects = try await database.withConnection { [logger] c in
            try await c.query("SELECT project_ids FROM forms WHERE account_id = \(account) AND id = \(formUUID)", logger: logger)
                .collect { try $0.decode([UUID].self) }.first
        }
        guard let projects else { throw APIError.notFound("no such form") }
        guard caller.role == .admin || caller.role == .superuser || projects.contains(where: caller.projectIds.contains) else {
            throw APIError.forbidden("this form belongs to projects you are not in")
        }
        let items = try await database.withConnection { [logger] c in
            try await c.query(
                """
                SELECT f.form_id, v.version, v.fields::text, v.created_at FROM form_versions v JOIN forms f ON f.account_id = v.account_id AND f.id = v.form_uuid
                WHERE v.account_id = \(account) AND v.form_uuid = \(formUUID) ORDER BY v.created_at, v.version
                """, logger: logger
            ).collect { row -> JSONValue in
                let (formId, version, fields, createdAt) = try row.decode((String, String, String?, Date).self)
                return Self.versionJSON(form: formUUID, formId: formId, version: version, fields: fields.flatMap { try? JSONParser.parse($0) }, createdAt: createdAt)
            }
        }
        return JSONBody.response(.object(["items": .array(items)]))
    }
}
