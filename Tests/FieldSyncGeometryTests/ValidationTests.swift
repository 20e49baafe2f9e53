import FieldSyncCore
import Testing

@testable import FieldSyncGeometry

@Suite("input checks")
struct ValidationTests {
    struct BadInput: Sendable, CustomTestStringConvertible {
        var label: String
        var json: JSONValue
        var message: String
        var testDescription: String { label }
    }

    static func position(_ values: JSONValue...) -> JSONValue { .array(values) }
    static func numbers(_ pairs: [(Double, Double)]) -> JSONValue {
        .array(pairs.map { .array([.number($0.0), .number($0.1)]) })
    }

    static let badAreas: [BadInput] = [
        BadInput(
            label: "ring with 3 positions",
            json: rawPolygon(.array([numbers([(0, 0), (1, 0), (0, 0)])])),
            message: "geometry.coordinates[0]: ring 0 has 3 positions; a ring needs at least 4"),
        BadInput(
            label: "unclosed hole",
            json: rawPolygon(
                .array([
                    numbers([(0, 0), (4, 0), (4, 4), (0, 4), (0, 0)]),
                    numbers([(1, 1), (1, 2), (2, 2), (2, 1)]),
                ])),
            message: "geometry.coordinates[1]: ring 1 is not closed: first position [1.0, 1.0] differs from last [2.0, 1.0]"),
        BadInput(
            label: "empty coordinates",
            json: rawPolygon(.array([])),
            message: "geometry.coordinates: empty geometry"),
        BadInput(
            label: "empty MultiPolygon member",
            json: rawPolygon(.array([.array([])]), type: "MultiPolygon"),
            message: "geometry.coordinates[0]: polygon 0 is empty"),
        BadInput(
            label: "longitude 200",
            json: rawPolygon(.array([numbers([(0, 0), (200, 0), (1, 1), (0, 0)])])),
            message: "geometry.coordinates[0][1]: longitude 200.0 is outside [-180, 180]"),
        BadInput(
            label: "latitude 95 in a MultiPolygon",
            json: rawPolygon(
                .array([
                    .array([numbers([(0, 0), (1, 0), (1, 1), (0, 0)])]),
                    .array([numbers([(0, 0), (1, 0), (0, 95), (0, 0)])]),
                ]),
                type: "MultiPolygon"),
            message: "geometry.coordinates[1][0][2]: latitude 95.0 is outside [-90, 90]"),
        BadInput(
            label: "ring too short in a MultiPolygon",
            json: rawPolygon(.array([.array([numbers([(0, 0), (1, 0), (0, 0)])])]), type: "MultiPolygon"),
            message: "geometry.coordinates[0][0]: ring 0 of polygon 0 has 3 positions; a ring needs at least 4"),
        BadInput(
            label: "string coordinate",
            json: rawPolygon(
                .array([
                    .array([
                        position(.number(0), .number(0)), position(.number(1), .string("0")),
                        position(.number(1), .number(1)), position(.number(0), .number(0)),
                    ])
                ])),
            message: "geometry.coordinates[0][1][1]: expected a number, got string"),
        BadInput(
            label: "position with one number",
            json: rawPolygon(
                .array([
                    .array([
                        position(.number(0), .number(0)), position(.number(1)),
                        position(.number(1), .number(1)), position(.number(0), .number(0)),
                    ])
                ])),
            message: "geometry.coordinates[0][1]: a position has 2 or 3 numbers (longitude, latitude, optional altitude), got 1"),
        BadInput(
            label: "ring is not an array",
            json: rawPolygon(.array([.number(3)])),
            message: "geometry.coordinates[0]: expected an array of positions, got number"),
        BadInput(
            label: "LineString",
            json: rawPolygon(numbers([(0, 0), (1, 1)]), type: "LineString"),
            message: "geometry.type: \"LineString\" is not an area; expected \"Polygon\" or \"MultiPolygon\""),
        BadInput(
            label: "no coordinates",
            json: .object(["type": .string("Polygon")]),
            message: "geometry.coordinates: missing; expected an array"),
        BadInput(
            label: "not an object",
            json: .string("POLYGON((0 0,1 0,1 1,0 0))"),
            message: "geometry: expected a GeoJSON geometry object, got string"),
    ]

    @Test("bad areas are rejected with invalid_geometry naming the place", arguments: badAreas)
    func badAreaRejected(_ input: BadInput) {
        let error = geometryError { () throws(GeometryError) in
            _ = try GeometryPipeline.normalizeArea(input.json, field: "geometry")
        }
        #expect(error?.code == "invalid_geometry")
        #expect(error?.field == "geometry")
        #expect(error?.message == input.message)
    }

    @Test("a point with and without altitude")
    func pointParsing() throws {
        let flat = try GeometryPipeline.parsePoint(
            .object(["type": .string("Point"), "coordinates": .array([.number(90.4125), .number(23.8103)])]),
            field: "location")
        #expect(flat == GeoPointValue(lon: 90.4125, lat: 23.8103, alt: nil))

        let high = try GeometryPipeline.parsePoint(
            .object(["type": .string("Point"), "coordinates": .array([.number(-180), .number(-90), .number(12.5)])]),
            field: "location")
        #expect(high == GeoPointValue(lon: -180, lat: -90, alt: 12.5))
        #expect(
            high.geoJSON
                == .object([
                    "type": .string("Point"), "coordinates": .array([.number(-180), .number(-90), .number(12.5)]),
                ]))

        // EWKB: 2D point with SRID 4326, readable back.
        #expect(flat.ewkb.count == 25)
        #expect(uint32LE(flat.ewkb, at: 1) == 0x2000_0001)
        #expect(uint32LE(flat.ewkb, at: 5) == 4326)
        #expect(try GeometryPipeline.geoJSON(fromEWKB: flat.ewkb) == flat.geoJSON)
    }

    static let badPoints: [BadInput] = [
        BadInput(
            label: "latitude 95",
            json: .object(["type": .string("Point"), "coordinates": .array([.number(0), .number(95)])]),
            message: "location.coordinates: latitude 95.0 is outside [-90, 90]"),
        BadInput(
            label: "longitude -180.5",
            json: .object(["type": .string("Point"), "coordinates": .array([.number(-180.5), .number(0)])]),
            message: "location.coordinates: longitude -180.5 is outside [-180, 180]"),
        BadInput(
            label: "null altitude",
            json: .object(["type": .string("Point"), "coordinates": .array([.number(1), .number(2), .null])]),
            message: "location.coordinates[2]: expected a number, got null"),
        BadInput(
            label: "four numbers",
            json: .object(["type": .string("Point"), "coordinates": .array([.number(1), .number(2), .number(3), .number(4)])]),
            message: "location.coordinates: a position has 2 or 3 numbers (longitude, latitude, optional altitude), got 4"),
        BadInput(
            label: "Polygon instead of Point",
            json: polygonJSON([[(0, 0), (1, 0), (1, 1), (0, 0)]]),
            message: "location.type: \"Polygon\" is not a point; expected \"Point\""),
        BadInput(
            label: "empty Point",
            json: .object(["type": .string("Point"), "coordinates": .array([])]),
            message: "location.coordinates: empty geometry"),
    ]

    @Test("bad points are rejected with invalid_geometry naming the place", arguments: badPoints)
    func badPointRejected(_ input: BadInput) {
        let error = geometryError { () throws(GeometryError) in
            _ = try GeometryPipeline.parsePoint(input.json, field: "location")
        }
        #expect(error?.code == "invalid_geometry")
        #expect(error?.field == "location")
        #expect(error?.message == input.message)
    }
}
