import FieldSyncCore
import Foundation
import HTTPTypes
import Testing

/// Entities and instances through push/pull: versioned writes, per-field merge,
/// the protocol's check order, references, forms, conflicts API.
@Suite("Versioned records: entities and instances")
struct VersionedSyncTests {
    /// An account with a small tree (country > district A, district B), an entity type,
    /// a form with declared questions, and devices for an admin.
    struct World: Sendable {
        let f: Fixture
        let country: UUID, districtA: UUID, districtB: UUID
        let entityType: UUID
        let formId = "household"

        static func make(_ api: API) async throws -> World {
            let f = try await Fixture.make(api)
            let country = UUID(), a = UUID(), b = UUID()
            func square(_ x: Double) -> JSONValue {
                .object([
                    "type": .string("Polygon"),
                    "coordinates": .array([
                        .array([
                            .array([.number(x), .number(0)]), .array([.number(x + 1), .number(0)]), .array([.number(x + 1), .number(1)]),
                            .array([.number(x), .number(1)]), .array([.number(x), .number(0)]),
                        ])
                    ]),
                ])
            }
            let units: JSONValue = .array([
                .object(["id": .string(country.lowercased), "name": .string("Country"), "parentId": .null]),
                .object(["id": .string(a.lowercased), "name": .string("A"), "parentId": .string(country.lowercased), "geometry": square(0)]),
                .object(["id": .string(b.lowercased), "name": .string("B"), "parentId": .string(country.lowercased), "geometry": square(5)]),
            ])
            let q = "?accountId=\(f.account.lowercased)"
            var r = try await api.call(.post, "/v1/orgunits/import" + q, token: f.rootToken, json: units)
            guard r.status == .created else { throw TestSetupError("import: \(r.text)") }
            let type = UUID()
            r = try await api.call(
                .post, "/v1/entity-types" + q, token: f.rootToken, json: .object(["id": .string(type.lowercased), "name": .string("Household")]))
            guard r.status == .created else { throw TestSetupError("type: \(r.text)") }
            r = try await api.call(
                .post, "/v1/forms" + q, token: f.rootToken,
                json: .object([
                    "formId": .string("household"), "name": .string("Household visit"), "version": .string("1"),
                    "projectIds": .array([.string(f.project.lowercased)]),
                    "fields": .array([
                        .object(["name": .string("members"), "type": .string("integer"), "required": .bool(true)]),
                        .object(["name": .string("water"), "type": .string("select_one"), "choices": .array([.string("well"), .string("tap")])]),
                        .object(["name": .string("visited"), "type": .string("date")]),
                    ]),
                ]))
            guard r.status == .created else { throw TestSetupError("form: \(r.text)") }
            return World(f: f, country: country, districtA: a, districtB: b, entityType: type)
        }

        func entity(
            _ id: UUID, device: UUID, counter: Int64, base: [String: Int64] = [:], at ms: Int64 = 1_763_626_530_000,
            changes: [String: JSONValue], unit: UUID? = nil, type: UUID? = nil
        ) -> JSONValue {
            var o: [String: JSONValue] = [
                "kind": .string("entity"), "id": .string(id.lowercased), "replica": .string(device.lowercased), "counter": .number(Double(counter)),
                "base": .object(base.mapValues { .number(Double($0)) }), "editedAt": .string(Timestamp(millisecondsSinceEpoch: ms).description),
                "changes": .object(changes),
            ]
            if let unit { o["orgUnitId"] = .string(unit.lowercased) }
            if let type { o["entityTypeId"] = .string(type.lowercased) }
            return .object(o)
        }

        func newEntity(_ id: UUID, device: UUID, counter: Int64 = 1, changes: [String: JSONValue], unit: UUID? = nil) -> JSONValue {
            entity(id, device: device, counter: counter, changes: changes, unit: unit ?? districtA, type: entityType)
        }

        func instance(
            _ id: UUID, device: UUID, counter: Int64 = 1, answers: [String: JSONValue], unit: UUID? = nil, entity: UUID? = nil,
            location: (Double, Double)? = nil, form: String? = nil
        ) -> JSONValue {
            var o: [String: JSONValue] = [
                "kind": .string("instance"), "id": .string(id.lowercased), "replica": .string(device.lowercased), "counter": .number(Double(counter)),
                "editedAt": .string("2026-11-20T08:15:30.123Z"), "changes": .object(answers),
                "formId": .string(form ?? formId), "formVersion": .string("1"), "orgUnitId": .string((unit ?? districtA).lowercased),
            ]
            if let entity { o["entityId"] = .string(entity.lowercased) }
            if let location {
                o["location"] = .object(["type": .string("Point"), "coordinates": .array([.number(location.0), .number(location.1)])])
            }
            return .object(o)
        }
    }

