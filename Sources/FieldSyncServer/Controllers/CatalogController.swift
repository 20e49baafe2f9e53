import FieldSyncCore
import Foundation
import Hummingbird
import Logging

/// What devices download to work offline: org-unit types, entity types, forms and
/// their versions. Admins create them; everyone in the account lists them.
struct CatalogController {
    let database: Database
    let config: ServerConfiguration

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
        return try await AdminRequest.account(caller, request, database: database, logger: context.logger)
    }

    @Sendable func createOrgUnitType(_ request: Request, context: AppRequestContext) async throws -> Response {
        let account = try await self.account(request, context, admin: true)
        let r = try await AdminRequest.read(request, limit: config.maxPushBytes)
        let (id, name, depth) = try AdminRequest.validate { () throws(ItemError) in
            let depth = try r.integer("depth")
            guard let depth, depth >= 0, depth <= 100 else { throw ItemError.invalidField("depth", "depth must be a whole number from 0 to 100") }
            return (try AdminRequest.newId(r), try AdminRequest.name(r), Int32(depth))
        }
        try await database.withConnection { c in
            try await CatalogStore(connection: c, logger: context.logger).createOrgUnitType(account: account, id: id, name: name, depth: depth)
        }
        return JSONBody.response(.object(["id": .string(id.lowercased), "name": .string(name), "depth": .number(Double(depth))]), status: .created)
    }

    @Sendable func listOrgUnitTypes(_ request: Request, context: AppRequestContext) async throws -> Response {
        let account = try await self.account(request, context, admin: false)
        let items = try await database.withConnection { c in
            try await CatalogStore(connection: c, logger: context.logger).orgUnitTypes(account: account)
        }
        return JSONBody.response(.object(["items": .array(items)]))
    }

    @Sendable func createEntityType(_ request: Request, context: AppRequestContext) async throws -> Response {
        let account = try await self.account(request, context, admin: true)
        let r = try await AdminRequest.read(request, limit: config.maxPushBytes)
        let (id, name) = try AdminRequest.validate { () throws(ItemError) in (try AdminRequest.newId(r), try AdminRequest.name(r)) }
        try await database.withConnection { c in
            try await CatalogStore(connection: c, logger: context.logger).createEntityType(account: account, id: id, name: name)
        }
        return JSONBody.response(.object(["id": .string(id.lowercased), "name": .string(name)]), status: .created)
    }

    @Sendable func listEntityTypes(_ request: Request, context: AppRequestContext) async throws -> Response {
        let account = try await self.account(request, context, admin: false)
        let items = try await database.withConnection { c in
            try await CatalogStore(connection: c, logger: context.logger).entityTypes(account: account)
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
            guard !name.isEmpty, names.insert(name).inserted else {
                throw ItemError.invalidField(fr.field("name"), "field names must be non-empty and unique; \"\(name)\" repeats")
            }
            let type = try fr.requiredString("type")
            guard types.contains(type) else {
                throw ItemError.invalidField(fr.field("type"), "type must be one of \(types.sorted().joined(separator: ", ")); got \"\(type)\"")
            }
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

    /// A listed version as JSON (`FormVersion`).
    static func versionJSON(_ v: CatalogStore.FormVersionRow) -> JSONValue {
        versionJSON(form: v.form, formId: v.formId, version: v.version, fields: v.fields, createdAt: v.createdAt)
    }

    @Sendable func createForm(_ request: Request, context: AppRequestContext) async throws -> Response {
        let account = try await self.account(request, context, admin: true)
        let r = try await AdminRequest.read(request, limit: config.maxPushBytes)
        struct NewForm { var id: UUID; var formId: String; var name: String; var version: String; var projects: [UUID]; var fields: JSONValue? }
        let f = try AdminRequest.validate { () throws(ItemError) -> NewForm in
            var projects: [UUID] = []
            for (k, v) in (try r.array("projectIds") ?? []).enumerated() {
                guard let u = v.stringValue.flatMap(UUID.init(text:)) else {
                    throw ItemError.invalidField("projectIds[\(k)]", "projectIds must hold UUIDs")
                }
                projects.append(u)
            }
            return NewForm(
                id: try AdminRequest.newId(r), formId: try AdminRequest.name(r, "formId"), name: try AdminRequest.name(r),
                version: try AdminRequest.name(r, "version"), projects: projects, fields: try Self.formFields(r).map(JSONValue.array))
        }
        let createdAt = try await database.transaction { c in
            try await AccountStore(connection: c, logger: context.logger).requireReferences(account: account, projects: f.projects, units: [])
            return try await CatalogStore(connection: c, logger: context.logger).createForm(
                account: account, id: f.id, formId: f.formId, name: f.name, projects: f.projects, version: f.version, fields: f.fields)
        }
        let version = Self.versionJSON(form: f.id, formId: f.formId, version: f.version, fields: f.fields, createdAt: createdAt)
        return JSONBody.response(Self.formJSON(id: f.id, formId: f.formId, name: f.name, projects: f.projects, versions: [version]), status: .created)
    }

    @Sendable func listForms(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let account = try await self.account(request, context, admin: false)
        let everything = caller.role == .admin || caller.role == .superuser
        let rows = try await database.withConnection { c in
            try await CatalogStore(connection: c, logger: context.logger).versions(account: account, all: everything, projects: caller.projectIds)
        }
        // Rows come grouped by form, versions oldest first.
        var forms: [JSONValue] = []
        var start = rows.startIndex
        while start < rows.endIndex {
            let first = rows[start]
            var end = start
            while end < rows.endIndex && rows[end].form == first.form { end += 1 }
            let versions = rows[start..<end].map(Self.versionJSON)
            forms.append(Self.formJSON(id: first.form, formId: first.formId, name: first.name, projects: first.projects, versions: versions))
            start = end
        }
        return JSONBody.response(.object(["items": .array(forms)]))
    }

    @Sendable func addFormVersion(_ request: Request, context: AppRequestContext) async throws -> Response {
        let account = try await self.account(request, context, admin: true)
        guard let formUUID = context.parameters.get("id").flatMap(UUID.init(text:)) else { throw APIError.notFound("no such form") }
        let r = try await AdminRequest.read(request, limit: config.maxPushBytes)
        let (version, fields) = try AdminRequest.validate { () throws(ItemError) in
            (try AdminRequest.name(r, "version"), try Self.formFields(r).map(JSONValue.array))
        }
        let (formId, createdAt) = try await database.withConnection { c in
            let store = CatalogStore(connection: c, logger: context.logger)
            guard let form = try await store.form(account: account, formUUID) else { throw APIError.notFound("no such form") }
            return (form.formId, try await store.addVersion(account: account, form: formUUID, version: version, fields: fields))
        }
        return JSONBody.response(
            Self.versionJSON(form: formUUID, formId: formId, version: version, fields: fields, createdAt: createdAt), status: .created)
    }

    @Sendable func listFormVersions(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let account = try await self.account(request, context, admin: false)
        guard let formUUID = context.parameters.get("id").flatMap(UUID.init(text:)) else { throw APIError.notFound("no such form") }
        let everything = caller.role == .admin || caller.role == .superuser
        let rows = try await database.withConnection { c in
            let store = CatalogStore(connection: c, logger: context.logger)
            // 404 for a form that is not in the account; 403 for one of a project the caller is not in.
            guard let form = try await store.form(account: account, formUUID) else { throw APIError.notFound("no such form") }
            guard everything || form.projects.contains(where: caller.projectIds.contains) else {
                throw APIError.forbidden("this form belongs to projects you are not in")
            }
            return try await store.versions(account: account, all: true, projects: [], only: formUUID)
        }
        return JSONBody.response(.object(["items": .array(rows.map(Self.versionJSON))]))
    }
}
