import FieldSyncCore
import FieldSyncGeometry

/// libFuzzer harness for area and point input: arbitrary bytes → Core's JSON parser →
/// `GEOSContext.normalizeArea` (GeoJSONInput checks, WKB, GEOS validity, `GEOSMakeValid`,
/// simplification, interior point) and `GeometryPipeline.parsePoint`.
///
/// Errors are fine; a trap or a sanitizer report is not. Byte mutations of a seed polygon
/// rarely keep its rings closed, so each input is also tried with every ring closed (last
/// position set to the first): that reaches GEOS with self-intersecting, degenerate and
/// spiky rings instead of stopping at "ring is not closed". An accepted area must give
/// stored and simplified EWKB that read back as GeoJSON, and a finite box holding its
/// interior point.
///
/// GEOS itself is not instrumented, so libFuzzer cannot steer inside it; bytes that are not
/// JSON are therefore read as polygons on a coarse grid (see ``gridPolygons(_:)``), which
/// reaches GEOS on every run with duplicate points, collinear runs, touching and crossing
/// rings, holes outside shells, and the antimeridian.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGeoJSONInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let context = GEOSContext()
    guard let value = try? JSONParser.parse(bytes) else {
        // At most 40 grid positions: random points cross each other about n² / 10 times,
        // and a scribble of 1,200 points took GEOS over a second under ASan.
        check(gridPolygons(UnsafeBufferPointer(rebasing: bytes.prefix(80))), context)
        return 0
    }
    _ = try? GeometryPipeline.parsePoint(value, field: "location")
    check(value, context)
    let closed = closingRings(value)
    if closed != value { check(closed, context) }
    return 0
}

private func check(_ value: JSONValue, _ context: GEOSContext) {
    guard let area = try? context.normalizeArea(value, field: "geometry") else { return }
    for (name, ewkb) in [("ewkb", area.ewkb), ("simplifiedEWKB", area.simplifiedEWKB)] {
        do {
            _ = try GeometryPipeline.geoJSON(fromEWKB: ewkb)
        } catch {
            fatalError("\(name) of an accepted area does not read back: \(error)")
        }
    }
    let box = area.bbox, point = area.interiorPoint
    require(box.minLon.isFinite && box.minLat.isFinite && box.maxLon.isFinite && box.maxLat.isFinite)
    require(box.minLon <= box.maxLon && box.minLat <= box.maxLat, "inverted bounding box \(box)")
    require(point.lon.isFinite && point.lat.isFinite, "interior point \(point) is not finite")
    require(
        point.lon >= box.minLon && point.lon <= box.maxLon && point.lat >= box.minLat && point.lat <= box.maxLat,
        "interior point \(point) outside the bounding box \(box)")
}

/// The value with every array of positions (arrays of numbers) closed: its first
/// position appended when the last differs.
private func closingRings(_ value: JSONValue) -> JSONValue {
    switch value {
    case .object(let members):
        return .object(members.mapValues(closingRings))
    case .array(let elements):
        let isRing = !elements.isEmpty && elements.allSatisfy { element in
            guard case .array(let numbers) = element, !numbers.isEmpty else { return false }
            return numbers.allSatisfy { $0.numberValue != nil }
        }
        guard isRing else { return .array(elements.map(closingRings)) }
        if elements.count > 1, elements.first == elements.last { return value }
        return .array(elements + [elements[0]])
    default:
        return value
    }
}

/// A MultiPolygon from raw bytes: 0xFE starts a new polygon, 0xFF a new ring (shell first,
/// then holes), any other two bytes are a position on a 1/8-degree grid around (0, 0)
/// (bytes 0xF0-0xFD: the edges ±180 / ±90). Every ring is closed.
private func gridPolygons(_ bytes: UnsafeBufferPointer<UInt8>) -> JSONValue {
    func coordinate(_ b: UInt8, limit: Double) -> Double {
        switch b {
        case 0xF0...0xF6: return -limit
        case 0xF7...0xFD: return limit
        default: return Double(Int(b) - 120) / 8
        }
    }
    var polygons: [JSONValue] = [], rings: [JSONValue] = [], ring: [JSONValue] = []
    var pending: UInt8?
    func endRing() {
        if let first = ring.first { ring.append(first) }
        if !ring.isEmpty { rings.append(.array(ring)) }
        ring = []
        pending = nil
    }
    for b in bytes {
        switch b {
        case 0xFF:
            endRing()
        case 0xFE:
            endRing()
            if !rings.isEmpty { polygons.append(.array(rings)) }
            rings = []
        default:
            if let x = pending {
                ring.append(.array([.number(coordinate(x, limit: 180)), .number(coordinate(b, limit: 90))]))
                pending = nil
            } else {
                pending = b
            }
        }
    }
    endRing()
    if !rings.isEmpty { polygons.append(.array(rings)) }
    return .object(["type": .string("MultiPolygon"), "coordinates": .array(polygons)])
}

/// `precondition` that keeps its message in `-O` builds (which drop precondition messages).
private func require(_ condition: Bool, _ message: @autoclosure () -> String = "") {
    if !condition { fatalError(message()) }
}
