import FieldSyncCore
import Foundation
import Testing

@testable import FieldSyncGeometry

/// Simplification on real shapes (Fixtures/world-shapes.geojson: Natural Earth 1:110m
/// countries and three Bangladesh coastal districts; see Fixtures/README.md): every
/// polygon simplified with its own tolerance keeps the small islands of a large or
/// antimeridian-spanning unit. Areas, coordinate counts and boxes are measured by the
/// test's own WKB reader and shoelace formula (PlanarPolygons.swift), validity by GEOS.
@Suite("simplification of real shapes")
struct WorldShapesSimplifyTests {
    struct Shape {
        var name: String
        var geometry: JSONValue
    }

    /// The fixture's features, plus a Pacific region made of the polygons of Fiji,
    /// Vanuatu, the Solomon Islands, New Caledonia and Papua New Guinea: a large unit
    /// spanning the antimeridian made of islands (as Kiribati or Micronesia would be;
    /// those are not in Natural Earth's 1:110m layer).
    static func shapes() throws -> [Shape] {
        let url = try #require(Bundle.module.url(forResource: "world-shapes", withExtension: "geojson", subdirectory: "Fixtures"))
        let collection = try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: url))
        let features = try #require(collection["features"]?.arrayValue)
        var shapes = try features.map { feature in
            Shape(name: try #require(feature["properties"]?["name"]?.stringValue), geometry: try #require(feature["geometry"]))
        }
        let pacific = ["Fiji", "Vanuatu", "Solomon Is.", "New Caledonia", "Papua New Guinea"]
        var polygons: [JSONValue] = []
        for shape in shapes where pacific.contains(shape.name) {
            let coordinates = try #require(shape.geometry["coordinates"]?.arrayValue)
            if shape.geometry["type"] == .string("Polygon") {
                polygons.append(.array(coordinates))
            } else {
                polygons += coordinates
            }
        }
        shapes.append(Shape(name: "Pacific region", geometry: .object(["type": .string("MultiPolygon"), "coordinates": .array(polygons)])))
        return shapes
    }

    /// Islands at least this large (square degrees, ~1 ha at the equator) must be kept.
    static let islandThreshold = 1e-6

    @Test("every shape: a valid MultiPolygon, no more coordinates, area within 5%, every island kept")
    func realShapes() throws {
        let shapes = try Self.shapes()
        #expect(shapes.count == 18)
        var fullTotal = 0, simpleTotal = 0
        for shape in shapes {
            let area = try GeometryPipeline.normalizeArea(shape.geometry, field: "geometry")
            let simple = try facts(area.simplifiedEWKB)
            #expect(simple.typeID == 6 && simple.isValid && simple.srid == 4326, "\(shape.name)")

            let full = try planarPolygons(area.ewkb)
            let simplified = try planarPolygons(area.simplifiedEWKB)
            let fullArea = planarArea(full), simpleArea = planarArea(simplified)
            let change = abs(simpleArea - fullArea) / fullArea
            #expect(change <= 0.05, "\(shape.name): simplified area \(simpleArea) vs \(fullArea), \(change * 100)%")
            let fullCount = full.reduce(0) { $0 + $1.coordinateCount }
            let simpleCount = simplified.reduce(0) { $0 + $1.coordinateCount }
            #expect(simpleCount <= fullCount, "\(shape.name)")
            fullTotal += fullCount
            simpleTotal += simpleCount

            // Each island: a simplified polygon inside its box (simplification keeps a
            // subset of the vertices) whose area is within 5% of the island's.
            var used = Set<Int>()
            for (index, island) in full.enumerated() where island.area >= Self.islandThreshold {
                let box = island.bbox
                let slack = 1e-9
                let match = simplified.indices.first { k in
                    guard !used.contains(k) else { return false }
                    let b = simplified[k].bbox
                    return b.minX >= box.minX - slack && b.maxX <= box.maxX + slack
                        && b.minY >= box.minY - slack && b.maxY <= box.maxY + slack
                        && abs(simplified[k].area - island.area) <= 0.05 * island.area
                }
                if let match {
                    used.insert(match)
                } else {
                    let nearest = simplified.map { abs($0.area - island.area) / island.area }.min() ?? .infinity
                    Issue.record(
                        "\(shape.name): polygon \(index) (area \(island.area), box \(box)) lost its shape; nearest area differs by \(nearest * 100)%")
                }
            }

            // Not farther from the full area than the largest polygon's tolerance allows.
            let largestSide = full.map { max($0.bbox.maxX - $0.bbox.minX, $0.bbox.maxY - $0.bbox.minY) }.max() ?? 0
            #expect(try hausdorff(area.ewkb, area.simplifiedEWKB) <= 2 * 0.001 * largestSide, "\(shape.name)")
        }
        // The detailed coastlines (the Bangladesh districts) do get simplified.
        #expect(simpleTotal < fullTotal * 95 / 100, "\(simpleTotal) of \(fullTotal) coordinates kept")
    }

    @Test("units split at ±180 (Fiji, Russia, a Pacific region) keep both sides and their islands")
    func antimeridian() throws {
        for shape in try Self.shapes() where ["Fiji", "Russia", "Pacific region"].contains(shape.name) {
            let area = try GeometryPipeline.normalizeArea(shape.geometry, field: "geometry")
            #expect(area.bbox.width > 359, "\(shape.name) spans the whole longitude range")
            let full = try planarPolygons(area.ewkb)
            let simplified = try planarPolygons(area.simplifiedEWKB)
            #expect(simplified.count == full.count, "\(shape.name): no island dropped")
            for side in [-1.0, 1.0] {
                func onSide(_ p: PlanarPolygon) -> Bool { side < 0 ? p.bbox.minX <= -179.999 : p.bbox.maxX >= 179.999 }
                let fullSide = planarArea(full.filter(onSide)), simpleSide = planarArea(simplified.filter(onSide))
                #expect(fullSide > 0, "\(shape.name) has land at \(side * 180)")
                #expect(abs(simpleSide - fullSide) <= 0.05 * fullSide, "\(shape.name) at \(side * 180): \(simpleSide) vs \(fullSide)")
            }
            let change = abs(planarArea(simplified) - planarArea(full)) / planarArea(full)
            #expect(change <= 0.01, "\(shape.name): \(change * 100)%")
        }
    }

    @Test("a bar whose inlets are shallower than the tolerance keeps its area (a smaller tolerance is used)")
    func inletsFallBackToSmallerTolerance() throws {
        // 100° long (tolerance 0.1) and 0.2 wide, with 500 inlets 0.1 wide and 0.08 deep
        // on each long side: at the full tolerance the inlets fill in and the area goes
        // from 12 to 20 (+67%); at 1/8 of it they stay.
        let width = 0.2, depth = 0.08
        var ring: [(Double, Double)] = [(0, 0)]
        for k in 0..<500 {
            let x = 0.2 * Double(k)
            ring += [(x + 0.05, 0), (x + 0.05, depth), (x + 0.15, depth), (x + 0.15, 0)]
        }
        ring += [(100, 0), (100, width)]
        for k in stride(from: 499, through: 0, by: -1) {
            let x = 0.2 * Double(k)
            ring += [(x + 0.15, width), (x + 0.15, width - depth), (x + 0.05, width - depth), (x + 0.05, width)]
        }
        ring += [(0, width), (0, 0)]
        let area = try GeometryPipeline.normalizeArea(polygonJSON([ring]), field: "geometry")
        let full = planarArea(try planarPolygons(area.ewkb))
        let simple = planarArea(try planarPolygons(area.simplifiedEWKB))
        #expect(abs(full - 12) < 1e-6)
        #expect(abs(simple - full) <= 0.05 * full, "\(simple) vs \(full)")
        let s = try facts(area.simplifiedEWKB)
        #expect(s.isValid && s.typeID == 6 && s.coordinates <= ring.count)
    }

    @Test("an islet in a bay the big island's simplification would close over stays apart: a valid MultiPolygon")
    func neighboursThatWouldOverlap() throws {
        // A 50 × 50 island (tolerance 0.05) with a bay 0.025 deep on its north coast,
        // and a 3 × 0.015 islet in the bay (tolerance 0.003). Simplified alone, the big
        // island's coast goes straight across the bay, over the islet.
        let island: [(Double, Double)] = [(0, 0), (50, 0), (50, 50), (30, 50), (27.5, 49.975), (22.5, 49.975), (20, 50), (0, 50), (0, 0)]
        let islet: [(Double, Double)] = [(23.5, 49.98), (26.5, 49.98), (26.5, 49.995), (23.5, 49.995), (23.5, 49.98)]
        let area = try GeometryPipeline.normalizeArea(multiPolygonJSON([[island], [islet]]), field: "geometry")
        let s = try facts(area.simplifiedEWKB)
        #expect(s.isValid && s.typeID == 6 && s.parts == 2)
        let simplified = try planarPolygons(area.simplifiedEWKB)
        #expect(simplified.contains { abs($0.area - 0.045) < 1e-9 }, "the islet is kept")
        let full = planarArea(try planarPolygons(area.ewkb))
        #expect(abs(planarArea(simplified) - full) <= 0.05 * full)
    }
}
