import FieldSyncCore

/// Reads (E)WKB — either byte order, PostGIS EWKB flags (Z, M, SRID) or ISO type codes
/// (1000s) — straight into GeoJSON, keeping every coordinate's full precision. M values
/// are dropped, Z kept as the third number of a position.
struct WKBGeoJSONReader {
    private let bytes: UnsafeRawBufferPointer
    private var offset = 0

    static let maxDepth = 32

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// The whole input must be one geometry.
    mutating func finish() throws(GeometryError) {
        if offset != bytes.count {
            throw Self.error("\(bytes.count - offset) unexpected bytes after the geometry at offset \(offset)")
        }
    }

    static func error(_ message: String) -> GeometryError {
        GeometryError(code: "invalid_wkb", message: "WKB: \(message)", field: nil)
    }

    // MARK: - Header and primitives

    struct Header {
        var type: UInt32
        var littleEndian: Bool
        var hasZ: Bool
        var hasM: Bool
        var dimensions: Int { 2 + (hasZ ? 1 : 0) + (hasM ? 1 : 0) }
    }

    private mutating func header() throws(GeometryError) -> Header {
        guard offset < bytes.count else { throw Self.error("truncated at offset \(offset)") }
        let order = bytes[offset]
        offset += 1
        guard order <= 1 else { throw Self.error("bad byte order \(order) at offset \(offset - 1)") }
        let littleEndian = order == 1
        let raw = try uint32(littleEndian)
        var hasZ = raw & EWKBFlags.z != 0
        var hasM = raw & EWKBFlags.m != 0
        var type = raw & 0x0FFF_FFFF
        if type >= 1000 {
            switch type / 1000 {
            case 1: hasZ = true
            case 2: hasM = true
            case 3: hasZ = true; hasM = true
            default: throw Self.error("unknown geometry type \(raw)")
            }
            type %= 1000
        }
        guard (1...7).contains(type) else { throw Self.error("unknown geometry type \(raw)") }
        if raw & EWKBFlags.srid != 0 { _ = try uint32(littleEndian) }
        return Header(type: type, littleEndian: littleEndian, hasZ: hasZ, hasM: hasM)
    }

    private mutating func uint32(_ littleEndian: Bool) throws(GeometryError) -> UInt32 {
        guard bytes.count - offset >= 4 else { throw Self.error("truncated at offset \(offset)") }
        let raw = bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
        offset += 4
        return littleEndian ? UInt32(littleEndian: raw) : UInt32(bigEndian: raw)
    }

    /// A count of items each at least `minimumSize` bytes long, checked against what is left.
    private mutating func count(_ littleEndian: Bool, minimumSize: Int) throws(GeometryError) -> Int {
        let at = offset
        let n = Int(try uint32(littleEndian))
        guard n <= (bytes.count - offset) / max(minimumSize, 1) else {
            throw Self.error("count \(n) at offset \(at) exceeds the data")
        }
        return n
    }

