import FieldSyncCore
import FieldSyncODK
import Foundation
import Hummingbird
import Logging

/// Central's entity routes, as pyodk's `entity_lists`, `entity_list_properties` and
/// `entities` call them: an entity list is a FieldSync entity type (by name), its
/// entities FieldSync's entities, `label` their field `label`, the properties the other
/// fields (as text, as Central keeps them). Versions are Central's integers
/// (``IntegerVersions``); an update names the version it was made on and is written as a
/// versioned write on exactly that version (``ODKEntityWriter``).
extension CentralController {
    func addEntityRoutes(to router: RouterGroup<AppRequestContext>) {
        router.get("projects/:projectId/datasets/:name", use: getEntityList)
        router.post("projects/:projectId/datasets/:name/properties", use: addEntityListProperty)
        router.get("projects/:projectId/datasets/:name/entities", use: listEntities)
        router.post("projects/:projectId/datasets/:name/entities", use: createEntities)
        router.get("projects/:projectId/datasets/:name/entities/:uuid", use: getEntity)
        router.patch("projects/:projectId/datasets/:name/entities/:uuid", use: updateEntity)
        router.delete("projects/:projectId/datasets/:name/entities/:uuid", use: deleteEntity)
    }

    /// The entity list of the URL (its name) in the URL's project.
    func entityList(
        _ context: AppRequestContext, name named: String? = nil
    ) async throws -> (CallerScope, CentralStore.Project, CentralEntityStore.EntityList) {
        let (scope, project) = try await self.project(context)
        let name = named ?? RequestChecks.pathParameter(context, "name") ?? ""
        let list = try await database.withConnection { c in
            try await CentralEntityStore(scope: scope, connection: c, logger: context.logger).entityList(named: name)
        }
        guard let list else { throw APIError.notFound("entity list \(name.prefix(100)) does not exist in project \(project.odkId)") }
        return (scope, project, list)
    }

    /// `GET …/datasets/{name}`: the list with its properties.
    @Sendable func getEntityList(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (scope, project, list) = try await entityList(context)
        let properties = try await database.withConnection { c in
            try await CentralEntityStore(scope: scope, connection: c, logger: context.logger).properties(of: list.id)
        }
        return JSONBody.response(
            .object([
                "name": .string(list.name), "projectId": .number(Double(project.odkId)), "createdAt": .string(list.createdAt.rfc3339),
                "approvalRequired": .bool(false), "ownerOnly": .bool(false),
                "properties": .array(
                    properties.map { p in
                        .object([
                            "name": .string(p.name), "odataName": .string(p.name), "publishedAt": .string(p.createdAt.rfc3339),
                            "forms": .array(p.formId.map { [.string($0)] } ?? []),
                        ])
                    }),
                "linkedForms": .array([]), "sourceForms": .array([]),
            ]))
    }

    /// `POST …/datasets/{name}/properties` `{"name"}` (admins): 200 `{"success":true}`,
    /// 409 when the list has it already.
    @Sendable func addEntityListProperty(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (scope, _, list) = try await entityList(context)
        guard scope.everything else { throw APIError.forbidden("adding entity list properties needs an admin") }
        let body = try await JSONBody.read(request, limit: auth.config.maxPushBytes)
        let name: String
        do {
            let r = try ObjectReader(body, path: "")
            try RequestChecks.rejectNullMembers(r, of: ["name"])
            name = try r.requiredString("name")
        } catch { throw APIError(error, status: .badRequest) }
        guard XFormEntityProperty.isValidName(name) else {
            throw APIError.badRequest(
                "\"\(name.prefix(100))\" can't be a property name (not empty, name, label, or starting with __; no spaces, commas or quotes)",
                field: "name")
        }
        let added = try await database.withConnection { c in
            try await CentralEntityStore(scope: scope, connection: c, logger: context.logger).addProperty(name, to: list.id)
        }
        guard added else {
            throw APIError.conflict(
                ErrorCode.alreadyExists, "entity list \(list.name.prefix(100)) already has the property \(name.prefix(100))", field: "name")
        }
        return JSONBody.response(.object(["success": .bool(true)]))
    }

    // MARK: entities

