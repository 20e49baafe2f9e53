import FieldSyncCore

/// A geometry that cannot be accepted or read.
///
/// `message` says what was wrong and where, starting with the JSON path when there is
/// one: `"location.coordinates[0][2]: latitude 95.0 is outside [-90, 90]"`.
public struct GeometryError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The protocol's error code: `"invalid_geometry"` for rejected input,
    /// `"invalid_wkb"` for stored bytes that cannot be read.
    public let code: String
    /// What was wrong and where.
    public let message: String
    /// The field the caller named for the geometry (as passed to the pipeline); `nil`
    /// when there was none (reading stored WKB).
    public let field: String?

    /// Creates an error; `code` defaults to `"invalid_geometry"`.
    public init(code: String = "invalid_geometry", message: String, field: String?) {
        self.code = code
        self.message = message
        self.field = field
    }

    /// `"code: message"`, for logs.
    public var description: String { "\(code): \(message)" }
}

/// A longitude/latitude pair in degrees (WGS 84, SRID 4326).
public struct GeoCoordinate: Sendable, Hashable, Codable {
    /// Longitude in degrees, [-180, 180].
    public var lon: Double
    /// Latitude in degrees, [-90, 90].
    public var lat: Double

    /// A coordinate from longitude and latitude in degrees.
    public init(lon: Double, lat: Double) {
        self.lon = lon
        self.lat = lat
    }
}

/// An axis-aligned bounding box in degrees.
public struct GeoBoundingBox: Sendable, Hashable, Codable {
    /// Westernmost longitude.
    public var minLon: Double
    /// Southernmost latitude.
    public var minLat: Double
    /// Easternmost longitude.
    public var maxLon: Double
    /// Northernmost latitude.
    public var maxLat: Double

    /// A box from its extremes in degrees.
    public init(minLon: Double, minLat: Double, maxLon: Double, maxLat: Double) {
        self.minLon = minLon
        self.minLat = minLat
        self.maxLon = maxLon
        self.maxLat = maxLat
    }

    /// `maxLon - minLon`.
    public var width: Double { maxLon - minLon }
    /// `maxLat - minLat`.
    public var height: Double { maxLat - minLat }
}

/// A point parsed from a GeoJSON Point: longitude, latitude and optional altitude.
public struct GeoPointValue: Sendable, Hashable, Codable {
    /// Longitude in degrees, [-180, 180].
    public var lon: Double
    /// Latitude in degrees, [-90, 90].
    public var lat: Double
    /// Altitude (the GeoJSON position's third number), when given.
    public var alt: Double?

    /// A point from longitude, latitude and optional altitude.
    public init(lon: Double, lat: Double, alt: Double? = nil) {
        self.lon = lon
        self.lat = lat
        self.alt = alt
    }

    /// 2D little-endian EWKB Point with SRID 4326 (altitude not included), as a
    /// `geometry(Point, 4326)` column takes it.
    public var ewkb: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(25)
        WKBEncoder.appendHeader(type: 1, srid: 4326, to: &out)
        WKBEncoder.appendDouble(lon, to: &out)
        WKBEncoder.appendDouble(lat, to: &out)
        return out
    }

    /// The GeoJSON Point, with the altitude when there is one.
    public var geoJSON: JSONValue {
        var coordinates: [JSONValue] = [.number(lon), .number(lat)]
        if let alt { coordinates.append(.number(alt)) }
        return .object(["type": .string("Point"), "coordinates": .array(coordinates)])
    }
}

/// An area checked and normalised for storage: what ``GeometryPipeline/normalizeArea(_:field:)`` returns.
public struct NormalizedArea: Sendable, Hashable {
    /// The area as a valid 2D MultiPolygon, little-endian EWKB with SRID 4326 embedded.
    public var ewkb: [UInt8]
    /// The simplified area for devices: each polygon simplified on its own (topology
    /// preserving) with a tolerance of 0.001 × the larger side of that polygon's own
    /// bounding box, so the small islands of a large or antimeridian-spanning unit keep
    /// their shape; each polygon's area within 5% of its full area (a smaller tolerance,
    /// or the polygon unsimplified, where that would fail); never more coordinates than
    /// ``ewkb``; always a valid, non-empty 2D MultiPolygon, EWKB with SRID 4326.
    public var simplifiedEWKB: [UInt8]
    /// A point inside the area: its centroid when that lies inside, else a point on its surface.
    public var interiorPoint: GeoCoordinate
    /// The area's bounding box.
    public var bbox: GeoBoundingBox
    /// `true` when the input was not valid and had to be repaired (`GEOSMakeValid`),
    /// possibly dropping parts without area.
    public var wasRepaired: Bool

    /// Assembles a result (the pipeline makes these; tests and storage code may too).
    public init(
        ewkb: [UInt8], simplifiedEWKB: [UInt8], interiorPoint: GeoCoordinate,
        bbox: GeoBoundingBox, wasRepaired: Bool
    ) {
        self.ewkb = ewkb
        self.simplifiedEWKB = simplifiedEWKB
        self.interiorPoint = interiorPoint
        self.bbox = bbox
        self.wasRepaired = wasRepaired
    }
}
