import FieldSyncCore
import Foundation
import Hummingbird
import Logging
import PostgresNIO

/// `GET /v1/conflicts` and `POST /v1/conflicts/{kind}/{id}/resolve`: supervisors and
/// admins see the records with conflicted fields in their scope, and resolve them with a
/// write of replica `server` whose base covers every value shown.
struct ConflictController {
    let database: Database
    let config: ServerConfiguration
    let logger: Logger
    let sync: SyncController

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

    /// A page position: the last record's (update time in µs, kind letter, id), written
    /// `"<µs>_<e|i|o>_<uuid>"`.
    struct Cursor {
        var micros: Int64
        var kind: String
        var id: UUID

        init(micros: Int64, kind: String, id: UUID) { (self.micros, self.kind, self.id) = (micros, kind, id) }

        init(parsing raw: String) throws {
            let parts = raw.split(separator: "_", omittingEmptySubsequences: false)
            guard parts.count == 3, let micros = Int64(parts[0]), ["e", "i", "o"].contains(parts[1]), let id = UUID(text: String(parts[2])) else {
                throw APIError.badRequest("cursor is not one this server issued", field: "cursor")
            }
            self.init(micros: micros, kind: String(parts[1]), id: id)
        }

        var text: String { "\(micros)_\(kind)_\(id.lowercased)" }
    }