    /// Registers a second device for the admin.
    static func secondDevice(_ api: API, _ f: Fixture) async throws -> UUID {
        let d = UUID()
        _ = try await api.call(.post, "/v1/devices", token: f.admin.token, json: .object(["deviceId": .string(d.lowercased)]))
        return d
    }

    static func push(_ api: API, _ token: String, _ device: UUID, _ items: [JSONValue]) async throws -> [JSONValue] {
        let r = try await api.call(.post, "/v1/sync/push", token: token, json: pushBody(device: device, items: items))
        #expect(r.status == .ok, "\(r.text)")
        return r.json["results"]?.arrayValue ?? []
    }

    static func pullAll(_ api: API, _ token: String) async throws -> [JSONValue] {
        var cursor = ""
        var out: [JSONValue] = []
        while true {
            let r = try await api.call(.get, "/v1/sync/pull?limit=1000&cursor=\(cursor)", token: token)
            out += r.json["changes"]?.arrayValue ?? []
            cursor = r.json["cursor"]?.stringValue ?? ""
            if r.json["hasMore"] != .bool(true) { return out }
        }
    }

    /// The record `id` as the feed shows it, pulling again (up to 15 s) while it is not
    /// there: a pull shows the rows of transactions older than the oldest one still running
    /// in the database, and other tests' transactions run beside this one's. A record shows
    /// at its latest write or not at all, so once it is there it is up to date.
    static func pulledRecord(_ api: API, _ token: String, id: String) async throws -> JSONValue? {
        for attempt in 0..<60 {
            if let r = try await pullAll(api, token).first(where: { $0["id"] == .string(id) }) { return r }
            if attempt < 59 { try await Task.sleep(for: .milliseconds(250)) }
        }
        return nil
    }

    @Test("concurrent edits of one field conflict, both values kept; a write that saw both resolves")
    func concurrentEditsConflict() async throws {
        try await withTestApp { api in
            let w = try await World.make(api)
            let f = w.f
            let devA = f.admin.device
            let devB = try await Self.secondDevice(api, f)
            let id = UUID()
            var r = try await Self.push(
                api, f.admin.token, devA, [w.newEntity(id, device: devA, changes: ["name": .string("Amina"), "village": .string("Subil")])])
            #expect(r[0]["status"] == .string("created"))
            // B saw A's creation; both edit village concurrently, A also edits name.
            r = try await Self.push(
                api, f.admin.token, devB,
                [w.entity(id, device: devB, counter: 7, base: [devA.lowercased: 1], at: 1_763_626_540_000, changes: ["village": .string("Debidwar")])]
            )
            #expect(r[0]["status"] == .string("updated"))
            r = try await Self.push(
                api, f.admin.token, devA,
                [
                    w.entity(
                        id, device: devA, counter: 2, base: [devA.lowercased: 1], at: 1_763_626_535_000,
                        changes: ["village": .string("Gunaighor"), "name": .string("Amina K.")])
                ])
            #expect(r[0]["status"] == .string("conflict"))
            #expect(r[0]["version"] == .object([devA.lowercased: .number(2), devB.lowercased: .number(7)]))

            let record = try #require(try await VersionedSyncTests.pulledRecord(api, f.admin.token, id: id.lowercased))
            #expect(record["fields"]?["name"] == .string("Amina K."), "no conflict on a field only one side changed")
            #expect(record["fields"]?["village"] == .string("Debidwar"), "visible = greatest editedAt")
            let values = record["conflicts"]?["village"]?.arrayValue ?? []
            #expect(Set(values.compactMap { $0["value"]?.stringValue }) == ["Debidwar", "Gunaighor"])
            #expect(record["conflicts"]?["name"] == nil)
            #expect(record["entityTypeId"] == .string(w.entityType.lowercased))

            // The conflicts API lists it; a supervisor-side resolution writes as replica server.
            let list = try await api.call(.get, "/v1/conflicts?kind=entity&status=open", token: f.admin.token)
            #expect(list.json["items"]?.arrayValue?.map { $0["id"] } == [.string(id.lowercased)])
            let resolved = try await api.call(
                .post, "/v1/conflicts/entity/\(id.lowercased)/resolve", token: f.admin.token,
                json: .object(["changes": .object(["village": .string("Subil")])]))
            #expect(resolved.status == .ok, "\(resolved.text)")
            #expect(resolved.json["conflicts"] == nil)
            #expect(resolved.json["fields"]?["village"] == .string("Subil"))
            #expect(resolved.json["version"]?["server"] == .number(1))
            let after = try await api.call(.get, "/v1/conflicts", token: f.admin.token)
            #expect(after.json["items"]?.arrayValue?.isEmpty == true)
            let agentTry = try await api.call(
                .post, "/v1/conflicts/entity/\(id.lowercased)/resolve", token: f.agent.token,
                json: .object(["changes": .object(["village": .string("x")])]))
            #expect(agentTry.status == .forbidden)
        }
    }

