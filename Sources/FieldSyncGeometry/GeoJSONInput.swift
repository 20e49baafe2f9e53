import FieldSyncCore

/// Reads and checks GeoJSON geometry input (no GEOS involved).
enum GeoJSONInput {
    /// A ring as flat `[lon0, lat0, lon1, lat1, …]` (Z dropped).
    typealias Ring = [Double]
    /// A polygon: shell first, then holes.
    typealias Polygon = [Ring]

    /// The polygons of a GeoJSON Polygon (one) or MultiPolygon, with every coordinate checked.
    static func polygons(from geojson: JSONValue, field: String) throws(GeometryError) -> [Polygon] {
        let type = try geometryType(geojson, field: field)
        let coordinatesPath = "\(field).coordinates"
        let coordinates = try array(geojson["coordinates"], at: coordinatesPath, field: field, expected: "an array")
        if coordinates.isEmpty {
            throw GeometryError(message: "\(coordinatesPath): empty geometry", field: field)
        }
        switch type {
        case "Polygon":
            return [try polygon(coordinates, at: coordinatesPath, label: "", field: field)]
        case "MultiPolygon":
            var result: [Polygon] = []
            result.reserveCapacity(coordinates.count)
            for (index, member) in coordinates.enumerated() {
                let path = "\(coordinatesPath)[\(index)]"
                let rings = try array(member, at: path, field: field, expected: "an array of rings")
                if rings.isEmpty {
                    throw GeometryError(message: "\(path): polygon \(index) is empty", field: field)
                }
                result.append(try polygon(rings, at: path, label: " of polygon \(index)", field: field))
            }
            return result
        default:
            throw GeometryError(
                message: "\(field).type: \(quoted(type)) is not an area; expected \"Polygon\" or \"MultiPolygon\"",
                field: field)
        }
    }

    /// A GeoJSON Point's position.
    static func point(from geojson: JSONValue, field: String) throws(GeometryError) -> GeoPointValue {
        let type = try geometryType(geojson, field: field)
        guard type == "Point" else {
            throw GeometryError(
                message: "\(field).type: \(quoted(type)) is not a point; expected \"Point\"", field: field)
        }
        let path = "\(field).coordinates"
        let values = try array(geojson["coordinates"], at: path, field: field, expected: "a position [longitude, latitude]")
        if values.isEmpty {
            throw GeometryError(message: "\(path): empty geometry", field: field)
        }
        var position = (lon: 0.0, lat: 0.0, alt: Double?.none)
        try readPosition(values, at: path, field: field, into: &position)
        return GeoPointValue(lon: position.lon, lat: position.lat, alt: position.alt)
    }

    // MARK: - Parts

    private static func geometryType(_ geojson: JSONValue, field: String) throws(GeometryError) -> String {
        guard geojson.objectValue != nil else {
            throw GeometryError(
                message: "\(field): expected a GeoJSON geometry object, got \(geojson.typeName)", field: field)
        }
        guard let typeValue = geojson["type"] else {
            throw GeometryError(message: "\(field).type: missing", field: field)
        }
        guard let type = typeValue.stringValue else {
            throw GeometryError(message: "\(field).type: expected a string, got \(typeValue.typeName)", field: field)
        }
        return type
    }

    private static func polygon(
        _ rings: [JSONValue], at path: String, label: String, field: String
    ) throws(GeometryError) -> Polygon {
        var result: Polygon = []
        result.reserveCapacity(rings.count)
        for (ringIndex, ringValue) in rings.enumerated() {
            let ringPath = "\(path)[\(ringIndex)]"
            let positions = try array(ringValue, at: ringPath, field: field, expected: "an array of positions")
            if positions.count < 4 {
                throw GeometryError(
                    message:
                        "\(ringPath): ring \(ringIndex)\(label) has \(positions.count) position\(positions.count == 1 ? "" : "s"); a ring needs at least 4",
                    field: field)
            }
            var ring: Ring = []
            ring.reserveCapacity(positions.count * 2)
            var position = (lon: 0.0, lat: 0.0, alt: Double?.none)
            for (positionIndex, positionValue) in positions.enumerated() {
                let positionPath = "\(ringPath)[\(positionIndex)]"
                let numbers = try array(positionValue, at: positionPath, field: field, expected: "a position [longitude, latitude]")
                try readPosition(numbers, at: positionPath, field: field, into: &position)
                ring.append(position.lon)
                ring.append(position.lat)
            }
            let n = ring.count
            if ring[0] != ring[n - 2] || ring[1] != ring[n - 1] {
                throw GeometryError(
                    message:
                        "\(ringPath): ring \(ringIndex)\(label) is not closed: first position [\(ring[0]), \(ring[1])] differs from last [\(ring[n - 2]), \(ring[n - 1])]",
                    field: field)
            }
            result.append(ring)
        }
        return result
    }