    /// Reads a position's numbers (x, y, then z when present; m skipped).
    @inline(__always)
    private mutating func position(_ h: Header) throws(GeometryError) -> (Double, Double, Double?) {
        let size = h.dimensions * 8
        guard bytes.count - offset >= size else { throw Self.error("truncated at offset \(offset)") }
        func load(_ at: Int) -> Double {
            let raw = bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)
            return Double(bitPattern: h.littleEndian ? UInt64(littleEndian: raw) : UInt64(bigEndian: raw))
        }
        let x = load(offset), y = load(offset + 8)
        let z: Double? = h.hasZ ? load(offset + 16) : nil
        offset += size
        return (x, y, z)
    }

    private static func typeName(_ type: UInt32) -> String {
        switch type {
        case 1: "Point"
        case 2: "LineString"
        case 3: "Polygon"
        case 4: "MultiPoint"
        case 5: "MultiLineString"
        case 6: "MultiPolygon"
        default: "GeometryCollection"
        }
    }

    private static func checkFinite(_ p: (Double, Double, Double?), at offset: Int) throws(GeometryError) {
        guard p.0.isFinite, p.1.isFinite, p.2?.isFinite ?? true else {
            throw error("coordinate that is not a finite number before offset \(offset)")
        }
    }

    // MARK: - To JSONValue

    mutating func jsonValue(depth: Int = 0) throws(GeometryError) -> JSONValue {
        guard depth < Self.maxDepth else { throw Self.error("collections nested too deeply") }
        let h = try header()
        let name = JSONValue.string(Self.typeName(h.type))
        if h.type == 7 {
            let n = try count(h.littleEndian, minimumSize: 5)
            var members: [JSONValue] = []
            members.reserveCapacity(n)
            for _ in 0..<n { members.append(try jsonValue(depth: depth + 1)) }
            return .object(["type": name, "geometries": .array(members)])
        }
        return .object(["type": name, "coordinates": try jsonCoordinates(h, depth: depth)])
    }

    private mutating func jsonCoordinates(_ h: Header, depth: Int) throws(GeometryError) -> JSONValue {
        switch h.type {
        case 1:
            let p = try position(h)
            if p.0.isNaN && p.1.isNaN { return .array([]) }  // POINT EMPTY
            try Self.checkFinite(p, at: offset)
            return jsonPosition(p)
        case 2:
            return try jsonPositions(h)
        case 3:
            let rings = try count(h.littleEndian, minimumSize: 4)
            var result: [JSONValue] = []
            result.reserveCapacity(rings)
            for _ in 0..<rings { result.append(try jsonPositions(h)) }
            return .array(result)
        default:  // 4, 5, 6: members with their own headers
            let expected: UInt32 = h.type - 3
            let n = try count(h.littleEndian, minimumSize: 9)
            var result: [JSONValue] = []
            result.reserveCapacity(n)
            for _ in 0..<n {
                let at = offset
                let member = try header()
                guard member.type == expected else {
                    throw Self.error("\(Self.typeName(member.type)) inside a \(Self.typeName(h.type)) at offset \(at)")
                }
                result.append(try jsonCoordinates(member, depth: depth + 1))
            }
            return .array(result)
        }
    }

    private mutating func jsonPositions(_ h: Header) throws(GeometryError) -> JSONValue {
        let n = try count(h.littleEndian, minimumSize: h.dimensions * 8)
        var result: [JSONValue] = []
        result.reserveCapacity(n)
        for _ in 0..<n {
            let p = try position(h)
            try Self.checkFinite(p, at: offset)
            result.append(jsonPosition(p))
        }
        return .array(result)
    }

    private func jsonPosition(_ p: (Double, Double, Double?)) -> JSONValue {
        if let z = p.2 { return .array([.number(p.0), .number(p.1), .number(z)]) }
        return .array([.number(p.0), .number(p.1)])
    }

    // MARK: - To JSON text

    mutating func appendJSON(to out: inout [UInt8], depth: Int = 0) throws(GeometryError) {
        guard depth < Self.maxDepth else { throw Self.error("collections nested too deeply") }
        let h = try header()
        Self.append(#"{"type":""#, to: &out)
        Self.append(Self.typeName(h.type), to: &out)
        if h.type == 7 {
            Self.append(#"","geometries":["#, to: &out)
            let n = try count(h.littleEndian, minimumSize: 5)
            for index in 0..<n {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                try appendJSON(to: &out, depth: depth + 1)
            }
            Self.append("]}", to: &out)
            return
        }
        Self.append(#"","coordinates":"#, to: &out)
        try appendCoordinates(h, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    private mutating func appendCoordinates(_ h: Header, to out: inout [UInt8]) throws(GeometryError) {
        switch h.type {
        case 1:
            let p = try position(h)
            if p.0.isNaN && p.1.isNaN {
                Self.append("[]", to: &out)
                return
            }
            try Self.checkFinite(p, at: offset)
            Self.appendPosition(p, to: &out)
        case 2:
            try appendPositions(h, to: &out)
        case 3:
            let rings = try count(h.littleEndian, minimumSize: 4)
            out.append(UInt8(ascii: "["))
            for index in 0..<rings {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                try appendPositions(h, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        default:
            let expected: UInt32 = h.type - 3
            let n = try count(h.littleEndian, minimumSize: 9)
            out.append(UInt8(ascii: "["))
            for index in 0..<n {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                let at = offset
                let member = try header()
                guard member.type == expected else {
                    throw Self.error("\(Self.typeName(member.type)) inside a \(Self.typeName(h.type)) at offset \(at)")
                }
                try appendCoordinates(member, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
    }

    private mutating func appendPositions(_ h: Header, to out: inout [UInt8]) throws(GeometryError) {
        let n = try count(h.littleEndian, minimumSize: h.dimensions * 8)
        out.reserveCapacity(out.count + n * 40 + 2)
        out.append(UInt8(ascii: "["))
        for index in 0..<n {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            let p = try position(h)
            try Self.checkFinite(p, at: offset)
            Self.appendPosition(p, to: &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    private static func appendPosition(_ p: (Double, Double, Double?), to out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        appendNumber(p.0, to: &out)
        out.append(UInt8(ascii: ","))
        appendNumber(p.1, to: &out)
        if let z = p.2 {
            out.append(UInt8(ascii: ","))
            appendNumber(z, to: &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    @inline(__always)
    private static func append(_ text: StaticString, to out: inout [UInt8]) {
        text.withUTF8Buffer { out.append(contentsOf: $0) }
    }

    @inline(__always)
    private static func append(_ text: String, to out: inout [UInt8]) {
        out.append(contentsOf: text.utf8)
    }

    /// A finite double as a JSON number: integral values without a fraction (`90`),
    /// others in Swift's shortest round-trip form (`90.123`, `1e-05`, both valid JSON).
    static func appendNumber(_ value: Double, to out: inout [UInt8]) {
        if value == value.rounded(.towardZero), abs(value) < 1e15 {
            out.append(contentsOf: Int64(value).description.utf8)
        } else {
            out.append(contentsOf: value.description.utf8)
        }
    }
}