    @Test(
        "check order: duplicate → unchanged, own dot in base → invalid_version, missing previous write → out_of_order, unknown dot → invalid_version")
    func checkOrder() async throws {
        try await withTestApp { api in
            let w = try await World.make(api)
            let f = w.f
            let dev = f.admin.device
            let d = dev.lowercased
            let id = UUID()
            let create = w.newEntity(id, device: dev, counter: 3, changes: ["name": .string("A")])
            var r = try await Self.push(api, f.admin.token, dev, [create])
            #expect(r[0]["status"] == .string("created"))
            // The same dot again, even with other content: unchanged, first stands.
            r = try await Self.push(api, f.admin.token, dev, [w.entity(id, device: dev, counter: 3, changes: ["name": .string("B")])])
            #expect(r[0]["status"] == .string("unchanged"))
            r = try await Self.push(api, f.admin.token, dev, [w.entity(id, device: dev, counter: 9, base: [d: 9], changes: ["name": .string("C")])])
            #expect(r[0]["error"]?["code"] == .string("invalid_version"))
            r = try await Self.push(api, f.admin.token, dev, [w.entity(id, device: dev, counter: 9, base: [d: 5], changes: ["name": .string("C")])])
            #expect(r[0]["error"]?["code"] == .string("out_of_order"))
            r = try await Self.push(
                api, f.admin.token, dev, [w.entity(id, device: dev, counter: 9, base: [d: 3, "someone": 4], changes: ["name": .string("C")])])
            #expect(r[0]["error"]?["code"] == .string("invalid_version"))
            r = try await Self.push(
                api, f.admin.token, dev, [w.entity(id, device: UUID(), counter: 10, base: [d: 3], changes: ["name": .string("C")])])
            #expect(r[0]["error"]?["code"] == .string("invalid_version"), "replica must be the pushing device")
            r = try await Self.push(api, f.admin.token, dev, [w.entity(id, device: dev, counter: 10, base: [d: 3], changes: [:])])
            #expect(r[0]["error"]?["code"] == .string("invalid_field"), "empty changes only on creation")
            #expect(r[0]["error"]?["field"] == .string("items[0].changes"), "empty changes only on creation")
            r = try await Self.push(
                api, f.admin.token, dev, [w.entity(id, device: dev, counter: 10, base: [d: 3], changes: ["name": .string("D")], unit: w.districtB)])
            #expect(r[0]["error"]?["code"] == .string("immutable_field"))
            #expect(r[0]["error"]?["field"] == .string("items[0].orgUnitId"))
            r = try await Self.push(
                api, f.admin.token, dev,
                [w.entity(id, device: dev, counter: 10, base: [d: 3], changes: ["name": .string("D"), "deleted": .bool(true)])])
            #expect(r[0]["status"] == .string("updated"))
            let record = try #require(try await VersionedSyncTests.pulledRecord(api, f.admin.token, id: id.lowercased))
            #expect(record["fields"]?["name"] == .string("D"))
            #expect(record["fields"]?["deleted"] == .bool(true))
            #expect(record["version"] == .object([d: .number(10)]))
        }
    }

