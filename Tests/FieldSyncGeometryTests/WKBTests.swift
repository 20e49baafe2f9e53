import FieldSyncCore
import Foundation
import Testing

@testable import FieldSyncGeometry

/// Hand-written WKB for the reader tests.
struct WKBBuilder {
    var bytes: [UInt8] = []
    var littleEndian = true

    mutating func header(_ type: UInt32, srid: UInt32? = nil) {
        bytes.append(littleEndian ? 1 : 0)
        if let srid {
            u32(type | 0x2000_0000)
            u32(srid)
        } else {
            u32(type)
        }
    }

    mutating func u32(_ v: UInt32) {
        withUnsafeBytes(of: littleEndian ? v.littleEndian : v.bigEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func f64(_ v: Double) {
        let bits = v.bitPattern
        withUnsafeBytes(of: littleEndian ? bits.littleEndian : bits.bigEndian) { bytes.append(contentsOf: $0) }
    }
}

@Suite("WKB to GeoJSON")
struct WKBTests {
    /// Both renderings of `wkb`: the JSONValue, and the text decoded back to a JSONValue.
    func bothRenderings(_ wkb: [UInt8]) throws -> (value: JSONValue, text: String, decoded: JSONValue) {
        let value = try GeometryPipeline.geoJSON(fromEWKB: wkb)
        var out: [UInt8] = []
        try GeometryPipeline.appendGeoJSON(fromEWKB: wkb, to: &out)
        let decoded = try JSONDecoder().decode(JSONValue.self, from: Data(out))
        return (value, String(decoding: out, as: UTF8.self), decoded)
    }

    @Test("big-endian Polygon with full-precision and tiny coordinates")
    func bigEndianPolygon() throws {
        var b = WKBBuilder(littleEndian: false)
        b.header(3)
        b.u32(1)
        b.u32(4)
        let ring: [(Double, Double)] = [(0.1 + 0.2, 1e-05), (-179.99999999999997, 0), (12.345678901234567, -89.5), (0.1 + 0.2, 1e-05)]
        for (x, y) in ring { b.f64(x); b.f64(y) }
        let r = try bothRenderings(b.bytes)
        #expect(r.value == .object(["type": .string("Polygon"), "coordinates": ringsJSON([ring])]))
        #expect(r.decoded == r.value)  // exact doubles survive the text form
        #expect(
            r.text
                == #"{"type":"Polygon","coordinates":[[[0.30000000000000004,1e-05],[-179.99999999999997,0],[12.345678901234567,-89.5],[0.30000000000000004,1e-05]]]}"#
        )
    }

    @Test("EWKB Point with SRID and Z; ISO PointZ; empty point")
    func points() throws {
        var ewkbZ = WKBBuilder()
        ewkbZ.header(0x8000_0001, srid: 4326)
        ewkbZ.f64(90.5); ewkbZ.f64(23.25); ewkbZ.f64(7)
        let z = try bothRenderings(ewkbZ.bytes)
        #expect(z.text == #"{"type":"Point","coordinates":[90.5,23.25,7]}"#)
        #expect(z.decoded == z.value)

        var isoZM = WKBBuilder()
        isoZM.header(3001)  // Point ZM: M is dropped
        isoZM.f64(1); isoZM.f64(2); isoZM.f64(3); isoZM.f64(4)
        #expect(try bothRenderings(isoZM.bytes).text == #"{"type":"Point","coordinates":[1,2,3]}"#)

        var empty = WKBBuilder()
        empty.header(1)
        empty.f64(.nan); empty.f64(.nan)
        #expect(try bothRenderings(empty.bytes).text == #"{"type":"Point","coordinates":[]}"#)
    }

    @Test("GeometryCollection with a LineString and a MultiPoint")
    func collection() throws {
        var b = WKBBuilder()
        b.header(7, srid: 4326)
        b.u32(2)
        b.header(2); b.u32(2); b.f64(0); b.f64(0); b.f64(1.5); b.f64(-2.5)
        b.header(4); b.u32(1); b.header(1); b.f64(3); b.f64(4)
        let r = try bothRenderings(b.bytes)
        #expect(
            r.text
                == #"{"type":"GeometryCollection","geometries":[{"type":"LineString","coordinates":[[0,0],[1.5,-2.5]]},{"type":"MultiPoint","coordinates":[[3,4]]}]}"#
        )
        #expect(r.decoded == r.value)
    }

