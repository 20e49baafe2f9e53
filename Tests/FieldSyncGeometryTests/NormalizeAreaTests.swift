import FieldSyncCore
import Foundation
import Testing

@testable import FieldSyncGeometry

@Suite("normalizeArea")
struct NormalizeAreaTests {
    static let square: [(Double, Double)] = [
        (90.25, 23.5), (90.75, 23.5), (90.75, 24.125), (90.25, 24.125), (90.25, 23.5),
    ]

    @Test("a valid square round-trips as a MultiPolygon with SRID 4326")
    func squareRoundTrips() throws {
        let area = try GeometryPipeline.normalizeArea(polygonJSON([Self.square]), field: "geometry")

        // EWKB header: little-endian, MultiPolygon (6) with the SRID flag, SRID 4326.
        #expect(area.ewkb[0] == 1)
        #expect(uint32LE(area.ewkb, at: 1) == 0x2000_0006)
        #expect(uint32LE(area.ewkb, at: 5) == 4326)
        #expect(area.simplifiedEWKB[0] == 1)
        #expect(uint32LE(area.simplifiedEWKB, at: 1) == 0x2000_0006)
        #expect(uint32LE(area.simplifiedEWKB, at: 5) == 4326)

        let expectedCoordinates = JSONValue.array([ringsJSON([Self.square])])
        let geojson = try GeometryPipeline.geoJSON(fromEWKB: area.ewkb)
        #expect(geojson["type"] == .string("MultiPolygon"))
        #expect(geojson["coordinates"] == expectedCoordinates)

        var text: [UInt8] = Array("prefix ".utf8)
        try GeometryPipeline.appendGeoJSON(fromEWKB: area.ewkb, to: &text)
        #expect(
            String(decoding: text, as: UTF8.self)
                == #"prefix {"type":"MultiPolygon","coordinates":[[[[90.25,23.5],[90.75,23.5],[90.75,24.125],[90.25,24.125],[90.25,23.5]]]]}"#)

        #expect(area.wasRepaired == false)
        #expect(area.bbox == GeoBoundingBox(minLon: 90.25, minLat: 23.5, maxLon: 90.75, maxLat: 24.125))
        // Convex: the centroid is inside, so it is the interior point.
        #expect(area.interiorPoint == GeoCoordinate(lon: 90.5, lat: 23.8125))
        let f = try facts(area.ewkb)
        #expect(f.typeID == 6 && f.isValid && f.srid == 4326 && f.parts == 1)
        #expect(abs(f.area - 0.5 * 0.625) < 1e-12)
    }

    @Test("altitude is dropped and the output is 2D")
    func altitudeDropped() throws {
        let ring: JSONValue = .array([
            .array([.number(0), .number(0), .number(10)]),
            .array([.number(1), .number(0), .number(11)]),
            .array([.number(1), .number(1), .number(12)]),
            .array([.number(0), .number(0), .number(13)]),
        ])
        let area = try GeometryPipeline.normalizeArea(rawPolygon(.array([ring])), field: "geometry")
        #expect(uint32LE(area.ewkb, at: 1) == 0x2000_0006)  // no Z flag
        let geojson = try GeometryPipeline.geoJSON(fromEWKB: area.ewkb)
        #expect(geojson["coordinates"] == .array([ringsJSON([[(0, 0), (1, 0), (1, 1), (0, 0)]])]))
    }

    @Test("a bow-tie is repaired into a valid MultiPolygon of two triangles")
    func bowTieRepaired() throws {
        let bowTie: [(Double, Double)] = [(0, 0), (2, 2), (2, 0), (0, 2), (0, 0)]
        let area = try GeometryPipeline.normalizeArea(polygonJSON([bowTie]), field: "geometry")
        #expect(area.wasRepaired)
        let f = try facts(area.ewkb)
        #expect(f.typeID == 6)
        #expect(f.isValid)
        #expect(f.parts == 2)
        #expect(abs(f.area - 2.0) < 1e-12)  // two triangles of area 1
        let s = try facts(area.simplifiedEWKB)
        #expect(s.typeID == 6 && s.isValid && s.parts == 2)
        #expect(GeometryPipeline.contains(areaEWKB: area.ewkb, lon: area.interiorPoint.lon, lat: area.interiorPoint.lat))
    }

