import FieldSyncCore
import Foundation
import HTTPTypes
import Testing

@Suite("Org units: import")
struct OrgUnitImportTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func sample(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: root.appendingPathComponent("sampledata/bangladesh/\(name)")))
    }

    static func createTypes(_ api: API, _ f: Fixture) async throws {
        let types = try JSONParser.parse(try sample("orgunit-types.json")).arrayValue ?? []
        for t in types {
            let r = try await api.call(.post, "/v1/orgunit-types?accountId=\(f.account.lowercased)", token: f.rootToken, json: t)
            #expect(r.status == .created, "\(r.text)")
        }
    }

    @Test("the Bangladesh sample tree imports whole, with geometry in PostGIS, and a second import changes nothing")
    func bangladesh() async throws {
        try await withTestApp { api in
            let f = try await Fixture.make(api)
            try await Self.createTypes(api, f)
            let body = try Self.sample("orgunits.json")
            let r = try await api.call(.post, "/v1/orgunits/import?accountId=\(f.account.lowercased)", token: f.rootToken, raw: body)
            #expect(r.status == .created, "\(r.text.prefix(300))")
            #expect(r.json["imported"] == .number(5107))
            #expect(r.json["ids"]?.arrayValue?.count == 5107)

            // Admins pull the whole tree; district polygons are MultiPolygons, aliases kept.
            // (Again while the feed holds them back: it shows the rows of transactions older
            // than the oldest still running in the database, other tests' included.)
            var units: [JSONValue] = []
            var cursor = ""
            for attempt in 0..<60 {
                cursor = ""
                units = []
                repeat {
                    let p = try await api.call(.get, "/v1/sync/pull?limit=1000&cursor=\(cursor)", token: f.admin.token)
                    units += p.json["changes"]?.arrayValue?.filter { $0["kind"] == .string("orgUnit") } ?? []
                    cursor = p.json["cursor"]?.stringValue ?? ""
                    if p.json["hasMore"] != .bool(true) { break }
                } while true
                if units.count >= 5107 || attempt == 59 { break }
                try await Task.sleep(for: .milliseconds(250))
            }
            #expect(units.count == 5107)
            let bogura = try #require(units.first { $0["fields"]?["name"] == .string("Bogura") })
            #expect(bogura["fields"]?["geometry"]?["type"] == .string("MultiPolygon"))
            #expect(bogura["fields"]?["aliases"]?.arrayValue?.contains(.string("Bogra")) == true)
            #expect(bogura["version"]?["server"] == .number(1))
            #expect(bogura["status"] == .string("validated"))

            // Importing the same file again: same ids, no new writes.
            let again = try await api.call(.post, "/v1/orgunits/import?accountId=\(f.account.lowercased)", token: f.rootToken, raw: body)
            #expect(again.status == .created)
            #expect(again.json["ids"] == r.json["ids"])
            let after = try await api.call(.get, "/v1/sync/pull?cursor=\(cursor)", token: f.admin.token)
            #expect(after.json["changes"]?.arrayValue?.isEmpty == true, "a re-import of identical units writes nothing")
        }
    }

    @Test("cycles, unknown parents, bad geometry and unknown types are refused and nothing is imported")
    func refusals() async throws {
        try await withTestApp { api in
            let f = try await Fixture.make(api)
            let a = UUID(), b = UUID(), c = UUID()
            func unit(_ id: UUID, parent: UUID?, geometry: JSONValue? = nil, type: UUID? = nil) -> JSONValue {
                var o: [String: JSONValue] = [
                    "id": .string(id.lowercased), "name": .string("U \(id.uuidString.prefix(4))"),
                    "parentId": parent.map { .string($0.lowercased) } ?? .null,
                ]
                if let geometry { o["geometry"] = geometry }
                if let type { o["orgUnitTypeId"] = .string(type.lowercased) }
                return .object(o)
            }
            let url = "/v1/orgunits/import?accountId=\(f.account.lowercased)"
            let cycle = try await api.call(
                .post, url, token: f.rootToken, json: .array([unit(a, parent: c), unit(b, parent: a), unit(c, parent: b)]))
            #expect(cycle.status == .unprocessableContent)
            #expect(cycle.errorCode == "invalid_parent")
            let unknown = try await api.call(.post, url, token: f.rootToken, json: .array([unit(a, parent: nil), unit(b, parent: UUID())]))
            #expect(unknown.errorCode == "unknown_reference")
            #expect(unknown.errorField == "items[1].parentId")
            let triangle: JSONValue = .object([
                "type": .string("Polygon"),
                "coordinates": .array([
                    .array([
                        .array([.number(0), .number(0)]), .array([.number(1), .number(0)]), .array([.number(0), .number(0)]),
                    ])
                ]),
            ])
            let bad = try await api.call(
                .post, url, token: f.rootToken, json: .array([unit(a, parent: nil), unit(b, parent: a, geometry: triangle)]))
            #expect(bad.errorCode == "invalid_geometry")
            #expect(bad.errorField == "items[1].geometry")
            let noType = try await api.call(.post, url, token: f.rootToken, json: .array([unit(a, parent: nil, type: UUID())]))
            #expect(noType.errorCode == "unknown_reference")
            let agent = try await api.call(.post, url, token: f.agent.token, json: .array([unit(a, parent: nil)]))
            #expect(agent.status == .forbidden)
            let p = try await api.call(.get, "/v1/sync/pull", token: f.admin.token)
            #expect(p.json["changes"]?.arrayValue?.isEmpty == true, "all or nothing")

            // Parents in any order; a later import moves a unit and its subtree follows.
            let ok = try await api.call(.post, url, token: f.rootToken, json: .array([unit(c, parent: b), unit(b, parent: a), unit(a, parent: nil)]))
            #expect(ok.status == .created)
            let move = try await api.call(.post, url, token: f.rootToken, json: .array([unit(a, parent: c)]))
            #expect(move.errorCode == "invalid_parent", "moving a unit under its own descendant is refused")
        }
    }
}
