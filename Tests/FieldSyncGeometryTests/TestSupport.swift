import FieldSyncCore

@testable import FieldSyncGeometry

/// GeoJSON Polygon from rings of (lon, lat).
func polygonJSON(_ rings: [[(Double, Double)]]) -> JSONValue {
    .object(["type": .string("Polygon"), "coordinates": ringsJSON(rings)])
}

/// GeoJSON MultiPolygon from polygons of rings of (lon, lat).
func multiPolygonJSON(_ polygons: [[[(Double, Double)]]]) -> JSONValue {
    .object(["type": .string("MultiPolygon"), "coordinates": .array(polygons.map(ringsJSON))])
}

func ringsJSON(_ rings: [[(Double, Double)]]) -> JSONValue {
    .array(rings.map { ring in .array(ring.map { .array([.number($0.0), .number($0.1)]) }) })
}

/// Polygon JSON with raw coordinate values, for malformed input.
func rawPolygon(_ coordinates: JSONValue, type: String = "Polygon") -> JSONValue {
    .object(["type": .string(type), "coordinates": coordinates])
}

/// A closed ring approximating a circle, `count` distinct vertices.
func circleRing(center: (Double, Double), radius: Double, count: Int) -> [(Double, Double)] {
    var ring: [(Double, Double)] = []
    ring.reserveCapacity(count + 1)
    for i in 0..<count {
        let angle = Double(i) / Double(count) * 2 * Double.pi
        ring.append((center.0 + radius * cos(angle), center.1 + radius * sin(angle)))
    }
    ring.append(ring[0])
    return ring
}

/// What GEOS says about some EWKB (read back with a fresh context).
struct GeometryFacts {
    var typeID: Int32  // GEOS type id: 3 Polygon, 6 MultiPolygon
    var isValid: Bool
    var area: Double
    var coordinates: Int
    var parts: Int
    var srid: Int32
}

func facts(_ ewkb: [UInt8]) throws -> GeometryFacts {
    let context = GEOSContext()
    let g = try context.geometry(fromWKB: ewkb, field: nil)
    return GeometryFacts(
        typeID: context.typeID(g), isValid: context.isValid(g), area: context.area(g) ?? .nan,
        coordinates: context.coordinateCount(g), parts: context.partCount(g), srid: context.srid(g))
}

func hausdorff(_ a: [UInt8], _ b: [UInt8]) throws -> Double {
    let context = GEOSContext()
    let ga = try context.geometry(fromWKB: a, field: nil)
    let gb = try context.geometry(fromWKB: b, field: nil)
    return context.hausdorffDistance(ga, gb) ?? .infinity
}

/// Little-endian UInt32 at `offset`.
func uint32LE(_ bytes: [UInt8], at offset: Int) -> UInt32 {
    (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << (8 * UInt32($1)) }
}

/// The error `body` throws, or nil.
func geometryError(_ body: () throws(GeometryError) -> Void) -> GeometryError? {
    do {
        try body()
        return nil
    } catch {
        return error
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
