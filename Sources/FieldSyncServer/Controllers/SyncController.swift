import FieldSyncCore
import Foundation
import Hummingbird
import Logging
import Metrics
import PostgresNIO

/// `POST /v1/sync/push` and `GET /v1/sync/pull`.
struct SyncController {
    let database: Database
    let config: ServerConfiguration
    let logger: Logger

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.post("sync/push", use: push)
        router.get("sync/pull", use: pull)
    }

    // MARK: push

    @Sendable func push(_ request: Request, context: AppRequestContext) async throws -> Response {
        let started = ContinuousClock.now
        let caller = try context.requireCaller()
        let account = try caller.requireAccount()
        let body = try await JSONBody.read(request, limit: config.maxPushBytes)
        let envelope: PushEnvelope
        do { envelope = try PushEnvelope(json: body) } catch { throw APIError(error, status: .badRequest) }
        let project = try await resolveProject(envelope.projectId, caller: caller, account: account)
        try await requireOwnDevice(envelope.deviceId, caller: caller, account: account)

        // Interpret every item first (no database needed): bad ones are rejected alone.
        var results = [PushResult?](repeating: nil, count: envelope.items.count)
        var positions: [(index: Int, item: PositionItem)] = []
        var versioned: [(index: Int, item: VersionedItem)] = []
        for (index, raw) in envelope.items.enumerated() {
            let path = "items[\(index)]"
            let id = raw["id"]?.stringValue
            let kindName = raw["kind"]?.stringValue
            guard let kind = kindName.flatMap(ItemKind.init(rawValue:)) else {
                results[index] = .rejected(id: id, kind: kindName, ItemError.invalidField(
                    "\(path).kind", "kind must be one of position, instance, entity, orgUnit; got \(raw["kind"].map { JSONWriter.string($0) } ?? "nothing")"))
                continue
            }
            switch kind {
            case .position:
                do {
                    positions.append((index, try PositionItem(json: raw, path: path)))
                } catch {
                    results[index] = .rejected(id: id, kind: kind.rawValue, error)
                }
            case .instance, .entity:
                do {
                    versioned.append((index, try VersionedItem(json: raw, kind: kind, path: path, device: envelope.deviceId)))
                } catch {
                    results[index] = .rejected(id: id, kind: kind.rawValue, error)
                }
            case .orgUnit:
                results[index] = .rejected(id: id, kind: kind.rawValue, ItemError(
                    code: "unsupported_kind", message: "this server does not accept \(kind.rawValue) items yet", field: "\(path).kind"))
            }
        }

        let logger = context.logger
        let user = caller.userId
        let batchId = envelope.batchId
        let device = envelope.deviceId
        let itemCount = envelope.items.count
        let resultsSoFar = results
        let positionsToStore = positions
        let versionedToApply = versioned
        let scope = try await scope(for: caller, account: account)
        let answer: [UInt8] = try await database.transaction { connection in
            let claimed = try await connection.query(
                """
                INSERT INTO push_batches (account_id, batch_id, user_id, device_id) VALUES (\(account), \(batchId), \(user), \(device))
                ON CONFLICT (account_id, batch_id) DO NOTHING RETURNING 1
                """, logger: logger
            ).collect { _ in true }.first ?? false
            if !claimed {
                // A replay: the first answer stands (its transaction committed before ours saw the conflict).
                let stored = try await connection.query(
                    "SELECT response::text FROM push_batches WHERE account_id = \(account) AND batch_id = \(batchId)", logger: logger
                ).collect { try $0.decode(String?.self) }.first ?? nil
                guard let stored else { throw APIError.conflict("batch_in_progress", "this batch is being processed; retry it") }
                return Array(stored.utf8)
            }
            var results = resultsSoFar
            let created = try await PositionStore.insert(
                positionsToStore.map(\.item), account: account, project: project, device: device, user: user,
                on: connection, logger: logger)
            var seen = Set<UUID>()
            for (index, item) in positionsToStore {
                let isNew = created.contains(item.id) && seen.insert(item.id).inserted
                results[index] = PushResult(id: item.id.lowercased, kind: ItemKind.position.rawValue, status: isNew ? .created : .unchanged)
            }
            let writer = RecordWriter(account: account, project: project, user: user, device: device, batchId: batchId, scope: scope, logger: logger)
            for (index, result) in try await writer.process(versionedToApply, on: connection) {
                results[index] = result
            }
            let cursor = try await connection.query(
                "SELECT pg_current_xact_id()::text, (SELECT last_value FROM feed_seq)", logger: logger
            ).collect { row -> String in
                let (x, s) = try row.decode((String, Int64).self)
                return FeedCursor(xid: UInt64(x) ?? 0, seq: s).description
            }.first ?? FeedCursor.start.description
            var w = JSONWriter(capacity: 64 * itemCount + 128)
            w.raw("{\"batchId\":")
            w.write(string: batchId.lowercased)
            w.raw(",\"results\":[")
            for (k, r) in results.enumerated() {
                if k > 0 { w.raw(",") }
                w.write((r ?? .rejected(id: nil, kind: nil, ItemError.invalidRequest("item was not processed"))).json)
            }
            w.raw("],\"cursor\":")
            w.write(string: cursor)
            w.raw("}")
            let text = String(decoding: w.bytes, as: UTF8.self)
            try await connection.query(
                "UPDATE push_batches SET response = \(text)::jsonb WHERE account_id = \(account) AND batch_id = \(batchId)", logger: logger)
            for r in results { if let r { Counter(label: "fieldsync_push_items_total", dimensions: [("kind", r.kind ?? "unknown"), ("status", r.status.rawValue)]).increment() } }
            return w.bytes
        }
        Timer(label: "fieldsync_push_duration_seconds").record(duration: ContinuousClock.now - started)
        return JSONBody.response(bytes: answer)
    }

    /// The push's project: the named one (404 outside the account, 403 not the caller's),
    /// or the caller's only project.
    func resolveProject(_ projectId: UUID?, caller: Caller, account: UUID) async throws -> UUID {
        guard let projectId else {
            if caller.projectIds.count == 1 { return caller.projectIds[0] }
            throw APIError.badRequest("projectId is required when you belong to \(caller.projectIds.count) projects", field: "projectId")
        }
        let exists = try await database.withConnection { [logger] c in
            try await c.query("SELECT 1 FROM projects WHERE account_id = \(account) AND id = \(projectId)", logger: logger).collect { _ in true }.first ?? false
        }
        guard exists else { throw APIError.notFound("project \(projectId.lowercased) does not exist") }
        guard caller.role == .admin || caller.projectIds.contains(projectId) else {
            throw APIError.forbidden("you are not a member of project \(projectId.lowercased)")
        }
        return projectId
    }

    func requireOwnDevice(_ device: UUID, caller: Caller, account: UUID) async throws {
        let user = caller.userId
        let owned = try await database.withConnection { [logger] c in
            try await c.query(
                """
                SELECT 1 FROM device_ownerships
                WHERE account_id = \(account) AND device_id = \(device) AND user_id = \(user) AND ended_at IS NULL
                """, logger: logger
            ).collect { _ in true }.first ?? false
        }
        guard owned else {
            throw APIError.forbidden("device \(device.lowercased) is not registered to you; register it with POST /v1/devices first")
        }
    }

    /// What the caller may see and write: admins the whole account, others their
    /// projects and the subtrees of their org units.
    func scope(for caller: Caller, account: UUID) async throws -> PullQuery.Scope {
        let admin = caller.role == .admin
        var projects = caller.projectIds
        if admin {
            projects = try await database.withConnection { [logger] c in
                try await c.query("SELECT id FROM projects WHERE account_id = \(account)", logger: logger).collect { try $0.decode(UUID.self) }
            }
        }
        return PullQuery.Scope(
            account: account, projects: projects, user: caller.userId, everything: admin,
            supervisor: caller.role == .supervisor, orgUnits: caller.orgUnitIds)
    }

    // MARK: pull

    @Sendable func pull(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let account = try caller.requireAccount()
        let query = request.uri.queryParameters
        let cursor = try FeedCursor(parsing: query["cursor"].map(String.init))
        var limit = 500
        if let raw = query["limit"] {
            guard let l = Int(raw), (1...1000).contains(l) else {
                throw APIError.badRequest("limit must be a whole number from 1 to 1000, got \"\(raw)\"", field: "limit")
            }
            limit = l
        }
        var scope = try await scope(for: caller, account: account)
        if let raw = query["projectId"] {
            guard let p = UUID(uuidString: String(raw)) else { throw APIError.badRequest("projectId must be a UUID", field: "projectId") }
            guard scope.projects.contains(p) else { throw APIError.notFound("project \(p.lowercased) does not exist or is not yours") }
            scope.projects = [p]
        }
        let logger = context.logger
        let pageLimit = limit
        let pageScope = scope
        let page = try await database.withConnection { c in
            try await PullQuery.page(scope: pageScope, after: cursor, limit: pageLimit, on: c, logger: logger)
        }
        var w = JSONWriter(capacity: page.documents.reduce(64) { $0 + $1.utf8.count + 1 })
        w.raw("{\"changes\":[")
        for (k, doc) in page.documents.enumerated() {
            if k > 0 { w.raw(",") }
            w.raw(doc)
        }
        w.raw("],\"cursor\":")
        w.write(string: page.cursor.description)
        w.raw(",\"hasMore\":\(page.hasMore)}")
        return JSONBody.response(bytes: w.bytes)
    }
}
