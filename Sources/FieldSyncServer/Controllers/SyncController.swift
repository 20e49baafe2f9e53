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

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.post("sync/push", use: push)
        router.get("sync/pull", use: pull)
    }

    // MARK: push

    @Sendable func push(_ request: Request, context: AppRequestContext) async throws -> Response {
        let started = ContinuousClock.now
        let caller = try context.requireCaller()
        let scope = try caller.requireScope()
        let account = scope.account
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
                results[index] = .rejected(
                    id: id, kind: kindName,
                    ItemError.invalidField(
                        "\(path).kind",
                        "kind must be one of position, instance, entity, orgUnit; got \(raw["kind"].map { JSONWriter.string($0) } ?? "nothing")"))
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
        let batchId = envelope.batchId
        let device = envelope.deviceId
        let itemCount = envelope.items.count
        let resultsSoFar = results
        let positionsToStore = positions
        let versionedToApply = versioned
        let orgUnitsToApply = orgUnits
        let lockKeys = RecordWriter.lockKeys(account: account, versionedToApply)
        let digest = PushBatchStore.digest(items: envelope.items, project: project)
        let answer: [UInt8] = try await database.transaction { connection in
            let batches = PushBatchStore(scope: scope, connection: connection, logger: logger)
            if case .replay(let stored) = try await batches.claim(
                batchId, project: project, named: target.named, device: device, lockKeys: lockKeys, digest: digest)
            {
                return stored
            }
            var results = resultsSoFar
            let created = try await PositionStore(scope: scope, connection: connection, logger: logger)
                .insert(positionsToStore.map(\.item), project: project, device: device)
            var seen = Set<UUID>()
            for (index, item) in positionsToStore {
                let isNew = created.contains(item.id) && seen.insert(item.id).inserted
                results[index] = PushResult(id: item.id.lowercased, kind: ItemKind.position.rawValue, status: isNew ? .created : .unchanged)
            }
            // Org units first: entities and instances may reference units created here.
            let unitWriter = OrgUnitWriter(scope: scope, connection: connection, logger: logger)
            for (index, result) in try await unitWriter.process(orgUnitsToApply, device: device, batchId: batchId) {
                results[index] = result
            }
            let writer = RecordWriter(scope: scope, connection: connection, logger: logger)
            for (index, result) in try await writer.process(versionedToApply, project: project, device: device, batchId: batchId, locked: true) {
                results[index] = result
            }
            var w = JSONWriter(capacity: 64 * itemCount + 128)
            w.raw("{\"batchId\":")
            w.write(string: batchId.lowercased)
            w.raw(",\"results\":[")
            for (k, r) in results.enumerated() {
                if k > 0 { w.raw(",") }
                w.write(result: r ?? .rejected(id: nil, kind: nil, ItemError.invalidRequest("item was not processed")))
            }
            w.raw("],\"cursor\":")
            let cursor = try await batches.storeAnswer(batchId, prefix: String(decoding: w.bytes, as: UTF8.self))
            w.write(string: cursor)
            w.raw("}")
            var counts: [PushCount: Int] = [:]
            for r in results { if let r { counts[PushCount(kind: r.kind ?? "unknown", status: r.status.rawValue), default: 0] += 1 } }
            for (k, n) in counts {
                Counter(label: "fieldsync_push_items_total", dimensions: [("kind", k.kind), ("status", k.status)]).increment(by: n)
            }
            return w.bytes
        }
        Timer(label: "fieldsync_push_duration_seconds").record(duration: ContinuousClock.now - started)
        return JSONBody.response(bytes: answer)
    }

    /// The push's project: the named one, or the caller's only project. Whether a named
    /// one exists (404) and is the caller's (403) is checked by ``PushBatchStore/claim(_:project:named:device:lockKeys:)``.
    func resolveProject(_ projectId: UUID?, caller: Caller) throws -> (id: UUID, named: Bool) {
        guard let projectId else {
            if caller.projectIds.count == 1 { return (caller.projectIds[0], false) }
            throw APIError.badRequest("projectId is required when you belong to \(caller.projectIds.count) projects", field: "projectId")
        }
        return (projectId, true)
    }

    // MARK: pull

    @Sendable func pull(_ request: Request, context: AppRequestContext) async throws -> Response {
        let callerScope = try context.requireCaller().requireScope()
        let query = request.uri.queryParameters
        let cursor = try FeedCursor(parsing: query["cursor"].map(String.init))
        let limit = try RequestChecks.limit(request)
        let project: UUID? = try query["projectId"].map { raw in
            guard let p = UUID(text: String(raw)) else { throw APIError.badRequest("projectId must be a UUID", field: "projectId") }
            return p
        }
        let logger = context.logger
        let page = try await database.withConnection { c in
            var scope = callerScope
            if let project {
                if !scope.projects.contains(project) {
                    // 404 for a project of no account of the caller's, 403 for one of its account it is not in.
                    guard try await AccountStore(connection: c, logger: logger).projectExists(account: scope.account, project) else {
                        throw APIError.notFound("project \(project.lowercased) does not exist")
                    }
                    throw APIError.forbidden("you are not a member of project \(project.lowercased)")
                }
                scope.projects = [project]
            }
            return try await PullQuery(scope: scope, connection: c, logger: logger).page(after: cursor, limit: limit)
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