    /// `GET …/datasets/{name}/entities`: those the caller may see, deleted ones left out.
    @Sendable func listEntities(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (scope, project, list) = try await entityList(context)
        let entities = try await database.withConnection { c in
            try await CentralEntityStore(scope: scope, connection: c, logger: context.logger).entities(list: list.id, project: project.id)
        }
        return JSONBody.response(.array(entities.filter { !$0.deleted }.map(Self.json)))
    }

    @Sendable func getEntity(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (scope, project, list) = try await entityList(context)
        let id = try Self.entityId(context)
        return JSONBody.response(Self.json(try await readEntity(id, scope: scope, project: project, list: list, logger: context.logger)))
    }

    /// `POST …/datasets/{name}/entities`: one entity `{"uuid"?,"label","data"}` (answered
    /// as `GET` shows it), or many `{"entities":[{"label","data"}],"source"}` in one
    /// transaction (answered `{"success":true}`). Every key of `data` must be a property of
    /// the list; values are text, or null.
    @Sendable func createEntities(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (scope, project, list) = try await entityList(context)
        let body = try await JSONBody.read(request, limit: auth.config.maxPushBytes)
        let logger = context.logger
        let device = OpenRosa.deviceId(nil, account: scope.account, user: scope.user)
        let userAgent = request.headers[.userAgent].map { String($0.prefix(200)) }
        let many = body["entities"] != nil
        let properties = try await database.withConnection { c in
            Set(try await CentralEntityStore(scope: scope, connection: c, logger: logger).properties(of: list.id).map(\.name))
        }
        var changes: [ODKEntityWriter.Change] = []
        do {
            let r = try ObjectReader(body, path: "")
            if many {
                try RequestChecks.rejectNullMembers(r, of: ["entities", "source"])
                for one in ["uuid", "label", "data"] where body[one] != nil {
                    throw ItemError.invalidField(one, "a body is one entity {uuid, label, data} or many {entities, source}, not both")
                }
                if let source = body["source"], source.objectValue == nil {
                    throw ItemError.invalidField("source", "source is an object ({name, size})")
                }
                guard case .array(let rows)? = body["entities"], !rows.isEmpty else {
                    throw ItemError.invalidField("entities", "entities must be a non-empty array of {label, data}")
                }
                for (i, row) in rows.enumerated() {
                    let (label, data) = try Self.labelAndData(row, path: "entities[\(i)]", properties: properties, labelRequired: true)
                    changes.append(.init(entity: UUID(), list: list.id, base: nil, label: label, data: data))
                }
            } else {
                try RequestChecks.rejectNullMembers(r, of: ["uuid", "label", "data"])
                let id: UUID
                if let text = try r.string("uuid") {
                    let bare = text.hasPrefix("uuid:") ? String(text.dropFirst(5)) : text
                    guard let parsed = UUID(text: bare) else { throw ItemError.invalidField("uuid", "uuid must be a UUID") }
                    id = parsed
                } else {
                    id = UUID()
                }
                let (label, data) = try Self.labelAndData(body, path: "", properties: properties, labelRequired: true)
                changes.append(.init(entity: id, list: list.id, base: nil, label: label, data: data))
            }
        } catch let e as ItemError { throw APIError(e, status: .badRequest) }
        let toWrite = changes
        try await database.transaction { c in
            let writer = ODKEntityWriter(scope: scope, project: project.id, connection: c, logger: logger)
            let held = ODKSubmissionEntities(scope: scope, project: project.id, connection: c, logger: logger)
            for change in toWrite {
                _ = try await writer.write(change, device: device, userAgent: userAgent)
                // Collect updates that waited for this entity (sent before it was made here).
                _ = try await held.release(change.entity)
            }
        }
        logger.info("odk entities created", metadata: ["project": "\(project.odkId)", "count": "\(toWrite.count)"])
        if many { return JSONBody.response(.object(["success": .bool(true)])) }
        return JSONBody.response(Self.json(try await readEntity(toWrite[0].entity, scope: scope, project: project, list: list, logger: logger)))
    }