    @Test("a normalised district-sized area renders identically both ways")
    func normalisedAreaBothWays() throws {
        let area = try GeometryPipeline.normalizeArea(
            polygonJSON([circleRing(center: (90.1234567, 23.7654321), radius: 0.3, count: 720)]), field: "geometry")
        for wkb in [area.ewkb, area.simplifiedEWKB] {
            let r = try bothRenderings(wkb)
            #expect(r.decoded == r.value)
            #expect(!r.text.contains("inf") && !r.text.contains("nan"))
        }
    }

    @Test("malformed WKB is rejected with invalid_wkb and the buffer is left unchanged")
    func malformed() throws {
        var good = WKBBuilder()
        good.header(1, srid: 4326)
        good.f64(1); good.f64(2)

        var infinite = WKBBuilder()
        infinite.header(2); infinite.u32(2); infinite.f64(0); infinite.f64(0); infinite.f64(.infinity); infinite.f64(0)

        var hugeCount = WKBBuilder()
        hugeCount.header(6); hugeCount.u32(0xFFFF_FFFF)

        var wrongMember = WKBBuilder()
        wrongMember.header(6); wrongMember.u32(1); wrongMember.header(1); wrongMember.f64(0); wrongMember.f64(0)

        let cases: [[UInt8]] = [
            [], [1], Array(good.bytes.dropLast()), good.bytes + [0], [2, 1, 0, 0, 0],
            infinite.bytes, hugeCount.bytes, wrongMember.bytes, [1, 99, 0, 0, 0],
        ]
        for bytes in cases {
            let error = geometryError { () throws(GeometryError) in _ = try GeometryPipeline.geoJSON(fromEWKB: bytes) }
            #expect(error?.code == "invalid_wkb", "\(bytes)")
            var out = Array("[1,".utf8)
            let appendError = geometryError { () throws(GeometryError) in
                try GeometryPipeline.appendGeoJSON(fromEWKB: bytes, to: &out)
            }
            #expect(appendError?.code == "invalid_wkb")
            #expect(out == Array("[1,".utf8))
        }
    }
}

@Suite("contains")
struct ContainsTests {
    static let square: [(Double, Double)] = [(90, 23), (91, 23), (91, 24), (90, 24), (90, 23)]

    @Test("points inside, outside and on the boundary")
    func containsPoints() throws {
        let area = try GeometryPipeline.normalizeArea(polygonJSON([Self.square]), field: "geometry")
        #expect(GeometryPipeline.contains(areaEWKB: area.ewkb, lon: 90.5, lat: 23.5))
        #expect(!GeometryPipeline.contains(areaEWKB: area.ewkb, lon: 91.5, lat: 23.5))
        #expect(!GeometryPipeline.contains(areaEWKB: area.ewkb, lon: 90.5, lat: 22.999))
        #expect(GeometryPipeline.contains(areaEWKB: area.ewkb, lon: 91, lat: 23.5))  // on the border
        #expect(!GeometryPipeline.contains(areaEWKB: area.ewkb, lon: .nan, lat: 23.5))
        #expect(!GeometryPipeline.contains(areaEWKB: [1, 2, 3], lon: 90.5, lat: 23.5))

        let prepared = try PreparedArea(ewkb: area.ewkb)
        #expect(prepared.contains(lon: 90.5, lat: 23.5))
        #expect(!prepared.contains(lon: 91.5, lat: 23.5))
        #expect(prepared.contains(lon: 90, lat: 23))
    }

    @Test("PreparedArea rejects unreadable bytes")
    func preparedRejectsGarbage() {
        #expect(throws: GeometryError.self) { try PreparedArea(ewkb: [0, 0, 0]) }
    }

    @Test("GEOS errors are recorded by the context")
    func contextRecordsErrors() {
        let context = GEOSContext()
        #expect(context.lastErrorMessage == nil)
        #expect(throws: GeometryError.self) { try context.geometry(fromWKB: [1, 3, 0, 0, 0, 9], field: "g") }
        #expect(context.lastErrorMessage?.isEmpty == false)
    }
}
