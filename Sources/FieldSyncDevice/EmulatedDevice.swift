import FieldSyncClient
import FieldSyncCore
import Foundation

/// One emulated field device over its ``DeviceStore``.
///
/// Offline by default: ``collect(count:form:orgUnit:entity:track:around:)``,
/// ``createEntity(type:orgUnit:attributes:)``, ``edit(kind:id:changes:)`` and
/// ``propose(orgUnit:changes:)`` touch only the store; ``login(client:username:password:projectId:)``,
/// ``register(client:model:)`` and ``sync(transport:batchSize:faults:pullLimit:onPush:)`` talk to the server.
public final class EmulatedDevice: Sendable {
    public let store: DeviceStore

    public init(store: DeviceStore) {
        self.store = store
    }

    // MARK: online

    /// Signs in on this device (`deviceId` sent with the sign-in) and keeps the session.
    @discardableResult
    public func login(client: FieldSyncClient, username: String, password: String, projectId: UUID? = nil) async throws -> DeviceSession {
        let session = try await store.session()
        let answer = try await client.signIn(username: username, password: password, deviceId: session.deviceId)
        try await store.saveSignIn(server: client.baseURL, answer: answer, projectId: projectId)
        return try await store.session()
    }

    /// Adopts a session obtained elsewhere (e.g. a fleet signs each user in once).
    public func adopt(server: String, answer: SignInAnswer, projectId: UUID?) async throws {
        try await store.saveSignIn(server: server, answer: answer, projectId: projectId)
    }

    /// A client for this device's session that shares `base`'s connections.
    public func client(sharing base: FieldSyncClient) async throws -> FieldSyncClient {
        let session = try await store.session()
        guard let token = session.token else { throw DeviceError.notSignedIn(store.path) }
        return base.sharing(token: token)
    }

    /// Registers the device for the signed-in user (`POST /v1/devices`) and downloads
    /// the forms and entity types it collects with. `client` must carry the session's token.
    @discardableResult
    public func register(client: FieldSyncClient, model: String? = nil) async throws -> DeviceRegistration {
        let session = try await store.session()
        guard session.token != nil else { throw DeviceError.notSignedIn(store.path) }
        let registration = try await client.registerDevice(
            deviceId: session.deviceId, model: model ?? "fieldsync-emulator", appVersion: "fieldsync-cli")
        try await store.setRegistered()
        try await refreshCatalog(client: client)
        return registration
    }

    /// Downloads forms and entity types again.
    public func refreshCatalog(client: FieldSyncClient) async throws {
        async let forms = client.listForms()
        async let types = client.listEntityTypes()
        try await store.saveCatalog(forms: try await forms, entityTypes: try await types)
    }

    // MARK: offline

    /// Fills in `count` new instances of a form (`form`: its `formId` or `id`; default
    /// the first form of the device's project) with generated answers matching its
    /// questions, in `orgUnit` (default the user's first unit), optionally about
    /// `entity`, and records a GPS track of `track` positions. Answers the instance ids.
    @discardableResult
    public func collect(
        count: Int, form: String? = nil, orgUnit: UUID? = nil, entity: UUID? = nil,
        track: Int = 0, around: GeoPoint = GeoPoint(longitude: 90.4125, latitude: 23.8103)
    ) async throws -> [UUID] {
        let session = try await store.session()
        let (forms, _) = try await store.catalog()
        let project = session.projectId?.lowercasedText
        let chosen = forms.first { f in
            if let form { return f["formId"]?.stringValue == form || f["id"]?.stringValue == form.lowercased() }
            guard let project else { return true }
            return (f["projectIds"]?.arrayValue ?? []).contains { $0.stringValue == project }
        }
        guard let chosen, let formId = chosen["formId"]?.stringValue, let version = chosen["version"]?.stringValue else {
            if let form {
                throw DeviceError("the device knows no form \"\(form)\"; register or sync while online to download forms, or check --form")
            }
            throw DeviceError(
                "the device knows no form of its project; ask an admin to create one (fieldsync admin form create), then run fieldsync device register again"
            )
        }
        let unit =
            try orgUnit ?? session.orgUnitIds.first
            ?? { throw DeviceError("no org unit to collect in: pass --org-unit ID (your user has none assigned)") }()
        var rng = SystemRandomNumberGenerator()
        var ids: [UUID] = []
        var writes: [DeviceStore.LocalWrite] = []
        for _ in 0..<count {
            let id = UUID()
            var fixed: [String: JSONValue] = ["formId": .string(formId), "formVersion": .string(version), "orgUnitId": .string(unit.lowercasedText)]
            if let entity { fixed["entityId"] = .string(entity.lowercasedText) }
            let answers = AnswerGenerator.answers(fields: chosen["fields"], around: around, using: &rng)
            writes.append(DeviceStore.LocalWrite(kind: .instance, id: id, changes: answers, fixed: fixed))
            ids.append(id)
        }
        // One transaction for all of them: a commit per form filled in costs more than the writes.
        try await store.write(all: writes)
        if track > 0 {
            try await store.addPositions(AnswerGenerator.track(count: track, start: around, now: Timestamp(Date()), using: &rng))
        }
        return ids
    }