    @Test("overlapping MultiPolygon members are dissolved")
    func overlappingMembersDissolved() throws {
        let a: [(Double, Double)] = [(0, 0), (2, 0), (2, 2), (0, 2), (0, 0)]
        let b: [(Double, Double)] = [(1, 1), (3, 1), (3, 3), (1, 3), (1, 1)]
        let area = try GeometryPipeline.normalizeArea(multiPolygonJSON([[a], [b]]), field: "geometry")
        #expect(area.wasRepaired)
        let f = try facts(area.ewkb)
        #expect(f.typeID == 6 && f.isValid && f.parts == 1)
        #expect(abs(f.area - 7.0) < 1e-12)
    }

    @Test("parts without area are dropped after repair")
    func nonPolygonalPartsDropped() throws {
        let square: [(Double, Double)] = [(0, 0), (1, 0), (1, 1), (0, 1), (0, 0)]
        let flat: [(Double, Double)] = [(5, 5), (6, 5), (7, 5), (5, 5)]  // zero area: a line after repair
        let area = try GeometryPipeline.normalizeArea(multiPolygonJSON([[square], [flat]]), field: "geometry")
        #expect(area.wasRepaired)
        let f = try facts(area.ewkb)
        #expect(f.typeID == 6 && f.isValid && f.parts == 1)
        #expect(abs(f.area - 1.0) < 1e-12)
        #expect(area.bbox == GeoBoundingBox(minLon: 0, minLat: 0, maxLon: 1, maxLat: 1))
    }

    @Test("a geometry with no area at all is rejected")
    func noAreaRejected() {
        let flat: [(Double, Double)] = [(5, 5), (6, 5), (7, 5), (5, 5)]
        let error = geometryError { () throws(GeometryError) in
            _ = try GeometryPipeline.normalizeArea(polygonJSON([flat]), field: "boundary")
        }
        #expect(error?.code == "invalid_geometry")
        #expect(error?.field == "boundary")
        #expect(error?.message == "boundary: the geometry has no area after repair")
    }

    @Test("a polygon with a hole keeps it")
    func holeKept() throws {
        let shell: [(Double, Double)] = [(0, 0), (4, 0), (4, 4), (0, 4), (0, 0)]
        let hole: [(Double, Double)] = [(1, 1), (1, 3), (3, 3), (3, 1), (1, 1)]
        let area = try GeometryPipeline.normalizeArea(polygonJSON([shell, hole]), field: "geometry")
        #expect(!area.wasRepaired)
        #expect(abs(try facts(area.ewkb).area - 12) < 1e-12)
        // Centroid (2, 2) is in the hole: the interior point is elsewhere, inside.
        #expect(area.interiorPoint != GeoCoordinate(lon: 2, lat: 2))
        #expect(GeometryPipeline.contains(areaEWKB: area.ewkb, lon: area.interiorPoint.lon, lat: area.interiorPoint.lat))
        #expect(!GeometryPipeline.contains(areaEWKB: area.ewkb, lon: 2, lat: 2))
    }

    @Test("a dense circle is simplified to far fewer vertices, valid and close")
    func denseCircleSimplified() throws {
        let ring = circleRing(center: (90, 23), radius: 0.5, count: 10_000)
        let area = try GeometryPipeline.normalizeArea(polygonJSON([ring]), field: "geometry")
        let full = try facts(area.ewkb)
        let simple = try facts(area.simplifiedEWKB)
        #expect(full.coordinates == 10_001)
        #expect(simple.coordinates < 200)
        #expect(simple.coordinates >= 4)
        #expect(simple.isValid)
        #expect(simple.typeID == 6)
        #expect(simple.srid == 4326)
        let tolerance = 0.001 * max(area.bbox.width, area.bbox.height)
        #expect(try hausdorff(area.ewkb, area.simplifiedEWKB) <= tolerance * 2)
        // Centroid of a circle is its centre.
        #expect(abs(area.interiorPoint.lon - 90) < 1e-9 && abs(area.interiorPoint.lat - 23) < 1e-9)
    }

