import FieldSyncClient
import FieldSyncCore
import FieldSyncDevice
import Foundation
import Synchronization
import Testing

/// The device store and its sync on an in-memory database against ``FakeSyncServer``:
/// outbox, stable batch ids, requeues, rejections, pulls and conflicts, with no server.
struct OfflineDeviceTests {
    static let project = UUID()
    static let unit = UUID()
    static let entityType = UUID()

    /// A signed-in, registered device in memory that knows one form and one entity type.
    static func device() async throws -> EmulatedDevice {
        let device = EmulatedDevice(store: try DeviceStore.inMemory())
        let user = UserInfo(
            id: UUID().lowercasedText, username: "amina", role: "agent", accountId: UUID().lowercasedText,
            projectIds: [project.lowercasedText], orgUnitIds: [unit.lowercasedText])
        try await device.adopt(
            server: "http://fake.invalid", answer: SignInAnswer(token: "token", expiresAt: "2027-01-01T00:00:00.000Z", user: user),
            projectId: nil)
        try await device.store.setRegistered()
        _ = try await device.store.session()  // chooses the device id, as a login does
        let form: JSONValue = .object([
            "id": .string(UUID().lowercasedText), "formId": .string("household"), "version": .string("1"),
            "projectIds": .array([.string(project.lowercasedText)]),
            "fields": .array([.object(["name": .string("members"), "type": .string("integer"), "required": .bool(true)])]),
        ])
        try await device.store.saveCatalog(
            forms: [form], entityTypes: [.object(["id": .string(entityType.lowercasedText), "name": .string("person")])])
        return device
    }

    @Test func theSessionComesFromTheSignInAndTheProjectIsTheUsersOnly() async throws {
        let device = try await Self.device()
        let session = try await device.store.session()
        #expect(session.projectId == Self.project)
        #expect(session.orgUnitIds == [Self.unit])
        #expect(session.registered && session.token == "token")
        // The id is chosen once and kept.
        #expect(try await device.store.session().deviceId == session.deviceId)
        let shown = try JSONCoding.string(session)
        #expect(!shown.contains("token\":"), "the token is never shown")
        #expect(shown.contains("\"signedIn\":true"))
    }

    @Test func offlineWritesWaitInTheOutboxThenGoInBatchesAndComeBackOnPull() async throws {
        let device = try await Self.device()
        let server = FakeSyncServer()
        let entity = try await device.createEntity(attributes: ["name": .string("Amina"), "status": .string("new")])
        try await device.edit(id: entity, changes: ["status": .string("visited")])
        let instances = try await device.collect(count: 3, track: 5)
        var status = try await device.status()
        #expect(status.queuedTotal == 2 + 3 + 5)
        #expect(status.queued["position"] == 5 && status.queued["instance"] == 3 && status.queued["entity"] == 2)
        #expect(server.pushedBatches.isEmpty)

        let report = try await device.sync(transport: server, batchSize: 4)
        #expect(report.batches == 3, "10 writes in batches of at most 4")
        #expect(report.acknowledged == 10 && report.rejected == 0 && report.outboxLeft == 0)
        #expect(Set(server.pushedBatches).count == 3)
        status = try await device.status()
        #expect(status.queuedTotal == 0 && status.inFlight == 0 && status.acknowledged == 10 && status.written == 10)
        #expect(server.positionIds.count == 5)

        let replica = try await device.store.session().replica
        let held = try #require(try await device.store.record(kind: .entity, id: entity))
        let doc = try #require(server.document("entity/" + entity.lowercasedText))
        #expect(held.serverDocument == doc, "after the pull the device holds the server's document")
        #expect(doc["fields"]?["status"] == .string("visited"))
        #expect(doc["version"] == .object([replica: .number(2)]), "the edit was made on the creating write")
        #expect(doc["entityTypeId"]?.stringValue == Self.entityType.lowercasedText)
        for id in instances {
            let instance = try #require(server.document("instance/" + id.lowercasedText))
            #expect(instance["formId"] == .string("household") && instance["orgUnitId"]?.stringValue == Self.unit.lowercasedText)
            #expect(instance["fields"]?["members"]?.numberValue != nil, "answers follow the form's questions")
        }
    }

    @Test func aBatchWhoseAnswerWasLostIsSentAgainWithItsIdAndNothingIsAppliedTwice() async throws {
        let device = try await Self.device()
        let server = FakeSyncServer()
        let ids = try await device.collect(count: 30)
        let cut = DroppingTransport(server, dropAfter: 1)
        await #expect(throws: InjectedFault.self) {
            _ = try await device.sync(transport: cut, batchSize: 10)
        }
        #expect(cut.batchIds.count == 2)
        var status = try await device.status()
        #expect(status.inFlight == 20 && status.acknowledged == 10)
        #expect(status.batchIds.first == cut.batchIds[1].lowercasedText, "the lost batch is the oldest in flight")

        let resumed = DroppingTransport(server, dropAfter: 0, drops: 0)
        let report = try await device.sync(transport: resumed, batchSize: 10)
        #expect(resumed.batchIds == [cut.batchIds[1]] + [resumed.batchIds[1]] && resumed.batchIds.count == 2)
        #expect(report.statuses["created"] == 20, "the replayed batch answers as the first time")
        status = try await device.status()
        #expect(status.acknowledged == 30 && status.queuedTotal == 0 && status.inFlight == 0)
        #expect(server.appliedDots.count == 30)
        for id in ids { #expect(server.document("instance/" + id.lowercasedText) != nil) }
    }

