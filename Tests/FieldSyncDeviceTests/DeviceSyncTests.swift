import FieldSyncClient
import FieldSyncCore
import FieldSyncDevice
import Foundation
import Testing

@Suite(.serialized)
struct DeviceSyncTests {
    @Test func offlineEditsTouchOnlyTheStoreUntilSync() async throws {
        try await LiveServer.run { client in
            let setup = try await LiveServer.setup(client)
            let (device, deviceClient) = try await LiveServer.device(client, setup)
            let entity = try await device.createEntity(attributes: ["name": .string("Amina"), "status": .string("new")])
            try await device.edit(id: entity, changes: ["status": .string("visited")])
            let instances = try await device.collect(count: 3, track: 5)
            #expect(instances.count == 3)

            // Offline: queued locally, nothing on the server.
            var status = try await device.status()
            #expect(status.queuedTotal == 2 + 3 + 5)
            #expect(try await LiveServer.serverView(client, setup).keys.filter { !$0.hasPrefix("orgUnit/") }.isEmpty)
            let local = try #require(try await device.store.record(kind: .entity, id: entity))
            #expect(local.state.visibleFields()["status"] == .string("visited"))

            let report = try await device.sync(transport: ClientTransport(client: deviceClient), batchSize: 4)
            #expect(report.acknowledged == 10)
            #expect(report.rejected == 0)
            #expect(report.outboxLeft == 0)
            status = try await device.status()
            #expect(status.queuedTotal == 0 && status.inFlight == 0)

            let server = try await LiveServer.serverView(client, setup)
            let doc = try #require(server["entity/" + entity.uuidString.lowercased()])
            #expect(doc["fields"]?["status"] == .string("visited"))
            for id in instances { #expect(server["instance/" + id.uuidString.lowercased()] != nil) }
            #expect(server.keys.filter { $0.hasPrefix("position/") }.count == 5)
            // After the pull the device holds the server's record exactly.
            let pulled = try await device.store.record(kind: .entity, id: entity)?.serverDocument
            #expect(pulled == doc)
        }
    }

    @Test func syncCutHalfwayResumesWithTheSameBatchAndLosesNothing() async throws {
        try await LiveServer.run { client in
            let setup = try await LiveServer.setup(client)
            let (device, deviceClient) = try await LiveServer.device(client, setup)
            let ids = try await device.collect(count: 30)
            // The second batch reaches the server but its answer is lost.
            let cut = DroppingTransport(ClientTransport(client: deviceClient), dropAfter: 1)
            await #expect(throws: InjectedFault.self) {
                _ = try await device.sync(transport: cut, batchSize: 10)
            }
            #expect(cut.batchIds.count == 2)
            let dropped = cut.batchIds[1]
            var status = try await device.status()
            #expect(status.inFlight == 20)
            #expect(status.batchIds.first == dropped.uuidString.lowercased())
            #expect(status.acknowledged == 10)

            let resumed = DroppingTransport(ClientTransport(client: deviceClient), dropAfter: 0, drops: 0)
            let report = try await device.sync(transport: resumed, batchSize: 10)
            #expect(resumed.batchIds.first == dropped, "the batch whose answer was lost is sent again with its batchId")
            #expect(resumed.batchIds.count == 2)
            #expect(report.acknowledged == 20)
            #expect(report.statuses["created"] == 20, "the replay answers as the first time")
            status = try await device.status()
            #expect(status.acknowledged == 30 && status.queuedTotal == 0 && status.inFlight == 0)

            let server = try await LiveServer.serverView(client, setup)
            let onServer = server.keys.filter { $0.hasPrefix("instance/") }
            #expect(onServer.count == 30)
            #expect(Set(onServer) == Set(ids.map { "instance/" + $0.uuidString.lowercased() }))
            let replica = try await device.store.session().replica
            for id in ids {
                // One write each, applied once.
                #expect(
                    server["instance/" + id.uuidString.lowercased()]?["version"]
                        == .object([
                            replica: .number(
                                Double(try #require(server["instance/" + id.uuidString.lowercased()]?["version"]?[replica]?.numberValue)))
                        ]))
            }
        }
    }

    @Test func concurrentEditsShowAsAConflictAfterPull() async throws {
        try await LiveServer.run { client in
            let setup = try await LiveServer.setup(client)
            let (a, clientA) = try await LiveServer.device(client, setup)
            let (b, clientB) = try await LiveServer.device(client, setup)
            let entity = try await a.createEntity(attributes: ["name": .string("Rahim"), "village": .string("Subil")])
            _ = try await a.sync(transport: ClientTransport(client: clientA))
            _ = try await b.sync(transport: ClientTransport(client: clientB))
            #expect(try await b.store.record(kind: .entity, id: entity) != nil)

            // Both edit the same field offline.
            try await a.edit(id: entity, changes: ["village": .string("Debidwar")])
            try await b.edit(id: entity, changes: ["village": .string("Comilla")])
            let ra = try await a.sync(transport: ClientTransport(client: clientA))
            let rb = try await b.sync(transport: ClientTransport(client: clientB))
            #expect(ra.statuses["updated"] == 1)
            #expect(rb.statuses["conflict"] == 1)
            _ = try await a.sync(transport: ClientTransport(client: clientA))

            for device in [a, b] {
                let status = try await device.status()
                let conflict = try #require(status.conflicts.first { $0.id == entity.uuidString.lowercased() })
                #expect(conflict.field == "village")
                let values = Set((conflict.values.arrayValue ?? []).compactMap { $0["value"]?.stringValue })
                #expect(values == ["Debidwar", "Comilla"])
                let held = try #require(try await device.store.record(kind: .entity, id: entity))
                #expect(held.state.conflicts()["village"]?.count == 2)
            }
        }
    }

    @Test func aSmallFleetWithFaultsConvergesAndLosesNothing() async throws {
        try await LiveServer.run { client in
            let dir = NSTemporaryDirectory() + "fieldsync-fleet-test-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: dir) }
            var options = FleetOptions(devices: 20, records: 10, storeDirectory: dir)
            options.devicesPerUser = 5
            options.sharedEntities = 2
            options.sharedEditRate = 0.4
            options.track = 3
            options.batchSize = 4
            options.concurrency = 8
            options.offlineRate = 0.2
            options.clockSkewSeconds = 30
            options.faults = FaultPlan(kinds: Set(FaultKind.allCases), rate: 0.3)
            let setup = try await FleetSetup.create(
                base: client, adminUser: LiveServer.rootUser, adminPassword: LiveServer.rootPassword, options: options)
            let report = try await FleetSimulator(base: client, options: options).run(setup: setup)
            #expect(report.lost == 0, "\(report.problem ?? "")")
            #expect(report.converged, "\(report.problem ?? "")")
            #expect(report.writes == 20 * (10 + 3) + 4 * 2, "device writes plus the seeded shared entities")
            #expect(report.acknowledged == report.writes)
            #expect(report.faults.values.reduce(0, +) > 0)
            #expect(report.recordsInConflict > 0)
        }
    }
}