    @Test("a C-shaped polygon whose centroid is outside gets an interior point inside")
    func concaveInteriorPoint() throws {
        let c: [(Double, Double)] = [(0, 0), (3, 0), (3, 1), (1, 1), (1, 2), (3, 2), (3, 3), (0, 3), (0, 0)]
        let area = try GeometryPipeline.normalizeArea(polygonJSON([c]), field: "geometry")
        // The centroid is (9.5/7, 1.5), in the C's gap.
        #expect(!GeometryPipeline.contains(areaEWKB: area.ewkb, lon: 9.5 / 7, lat: 1.5))
        #expect(area.interiorPoint != GeoCoordinate(lon: 9.5 / 7, lat: 1.5))
        let prepared = try PreparedArea(ewkb: area.ewkb)
        #expect(prepared.contains(lon: area.interiorPoint.lon, lat: area.interiorPoint.lat))
        // Strictly inside, not on the boundary.
        let p = area.interiorPoint
        #expect(p.lon > 0 && p.lon < 3 && p.lat > 0 && p.lat < 3)
        #expect(!(p.lon >= 1 && p.lat >= 1 && p.lat <= 2))
    }

    @Test("normalizeArea from 8 tasks at once gives identical results")
    func concurrentNormalization() async throws {
        let star: [(Double, Double)] = {
            // A self-intersecting star: exercises repair, simplify and the interior point.
            var ring: [(Double, Double)] = []
            for i in 0..<50 {
                let angle = Double(i * 18 % 50) / 50 * 2 * Double.pi
                ring.append((90 + cos(angle), 23 + sin(angle)))
            }
            ring.append(ring[0])
            return ring
        }()
        let input = multiPolygonJSON([[star], [circleRing(center: (95, 23), radius: 1, count: 500)]])
        let reference = try GeometryPipeline.normalizeArea(input, field: "geometry")
        #expect(reference.wasRepaired)
        let mismatches = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var bad = 0
                    for _ in 0..<200 {
                        if (try? GeometryPipeline.normalizeArea(input, field: "geometry")) != reference { bad += 1 }
                    }
                    return bad
                }
            }
            return await group.reduce(0, +)
        }
        #expect(mismatches == 0)
    }

    @Test(
        "real district polygons normalise to valid areas",
        .enabled(if: FileManager.default.fileExists(atPath: NormalizeAreaTests.districtsPath)))
    func bangladeshDistricts() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.districtsPath))
        let collection = try JSONDecoder().decode(JSONValue.self, from: data)
        let features = try #require(collection["features"]?.arrayValue)
        #expect(features.count == 64)
        for feature in features {
            let name = feature["properties"]?["ADM2_EN"]?.stringValue ?? "?"
            let geometry = try #require(feature["geometry"])
            let area = try GeometryPipeline.normalizeArea(geometry, field: "geometry")
            let full = try facts(area.ewkb)
            let simple = try facts(area.simplifiedEWKB)
            #expect(full.isValid && full.typeID == 6, "\(name)")
            #expect(simple.isValid && simple.typeID == 6 && simple.coordinates <= full.coordinates, "\(name)")
            #expect(area.bbox.minLon > 87 && area.bbox.maxLon < 93 && area.bbox.minLat > 20 && area.bbox.maxLat < 27, "\(name)")
            let prepared = try PreparedArea(ewkb: area.ewkb)
            #expect(prepared.contains(lon: area.interiorPoint.lon, lat: area.interiorPoint.lat), "\(name)")
        }
    }

    /// The shared data folder beside the repository (CI clones it there).
    static let districtsPath = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("../shared/data/bangladesh/districts.geojson").standardizedFileURL.path
}
