import FieldSyncCore
import Foundation
import HTTPTypes
import Testing

/// Device positions end to end: push through the HTTP API into PostGIS, pull back.
@Suite("Positions: push and pull")
struct PositionSyncTests {
    @Test("pushed positions are stored and pulled back exactly as sent")
    func pushThenPull() async throws {
        try await withTestApp { api in
            let f = try await Fixture.make(api)
            let withAltitude = positionItem(
                id: UUID(), at: 1_763_626_530_123, lon: 90.1, lat: 23.5, alt: 12.5, accuracy: 3.25, transport: "motorbike")
            let plain = positionItem(id: UUID(), at: 1_763_626_535_001, lon: -0.5, lat: 51.25, accuracy: nil, transport: nil)
            let r = try await api.call(
                .post, "/v1/sync/push", token: f.agent.token,
                json: pushBody(device: f.agent.device, items: [withAltitude, plain]))
            #expect(r.status == .ok)
            let results = r.json["results"]?.arrayValue ?? []
            #expect(results.map { $0["status"]?.stringValue } == ["created", "created"])
            #expect(results.map { $0["id"]?.stringValue } == [withAltitude["id"]?.stringValue, plain["id"]?.stringValue])
            #expect(r.json["cursor"]?.stringValue?.isEmpty == false)

            let p = try await api.call(.get, "/v1/sync/pull", token: f.agent.token)
            #expect(p.status == .ok)
            let changes = p.json["changes"]?.arrayValue ?? []
            #expect(changes.count == 2)
            #expect(p.json["hasMore"] == .bool(false))
            let byId = Dictionary(uniqueKeysWithValues: changes.compactMap { c in c["id"]?.stringValue.map { ($0, c) } })
            let a = try #require(byId[withAltitude["id"]!.stringValue!])
            #expect(a["kind"] == .string("position"))
            #expect(a["capturedAt"] == .string("2025-11-20T08:15:30.123Z"))
            #expect(a["location"] == .object(["type": .string("Point"), "coordinates": .array([.number(90.1), .number(23.5), .number(12.5)])]))
            #expect(a["accuracy"] == .number(3.25))
            #expect(a["transport"] == .string("motorbike"))
            #expect(a["deviceId"] == .string(f.agent.device.lowercased))
            let b = try #require(byId[plain["id"]!.stringValue!])
            #expect(b["location"]?["coordinates"] == .array([.number(-0.5), .number(51.25)]))
            #expect(b["accuracy"] == nil)
            #expect(b["transport"] == nil)
            #expect(b["capturedAt"] == .string("2025-11-20T08:15:35.001Z"))

            // The cursor at the end yields nothing new.
            let cursor = try #require(p.json["cursor"]?.stringValue)
            let again = try await api.call(.get, "/v1/sync/pull?cursor=\(cursor)", token: f.agent.token)
            #expect(again.json["changes"]?.arrayValue?.count == 0)
            #expect(again.json["cursor"]?.stringValue == cursor)
        }
    }