    private static func readPosition(
        _ numbers: [JSONValue], at path: String, field: String,
        into position: inout (lon: Double, lat: Double, alt: Double?)
    ) throws(GeometryError) {
        guard numbers.count == 2 || numbers.count == 3 else {
            throw GeometryError(
                message: "\(path): a position has 2 or 3 numbers (longitude, latitude, optional altitude), got \(numbers.count)",
                field: field)
        }
        var values = (0.0, 0.0, 0.0)
        for (index, value) in numbers.enumerated() {
            guard let number = value.numberValue else {
                throw GeometryError(message: "\(path)[\(index)]: expected a number, got \(value.typeName)", field: field)
            }
            guard number.isFinite else {
                throw GeometryError(message: "\(path)[\(index)]: \(number) is not a finite number", field: field)
            }
            switch index {
            case 0: values.0 = number
            case 1: values.1 = number
            default: values.2 = number
            }
        }
        guard values.0 >= -180, values.0 <= 180 else {
            throw GeometryError(message: "\(path): longitude \(values.0) is outside [-180, 180]", field: field)
        }
        guard values.1 >= -90, values.1 <= 90 else {
            throw GeometryError(message: "\(path): latitude \(values.1) is outside [-90, 90]", field: field)
        }
        position = (values.0, values.1, numbers.count == 3 ? values.2 : nil)
    }

    private static func array(
        _ value: JSONValue?, at path: String, field: String, expected: String
    ) throws(GeometryError) -> [JSONValue] {
        guard let value else {
            throw GeometryError(message: "\(path): missing; expected \(expected)", field: field)
        }
        guard let array = value.arrayValue else {
            throw GeometryError(message: "\(path): expected \(expected), got \(value.typeName)", field: field)
        }
        return array
    }

    private static func quoted(_ text: String) -> String {
        let short = text.count > 40 ? String(text.prefix(40)) + "…" : text
        return "\"\(short)\""
    }
}

/// Writes little-endian (E)WKB by hand.
enum WKBEncoder {
    /// Plain WKB MultiPolygon (no SRID) of checked polygons.
    static func multiPolygon(_ polygons: [GeoJSONInput.Polygon]) -> [UInt8] {
        var count = 9
        for polygon in polygons {
            count += 9
            for ring in polygon { count += 4 + ring.count * 8 }
        }
        var out: [UInt8] = []
        out.reserveCapacity(count)
        appendHeader(type: 6, srid: nil, to: &out)
        appendUInt32(UInt32(polygons.count), to: &out)
        for polygon in polygons {
            appendHeader(type: 3, srid: nil, to: &out)
            appendUInt32(UInt32(polygon.count), to: &out)
            for ring in polygon {
                appendUInt32(UInt32(ring.count / 2), to: &out)
                for value in ring { appendDouble(value, to: &out) }
            }
        }
        return out
    }

    /// Byte order (little-endian), type, and the SRID with its EWKB flag when given.
    static func appendHeader(type: UInt32, srid: UInt32?, to out: inout [UInt8]) {
        out.append(1)
        if let srid {
            appendUInt32(type | EWKBFlags.srid, to: &out)
            appendUInt32(srid, to: &out)
        } else {
            appendUInt32(type, to: &out)
        }
    }

    static func appendUInt32(_ value: UInt32, to out: inout [UInt8]) {
        let v = value.littleEndian
        withUnsafeBytes(of: v) { out.append(contentsOf: $0) }
    }

    static func appendDouble(_ value: Double, to out: inout [UInt8]) {
        let v = value.bitPattern.littleEndian
        withUnsafeBytes(of: v) { out.append(contentsOf: $0) }
    }
}

/// EWKB type flags (PostGIS).
enum EWKBFlags {
    static let z: UInt32 = 0x8000_0000
    static let m: UInt32 = 0x4000_0000
    static let srid: UInt32 = 0x2000_0000
}