    /// Creates an entity locally (`type`: default the first entity type known) in
    /// `orgUnit` (default the user's first unit). Answers its id.
    @discardableResult
    public func createEntity(id: UUID = UUID(), type: UUID? = nil, orgUnit: UUID? = nil, attributes: [String: JSONValue]) async throws -> UUID {
        let session = try await store.session()
        let (_, types) = try await store.catalog()
        let typeId =
            try type ?? types.first?["id"]?.stringValue.flatMap(UUID.init(uuidString:))
            ?? { throw DeviceError("the device knows no entity type; pass --type ID, or register again after an admin creates one") }()
        let unit = try orgUnit ?? session.orgUnitIds.first ?? { throw DeviceError("no org unit for the entity: pass --org-unit ID") }()
        try await store.write(
            kind: .entity, id: id, changes: attributes,
            fixed: [
                "entityTypeId": .string(typeId.lowercasedText), "orgUnitId": .string(unit.lowercasedText),
            ])
        return id
    }

    /// Edits fields of a record the device holds, locally, on the version it holds.
    @discardableResult
    public func edit(kind: ItemKind = .entity, id: UUID, changes: [String: JSONValue]) async throws -> JSONValue {
        guard !changes.isEmpty else { throw DeviceError("nothing to change: give at least one field=value") }
        guard try await store.record(kind: kind, id: id) != nil else {
            throw DeviceError("\(kind.rawValue) \(id.lowercasedText) is not on this device; run fieldsync device sync to pull it, or check the id")
        }
        return try await store.write(kind: kind, id: id, changes: changes)
    }

    /// Proposes a new org unit (`orgUnit` nil) or a change to one, locally; from an
    /// agent it becomes a change request when synced. Answers the org unit's id.
    @discardableResult
    public func propose(orgUnit: UUID? = nil, changes: [String: JSONValue]) async throws -> UUID {
        guard !changes.isEmpty else { throw DeviceError("nothing to propose: give at least one field=value (name, parentId, …)") }
        let id: UUID
        if let orgUnit {
            id = orgUnit
        } else {
            id = UUID()  // a new org unit, named by this device
        }
        try await store.write(kind: .orgUnit, id: id, changes: changes, fixed: [:], extra: [:])
        return id
    }

    // MARK: sync

    /// Pushes the outbox in batches of `batchSize` (each formed once with a stable
    /// `batchId`; a batch whose answer was lost is sent again as is), queues writes
    /// rejected for a transient reason (`out_of_order`, `unknown_reference`) into new
    /// batches for up to 10 rounds, then pulls from the stored cursor to the end.
    /// A failure leaves the store consistent: the next sync resumes where this one
    /// stopped, losing and duplicating nothing.
    public func sync(
        transport: any SyncTransport, batchSize: Int = 100, faults: FaultPlan = .none, pullLimit: Int = 1000,
        onPush: (@Sendable (Duration) -> Void)? = nil
    ) async throws -> SyncReport {
        let session = try await store.session()
        guard session.token != nil else { throw DeviceError.notSignedIn(store.path) }
        guard session.registered else { throw DeviceError.notRegistered(store.path) }
        var report = SyncReport()
        for _ in 0..<10 {
            try await store.formBatches(size: max(1, batchSize))
            var batches = try await store.pendingBatches()
            if batches.isEmpty { break }
            if batches.count >= 2 && faults.shouldReorder() {
                batches.reverse()
                report.reordered += 1
            }
            var requeued = 0
            for batch in batches {
                let started = ContinuousClock.now
                let answer = try await transport.push(
                    batchId: batch.batchId, deviceId: session.deviceId, projectId: session.projectId, items: batch.items)
                let answered = ContinuousClock.now
                onPush?(answered - started)
                report.pushSeconds += (answered - started).seconds
                let outcome = try await store.record(answer: answer, for: batch)
                report.storeSeconds += (ContinuousClock.now - answered).seconds
                report.batches += 1
                report.add(outcome)
                requeued += outcome.requeued
            }
            if requeued == 0 { break }
        }
        var cursor = try await store.cursor()
        while true {
            let started = ContinuousClock.now
            let page = try await transport.pull(cursor: cursor, limit: pullLimit, projectId: session.projectId)
            let pulled = ContinuousClock.now
            report.pullSeconds += (pulled - started).seconds
            let outcome = try await store.apply(page: page)
            report.storeSeconds += (ContinuousClock.now - pulled).seconds
            report.pulledRecords += outcome.records
            report.pulledPositions += outcome.positions
            report.pages += 1
            if !page.hasMore || (page.cursor == cursor && page.changes.isEmpty) { break }
            cursor = page.cursor
        }
        report.outboxLeft = try await store.outboxCount()
        return report
    }

    /// What is queued, in conflict, rejected and proposed.
    public func status() async throws -> DeviceStatus {
        try await store.status()
    }
}

/// What one sync did.
public struct SyncReport: Sendable, Equatable, Encodable {
    public var batches = 0
    public var acknowledged = 0
    public var requeued = 0
    public var rejected = 0
    public var conflicts = 0
    public var reordered = 0
    public var statuses: [String: Int] = [:]
    public var pages = 0
    public var pulledRecords = 0
    public var pulledPositions = 0
    /// Writes still in the outbox afterwards.
    public var outboxLeft = 0
    /// Seconds waiting for push answers, for pull pages, and in the store (recording
    /// answers, applying pages).
    public var pushSeconds = 0.0, pullSeconds = 0.0, storeSeconds = 0.0

    public init() {}

    mutating func add(_ o: AnswerOutcome) {
        acknowledged += o.acknowledged
        requeued += o.requeued
        rejected += o.rejected
        conflicts += o.conflicts
        for (k, v) in o.statuses { statuses[k, default: 0] += v }
    }

    /// What `device sync --json` prints (the timings are left out).
    private enum CodingKeys: String, CodingKey {
        case batches, acknowledged, requeued, rejected, conflicts, statuses, pages, pulledRecords, pulledPositions, outboxLeft
    }
}
