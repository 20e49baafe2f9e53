import FieldSyncCore
import Foundation
import HTTPTypes
import Testing

/// Org units, PROTOCOL.md: agents' writes are proposals; supervisors review them;
/// supervisors' and admins' writes apply at once; moves re-path subtrees.
@Suite("Org units: proposals and review")
struct OrgUnitChangeTests {
    func ids(_ units: [JSONValue]) -> [String] { units.compactMap { $0["id"]?.stringValue } }

    @Test("an agent's new unit is pending, usable at once in the same batch, and joins the tree when its supervisor approves")
    func proposeCreateAndApprove() async throws {
        try await withTestApp { api in
            let w = try await TreeWorld.make(api)
            let village = UUID(), household = UUID()
            // The instance comes first in the batch and references the unit proposed after it.
            let type = UUID()
            _ = try await api.call(
                .post, "/v1/entity-types?accountId=\(w.f.account.lowercased)", token: w.f.rootToken,
                json: .object(["id": .string(type.lowercased), "name": .string("Household")]))
            let entity: JSONValue = .object([
                "kind": .string("entity"), "id": .string(household.lowercased), "replica": .string(w.agent.device.lowercased), "counter": .number(1),
                "editedAt": .string("2026-11-20T08:00:00.000Z"), "changes": .object(["name": .string("Amina")]),
                "entityTypeId": .string(type.lowercased), "orgUnitId": .string(village.lowercased),
            ])
            let results = try await w.push(
                api, w.agent,
                [
                    entity,
                    w.unitItem(
                        village, by: w.agent, counter: 2,
                        [
                            "name": .string("Village X"), "parentId": .string(w.a1.lowercased),
                            "location": .object(["type": .string("Point"), "coordinates": .array([.number(0.2), .number(0.2)])]),
                        ]),
                ])
            #expect(results[0]["status"] == .string("created"), "the entity may reference the pending unit: \(results[0])")
            #expect(results[1]["status"] == .string("pending"))
            let changeId = try #require(results[1]["changeId"]?.stringValue)

            // Not in the merged tree yet; the change is listed for the author and the supervisor of A only.
            #expect(!ids(try await w.tree(api, w.f.admin.token).units).contains(village.lowercased))
            for (token, expected) in [
                (w.agent.token, [changeId]), (w.supervisorA.token, [changeId]), (w.supervisorB.token, []),
                (w.agent2.token, []), (w.f.admin.token, [changeId]),
            ] {
                let r = try await api.call(.get, "/v1/orgunits/changes?status=pending", token: token)
                #expect(r.status == .ok)
                #expect(ids(r.json["items"]?.arrayValue ?? []) == expected, "\(r.text)")
            }
            let listed = try await api.call(.get, "/v1/orgunits/changes?status=pending", token: w.supervisorA.token)
            let item = try #require(listed.json["items"]?.arrayValue?.first)
            #expect(item["operation"] == .string("create"))
            #expect(item["orgUnitId"] == .string(village.lowercased))
            #expect(item["authorId"] == .string(w.agent.userId.lowercased))
            #expect(item["changes"]?["name"] == .string("Village X"))

            // Only a supervisor of that subtree (or an admin) reviews.
            let approve: JSONValue = .object(["decision": .string("approve"), "comment": .string("checked on the map")])
            var r = try await api.call(.post, "/v1/orgunits/changes/\(changeId)/review", token: w.agent.token, json: approve)
            #expect(r.status == .forbidden)
            r = try await api.call(.post, "/v1/orgunits/changes/\(changeId)/review", token: w.supervisorB.token, json: approve)
            #expect(r.status == .forbidden)
            r = try await api.call(.post, "/v1/orgunits/changes/\(UUID().lowercased)/review", token: w.supervisorA.token, json: approve)
            #expect(r.status == .notFound)
            r = try await api.call(.post, "/v1/orgunits/changes/\(changeId)/review", token: w.supervisorA.token, json: approve)
            #expect(r.status == .ok, "\(r.text)")
            #expect(r.json["status"] == .string("approved"))
            #expect(r.json["result"]?["status"] == .string("created"))
            #expect(r.json["comment"] == .string("checked on the map"))
            r = try await api.call(.post, "/v1/orgunits/changes/\(changeId)/review", token: w.supervisorA.token, json: approve)
            #expect(r.status == .conflict)
            #expect(r.errorCode == "already_reviewed")

            let unit = try #require(try await w.tree(api, w.f.admin.token).units.first { $0["id"] == .string(village.lowercased) })
            #expect(unit["path"] == .array([w.country, w.a, w.a1, village].map { .string($0.lowercased) }))
            #expect(unit["status"] == .string("validated"))
            #expect(unit["name"] == .string("Village X"))
        }
    }

