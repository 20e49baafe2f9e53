import FieldSyncCore
import Foundation
import Hummingbird
import Logging
import Metrics
import PostgresNIO

/// `POST /v1/sync/push` and `GET /v1/sync/pull`.
struct SyncController {
    /// Pushed items by kind and status, counted per batch for the metrics.
    struct PushCount: Hashable {
        let kind: String
        let status: String
    }

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
        // The project's existence, the caller's membership and the device's ownership are
        // checked in the transaction, in the statement that claims the batch.
        let target = try resolveProject(envelope.projectId, caller: caller)
        let project = target.id

        // Interpret every item first (no database needed): bad ones are rejected alone.
        var results = [PushResult?](repeating: nil, count: envelope.items.count)
        var positions: [(index: Int, item: PositionItem)] = []
        var versioned: [(index: Int, item: VersionedItem)] = []
        var orgUnits: [(index: Int, item: VersionedItem)] = []
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
                do {
                    var item = try VersionedItem(json: raw, kind: kind, path: path, device: envelope.deviceId)
                    item.write.changes = try OrgUnitFields.normalize(item.write.changes, path: path)
                    orgUnits.append((index, item))
                } catch {
                    results[index] = .rejected(id: id, kind: kind.rawValue, error)
                }
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
        let orgUnitsToApply = orgUnits
        let role = caller.role
        let lockKeys = RecordWriter.lockKeys(account: account, versionedToApply)
        let answer: [UInt8] = try await database.transaction { connection in
            let scope: PullQuery.Scope
            switch try await claimBatch(batchId, project: target, device: device, lockKeys: lockKeys, caller: caller, account: account,
                                        on: connection, logger: logger) {
            case .replay(let stored): return stored
            case .claimed(let s): scope = s
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
            // Org units first: entities and instances may reference units created here.
            let unitWriter = OrgUnitWriter(account: account, user: user, device: device, batchId: batchId, role: role, scope: scope, logger: logger)
            for (index, result) in try await unitWriter.process(orgUnitsToApply, on: connection) {
                results[index] = result
            }
            let writer = RecordWriter(account: account, project: project, user: user, device: device, batchId: batchId, scope: scope, logger: logger)
            for (index, result) in try await writer.process(versionedToApply, on: connection, locked: true) {
                results[index] = result
            }
            var w = JSONWriter(capacity: 64 * itemCount + 128)
            w.raw("{\"batchId\":")
            w.write(string: batchId.lowercased)
            w.raw(",\"results\":[")
            for (k, r) in results.enumerated() {
                if k > 0 { w.raw(",") }
                w.write((r ?? .rejected(id: nil, kind: nil, ItemError.invalidRequest("item was not processed"))).json)
            }
            w.raw("],\"cursor\":")
            // The cursor (this transaction's id, the feed sequence after its writes) is made
            // by the statement that stores the answer: one round trip for both.
            let prefix = String(decoding: w.bytes, as: UTF8.self)
            let cursor = try await connection.execute(StoreAnswerStatement(account: account, batchId: batchId, prefix: prefix), logger: logger)
                .collectAll().first ?? FeedCursor.start.description
            w.write(string: cursor)
            w.raw("}")
            var counts: [PushCount: Int] = [:]
            for r in results { if let r { counts[PushCount(kind: r.kind ?? "unknown", status: r.status.rawValue), default: 0] += 1 } }
            for (k, n) in counts { Counter(label: "fieldsync_push_items_total", dimensions: [("kind", k.kind), ("status", k.status)]).increment(by: n) }
            return w.bytes
        }
        Timer(label: "fieldsync_push_duration_seconds").record(duration: ContinuousClock.now - started)
        return JSONBody.response(bytes: answer)
    }

    /// The push's project: the named one, or the caller's only project. Whether a named
    /// one exists (404) and is the caller's (403) is checked by ``claimBatch``.
    func resolveProject(_ projectId: UUID?, caller: Caller) throws -> (id: UUID, named: Bool) {
        guard let projectId else {
            if caller.projectIds.count == 1 { return (caller.projectIds[0], false) }
            throw APIError.badRequest("projectId is required when you belong to \(caller.projectIds.count) projects", field: "projectId")
        }
        return (projectId, true)
    }

    enum BatchClaim {
        /// The batch is ours to process, with the caller's scope.
        case claimed(PullQuery.Scope)
        /// A replay: the stored first answer.
        case replay([UInt8])
    }

