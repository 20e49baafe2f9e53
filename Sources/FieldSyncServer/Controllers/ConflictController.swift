import FieldSyncCore
import Foundation
import Hummingbird
import Logging

/// `GET /v1/conflicts` and `POST /v1/conflicts/{kind}/{id}/resolve`: supervisors and
/// admins see the records with conflicted fields in their scope, and resolve them with a
/// write of replica `server` whose base covers every value shown.
struct ConflictController {
    let database: Database
    let config: ServerConfiguration

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.get("conflicts", use: list)
        router.post("conflicts/:kind/:id/resolve", use: resolve)
    }

    /// The kinds that have conflicts: every versioned kind. `nil` for absent; 400 for an
    /// empty or unknown one.
    static func kind(_ raw: String?) throws -> ItemKind? {
        guard let raw else { return nil }
        guard let k = ItemKind(rawValue: raw), k == .entity || k == .instance || k == .orgUnit else {
            throw APIError.badRequest("kind must be entity, instance or orgUnit, got \"\(raw.prefix(40))\"", field: "kind")
        }
        return k
    }

    /// A page position (``ConflictStore/Position``) as the `cursor` text `"<µs>_<e|i|o>_<uuid>"`.
    static func cursor(parsing raw: String) throws -> ConflictStore.Position {
        let parts = raw.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 3, let micros = Int64(parts[0]), ["e", "i", "o"].contains(parts[1]), let id = UUID(text: String(parts[2])) else {
            throw APIError.badRequest("cursor is not one this server issued", field: "cursor")
        }
        return ConflictStore.Position(micros: micros, kind: String(parts[1]), id: id)
    }

    static func cursorText(_ p: ConflictStore.Position) -> String { "\(p.micros)_\(p.kind)_\(p.id.lowercased)" }

    /// `GET /v1/conflicts?kind=&status=open&cursor=&limit=`: records of every versioned kind
    /// with a conflicted field, oldest change first, paged.
    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let scope = try context.requireCaller().requireScope()
        let q = request.uri.queryParameters
        let kind = try Self.kind(q["kind"].map(String.init))
        if let status = q["status"], status != "open" { throw APIError.badRequest("status must be open", field: "status") }
        let limit = try RequestChecks.limit(request)
        let after = try q["cursor"].map(String.init).flatMap { $0.isEmpty ? nil : try Self.cursor(parsing: $0) }
        let rows = try await database.withConnection { c in
            try await ConflictStore(scope: scope, connection: c, logger: context.logger).page(
                entities: kind == nil || kind == .entity, instances: kind == nil || kind == .instance, orgUnits: kind == nil || kind == .orgUnit,
                after: after, limit: limit)
        }
        let page = rows.prefix(limit)
        var w = JSONWriter()
        w.raw("{\"items\":[")
        w.raw(page.map(\.doc).joined(separator: ","))
        w.raw("]")
        if rows.count > limit, let last = page.last {
            w.raw(",\"cursor\":")
            w.write(string: Self.cursorText(last.position))
        }
        w.raw("}")
        return JSONBody.response(bytes: w.bytes)
    }

    @Sendable func resolve(_ request: Request, context: AppRequestContext) async throws -> Response {
        let scope = try context.requireCaller().requireScope()
        guard scope.reviews else {
            throw APIError.forbidden("only supervisors and admins resolve conflicts")
        }
        guard let kind = try Self.kind(context.parameters.get("kind")) else { throw APIError.notFound("no such record") }
        guard let id = context.parameters.get("id").flatMap(UUID.init(text:)) else { throw APIError.notFound("no such record") }
        let body = try await JSONBody.read(request, limit: config.maxPushBytes)
        let changes: [String: JSONValue]
        do throws(ItemError) {
            let r = try ObjectReader(body, path: "")
            guard let c = try r.objectMember("changes"), !c.isEmpty else {
                throw ItemError.invalidRequest("changes is required and may not be empty", field: "changes")
            }
            changes = c
        } catch { throw APIError(error, status: error.code == ErrorCode.invalidRequest ? .badRequest : .unprocessableContent) }
        let logger = context.logger
        if kind == .orgUnit {
            return JSONBody.response(bytes: Array(try await resolveOrgUnit(id, changes: changes, scope: scope, logger: logger).utf8))
        }
        let doc: String = try await database.transaction { c in
            let writer = RecordWriter(scope: scope, connection: c, logger: logger)
            try await writer.lock(kind: kind, id: id)
            let loaded = kind == .entity ? try await writer.loadEntities([id]) : try await writer.loadInstances([id])
            guard var record = loaded[id] else { throw APIError.notFound("no such \(kind.rawValue)") }
            let unit = record.fixed["orgUnitId"]?.stringValue.flatMap(UUID.init(text:))
            let inScope = try await writer.orgUnitScope(unit.map { [$0] } ?? [])
            // A record of the account outside the caller's projects or org units: 403 (404 is only for
            // what does not exist in the account).
            guard scope.projects.contains(record.projectId), unit.flatMap({ inScope[$0] }) == true else {
                throw APIError.forbidden("this \(kind.rawValue) is outside your projects or org units")
            }
            let write = record.state.serverWrite(changes: changes, editedAt: Timestamp.now())
            record.state.apply(write)
            if kind == .entity {
                try await writer.flushEntities([(id, record)])
            } else {
                let forms = try await writer.loadForms([record.fixed["formId"]?.stringValue ?? ""])
                try await writer.flushInstances([(id, record)], forms: forms)
            }
            try await writer.logWrite(kind: kind, id: id, write)
            guard let doc = try await writer.document(kind: kind, id: id) else { throw APIError.notFound("no such \(kind.rawValue)") }
            return doc
        }
        return JSONBody.response(bytes: Array(doc.utf8))
    }

    /// Resolves an org unit (validated units only; proposals are reviewed instead): a write
    /// of replica `server` whose base covers every value, applied under the account's tree
    /// lock through ``OrgUnitStore`` as a supervisor's own org-unit write is (re-pathing a
    /// moved subtree, refusing a cycle with `invalid_parent`).
    func resolveOrgUnit(_ id: UUID, changes raw: [String: JSONValue], scope: CallerScope, logger: Logger) async throws -> String {
        let account = scope.account
        // The same checks and normalisation as an org-unit push item; fields named from the body (`changes.name`).
        let changes: [String: JSONValue]
        do { changes = try OrgUnitFields.normalize(raw, path: "") } catch {
            throw APIError(ItemError(code: error.code, message: error.message, field: error.field.map { String($0.drop(while: { $0 == "." })) }))
        }
        return try await database.transaction { c in
            let store = OrgUnitStore(account: account, connection: c, logger: logger)
            try await store.lockTree()
            guard let row = try await store.load(id), row.status == "validated" else { throw APIError.notFound("no such orgUnit") }
            guard scope.covers(path: row.path) else { throw APIError.forbidden("this orgUnit is outside your org units") }
            if let parent = changes["parentId"] {
                if parent.isNull {
                    guard scope.everything else { throw APIError.forbidden("only admins make an org unit a root") }
                } else if let p = parent.stringValue.flatMap(UUID.init(text:)) {
                    guard let parentRow = try await store.load(p), parentRow.status == "validated" else {
                        throw APIError.invalid("parent \(p.lowercased) does not exist", field: "changes.parentId", code: ErrorCode.unknownReference)
                    }
                    guard scope.covers(path: parentRow.path) else {
                        throw APIError.invalid(
                            "parent \(p.lowercased) is outside your org units", field: "changes.parentId", code: ErrorCode.forbiddenReference)
                    }
                } else {
                    throw APIError.invalid("parentId must be a UUID or null", field: "changes.parentId")
                }
            }
            if let t = changes["orgUnitTypeId"], !t.isNull {
                guard let type = t.stringValue.flatMap(UUID.init(text:)) else {
                    throw APIError.invalid("orgUnitTypeId must be a UUID or null", field: "changes.orgUnitTypeId")
                }
                guard try await store.typeExists(type) else {
                    throw APIError.invalid(
                        "org-unit type \(type.lowercased) does not exist", field: "changes.orgUnitTypeId", code: ErrorCode.unknownReference)
                }
            }
            var state = row.state
            let write = state.serverWrite(changes: changes, editedAt: Timestamp.now())
            state.apply(write)
            try await store.store(id: id, state: state, status: row.status, previousPath: row.path, user: scope.user, field: "changes.parentId")
            try await store.recordWrite(id: id, write, user: scope.user, device: nil, batchId: nil)
            guard let doc = try await store.document(id) else { throw APIError.notFound("no such orgUnit") }
            return doc
        }
    }
}