    @Test("two approvals made from the same stale view end in a conflict, not a silent overwrite")
    func staleApprovalsConflict() async throws {
        try await withTestApp { api in
            let w = try await TreeWorld.make(api)
            let base = try await w.version(api, w.a)
            let r1 = try await w.push(api, w.agent, [w.unitItem(w.a, by: w.agent, base: base, at: 1_763_626_530_000, ["name": .string("A north")])])
            let r2 = try await w.push(api, w.agent2, [w.unitItem(w.a, by: w.agent2, base: base, at: 1_763_626_540_000, ["name": .string("A south")])])
            #expect(r1[0]["status"] == .string("pending"))
            #expect(r2[0]["status"] == .string("pending"))
            let approve: JSONValue = .object(["decision": .string("approve")])
            let first = try await api.call(
                .post, "/v1/orgunits/changes/\(r1[0]["changeId"]!.stringValue!)/review", token: w.supervisorA.token, json: approve)
            #expect(first.json["result"]?["status"] == .string("updated"), "\(first.text)")
            let second = try await api.call(
                .post, "/v1/orgunits/changes/\(r2[0]["changeId"]!.stringValue!)/review", token: w.f.admin.token, json: approve)
            #expect(second.json["result"]?["status"] == .string("conflict"), "\(second.text)")

            let record = try #require(try await VersionedSyncTests.pulledRecord(api, w.f.admin.token, id: w.a.lowercased))
            let values = Set((record["conflicts"]?["name"]?.arrayValue ?? []).compactMap { $0["value"]?.stringValue })
            #expect(values == ["A north", "A south"])
            #expect(record["fields"]?["name"] == .string("A south"), "the later edit is shown")
        }
    }

    @Test("approving some fields applies only those; rejecting applies nothing")
    func partialApprovalAndReject() async throws {
        try await withTestApp { api in
            let w = try await TreeWorld.make(api)
            let base = try await w.version(api, w.a)
            let r = try await w.push(
                api, w.agent,
                [
                    w.unitItem(w.a, by: w.agent, base: base, ["name": .string("Renamed"), "aliases": .array([.string("Alias A")])]),
                    w.unitItem(w.a1, by: w.agent, ["name": .string("Renamed A1")]),
                ])
            let partial = try await api.call(
                .post, "/v1/orgunits/changes/\(r[0]["changeId"]!.stringValue!)/review", token: w.supervisorA.token,
                json: .object(["decision": .string("approve"), "fields": .array([.string("aliases")])]))
            #expect(partial.status == .ok, "\(partial.text)")
            #expect(partial.json["approvedFields"] == .array([.string("aliases")]))
            let bad = try await api.call(
                .post, "/v1/orgunits/changes/\(r[1]["changeId"]!.stringValue!)/review", token: w.supervisorA.token,
                json: .object(["decision": .string("approve"), "fields": .array([.string("geometry")])]))
            #expect(bad.status == .unprocessableContent)
            #expect(bad.errorField == "fields[0]")
            let rejected = try await api.call(
                .post, "/v1/orgunits/changes/\(r[1]["changeId"]!.stringValue!)/review", token: w.supervisorA.token,
                json: .object(["decision": .string("reject"), "comment": .string("wrong spelling")]))
            #expect(rejected.json["status"] == .string("rejected"))

            let units = try await w.tree(api, w.f.admin.token, "?geometry=none").units
            let a = try #require(units.first { $0["id"] == .string(w.a.lowercased) })
            #expect(a["name"] == .string("A"))
            #expect(a["aliases"] == .array([.string("Alias A")]))
            #expect(units.first { $0["id"] == .string(w.a1.lowercased) }?["name"] == .string("A1"))
        }
    }

