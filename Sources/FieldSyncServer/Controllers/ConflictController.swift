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

    static func kind(_ raw: String?) throws -> ItemKind? {
        guard let raw, !raw.isEmpty else { return nil }
        guard let k = ItemKind(rawValue: raw), k == .entity || k == .instance else {
            throw APIError.badRequest("kind must be entity or instance, got \"\(raw)\"", field: "kind")
        }
        return k
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let account = try caller.requireAccount()
        let q = request.uri.queryParameters
        let kind = try Self.kind(q["kind"].map(String.init))
        if let status = q["status"], status != "open" { throw APIError.badRequest("status must be open", field: "status") }
        let scope = try await sync.scope(for: caller, account: account)
        let wantEntities = kind == nil || kind == .entity
        let wantInstances = kind == nil || kind == .instance
        let docs = try await database.withConnection { [logger] c in
            try await c.query(
                """
                WITH my_paths AS (SELECT path FROM org_units WHERE account_id = \(account) AND id = ANY(\(scope.orgUnits)::uuid[]))
                SELECT doc::text FROM (
                    SELECT e.doc::text AS doc, e.updated_at FROM entities e
                    WHERE \(wantEntities) AND e.account_id = \(account) AND e.has_conflicts AND e.project_id = ANY(\(scope.projects)::uuid[])
                      AND (\(scope.everything) OR EXISTS (SELECT 1 FROM org_units o, my_paths m WHERE o.account_id = \(account) AND o.id = e.org_unit_id AND o.path <@ m.path))
                    UNION ALL
                    SELECT i.doc::text AS doc, i.updated_at FROM instances i
                    WHERE \(wantInstances) AND i.account_id = \(account) AND i.has_conflicts AND i.project_id = ANY(\(scope.projects)::uuid[])
                      AND (\(scope.everything) OR EXISTS (SELECT 1 FROM org_units o, my_paths m WHERE o.account_id = \(account) AND o.id = i.org_unit_id AND o.path <@ m.path))
                ) r ORDER BY updated_at LIMIT 1000
                """, logger: logger
            ).collect { try $0.decode(String.self) }
        }
        var w = JSONWriter()
        w.raw("{\"items\":[")
        w.raw(docs.joined(separator: ","))
        w.raw("]}")
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
        } catch { throw APIError(error, status: .badRequest) }
        let scope = try await sync.scope(for: caller, account: account)
        let user = caller.userId
        let logger = context.logger
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
}