    @Test func aTransientRejectionIsRequeuedIntoANewBatchAndAPermanentOneIsKept() async throws {
        let device = try await Self.device()
        let firstTry = Mutex(true)
        let server = FakeSyncServer { item in
            if item["changes"]?["name"] == .string("Bad") {
                return ItemError(code: ErrorCode.invalidField, message: "no", field: "items[0].changes.name")
            }
            // The first push of the edit is out of order; later ones pass.
            if item["changes"]?["status"] != nil,
                firstTry.withLock({
                    let was = $0; $0 = false; return was
                })
            {
                return ItemError(code: ErrorCode.outOfOrder, message: "send the earlier write first")
            }
            return nil
        }
        let good = try await device.createEntity(attributes: ["name": .string("Rahim")])
        try await device.edit(id: good, changes: ["status": .string("visited")])
        let bad = try await device.createEntity(attributes: ["name": .string("Bad")])
        let report = try await device.sync(transport: server, batchSize: 10)
        #expect(report.requeued == 1 && report.rejected == 1 && report.acknowledged == 2)
        #expect(server.pushedBatches.count == 2, "the requeued write went in a batch of its own")
        #expect(report.outboxLeft == 0)
        let status = try await device.status()
        #expect(status.rejections.count == 1)
        #expect(status.rejections.first?.id == bad.lowercasedText && status.rejections.first?.code == ErrorCode.invalidField)
        #expect(status.rejections.first?.field == "items[0].changes.name")
        #expect(server.document("entity/" + good.lowercasedText)?["fields"]?["status"] == .string("visited"))
    }

    @Test func aPulledConflictIsKeptAndAPendingOwnWriteStaysOnTopOfThePulledRecord() async throws {
        let device = try await Self.device()
        let replica = try await device.store.session().replica
        let id = UUID()
        let conflicted: JSONValue = .object([
            "kind": .string("entity"), "id": .string(id.lowercasedText), "entityTypeId": .string(Self.entityType.lowercasedText),
            "orgUnitId": .string(Self.unit.lowercasedText),
            "fields": .object(["village": .string("Subil"), "name": .string("Karim")]),
            "version": .object(["dev-a": .number(4), "dev-b": .number(7)]),
            "conflicts": .object([
                "village": .array([
                    .object([
                        "value": .string("Subil"), "replica": .string("dev-b"), "counter": .number(7),
                        "editedAt": .string("2026-11-20T08:15:30.123Z"),
                    ]),
                    .object([
                        "value": .string("Debidwar"), "replica": .string("dev-a"), "counter": .number(4),
                        "editedAt": .string("2026-11-20T08:10:00.000Z"),
                    ]),
                ])
            ]),
        ])
        let server = FakeSyncServer()
        server.inject(conflicted)
        _ = try await device.sync(transport: server)
        var status = try await device.status()
        let conflict = try #require(status.conflicts.first)
        #expect(conflict.id == id.lowercasedText && conflict.field == "village")
        #expect(Set((conflict.values.arrayValue ?? []).compactMap { $0["value"]?.stringValue }) == ["Subil", "Debidwar"])
        var held = try #require(try await device.store.record(kind: .entity, id: id))
        #expect(held.state.conflicts()["village"]?.count == 2)

        // An edit made on the pulled version covers both values: the conflict is resolved
        // locally, and stays so when the same record is pulled again before the push.
        let item = try await device.edit(id: id, changes: ["village": .string("Comilla")])
        #expect(item["base"] == .object(["dev-a": .number(4), "dev-b": .number(7)]))
        server.inject(conflicted)
        _ = try await device.store.apply(page: try await server.pull(cursor: nil, limit: 10, projectId: nil))
        held = try #require(try await device.store.record(kind: .entity, id: id))
        #expect(held.state.visibleFields()["village"] == .string("Comilla"))
        #expect(held.state.conflicts()["village"] == nil)
        #expect(held.state.version.json == .object(["dev-a": .number(4), "dev-b": .number(7), replica: .number(1)]))
        status = try await device.status()
        #expect(status.queuedTotal == 1)
    }

    @Test func anOrgUnitProposalKeepsItsChangeId() async throws {
        let device = try await Self.device()
        let server = FakeSyncServer()
        let unit = try await device.propose(changes: ["name": .string("Subil school"), "parentId": .string(Self.unit.lowercasedText)])
        let report = try await device.sync(transport: server)
        #expect(report.statuses["pending"] == 1)
        let status = try await device.status()
        #expect(status.proposals == ["change-1": "pending"])
        #expect(server.document("orgUnit/" + unit.lowercasedText)?["fields"]?["name"] == .string("Subil school"))
    }

    @Test func theClockSkewMovesEditedAt() async throws {
        let device = try await Self.device()
        try await device.store.setClockSkew(milliseconds: -60_000)
        let at = Timestamp(millisecondsSinceEpoch: 1_763_626_530_123)
        let item = try await device.store.write(
            kind: .entity, id: UUID(), changes: ["name": .string("Nasrin")],
            fixed: ["entityTypeId": .string(Self.entityType.lowercasedText)], now: at)
        #expect(item["editedAt"] == .string("2025-11-20T08:14:30.123Z"))
    }

    @Test func aWriteToARecordTheDeviceDoesNotHoldIsRefused() async throws {
        let device = try await Self.device()
        await #expect(throws: DeviceError.self) {
            try await device.edit(id: UUID(), changes: ["name": .string("x")])
        }
        #expect(try await device.status().queuedTotal == 0)
    }
}