    @Test("a rejected new unit stays out of the tree and takes no further writes")
    func rejectedCreation() async throws {
        try await withTestApp { api in
            let w = try await TreeWorld.make(api)
            let id = UUID()
            let r = try await w.push(api, w.agent, [w.unitItem(id, by: w.agent, ["name": .string("Ghost"), "parentId": .string(w.a.lowercased)])])
            _ = try await api.call(
                .post, "/v1/orgunits/changes/\(r[0]["changeId"]!.stringValue!)/review", token: w.supervisorA.token,
                json: .object(["decision": .string("reject")]))
            #expect(!ids(try await w.tree(api, w.f.admin.token).units).contains(id.lowercased))
            let again = try await w.push(
                api, w.agent, [w.unitItem(id, by: w.agent, counter: 2, base: [w.agent.device.lowercased: 1], ["name": .string("Ghost 2")])])
            #expect(again[0]["status"] == .string("rejected"))
        }
    }

    @Test("agents propose only inside their units; bad geometry and unknown parents reject the item alone; a resent proposal answers the same change")
    func proposalChecks() async throws {
        try await withTestApp { api in
            let w = try await TreeWorld.make(api)
            let open: JSONValue = .object([
                "type": .string("Polygon"),
                "coordinates": .array([
                    .array([
                        .array([.number(0), .number(0)]), .array([.number(1), .number(0)]), .array([.number(1), .number(1)]),
                    ])
                ]),
            ])
            let good = w.unitItem(UUID(), by: w.agent, counter: 9, ["name": .string("Fine"), "parentId": .string(w.a.lowercased)])
            let results = try await w.push(
                api, w.agent,
                [
                    w.unitItem(w.b, by: w.agent, ["name": .string("Mine now")]),
                    w.unitItem(UUID(), by: w.agent, counter: 2, ["name": .string("Under B"), "parentId": .string(w.b.lowercased)]),
                    w.unitItem(UUID(), by: w.agent, counter: 3, ["name": .string("Lost"), "parentId": .string(UUID().lowercased)]),
                    w.unitItem(
                        UUID(), by: w.agent, counter: 4, ["name": .string("Open ring"), "parentId": .string(w.a.lowercased), "geometry": open]),
                    w.unitItem(w.a, by: w.agent, counter: 5, ["parentId": .string(w.a1.lowercased)]),
                    w.unitItem(UUID(), by: w.agent, counter: 6, ["name": .string("No parent")]),
                    w.unitItem(w.a, by: w.agent, counter: 7, ["colour": .string("red")]),
                    good,
                ])
            let codes = results.map { $0["error"]?["code"]?.stringValue ?? $0["status"]?.stringValue ?? "?" }
            #expect(
                codes == [
                    "forbidden", "forbidden_reference", "unknown_reference", "invalid_geometry", "invalid_parent",
                    "invalid_field", "invalid_field", "pending",
                ], "\(results)")
            #expect(results[3]["error"]?["field"] == .string("items[3].changes.geometry"))
            // The same proposal sent again (a retried batch with a new id) is the same change request.
            let again = try await w.push(api, w.agent, [good])
            #expect(again[0]["status"] == .string("pending"))
            #expect(again[0]["changeId"] == results[7]["changeId"])
        }
    }

    @Test("a supervisor's and an admin's writes apply at once; a move re-paths the whole subtree; a move under a descendant is refused")
    func directWritesAndMoves() async throws {
        try await withTestApp { api in
            let w = try await TreeWorld.make(api)
            let baseA1 = try await w.version(api, w.a1)
            var r = try await w.push(api, w.supervisorA, [w.unitItem(w.a1, by: w.supervisorA, base: baseA1, ["name": .string("A-one")])])
            #expect(r[0]["status"] == .string("updated"), "\(r)")
            r = try await w.push(api, w.supervisorA, [w.unitItem(w.b, by: w.supervisorA, counter: 2, ["name": .string("not mine")])])
            #expect(r[0]["error"]?["code"] == .string("forbidden"))

            // Admin moves A under B: A1 follows.
            let baseA = try await w.version(api, w.a)
            r = try await w.push(api, w.f.admin, [w.unitItem(w.a, by: w.f.admin, base: baseA, ["parentId": .string(w.b.lowercased)])])
            #expect(r[0]["status"] == .string("updated"), "\(r)")
            let units = try await w.tree(api, w.f.admin.token, "?geometry=none").units
            let a1 = try #require(units.first { $0["id"] == .string(w.a1.lowercased) })
            #expect(a1["path"] == .array([w.country, w.b, w.a, w.a1].map { .string($0.lowercased) }))
            let order = ids(units)
            #expect(order.firstIndex(of: w.b.lowercased)! < order.firstIndex(of: w.a.lowercased)!)
            #expect(order.firstIndex(of: w.a.lowercased)! < order.firstIndex(of: w.a1.lowercased)!)

            // B under A1 (now its descendant) is refused, and nothing moved.
            let baseB = try await w.version(api, w.b)
            r = try await w.push(
                api, w.f.admin,
                [
                    w.unitItem(
                        w.b, by: w.f.admin, counter: 2, base: baseB,
                        ["parentId": .string(w.a1.lowercased)])
                ])
            #expect(r[0]["error"]?["code"] == .string("invalid_parent"), "\(r)")
            let after = try await w.tree(api, w.f.admin.token, "?geometry=none").units
            #expect(after.first { $0["id"] == .string(w.b.lowercased) }?["path"] == .array([w.country, w.b].map { .string($0.lowercased) }))
        }
    }

    @Test("a supervisor's summary counts instances outside their unit's polygon")
    func summaryCountsOutside() async throws {
        try await withTestApp { api in
            let w = try await TreeWorld.make(api)
            let q = "?accountId=\(w.f.account.lowercased)"
            var r = try await api.call(
                .post, "/v1/forms" + q, token: w.f.rootToken,
                json: .object([
                    "formId": .string("visit"), "name": .string("Visit"), "version": .string("1"),
                    "projectIds": .array([.string(w.f.project.lowercased)]),
                ]))
            #expect(r.status == .created, "\(r.text)")
            func instance(_ counter: Int64, _ lon: Double, _ lat: Double) -> JSONValue {
                .object([
                    "kind": .string("instance"), "id": .string(UUID().lowercased), "replica": .string(w.agent.device.lowercased),
                    "counter": .number(Double(counter)), "editedAt": .string("2026-11-20T08:15:30.123Z"), "changes": .object([:]),
                    "formId": .string("visit"), "formVersion": .string("1"), "orgUnitId": .string(w.a.lowercased),
                    "location": .object(["type": .string("Point"), "coordinates": .array([.number(lon), .number(lat)])]),
                ])
            }
            let results = try await w.push(api, w.agent, [instance(1, 0.5, 0.5), instance(1, 3, 3), instance(1, 0.9, 0.1)])
            #expect(results.allSatisfy { $0["status"] == .string("created") }, "\(results)")
            r = try await api.call(.get, "/v1/orgunits/\(w.a.lowercased)/summary", token: w.supervisorA.token)
            #expect(r.status == .ok, "\(r.text)")
            #expect(r.json["instances"] == .number(3))
            #expect(r.json["outsideOrgUnit"] == .number(1))
            r = try await api.call(.get, "/v1/orgunits/\(w.a.lowercased)/summary", token: w.supervisorB.token)
            #expect(r.status == .forbidden)
            r = try await api.call(.get, "/v1/orgunits/\(w.a.lowercased)/summary", token: w.agent.token)
            #expect(r.status == .forbidden)
        }
    }
}