    /// `GET /v1/conflicts?kind=&status=open&cursor=&limit=`: records of every versioned kind
    /// with a conflicted field, oldest change first, paged.
    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let account = try caller.requireAccount()
        let q = request.uri.queryParameters
        let kind = try Self.kind(q["kind"].map(String.init))
        if let status = q["status"], status != "open" { throw APIError.badRequest("status must be open", field: "status") }
        let limit = try RequestChecks.limit(request)
        let after = try q["cursor"].map(String.init).flatMap { $0.isEmpty ? nil : try Cursor(parsing: $0) }
        let scope = try await sync.scope(for: caller, account: account)
        let wantEntities = kind == nil || kind == .entity
        let wantInstances = kind == nil || kind == .instance
        let wantUnits = kind == nil || kind == .orgUnit
        let (hasAfter, afterMicros, afterKind, afterId) = (after != nil, after?.micros ?? 0, after?.kind ?? "", after?.id ?? OrgUnitImport.nilUUID)
        let rows = try await database.withConnection { [logger] c in
            try await c.query(
                """
                WITH my_paths AS (SELECT path FROM org_units WHERE account_id = \(account) AND id = ANY(\(scope.orgUnits)::uuid[]))
                SELECT doc, us, k, id FROM (
                    SELECT e.doc::text AS doc, (extract(epoch FROM e.updated_at) * 1000000)::int8 AS us, 'e' AS k, e.id FROM entities e
                    WHERE \(wantEntities) AND e.account_id = \(account) AND e.has_conflicts AND e.project_id = ANY(\(scope.projects)::uuid[])
                      AND (\(scope.everything) OR EXISTS (SELECT 1 FROM org_units o, my_paths m WHERE o.account_id = \(account) AND o.id = e.org_unit_id AND o.path <@ m.path))
                    UNION ALL
                    SELECT i.doc::text AS doc, (extract(epoch FROM i.updated_at) * 1000000)::int8 AS us, 'i' AS k, i.id FROM instances i
                    WHERE \(wantInstances) AND i.account_id = \(account) AND i.has_conflicts AND i.project_id = ANY(\(scope.projects)::uuid[])
                      AND (\(scope.everything) OR EXISTS (SELECT 1 FROM org_units o, my_paths m WHERE o.account_id = \(account) AND o.id = i.org_unit_id AND o.path <@ m.path))
                    UNION ALL
                    SELECT u.doc::text AS doc, (extract(epoch FROM u.updated_at) * 1000000)::int8 AS us, 'o' AS k, u.id FROM org_units u
                    WHERE \(wantUnits) AND u.account_id = \(account) AND u.validation_status = 'validated' AND u.doc ? 'conflicts'
                      AND (\(scope.everything) OR EXISTS (SELECT 1 FROM my_paths m WHERE u.path <@ m.path))
                ) r
                WHERE NOT \(hasAfter) OR (us, k, id) > (\(afterMicros), \(afterKind), \(afterId))
                ORDER BY us, k, id LIMIT \(Int64(limit) + 1)
                """, logger: logger
            ).collect { try $0.decode((String, Int64, String, UUID).self) }
        }
        let page = rows.prefix(limit)
        var w = JSONWriter()
        w.raw("{\"items\":[")
        w.raw(page.map(\.0).joined(separator: ","))
        w.raw("]")
        if rows.count > limit, let last = page.last {
            w.raw(",\"cursor\":")
            w.write(string: Cursor(micros: last.1, kind: last.2, id: last.3).text)
        }
        w.raw("}")
        return JSONBody.response(bytes: w.bytes)
    }

    @Sendable func resolve(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let account = try caller.requireAccount()
        guard caller.role == .supervisor || caller.role == .admin else {
            throw APIError.forbidden("only supervisors and admins resolve conflicts")
        }
        guard let kind = try Self.kind(context.parameters.get("kind")) else { throw APIError.notFound("no such record") }
        guard let id = context.parameters.get("id").flatMap(UUID.init(text:)) else { throw APIError.notFound("no such record") }
        let body = try await JSONBody.read(request, limit: config.maxPushBytes)
        let changes: [String: JSONValue]
        do throws(ItemError) {
            let r = try ObjectReader(body, path: "")
            guard let c = try r.objectMember("changes"), !c.isEmpty else { throw ItemError.invalidRequest("changes is required and may not be empty", field: "changes") }
            changes = c
        } catch { throw APIError(error, status: error.code == ErrorCode.invalidRequest ? .badRequest : .unprocessableContent) }
        let scope = try await sync.scope(for: caller, account: account)
        let user = caller.userId
        let logger = context.logger
        if kind == .orgUnit {
            return JSONBody.response(bytes: Array(try await resolveOrgUnit(id, changes: changes, caller: caller, scope: scope, logger: logger).utf8))
        }
        let doc: String = try await database.transaction { c in
            let writer = RecordWriter(account: account, project: scope.projects.first ?? UUID(), user: user, device: OrgUnitImport.nilUUID,
                                      batchId: OrgUnitImport.nilUUID, scope: scope, logger: logger)
            try await c.query("SELECT pg_advisory_xact_lock(hashtextextended(\("\(account.lowercased):\(kind.rawValue):\(id.lowercased)"), 0))", logger: logger).drain()
            let loaded = kind == .entity ? try await writer.loadEntities([id], on: c) : try await writer.loadInstances([id], on: c)
            guard var record = loaded[id] else { throw APIError.notFound("no such \(kind.rawValue)") }
            let unit = record.fixed["orgUnitId"]?.stringValue.flatMap(UUID.init(text:))
            let inScope = try await writer.orgUnitScope(unit.map { [$0] } ?? [], on: c)
            // A record of the account outside the caller's projects or org units: 403 (404 is only for
            // what does not exist in the account).
            guard scope.projects.contains(record.projectId), unit.flatMap({ inScope[$0] }) == true else {
                throw APIError.forbidden("this \(kind.rawValue) is outside your projects or org units")
            }
            let now = Timestamp.now()
            let write = record.state.serverWrite(changes: changes, editedAt: now)
            record.state.apply(write)
            if kind == .entity {
                try await writer.flushEntities([(id, record)], on: c)
            } else {
                let forms = try await writer.loadForms([record.fixed["formId"]?.stringValue ?? ""], on: c)
                try await writer.flushInstances([(id, record)], forms: forms, on: c)
            }
            try await c.query(
                """
                INSERT INTO record_writes (account_id, kind, record_id, replica, counter, user_id)
                VALUES (\(account), \(kind.rawValue), \(id), 'server', \(write.counter), \(user))
                """, logger: logger)
            let table: PostgresQuery = kind == .entity
                ? "SELECT doc::text FROM entities WHERE account_id = \(account) AND id = \(id)"
                : "SELECT doc::text FROM instances WHERE account_id = \(account) AND id = \(id)"
            return try await c.query(table, logger: logger).collect { try $0.decode(String.self) }.first ?? "{}"
        }
        return JSONBody.response(bytes: Array(doc.utf8))
    }

    /// Resolves an org unit (validated units only; proposals are reviewed instead): a write
    /// of replica `server` whose base covers every value, applied under the account's tree
    /// lock through ``OrgUnitStore`` as a supervisor's own org-unit write is (re-pathing a
    /// moved subtree, refusing a cycle with `invalid_parent`).
    func resolveOrgUnit(_ id: UUID, changes raw: [String: JSONValue], caller: Caller, scope: PullQuery.Scope, logger: Logger) async throws -> String {
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
            if !scope.everything {
                let myPaths = try await store.paths(of: scope.orgUnits)
                guard OrgUnitStore.isWithin(row.path, myPaths) else { throw APIError.forbidden("this orgUnit is outside your org units") }
            }
            if let parent = changes["parentId"] {
                if parent.isNull {
                    guard caller.role == .admin else { throw APIError.forbidden("only admins make an org unit a root") }
                } else if let p = parent.stringValue.flatMap(UUID.init(text:)) {
                    guard let parentRow = try await store.load(p), parentRow.status == "validated" else {
                        throw APIError.invalid("parent \(p.lowercased) does not exist", field: "changes.parentId", code: ErrorCode.unknownReference)
                    }
                    if !scope.everything {
                        let myPaths = try await store.paths(of: scope.orgUnits)
                        guard OrgUnitStore.isWithin(parentRow.path, myPaths) else {
                            throw APIError.invalid("parent \(p.lowercased) is outside your org units", field: "changes.parentId", code: ErrorCode.forbiddenReference)
                        }
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
                    throw APIError.invalid("org-unit type \(type.lowercased) does not exist", field: "changes.orgUnitTypeId", code: ErrorCode.unknownReference)
                }
            }
            var state = row.state
            let write = state.serverWrite(changes: changes, editedAt: Timestamp.now())
            state.apply(write)
            try await store.store(id: id, state: state, status: row.status, previousPath: row.path, user: caller.userId, field: "changes.parentId")
            try await store.recordWrite(id: id, write, user: caller.userId, device: nil, batchId: nil)
            return try await c.query("SELECT doc::text FROM org_units WHERE account_id = \(account) AND id = \(id)", logger: logger)
                .collect { try $0.decode(String.self) }.first ?? "{}"
        }
    }
}