    @Test("references: same batch in any order, unknown ones rejected alone, forms checked")
    func referencesAndForms() async throws {
        try await withTestApp { api in
            let w = try await World.make(api)
            let f = w.f
            let dev = f.admin.device
            let e = UUID(), i1 = UUID(), i2 = UUID(), i3 = UUID(), i4 = UUID(), i5 = UUID(), i6 = UUID()
            let items: [JSONValue] = [
                w.instance(i1, device: dev, answers: ["members": .number(4), "water": .string("well")], entity: e, location: (0.5, 0.5)),
                w.newEntity(e, device: dev, counter: 2, changes: ["name": .string("Household 1")]),
                w.instance(i2, device: dev, counter: 3, answers: ["members": .number(2)], unit: UUID()),
                w.instance(i3, device: dev, counter: 4, answers: ["members": .number(2.5)]),
                w.instance(i4, device: dev, counter: 5, answers: ["members": .number(2), "water": .string("river")]),
                w.instance(i5, device: dev, counter: 6, answers: ["water": .string("tap")], location: (7.5, 0.5)),
                w.instance(i6, device: dev, counter: 7, answers: ["members": .number(1)], form: "nope"),
            ]
            let r = try await Self.push(api, f.admin.token, dev, items)
            #expect(r.map { $0["status"]?.stringValue } == ["created", "created", "rejected", "rejected", "rejected", "rejected", "rejected"])
            #expect(r[2]["error"]?["code"] == .string("unknown_reference"))
            #expect(r[2]["error"]?["field"] == .string("items[2].orgUnitId"))
            #expect(r[3]["error"]?["field"] == .string("items[3].changes.members"))
            #expect(r[4]["error"]?["field"] == .string("items[4].changes.water"))
            #expect(r[5]["error"]?["field"] == .string("items[5].changes.members"), "required answer missing on creation")
            #expect(r[6]["error"]?["code"] == .string("unknown_reference"))
            let instance = try #require(try await Self.pulledRecord(api, f.admin.token, id: i1.lowercased))
            let all = try await Self.pullAll(api, f.admin.token)
            #expect(instance["entityId"] == .string(e.lowercased))
            #expect(instance["formId"] == .string("household"))
            #expect(instance["outsideOrgUnit"] == .bool(false))
            #expect(instance["complete"] == .bool(true))
            #expect(all.filter { $0["kind"] == .string("instance") }.count == 1, "rejected items wrote nothing")
            // A location outside the unit's polygon is flagged.
            let i7 = UUID()
            _ = try await Self.push(
                api, f.admin.token, dev, [w.instance(i7, device: dev, counter: 8, answers: ["members": .number(1)], location: (7.5, 0.5))])
            let flagged = try #require(try await VersionedSyncTests.pulledRecord(api, f.admin.token, id: i7.lowercased))
            #expect(flagged["outsideOrgUnit"] == .bool(true))
        }
    }

    @Test("many devices writing one record at once from many connections lose nothing")
    func concurrentPushesLoseNothing() async throws {
        try await withTestApp { api in
            let w = try await World.make(api)
            let f = w.f
            let id = UUID()
            _ = try await Self.push(api, f.admin.token, f.admin.device, [w.newEntity(id, device: f.admin.device, changes: ["n": .number(0)])])
            var devices: [UUID] = []
            for _ in 0..<12 { devices.append(try await Self.secondDevice(api, f)) }
            let base = [f.admin.device.lowercased: Int64(1)]
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (k, d) in devices.enumerated() {
                    group.addTask {
                        for c in 1...3 {
                            var b = base
                            if c > 1 { b[d.lowercased] = Int64(c - 1) }
                            let r = try await Self.push(
                                api, f.admin.token, d,
                                [
                                    w.entity(
                                        id, device: d, counter: Int64(c), base: b,
                                        at: 1_763_626_530_000 + Int64(k * 10 + c),
                                        changes: ["f\(k)": .number(Double(c)), "shared": .number(Double(k))])
                                ])
                            #expect(r.first?["status"]?.stringValue != "rejected", "\(r)")
                        }
                    }
                }
                try await group.waitForAll()
            }
            let record = try #require(try await VersionedSyncTests.pulledRecord(api, f.admin.token, id: id.lowercased))
            for (k, d) in devices.enumerated() {
                #expect(record["version"]?[d.lowercased] == .number(3))
                #expect(record["fields"]?["f\(k)"] == .number(3))
            }
            #expect(record["conflicts"]?["shared"]?.arrayValue?.count == devices.count, "every concurrent value kept")
        }
    }
}

@Suite("Batch replays belong to their device")
struct BatchOwnerTests {
    @Test("another user (or device) sending a batchId already used gets 409 batch_id_taken, not the first answer")
    func replayByAnotherDevice() async throws {
        try await withTestApp { api in
            let w = try await VersionedSyncTests.World.make(api)
            let f = w.f
            let batch = UUID()
            let id = UUID()
            let body = pushBody(
                batch: batch, device: f.admin.device, items: [w.newEntity(id, device: f.admin.device, changes: ["name": .string("Secret")])])
            var r = try await api.call(.post, "/v1/sync/push", token: f.admin.token, json: body)
            #expect(r.status == .ok)
            r = try await api.call(.post, "/v1/sync/push", token: f.admin.token, json: body)
            #expect(r.status == .ok, "the sender's own replay gets the first answer")
            #expect(r.text.contains(id.lowercased))
            let stolen = pushBody(batch: batch, device: f.agent.device, items: [positionItem()])
            r = try await api.call(.post, "/v1/sync/push", token: f.agent.token, json: stolen)
            #expect(r.status == .conflict)
            #expect(r.errorCode == "batch_id_taken")
            #expect(!r.text.contains(id.lowercased))
            let otherDevice = try await VersionedSyncTests.secondDevice(api, f)
            r = try await api.call(
                .post, "/v1/sync/push", token: f.admin.token, json: pushBody(batch: batch, device: otherDevice, items: [positionItem()]))
            #expect(r.errorCode == "batch_id_taken")
        }
    }
}