    @Test(
        "a replayed batch gets the first answer, in any key order; the same batchId with other items is 409; the same ids in a new batch are unchanged"
    )
    func idempotency() async throws {
        try await withTestApp { api in
            let f = try await Fixture.make(api)
            let items = (0..<5).map { k in positionItem(at: 1_763_626_530_000 + Int64(k) * 1000) }
            let batch = UUID()
            let first = try await api.call(
                .post, "/v1/sync/push", token: f.agent.token, json: pushBody(batch: batch, device: f.agent.device, items: items))
            let replay = try await api.call(
                .post, "/v1/sync/push", token: f.agent.token, json: pushBody(batch: batch, device: f.agent.device, items: items))
            #expect(first.status == .ok && replay.status == .ok)
            #expect(first.json["results"] == replay.json["results"])
            #expect(replay.json["batchId"] == .string(batch.lowercased))
            #expect(first.json["results"]?.arrayValue?.allSatisfy { $0["status"] == .string("created") } == true)
            // The same batch written again in another key order and spacing is still a replay.
            let reordered = try await api.call(
                .post, "/v1/sync/push", token: f.agent.token,
                raw: Array(Self.reversedKeys(pushBody(batch: batch, device: f.agent.device, items: items)).utf8))
            #expect(reordered.status == .ok && reordered.json["results"] == first.json["results"], "\(reordered.text)")
            // The same batchId with other items is another batch: refused, never answered with
            // the first batch's results (its items would be dropped unseen).
            let other = try await api.call(
                .post, "/v1/sync/push", token: f.agent.token,
                json: pushBody(batch: batch, device: f.agent.device, items: Array(items.dropLast()) + [positionItem()]))
            #expect(other.status == .conflict && other.errorCode == "batch_id_taken", "\(other.text)")

            // Same items, new batch, plus an item repeated inside the batch.
            let again = try await api.call(
                .post, "/v1/sync/push", token: f.agent.token,
                json: pushBody(device: f.agent.device, items: items + [items[0]]))
            #expect(again.json["results"]?.arrayValue?.map { $0["status"]?.stringValue } == Array(repeating: "unchanged", count: 6))
            let fresh = positionItem()
            let dup = try await api.call(
                .post, "/v1/sync/push", token: f.agent.token,
                json: pushBody(device: f.agent.device, items: [fresh, fresh]))
            #expect(dup.json["results"]?.arrayValue?.map { $0["status"]?.stringValue } == ["created", "unchanged"])

            // The feed boundary may lag one pull behind a transaction of another test's
            // database ending at that instant (FeedCursor.boundarySQL): pull again until
            // the feed settles, then it holds exactly the six positions, no more.
            var count = 0
            for _ in 0..<50 {
                let pulled = try await api.call(.get, "/v1/sync/pull?limit=1000", token: f.agent.token)
                count = pulled.json["changes"]?.arrayValue?.count ?? -1
                if count >= 6 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(count == 6)
        }
    }

    /// JSON with every object's keys in reverse order and spaces after separators.
    static func reversedKeys(_ v: JSONValue) -> String {
        switch v {
        case .object(let o): "{ " + o.keys.sorted(by: >).map { "\"\($0)\": \(reversedKeys(o[$0] ?? .null))" }.joined(separator: ", ") + " }"
        case .array(let a): "[ " + a.map(reversedKeys).joined(separator: ", ") + " ]"
        default: JSONWriter.string(v)
        }
    }

    @Test("bad items are rejected alone, with a code and the field at fault, and nothing of them is stored")
    func perItemRejection() async throws {
        try await withTestApp { api in
            let f = try await Fixture.make(api)
            let good = positionItem()
            var noMillis = positionItem().objectValue!
            noMillis["capturedAt"] = .string("2026-11-20T08:15:30Z")
            var badLon = positionItem().objectValue!
            badLon["location"] = .object(["type": .string("Point"), "coordinates": .array([.number(200), .number(10)])])
            var badLat = positionItem().objectValue!
            badLat["location"] = .object(["type": .string("Point"), "coordinates": .array([.number(10), .number(-95)])])
            var notPoint = positionItem().objectValue!
            notPoint["location"] = .object(["type": .string("LineString"), "coordinates": .array([])])
            var badId = positionItem().objectValue!
            badId["id"] = .string("not-a-uuid")
            var noTime = positionItem().objectValue!
            noTime["capturedAt"] = nil
            var negativeAccuracy = positionItem().objectValue!
            negativeAccuracy["accuracy"] = .number(-1)
            let unknownKind: JSONValue = .object(["kind": .string("spaceship"), "id": .string(UUID().lowercased)])
            let items: [JSONValue] = [
                good, .object(noMillis), .object(badLon), .object(badLat), .object(notPoint), .object(badId),
                .object(noTime), .object(negativeAccuracy), unknownKind, .string("not an object"),
            ]
            let r = try await api.call(.post, "/v1/sync/push", token: f.agent.token, json: pushBody(device: f.agent.device, items: items))
            #expect(r.status == .ok)
            let results = try #require(r.json["results"]?.arrayValue)
            #expect(results.count == items.count)
            #expect(results[0]["status"] == .string("created"))
            let expected: [(String, String)] = [
                ("invalid_field", "items[1].capturedAt"), ("invalid_geometry", "items[2].location"),
                ("invalid_geometry", "items[3].location"), ("invalid_geometry", "items[4].location"),
                ("invalid_field", "items[5].id"), ("invalid_field", "items[6].capturedAt"),
                ("invalid_field", "items[7].accuracy"), ("invalid_field", "items[8].kind"), ("invalid_field", "items[9].kind"),
            ]
            for (k, (code, field)) in expected.enumerated() {
                let result = results[k + 1]
                #expect(result["status"] == .string("rejected"), "item \(k + 1)")
                #expect(result["error"]?["code"] == .string(code), "item \(k + 1): \(result)")
                #expect(result["error"]?["field"] == .string(field), "item \(k + 1): \(result)")
                #expect(result["error"]?["message"]?.stringValue?.isEmpty == false)
            }
            let pulled = try await api.call(.get, "/v1/sync/pull", token: f.agent.token)
            #expect(pulled.json["changes"]?.arrayValue?.map { $0["id"] } == [good["id"]])
        }
    }

    @Test("malformed requests fail whole with the protocol's error body and write nothing")
    func requestErrors() async throws {
        try await withTestApp(configure: { $0.maxPushBytes = 64 * 1024 }) { api in
            let f = try await Fixture.make(api)
            func expectError(_ r: API.Reply, _ status: HTTPResponse.Status, _ code: String, _ note: Comment) {
                #expect(r.status == status, note)
                #expect(r.errorCode == code, note)
                #expect(r.json["error"]?["message"]?.stringValue?.isEmpty == false, note)
            }
            let t = f.agent.token
            expectError(
                try await api.call(.post, "/v1/sync/push", token: t, raw: Array("{\"batchId\":".utf8)), .badRequest, "invalid_json", "truncated")
            expectError(try await api.call(.post, "/v1/sync/push", token: t, raw: Array("{\"a\":NaN}".utf8)), .badRequest, "invalid_json", "NaN")
            expectError(
                try await api.call(.post, "/v1/sync/push", token: t, raw: Array("{\"a\":-Infinity}".utf8)), .badRequest, "invalid_json", "Infinity")
            expectError(
                try await api.call(.post, "/v1/sync/push", token: t, raw: [0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x3A, 0x31, 0x7D]), .badRequest,
                "invalid_json", "bad UTF-8")
            let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
            expectError(try await api.call(.post, "/v1/sync/push", token: t, raw: Array(deep.utf8)), .badRequest, "invalid_json", "depth 65")
            expectError(
                try await api.call(
                    .post, "/v1/sync/push", token: t, json: .object(["deviceId": .string(f.agent.device.lowercased), "items": .array([])])),
                .badRequest, "invalid_request", "no batchId")
            let missing = try await api.call(
                .post, "/v1/sync/push", token: t,
                json: .object(["batchId": .string(UUID().lowercased), "deviceId": .string(f.agent.device.lowercased)]))
            expectError(missing, .badRequest, "invalid_request", "no items")
            #expect(missing.errorField == "items")
            let big = (0..<600).map { _ in positionItem() }
            expectError(
                try await api.call(.post, "/v1/sync/push", token: t, json: pushBody(device: f.agent.device, items: big)), .contentTooLarge,
                "too_large", "body over the limit")
            expectError(
                try await api.call(.post, "/v1/sync/push", json: pushBody(device: f.agent.device, items: [positionItem()])), .unauthorized,
                "unauthorized", "no token")
            expectError(
                try await api.call(.post, "/v1/sync/push", token: "fs_wrong", json: pushBody(device: f.agent.device, items: [positionItem()])),
                .unauthorized, "unauthorized", "bad token")
            expectError(
                try await api.call(.post, "/v1/sync/push", token: t, json: pushBody(device: UUID(), items: [positionItem()])), .forbidden,
                "forbidden", "unregistered device")
            expectError(
                try await api.call(.post, "/v1/sync/push", token: t, json: pushBody(device: f.admin.device, items: [positionItem()])), .forbidden,
                "forbidden", "someone else's device")
            expectError(
                try await api.call(
                    .post, "/v1/sync/push", token: t, json: pushBody(device: f.agent.device, project: UUID(), items: [positionItem()])), .notFound,
                "not_found", "unknown project")
            expectError(try await api.call(.get, "/v1/sync/pull?limit=0", token: t), .badRequest, "invalid_request", "limit 0")
            expectError(try await api.call(.get, "/v1/sync/pull?limit=1001", token: t), .badRequest, "invalid_request", "limit 1001")
            expectError(try await api.call(.get, "/v1/sync/pull?cursor=garbage", token: t), .badRequest, "invalid_request", "bad cursor")
            expectError(try await api.call(.get, "/v1/no-such-thing", token: t), .notFound, "not_found", "unknown route")
            let pulled = try await api.call(.get, "/v1/sync/pull", token: t)
            #expect(pulled.json["changes"]?.arrayValue?.isEmpty == true, "nothing was written by failed requests")
        }
    }

    @Test("paging with limit returns every position exactly once, in order, with hasMore")
    func paging() async throws {
        try await withTestApp { api in
            let f = try await Fixture.make(api)
            var ids: [String] = []
            for batch in 0..<4 {
                let items = (0..<5).map { k in positionItem(at: 1_763_626_530_000 + Int64(batch * 5 + k)) }
                ids += items.compactMap { $0["id"]?.stringValue }
                _ = try await api.call(.post, "/v1/sync/push", token: f.agent.token, json: pushBody(device: f.agent.device, items: items))
            }
            var cursor = ""
            var seen: [String] = []
            var pages = 0
            while true {
                let r = try await api.call(.get, "/v1/sync/pull?limit=7&cursor=\(cursor)", token: f.agent.token)
                let changes = r.json["changes"]?.arrayValue ?? []
                seen += changes.compactMap { $0["id"]?.stringValue }
                cursor = r.json["cursor"]?.stringValue ?? ""
                pages += 1
                if r.json["hasMore"] != .bool(true) { break }
                #expect(changes.count == 7)
            }
            #expect(pages == 3)
            #expect(seen == ids, "commit order, each once")
        }
    }

    @Test("an agent pulls its own positions; an admin pulls everyone's in the account")
    func positionVisibility() async throws {
        try await withTestApp { api in
            let f = try await Fixture.make(api)
            _ = try await api.call(.post, "/v1/sync/push", token: f.agent.token, json: pushBody(device: f.agent.device, items: [positionItem()]))
            _ = try await api.call(
                .post, "/v1/sync/push", token: f.admin.token, json: pushBody(device: f.admin.device, items: [positionItem(), positionItem()]))
            let agent = try await api.call(.get, "/v1/sync/pull", token: f.agent.token)
            #expect(agent.json["changes"]?.arrayValue?.count == 1)
            let admin = try await api.call(.get, "/v1/sync/pull", token: f.admin.token)
            #expect(admin.json["changes"]?.arrayValue?.count == 3)
        }
    }
}
