import CGEOS
import FieldSyncCore

/// Geometry checks and conversions for the sync server.
///
/// Every function is safe to call from any task concurrently: those that need GEOS
/// create their own ``GEOSContext`` for the call. To run many operations in one task,
/// make a `GEOSContext` and use its methods instead.
public enum GeometryPipeline {
    /// Checks a GeoJSON Polygon or MultiPolygon and normalises it for storage.
    ///
    /// Coordinates must be numbers, finite, 2 or 3 per position (altitude is dropped),
    /// longitude in [-180, 180], latitude in [-90, 90]; every ring needs at least 4
    /// positions and must be closed. An invalid polygon is repaired with `GEOSMakeValid`
    /// and only its polygonal parts are kept. The result is a MultiPolygon in EWKB with
    /// SRID 4326, its simplified version for devices, a point inside it and its bounding box.
    ///
    /// - Parameters:
    ///   - geojson: the GeoJSON geometry object.
    ///   - field: the name of the field holding it, used in error messages (`"geometry"`).
    /// - Throws: `GeometryError` with code `invalid_geometry`, its message naming the
    ///   place (`"geometry.coordinates[0]: ring 0 has 3 positions; a ring needs at least 4"`).
    public static func normalizeArea(_ geojson: JSONValue, field: String) throws(GeometryError) -> NormalizedArea {
        try GEOSContext().normalizeArea(geojson, field: field)
    }

    /// Checks a GeoJSON Point: `[longitude, latitude]` or `[longitude, latitude, altitude]`,
    /// finite, longitude in [-180, 180], latitude in [-90, 90].
    ///
    /// - Throws: `GeometryError` with code `invalid_geometry` naming the place.
    public static func parsePoint(_ geojson: JSONValue, field: String) throws(GeometryError) -> GeoPointValue {
        try GeoJSONInput.point(from: geojson, field: field)
    }

    /// GeoJSON for (E)WKB as PostGIS returns it from a geometry column (either byte
    /// order; SRID, Z and M flags allowed; any geometry type). Coordinates keep the
    /// full precision of the WKB doubles; Z becomes a third position number, M is dropped.
    ///
    /// - Throws: `GeometryError` with code `invalid_wkb` when the bytes are not one
    ///   well-formed geometry or hold a non-finite coordinate.
    public static func geoJSON(fromEWKB ewkb: [UInt8]) throws(GeometryError) -> JSONValue {
        try withBytes(of: ewkb) { buffer throws(GeometryError) -> JSONValue in
            var reader = WKBGeoJSONReader(buffer)
            let value = try reader.jsonValue()
            try reader.finish()
            return value
        }
    }

    /// Appends the GeoJSON text for (E)WKB to `out`: compact JSON
    /// (`{"type":"MultiPolygon","coordinates":[[[[90.1,23.5],…]]]}`), numbers in
    /// shortest round-trip form, never `inf` or `nan`. Accepts what
    /// ``geoJSON(fromEWKB:)`` accepts.
    ///
    /// On error `out` is left as it was.
    public static func appendGeoJSON(fromEWKB ewkb: [UInt8], to out: inout [UInt8]) throws(GeometryError) {
        let start = out.count
        do throws(GeometryError) {
            try withBytes(of: ewkb) { buffer throws(GeometryError) in
                var reader = WKBGeoJSONReader(buffer)
                try reader.appendJSON(to: &out)
                try reader.finish()
            }
        } catch {
            out.removeSubrange(start...)
            throw error
        }
    }

    /// `Array.withUnsafeBytes` with a typed error.
    private static func withBytes<R>(
        of bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(GeometryError) -> R
    ) throws(GeometryError) -> R {
        let result = bytes.withUnsafeBytes { buffer -> Result<R, GeometryError> in
            do throws(GeometryError) {
                return .success(try body(buffer))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Whether the point (`lon`, `lat`) lies inside the area stored as (E)WKB, or on its
    /// boundary (GEOS "covers": a location on the border between two org units counts
    /// as inside both). `false` when the bytes cannot be read or the point is not finite.
    ///
    /// For many points against one area, use ``PreparedArea``.
    public static func contains(areaEWKB: [UInt8], lon: Double, lat: Double) -> Bool {
        GEOSContext().contains(areaEWKB: areaEWKB, lon: lon, lat: lat)
    }
}

/// An area prepared for fast repeated point checks (a GEOS prepared geometry), for
/// flagging many instance locations against one org unit.
///
/// Not `Sendable`: owns its own ``GEOSContext``; use it within one task.
public final class PreparedArea {
    private let context: GEOSContext
    private let geometry: OwnedGeometry
    private let prepared: OpaquePointer

    /// Reads the area's (E)WKB and prepares it.
    ///
    /// - Throws: `GeometryError` with code `invalid_wkb` when the bytes cannot be read.
    public init(ewkb: [UInt8]) throws(GeometryError) {
        let context = GEOSContext()
        let geometry: OwnedGeometry
        do {
            geometry = try context.geometry(fromWKB: ewkb, field: nil)
        } catch {
            throw GeometryError(code: "invalid_wkb", message: error.message, field: nil)
        }
        guard let prepared = GEOSPrepare_r(context.handle, geometry.pointer) else {
            throw GeometryError(
                code: "invalid_wkb", message: context.failure("could not prepare the area", field: nil).message, field: nil)
        }
        self.context = context
        self.geometry = geometry
        self.prepared = prepared
    }

    deinit {
        GEOSPreparedGeom_destroy_r(context.handle, prepared)
    }

    /// Whether (`lon`, `lat`) lies inside the area or on its boundary; `false` for a
    /// point that is not finite.
    public func contains(lon: Double, lat: Double) -> Bool {
        guard lon.isFinite, lat.isFinite,
            let point = GEOSGeom_createPointFromXY_r(context.handle, lon, lat)
        else { return false }
        defer { GEOSGeom_destroy_r(context.handle, point) }
        return GEOSPreparedCovers_r(context.handle, prepared, point) == 1
    }
}

@available(*, unavailable, message: "owns a GEOS context; use it within one task")
extension PreparedArea: Sendable {}
