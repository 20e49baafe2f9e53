import FieldSyncClient
import FieldSyncCore
import Foundation
import HTTPTypes
import Testing

@testable import FieldSyncServer

/// `GET /v1/orgunits/tree`: merged tree, roots and scope, geometry levels, formats,
/// `since`, gzip.
@Suite("Org units: tree")
struct TreeTests {
    func ids(_ units: [JSONValue]) -> [String] { units.compactMap { $0["id"]?.stringValue } }

    @Test("parents come before children; roots default to the caller's units; other units of the account are 403, other accounts' 404")
    func rootsAndScope() async throws {
        try await withTestApp { api in
            let w = try await TreeWorld.make(api)
            let all = try await w.tree(api, w.f.admin.token).units
            #expect(Set(ids(all)) == Set([w.country, w.a, w.a1, w.b].map(\.lowercased)))
            var seen = Set<String>()
            for u in all {
                if let p = u["parentId"]?.stringValue { #expect(seen.contains(p), "parent \(p) before child") }
                seen.insert(u["id"]!.stringValue!)
            }
            #expect(Set(ids(try await w.tree(api, w.agent.token).units)) == [w.a.lowercased, w.a1.lowercased])
            #expect(ids(try await w.tree(api, w.agent.token, "?root=\(w.a1.lowercased)").units) == [w.a1.lowercased])
            let outside = try await api.call(.get, "/v1/orgunits/tree?root=\(w.b.lowercased)", token: w.agent.token)
            #expect(outside.status == .forbidden)
            let parent = try await api.call(.get, "/v1/orgunits/tree?root=\(w.country.lowercased)", token: w.agent.token)
            #expect(parent.status == .forbidden, "ancestors are not visible beyond the path")
            let other = try await TreeWorld.make(api)
            let foreign = try await api.call(.get, "/v1/orgunits/tree?root=\(other.a.lowercased)", token: w.f.admin.token)
            let unknown = try await api.call(.get, "/v1/orgunits/tree?root=\(UUID().lowercased)", token: w.f.admin.token)
            #expect(foreign.status == .notFound)
            #expect(unknown.status == .notFound)
            #expect(foreign.errorCode == unknown.errorCode)
            #expect(!foreign.text.contains(other.a.lowercased) || foreign.text.contains("org unit \(other.a.lowercased) does not exist"))
            for bad in ["?geometry=some", "?format=kml", "?root=nope", "?since=x"] {
                #expect(try await api.call(.get, "/v1/orgunits/tree" + bad, token: w.f.admin.token).status == .badRequest, "\(bad)")
            }
        }
    }

    @Test("geometry none, simplified and full; the unit's point stands where it gave none")
    func geometryLevels() async throws {
        try await withTestApp { api in
            let w = try await TreeWorld.make(api)
            func unitA(_ q: String) async throws -> JSONValue {
                try #require(try await w.tree(api, w.f.admin.token, q).units.first { $0["id"] == .string(w.a.lowercased) })
            }
            #expect(try await unitA("?geometry=none")["geometry"] == .null)
            let simplified = try await unitA("")
            #expect(simplified["geometry"]?["type"] == .string("MultiPolygon"))
            let full = try await unitA("?geometry=full")
            #expect(full["geometry"]?["type"] == .string("MultiPolygon"))
            // The square has no location: the server put one inside it.
            let c = full["location"]?["coordinates"]?.arrayValue?.compactMap(\.numberValue) ?? []
            #expect(c.count == 2 && (0...1).contains(c[0]) && (0...1).contains(c[1]), "\(full)")
            #expect(full["orgUnitTypeId"] == .string(w.type.lowercased))
        }
    }

    @Test("since returns only the units changed after the cursor")
    func since() async throws {
        try await withTestApp { api in
            let w = try await TreeWorld.make(api)
            let first = try await w.tree(api, w.f.admin.token)
            let header = try await api.call(.get, "/v1/orgunits/tree", token: w.f.admin.token)
            #expect(header.headers[HTTPField.Name("FieldSync-Cursor")!] == header.json["cursor"]?.stringValue)
            #expect(try await w.tree(api, w.f.admin.token, "?since=\(first.cursor)").units.isEmpty)
            let base = try await w.version(api, w.b)
            let r = try await w.push(api, w.f.admin, [w.unitItem(w.b, by: w.f.admin, base: base, ["name": .string("B renamed")])])
            #expect(r[0]["status"] == .string("updated"))
            let changed = try await w.tree(api, w.f.admin.token, "?since=\(first.cursor)")
            #expect(ids(changed.units) == [w.b.lowercased])
            #expect(changed.units.first?["name"] == .string("B renamed"))
            #expect(try await w.tree(api, w.f.admin.token, "?since=\(changed.cursor)").units.isEmpty)
        }
    }

    @Test("gzip when the client accepts it, the same document once unpacked")
    func gzip() async throws {
        try await withTestApp { api in
            let w = try await TreeWorld.make(api)
            let plain = try await api.call(.get, "/v1/orgunits/tree?geometry=full", token: w.f.admin.token)
            let packed = try await api.call(
                .get, "/v1/orgunits/tree?geometry=full", token: w.f.admin.token,
                headers: [.acceptEncoding: "br;q=1.0, gzip;q=0.8"])
            #expect(packed.headers[.contentEncoding] == "gzip")
            #expect(plain.headers[.contentEncoding] == nil)
            let unpacked = try #require(Gunzip.decompress(Array(buffer: packed.body)), "a whole gzip stream")
            #expect(try JSONParser.parse(unpacked)["orgUnits"] == plain.json["orgUnits"])
            #expect(OrgUnitController.acceptsGzip("gzip"))
            #expect(!OrgUnitController.acceptsGzip("gzip;q=0"))
            #expect(!OrgUnitController.acceptsGzip("deflate, br"))
        }
    }

    @Test("the GeoJSON answer is a FeatureCollection that GDAL opens as one layer with every unit")
    func geojsonOpensInGDAL() async throws {
        try await withTestApp { api in
            let w = try await TreeWorld.make(api)
            let r = try await api.call(.get, "/v1/orgunits/tree?format=geojson&geometry=full", token: w.f.admin.token)
            #expect(r.status == .ok)
            #expect(r.headers[.contentType] == "application/geo+json")
            #expect(r.json["type"] == .string("FeatureCollection"))
            let features = r.json["features"]?.arrayValue ?? []
            #expect(features.count == 4)
            let country = try #require(features.first { $0["id"] == .string(w.country.lowercased) })
            #expect(country["geometry"] == .null, "no polygon, no point: null geometry")
            #expect(features.first { $0["id"] == .string(w.a.lowercased) }?["geometry"]?["type"] == .string("MultiPolygon"))
            #expect(features.first { $0["id"] == .string(w.a.lowercased) }?["properties"]?["name"] == .string("A"))

            let ogrinfo = ["/usr/bin/ogrinfo", "/usr/local/bin/ogrinfo"].first { FileManager.default.isExecutableFile(atPath: $0) }
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("tree-\(UUID().uuidString).geojson")
            try Data(buffer: r.body).write(to: file)
            defer { try? FileManager.default.removeItem(at: file) }
            let tool = try #require(ogrinfo, "ogrinfo (gdal-bin) is needed: scripts/install-deps.sh installs it")
            let p = Process()
            p.executableURL = URL(fileURLWithPath: tool)
            p.arguments = ["-ro", "-al", "-so", file.path]
            let out = Pipe()
            p.standardOutput = out
            p.standardError = out
            try p.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            #expect(p.terminationStatus == 0, "\(text)")
            #expect(text.contains("Feature Count: 4"), "\(text)")
        }
    }
}