    /// The first statement of a push transaction, one round trip: checks that the named
    /// project exists (404) and is the caller's (403) and that the device is registered to
    /// the caller (403); claims the batch id; takes the advisory locks of the records the
    /// batch writes (sorted: see ``RecordWriter``), only when the claim succeeded; reads an
    /// admin's projects for its scope. A batch already claimed answers its stored answer.
    func claimBatch(_ batchId: UUID, project: (id: UUID, named: Bool), device: UUID, lockKeys: [String], caller: Caller, account: UUID,
                    on connection: PostgresConnection, logger: Logger) async throws -> BatchClaim {
        let user = caller.userId
        let admin = caller.role == .admin
        let member = !project.named || admin || caller.projectIds.contains(project.id)
        let checkProject = project.named
        let projectId = project.id
        let rows = try await connection.execute(
            BatchClaimStatement(account: account, projectId: projectId, checkProject: checkProject, device: device, user: user, member: member,
                                batchId: batchId, lockKeys: lockKeys, admin: admin), logger: logger
        ).collectAll()
        guard let row = rows.first else { throw APIError.unavailable("the batch claim answered nothing") }
        let (projectOK, deviceOK, claimed, _, stored, adminProjects) = row
        guard projectOK else { throw APIError.notFound("project \(projectId.lowercased) does not exist") }
        guard member else { throw APIError.forbidden("you are not a member of project \(projectId.lowercased)") }
        guard deviceOK else {
            throw APIError.forbidden("device \(device.lowercased) is not registered to you; register it with POST /v1/devices first")
        }
        if claimed { return .claimed(scope(for: caller, account: account, adminProjects: adminProjects)) }
        // A replay: the first answer stands, for the device that sent the batch. Read the
        // batch again: when its transaction committed while our claim waited on it, our
        // statement's snapshot did not see its answer.
        _ = stored
        let first = try await connection.query(
            "SELECT user_id, device_id, response FROM push_batches WHERE account_id = \(account) AND batch_id = \(batchId)", logger: logger
        ).collect { try $0.decode((UUID?, UUID?, String?).self) }.first
        guard let first, first.0 == user, first.1 == device else {
            // Another user's or device's batch: its answer is not this caller's to see.
            throw APIError.conflict("batch_id_taken", "batchId \(batchId.lowercased) was already used by another device; send this batch with a new batchId")
        }
        guard let answer = first.2 else { throw APIError.conflict("batch_in_progress", "this batch is being processed; retry it") }
        return .replay(Array(answer.utf8))
    }

    /// The statement of ``claimBatch``, prepared once per connection.
    struct BatchClaimStatement: PostgresPreparedStatement {
        static let sql = """
            WITH chk AS (
                SELECT (NOT $3::bool OR EXISTS (SELECT 1 FROM projects WHERE account_id = $1 AND id = $2)) AS project_ok,
                       EXISTS (SELECT 1 FROM device_ownerships WHERE account_id = $1 AND device_id = $4
                               AND user_id = $5 AND ended_at IS NULL) AS device_ok
            ), claim AS (
                INSERT INTO push_batches (account_id, batch_id, user_id, device_id)
                SELECT $1, $7, $5, $4 FROM chk WHERE chk.project_ok AND chk.device_ok AND $6::bool
                ON CONFLICT (account_id, batch_id) DO NOTHING RETURNING 1
            ), locks AS (
                SELECT count(pg_advisory_xact_lock(hashtextextended(s.k, 0))) AS n
                FROM (SELECT unnest($8::text[]) AS k ORDER BY 1) s WHERE EXISTS (SELECT 1 FROM claim)
            )
            SELECT chk.project_ok, chk.device_ok, EXISTS (SELECT 1 FROM claim), (SELECT n FROM locks),
                   (SELECT response FROM push_batches WHERE account_id = $1 AND batch_id = $7),
                   CASE WHEN $9::bool THEN ARRAY(SELECT id FROM projects WHERE account_id = $1) ELSE '{}'::uuid[] END
            FROM chk
            """
        typealias Row = (Bool, Bool, Bool, Int64, String?, [UUID])
        let account: UUID, projectId: UUID, checkProject: Bool, device: UUID, user: UUID, member: Bool, batchId: UUID
        let lockKeys: [String], admin: Bool

        func makeBindings() throws -> PostgresBindings {
            var b = PostgresBindings(capacity: 9)
            b.append(account); b.append(projectId); b.append(checkProject); b.append(device); b.append(user)
            b.append(member); b.append(batchId); b.append(lockKeys); b.append(admin)
            return b
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// Stores a push's answer: `prefix` is its JSON up to the cursor, which the statement
    /// makes (this transaction's id, the feed sequence after its writes) and returns.
    struct StoreAnswerStatement: PostgresPreparedStatement {
        static let sql = """
            UPDATE push_batches SET response = $3::text || to_json(c.cursor)::text || '}'
            FROM (SELECT 'c1.' || pg_current_xact_id()::text || '.' || (SELECT last_value FROM feed_seq)::text AS cursor) c
            WHERE account_id = $1 AND batch_id = $2
            RETURNING c.cursor
            """
        typealias Row = String
        let account: UUID, batchId: UUID, prefix: String

        func makeBindings() throws -> PostgresBindings {
            var b = PostgresBindings(capacity: 3)
            b.append(account); b.append(batchId); b.append(prefix)
            return b
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(String.self) }
    }

    /// The scope of ``scope(for:account:)`` when an admin's projects are already known.
    func scope(for caller: Caller, account: UUID, adminProjects: [UUID]) -> PullQuery.Scope {
        let admin = caller.role == .admin
        return PullQuery.Scope(
            account: account, projects: admin ? adminProjects : caller.projectIds, user: caller.userId, everything: admin,
            supervisor: caller.role == .supervisor, orgUnits: caller.orgUnitIds)
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
            guard let p = UUID(text: String(raw)) else { throw APIError.badRequest("projectId must be a UUID", field: "projectId") }
            if !scope.projects.contains(p) {
                // 404 for a project of no account of the caller's, 403 for one of its account it is not in.
                let exists = try await database.withConnection { [logger] c in
                    try await c.query("SELECT 1 FROM projects WHERE account_id = \(account) AND id = \(p)", logger: logger).collect { _ in true }.first ?? false
                }
                guard exists else { throw APIError.notFound("project \(p.lowercased) does not exist") }
                throw APIError.forbidden("you are not a member of project \(p.lowercased)")
            }
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