    /// `PATCH …/entities/{uuid}?baseVersion=N[&force=true]` `{"label"?,"data"?}`. On the
    /// current version: an update. On an older one: 409, unless `force=true`, which
    /// writes it on version N, merged per field with what came after (a field changed
    /// on both sides keeps both values: `conflict` becomes `hard`). `force=true` alone
    /// writes on the current version.
    @Sendable func updateEntity(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (scope, project, list) = try await entityList(context)
        let id = try Self.entityId(context)
        let base = try Self.base(request)
        let body = try await JSONBody.read(request, limit: auth.config.maxPushBytes)
        let logger = context.logger
        let properties = try await database.withConnection { c in
            Set(try await CentralEntityStore(scope: scope, connection: c, logger: logger).properties(of: list.id).map(\.name))
        }
        let label: String?, data: [String: JSONValue]
        do throws(ItemError) {
            let r = try ObjectReader(body, path: "")
            try RequestChecks.rejectNullMembers(r, of: ["label", "data"])
            (label, data) = try Self.labelAndData(body, path: "", properties: properties, labelRequired: false)
            if label == nil, data.isEmpty {
                throw ItemError.invalidField("body", "an update changes the label or some data; this one changes nothing")
            }
        } catch { throw APIError(error, status: .badRequest) }
        let change = ODKEntityWriter.Change(entity: id, list: list.id, base: base, label: label, data: data)
        try await write(change, scope: scope, project: project, request: request, logger: logger)
        return JSONBody.response(Self.json(try await readEntity(id, scope: scope, project: project, list: list, logger: logger)))
    }

    /// `DELETE …/entities/{uuid}`: a tombstone written on the current version.
    @Sendable func deleteEntity(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (scope, project, list) = try await entityList(context)
        let id = try Self.entityId(context)
        _ = try await readEntity(id, scope: scope, project: project, list: list, logger: context.logger)
        let change = ODKEntityWriter.Change(entity: id, list: list.id, base: .current, label: nil, data: [:], delete: true)
        try await write(change, scope: scope, project: project, request: request, logger: context.logger)
        return JSONBody.response(.object(["success": .bool(true)]))
    }

    func write(_ change: ODKEntityWriter.Change, scope: CallerScope, project: CentralStore.Project, request: Request, logger: Logger) async throws {
        let device = OpenRosa.deviceId(nil, account: scope.account, user: scope.user)
        let userAgent = request.headers[.userAgent].map { String($0.prefix(200)) }
        let result = try await database.transaction { c in
            let result = try await ODKEntityWriter(scope: scope, project: project.id, connection: c, logger: logger)
                .write(change, device: device, userAgent: userAgent)
            // Collect updates that waited for this version of the entity.
            _ = try await ODKSubmissionEntities(scope: scope, project: project.id, connection: c, logger: logger).release(change.entity)
            return result
        }
        logger.info("odk entity written", metadata: ["project": "\(project.odkId)", "status": "\(result.status.rawValue)"])
    }

    /// The entity, if the caller may see it and it is not deleted (404 otherwise).
    func readEntity(
        _ id: UUID, scope: CallerScope, project: CentralStore.Project, list: CentralEntityStore.EntityList,
        logger: Logger
    ) async throws -> CentralEntityStore.Entity {
        let found = try await database.withConnection { c in
            try await CentralEntityStore(scope: scope, connection: c, logger: logger).entities(list: list.id, project: project.id, id: id).first
        }
        guard let found, !found.deleted else {
            throw APIError.notFound("entity \(id.lowercased) does not exist in entity list \(list.name.prefix(100))")
        }
        return found
    }

    static func entityId(_ context: AppRequestContext) throws -> UUID {
        let text = RequestChecks.pathParameter(context, "uuid") ?? ""
        guard let id = UUID(text: text.hasPrefix("uuid:") ? String(text.dropFirst(5)) : text) else {
            throw APIError.notFound("no such entity: \(text.prefix(100)) is not a UUID")
        }
        return id
    }

