import FieldSyncCore
import Foundation
import Logging
import PostgresNIO
import Testing

@testable import FieldSyncServer

/// The simplified geometry the import stores, judged by PostGIS (PROTOCOL.md,
/// "Geometry rules"): real shapes from the geometry tests' fixture (Natural Earth
/// 1:110m countries, Bangladesh coastal districts; see its README) imported through
/// `POST /v1/orgunits/import`, then `ST_IsValid`, `ST_NPoints` and `ST_Area` of
/// `simplified_geom` against `geom`, island by island.
@Suite("Org units: simplified geometry in PostGIS")
struct SimplifiedGeometryTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("FieldSyncGeometryTests/Fixtures/world-shapes.geojson")

    static let names = ["Fiji", "Russia", "Canada", "Indonesia", "Norway", "Bhola", "Patuakhali"]

    @Test("archipelagos, units split at ±180 and long coastlines: valid MultiPolygons, no more points, area and every island within 5%")
    func importedShapes() async throws {
        let collection = try JSONParser.parse(Array(try Data(contentsOf: Self.fixture)))
        let features = try #require(collection["features"]?.arrayValue)
        var units: [JSONValue] = []
        for feature in features {
            guard let name = feature["properties"]?["name"]?.stringValue, Self.names.contains(name) else { continue }
            units.append(
                .object([
                    "id": .string(UUID().lowercased), "parentId": .null, "name": .string(name),
                    "geometry": try #require(feature["geometry"]),
                ]))
        }
        #expect(units.count == Self.names.count)
        let body = JSONValue.array(units)

        let url = try await TestDatabase.migrated()
        try await withTestApp(databaseURL: url) { api in
            let f = try await Fixture.make(api)
            let r = try await api.call(.post, "/v1/orgunits/import?accountId=\(f.account.lowercased)", token: f.rootToken, json: body)
            #expect(r.status == .created, "\(r.text.prefix(300))")

            let logger = {
                var l = Logger(label: "test"); l.logLevel = .warning; return l
            }()
            let client = PostgresClient(configuration: try DatabaseURL.configuration(from: url), backgroundLogger: logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await client.run() }
                defer { group.cancelAll() }
                let account = f.account
                let rows = try await client.query(
                    """
                    SELECT name, GeometryType(simplified_geom), ST_SRID(simplified_geom), ST_IsValid(simplified_geom),
                           ST_NPoints(simplified_geom), ST_NPoints(geom), ST_Area(simplified_geom), ST_Area(geom),
                           ST_XMin(geom), ST_XMax(geom),
                           (SELECT count(*) FROM ST_Dump(o.geom) p WHERE ST_Area(p.geom) >= 1e-6 AND NOT EXISTS (
                                SELECT 1 FROM ST_Dump(o.simplified_geom) s
                                WHERE ST_Envelope(p.geom) ~ s.geom AND abs(ST_Area(s.geom) - ST_Area(p.geom)) <= 0.05 * ST_Area(p.geom))),
                           ST_NumGeometries(simplified_geom), ST_NumGeometries(geom)
                    FROM org_units o WHERE account_id = \(account) ORDER BY name
                    """, logger: logger)
                var seen: [String] = []
                var simplePoints = 0, fullPoints = 0
                for try await (name, type, srid, valid, simplePts, fullPts, simpleArea, fullArea, xmin, xmax, lost, simpleParts, fullParts)
                    in rows.decode((String, String, Int32, Bool, Int32, Int32, Double, Double, Double, Double, Int64, Int32, Int32).self)
                {
                    seen.append(name)
                    #expect(type == "MULTIPOLYGON" && srid == 4326 && valid, "\(name): \(type) \(srid) valid \(valid)")
                    #expect(simplePts <= fullPts, "\(name): \(simplePts) points simplified, \(fullPts) full")
                    #expect(abs(simpleArea - fullArea) <= 0.05 * fullArea, "\(name): ST_Area \(simpleArea) simplified, \(fullArea) full")
                    #expect(lost == 0, "\(name): \(lost) of \(fullParts) polygons lost their shape (\(simpleParts) simplified polygons)")
                    if name == "Fiji" || name == "Russia" {
                        #expect(xmin <= -179.999 && xmax >= 179.999, "\(name) is split at ±180")
                        #expect(simpleParts == fullParts, "\(name): every part on either side of ±180 kept")
                    }
                    simplePoints += Int(simplePts)
                    fullPoints += Int(fullPts)
                }
                #expect(seen == Self.names.sorted())
                #expect(simplePoints < fullPoints, "the shapes are simplified at all: \(simplePoints) of \(fullPoints) points")
            }
        }
    }
}
