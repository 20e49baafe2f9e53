import FieldSyncClient
import FieldSyncCore
import FieldSyncDevice
import Foundation
import Testing

/// The supervisor's calls through ``FieldSyncClient`` against a live server: the tree
/// (gzip, json and geojson, `since`), change review and the unit summary.
@Suite(.serialized)
struct SupervisorClientTests {
    /// A supervisor over the fleet's root, signed in.
    static func supervisor(_ client: FieldSyncClient, _ setup: FleetSetup) async throws -> FieldSyncClient {
        let admin = client.sharing(token: setup.adminToken)
        let name = "sup-\(UUID().uuidString.prefix(8).lowercased())"
        _ = try await admin.createUser(
            username: name, password: "supervisor-pass", role: "supervisor",
            projectIds: [setup.projectId], orgUnitIds: [setup.rootUnit])
        let answer = try await client.sharing(token: nil).signIn(username: name, password: "supervisor-pass")
        return client.sharing(token: answer.token)
    }

    @Test func treePullRoundTripsThroughTheClientInJSONAndGeoJSONWithGzip() async throws {
        try await LiveServer.run { client in
            let setup = try await LiveServer.setup(client, agents: 3)
            let sup = try await Self.supervisor(client, setup)
            let units = Set([setup.rootUnit] + setup.agents.map(\.orgUnit)).map { $0.uuidString.lowercased() }

            let json = try await sup.downloadOrgUnitTree(root: setup.rootUnit, geometry: "none", format: "json")
            #expect(json.gzipped, "Accept-Encoding: gzip is sent and the server compresses")
            #expect(json.wireBytes > 0 && json.wireBytes != json.body.count)
            #expect(try JSONParser.parse(json.body) == json.json, "the body is written back decompressed, as sent")
            let listed = try #require(json.json["orgUnits"]?.arrayValue)
            #expect(Set(listed.compactMap { $0["id"]?.stringValue }) == Set(units))
            #expect(listed.first?["id"]?.stringValue == setup.rootUnit.uuidString.lowercased(), "parents before children")
            #expect(json.json["cursor"]?.stringValue == json.cursor, "the header's cursor is the body's")

            // Without gzip: the same document.
            let plain = try await sup.downloadOrgUnitTree(root: setup.rootUnit, geometry: "none", format: "json", gzip: false)
            #expect(!plain.gzipped && plain.wireBytes == plain.body.count)
            #expect(plain.json["orgUnits"] == json.json["orgUnits"])

            let geo = try await sup.downloadOrgUnitTree(root: setup.rootUnit, format: "geojson")
            #expect(geo.gzipped)
            #expect(geo.json["type"]?.stringValue == "FeatureCollection")
            let features = try #require(geo.json["features"]?.arrayValue)
            #expect(geo.orgUnits == units.count)
            #expect(Set(features.compactMap { $0["id"]?.stringValue ?? $0["properties"]?["id"]?.stringValue }) == Set(units))
            #expect(!geo.cursor.isEmpty)

            // Since the cursor: nothing has changed.
            let none = try await sup.downloadOrgUnitTree(root: setup.rootUnit, format: "json", since: json.cursor)
            #expect(none.orgUnits == 0)
        }
    }

    @Test func aDeviceProposalApprovedThroughTheClientAppearsInTheTreeAndTheSummary() async throws {
        try await LiveServer.run { client in
            let setup = try await LiveServer.setup(client)
            let sup = try await Self.supervisor(client, setup)
            let area = setup.agents[0].orgUnit
            let before = try await sup.downloadOrgUnitTree(root: setup.rootUnit, geometry: "none", format: "json")

            // An agent's device proposes a village offline, then syncs.
            let (device, deviceClient) = try await LiveServer.device(client, setup)
            let village = try await device.propose(changes: ["name": .string("Subil"), "parentId": .string(area.uuidString.lowercased())])
            let report = try await device.sync(transport: ClientTransport(client: deviceClient))
            #expect(report.statuses["pending"] == 1)
            #expect(try await device.status().proposals.values.contains("pending"))
            #expect(try await sup.orgUnitSummary(id: area)["pendingChanges"]?.numberValue == 1)
            let pendingTree = try await sup.downloadOrgUnitTree(root: setup.rootUnit, geometry: "none", format: "json", since: before.cursor)
            #expect(pendingTree.orgUnits == 0, "a pending proposal is not in the merged tree")

            // The supervisor finds and approves it.
            let pending = try await sup.listOrgUnitChanges(status: "pending")
            let change = try #require(pending.first { $0["orgUnitId"]?.stringValue == village.uuidString.lowercased() })
            let changeId = try #require(change["id"]?.stringValue.flatMap(UUID.init(uuidString:)))
            let reviewed = try await sup.reviewOrgUnitChange(id: changeId, decision: "approve", comment: "checked on the map")
            #expect(reviewed["status"]?.stringValue == "approved")
            #expect(try await sup.listOrgUnitChanges(status: "pending").isEmpty)

            // The tree now holds it, under its parent; `since` gives only it.
            let changed = try await sup.downloadOrgUnitTree(root: setup.rootUnit, geometry: "none", format: "json", since: before.cursor)
            let added = try #require(changed.json["orgUnits"]?.arrayValue)
            #expect(added.count == 1)
            #expect(added.first?["id"]?.stringValue == village.uuidString.lowercased())
            #expect(added.first?["name"]?.stringValue == "Subil")
            #expect(added.first?["parentId"]?.stringValue == area.uuidString.lowercased())
            let full = try await sup.downloadOrgUnitTree(root: area, format: "geojson")
            #expect(full.orgUnits == 2)
            let summary = try await sup.orgUnitSummary(id: area)
            #expect(summary["pendingChanges"]?.numberValue == 0)
            #expect(summary["instances"]?.numberValue == 0)
        }
    }
}