    /// `baseVersion` and `force` of an update (pyodk sends one of them).
    static func base(_ request: Request) throws -> ODKEntityWriter.Base {
        let q = request.uri.queryParameters
        var force = false
        // pyodk sends Python's `True`: the case of the word is not significant.
        if let f = q["force"].map({ String($0).lowercased() }) {
            guard f == "true" || f == "false" else { throw APIError.badRequest("force must be true or false", field: "force") }
            force = f == "true"
        }
        if let raw = q["baseVersion"] {
            guard let n = Int(String(raw)), n >= 1 else { throw APIError.badRequest("baseVersion must be a whole number ≥ 1", field: "baseVersion") }
            return .version(n, force: force)
        }
        guard force else {
            throw APIError.badRequest("an update names the version it was made on (baseVersion=N), or sends force=true", field: "baseVersion")
        }
        return .current
    }

    /// `label` and `data` of an entity in a request: `data` an object whose keys are
    /// properties of the list and whose values are text (or null, which clears). Text
    /// holding NUL (`\u0000`, which PostgreSQL refuses) is `invalid_field` naming `label`
    /// or `data.<key>` (``ObjectReader/checkText(_:field:)``, the one check of all text).
    static func labelAndData(
        _ json: JSONValue, path: String, properties: Set<String>, labelRequired: Bool
    ) throws(ItemError) -> (String?, [String: JSONValue]) {
        let at = { (name: String) in path.isEmpty ? name : "\(path).\(name)" }
        guard case .object(let o) = json else { throw ItemError.invalidField(path.isEmpty ? "body" : path, "an entity is an object {label, data}") }
        var label: String?
        switch o["label"] {
        case .string(let s)?:
            try ObjectReader.checkText(.string(s), field: at("label"))
            guard s.contains(where: { !$0.isWhitespace }) else { throw ItemError.invalidField(at("label"), "label must not be empty") }
            label = s
        case nil where !labelRequired: label = nil
        default: throw ItemError.invalidField(at("label"), "label must be text" + (labelRequired ? " (every new entity has one)" : ""))
        }
        var data: [String: JSONValue] = [:]
        switch o["data"] {
        case nil: break
        case .object(let d)?:
            // Keys and values: a key holding NUL is named as `data.a\u0000b`, never as an unknown property.
            try ObjectReader.checkText(.object(d), field: at("data"))
            for (key, value) in d {
                guard properties.contains(key) else {
                    throw ItemError.invalidField(
                        at("data.\(key.prefix(100))"), "\(key.prefix(100)) is not a property of this entity list; add it first (POST …/properties)")
                }
                switch value {
                case .string, .null: data[key] = value
                default: throw ItemError.invalidField(at("data.\(key.prefix(100))"), "property values are text (or null)")
                }
            }
        default: throw ItemError.invalidField(at("data"), "data must be an object of property → text")
        }
        return (label, data)
    }

    /// Central's `Entity` with its `currentVersion`: `conflict` is `hard` while any
    /// property holds concurrent values (FieldSync keeps them all; the visible one is
    /// in `data`), null otherwise.
    static func json(_ e: CentralEntityStore.Entity) -> JSONValue {
        let fields = e.fields
        var data: [String: JSONValue] = [:]
        for (name, value) in fields where name != "label" && name != "deleted" { data[name] = .string(EntityListCSV.text(value)) }
        let conflicting = (e.document["conflicts"]?.objectValue ?? [:]).keys.sorted()
        return .object([
            "uuid": .string(e.id.lowercased), "creatorId": .number(Double(e.creatorOdkId)), "createdAt": .string(e.createdAt.rfc3339),
            "updatedAt": e.version > 1 ? .string(e.versionAt.rfc3339) : .null, "deletedAt": .null,
            "conflict": e.hasConflicts ? .string("hard") : .null,
            "currentVersion": .object([
                "label": .string(fields["label"].map(EntityListCSV.text) ?? ""), "current": .bool(true),
                "createdAt": .string(e.versionAt.rfc3339), "creatorId": .number(Double(e.versionAuthorOdkId)),
                "userAgent": .string(""), "version": .number(Double(e.version)),
                "baseVersion": e.version > 1 ? .number(Double(e.version - 1)) : .null,
                "data": .object(data),
                "conflictingProperties": conflicting.isEmpty ? .null : .array(conflicting.map { .string($0) }),
            ]),
        ])
    }
}
