import Foundation

/// A test oracle independent of GEOS and of the module's WKB code: reads a 2D
/// little-endian (E)WKB Polygon or MultiPolygon itself and measures planar areas with
/// the shoelace formula, in square degrees (what PostGIS's `ST_Area` gives for SRID 4326).
struct PlanarPolygon {
    /// Rings of (lon, lat), the shell first, then holes.
    var rings: [[(Double, Double)]]

    /// |shell| − Σ |hole| by the shoelace formula.
    var area: Double {
        guard let shell = rings.first else { return 0 }
        return rings.dropFirst().reduce(Self.ringArea(shell)) { $0 - Self.ringArea($1) }
    }

    var coordinateCount: Int { rings.reduce(0) { $0 + $1.count } }

    var bbox: (minX: Double, minY: Double, maxX: Double, maxY: Double) {
        var box = (minX: Double.infinity, minY: Double.infinity, maxX: -Double.infinity, maxY: -Double.infinity)
        for ring in rings {
            for (x, y) in ring {
                box = (min(box.minX, x), min(box.minY, y), max(box.maxX, x), max(box.maxY, y))
            }
        }
        return box
    }

    static func ringArea(_ ring: [(Double, Double)]) -> Double {
        guard ring.count >= 4 else { return 0 }
        var twice = 0.0
        for i in 0..<(ring.count - 1) {
            twice += ring[i].0 * ring[i + 1].1 - ring[i + 1].0 * ring[i].1
        }
        return abs(twice) / 2
    }
}

struct PlanarWKBError: Error, CustomStringConvertible {
    let description: String
}

/// The polygons of a little-endian 2D (E)WKB Polygon or MultiPolygon.
func planarPolygons(_ wkb: [UInt8]) throws -> [PlanarPolygon] {
    var offset = 0
    func byte() throws -> UInt8 {
        guard offset < wkb.count else { throw PlanarWKBError(description: "WKB ends at \(offset)") }
        defer { offset += 1 }
        return wkb[offset]
    }
    func uint32() throws -> UInt32 {
        var v: UInt32 = 0
        for k in 0..<4 { v |= UInt32(try byte()) << (8 * UInt32(k)) }
        return v
    }
    func double() throws -> Double {
        var bits: UInt64 = 0
        for k in 0..<8 { bits |= UInt64(try byte()) << (8 * UInt64(k)) }
        return Double(bitPattern: bits)
    }
    /// Reads a geometry header; returns the base type (SRID skipped).
    func header() throws -> UInt32 {
        guard try byte() == 1 else { throw PlanarWKBError(description: "not little-endian WKB") }
        let type = try uint32()
        if type & 0x2000_0000 != 0 { _ = try uint32() }
        guard type & 0xC000_0000 == 0 else { throw PlanarWKBError(description: "Z or M WKB") }
        return type & 0x0FFF_FFFF
    }
    func polygonBody() throws -> PlanarPolygon {
        let ringCount = try uint32()
        var rings: [[(Double, Double)]] = []
        for _ in 0..<ringCount {
            let n = try uint32()
            guard n <= (wkb.count - offset) / 16 else { throw PlanarWKBError(description: "ring of \(n) points is too long") }
            var ring: [(Double, Double)] = []
            ring.reserveCapacity(Int(n))
            for _ in 0..<n { ring.append((try double(), try double())) }
            rings.append(ring)
        }
        return PlanarPolygon(rings: rings)
    }
    switch try header() {
    case 3:
        return [try polygonBody()]
    case 6:
        let count = try uint32()
        var out: [PlanarPolygon] = []
        for _ in 0..<count {
            guard try header() == 3 else { throw PlanarWKBError(description: "a MultiPolygon member is not a Polygon") }
            out.append(try polygonBody())
        }
        guard offset == wkb.count else { throw PlanarWKBError(description: "\(wkb.count - offset) bytes after the geometry") }
        return out
    case let other:
        throw PlanarWKBError(description: "WKB type \(other) is not a Polygon or MultiPolygon")
    }
}

/// Sum of the polygons' areas.
func planarArea(_ polygons: [PlanarPolygon]) -> Double {
    polygons.reduce(0) { $0 + $1.area }
}
