import CGEOS

/// The GEOS side of `normalizeArea`: repair, keep the polygonal parts, simplify, and
/// find an interior point. Every intermediate geometry is an `OwnedGeometry`, so each
/// is destroyed on every path, thrown errors included.
struct AreaNormalizer {
    let context: GEOSContext
    let field: String

    private var handle: OpaquePointer { context.handle }

    static let srid: Int32 = 4326
    static let simplifyFactor = 0.001

    func normalize(_ input: OwnedGeometry) throws(GeometryError) -> NormalizedArea {
        if context.isEmpty(input) {
            throw GeometryError(message: "\(field): empty geometry", field: field)
        }
        var repaired = false
        let area: OwnedGeometry
        if context.isValid(input) {
            area = try multiPolygon(fromValidPolygonal: input)
        } else {
            repaired = true
            area = try polygonalValid(input)
        }

        var minX = 0.0, minY = 0.0, maxX = 0.0, maxY = 0.0
        guard GEOSGeom_getExtent_r(handle, area.pointer, &minX, &minY, &maxX, &maxY) == 1 else {
            throw context.failure("could not compute the bounding box", field: field)
        }
        let bbox = GeoBoundingBox(minLon: minX, minLat: minY, maxLon: maxX, maxLat: maxY)

        let simplified = simplify(area, tolerance: Self.simplifyFactor * max(bbox.width, bbox.height))
        let interior = try interiorPoint(of: area)

        return NormalizedArea(
            ewkb: try context.ewkb(of: area, srid: Self.srid, field: field),
            simplifiedEWKB: try context.ewkb(of: simplified, srid: Self.srid, field: field),
            interiorPoint: interior,
            bbox: bbox,
            wasRepaired: repaired)
    }

    // MARK: - Repair

    /// A valid MultiPolygon holding the polygonal parts of `geometry` (repairing it),
    /// or `invalid_geometry` when no area remains.
    ///
    /// Repair uses GEOS's "structure" method first (each ring made valid, shells
    /// unioned, holes subtracted: overlapping MultiPolygon members merge instead of
    /// cancelling out as with the "linework" method's even-odd rule), and the default
    /// `GEOSMakeValid` (linework) when that yields no area or fails.
    private func polygonalValid(_ geometry: OwnedGeometry) throws(GeometryError) -> OwnedGeometry {
        if let made = makeValidStructure(geometry), let polygons = try validPolygons(of: made) {
            return polygons
        }
        context.clearMessages()
        let made = try context.own(GEOSMakeValid_r(handle, geometry.pointer), "could not repair the geometry", field: field)
        if let polygons = try validPolygons(of: made) { return polygons }
        if context.lastErrorMessage != nil {
            throw context.failure("could not make the geometry valid", field: field)
        }
        throw GeometryError(message: "\(field): the geometry has no area after repair", field: field)
    }

    private func makeValidStructure(_ geometry: OwnedGeometry) -> OwnedGeometry? {
        guard let params = GEOSMakeValidParams_create_r(handle) else { return nil }
        defer { GEOSMakeValidParams_destroy_r(handle, params) }
        guard GEOSMakeValidParams_setMethod_r(handle, params, GEOS_MAKE_VALID_STRUCTURE) == 1,
              GEOSMakeValidParams_setKeepCollapsed_r(handle, params, 0) == 1
        else { return nil }
        context.clearMessages()
        return GEOSMakeValidWithParams_r(handle, geometry.pointer, params).map { OwnedGeometry(context, $0) }
    }

    /// The polygonal parts of a repaired geometry as a valid MultiPolygon, or `nil` when
    /// there are none (or they cannot be made into a valid MultiPolygon).
    private func validPolygons(of made: OwnedGeometry) throws(GeometryError) -> OwnedGeometry? {
        guard let polygons = try collectPolygons(made) else { return nil }
        if context.isValid(polygons) { return polygons }
        // Polygons taken out of a collection may touch or overlap: dissolve them.
        context.clearMessages()
        guard let union = GEOSUnaryUnion_r(handle, polygons.pointer).map({ OwnedGeometry(context, $0) }),
              let dissolved = try collectPolygons(union), context.isValid(dissolved)
        else { return nil }
        return dissolved
    }

    /// `geometry` (valid, known to be built from polygons) as a MultiPolygon, dropping empty members.
    private func multiPolygon(fromValidPolygonal geometry: OwnedGeometry) throws(GeometryError) -> OwnedGeometry {
        if context.typeID(geometry) == Int32(GEOS_MULTIPOLYGON.rawValue), !hasEmptyMember(geometry) {
            return geometry
        }
        guard let polygons = try collectPolygons(geometry) else {
            throw GeometryError(message: "\(field): empty geometry", field: field)
        }
        return polygons
    }

    private func hasEmptyMember(_ geometry: OwnedGeometry) -> Bool {
        let count = GEOSGetNumGeometries_r(handle, geometry.pointer)
        for index in 0..<max(count, 0) {
            if let part = GEOSGetGeometryN_r(handle, geometry.pointer, index), GEOSisEmpty_r(handle, part) != 0 {
                return true
            }
        }
        return false
    }

    /// A new MultiPolygon of clones of every non-empty polygon in `geometry` (walking
    /// nested collections), or `nil` when there is none.
    func collectPolygons(_ geometry: OwnedGeometry) throws(GeometryError) -> OwnedGeometry? {
        var parts: [OwnedGeometry] = []
        var failed = false
        func walk(_ g: OpaquePointer, depth: Int) {
            guard !failed, depth < 64 else { return }
            let type = GEOSGeomTypeId_r(handle, g)
            if type == Int32(GEOS_POLYGON.rawValue) {
                guard GEOSisEmpty_r(handle, g) == 0 else { return }
                if let clone = GEOSGeom_clone_r(handle, g) {
                    parts.append(OwnedGeometry(context, clone))
                } else {
                    failed = true
                }
            } else if type == Int32(GEOS_MULTIPOLYGON.rawValue) || type == Int32(GEOS_GEOMETRYCOLLECTION.rawValue) {
                let count = GEOSGetNumGeometries_r(handle, g)
                for index in 0..<max(count, 0) {
                    if let part = GEOSGetGeometryN_r(handle, g, index) { walk(part, depth: depth + 1) }
                }
            }
        }
        context.clearMessages()
        walk(geometry.pointer, depth: 0)
        if failed { throw context.failure("could not copy a polygon", field: field) }
        if parts.isEmpty { return nil }
        // The collection takes ownership of the members (even if it fails); the array stays ours.
        var pointers: [OpaquePointer?] = parts.map { $0.release() }
        let count = UInt32(pointers.count)
        let collection = pointers.withUnsafeMutableBufferPointer {
            GEOSGeom_createCollection_r(handle, Int32(GEOS_MULTIPOLYGON.rawValue), $0.baseAddress, count)
        }
        return try context.own(collection, "could not build a MultiPolygon", field: field)
    }

    // MARK: - Simplify

    /// Topology-preserving simplification that always yields a valid, non-empty
    /// MultiPolygon: repaired when the simplifier produced something invalid, else the
    /// unsimplified area.
    private func simplify(_ area: OwnedGeometry, tolerance: Double) -> OwnedGeometry {
        guard tolerance > 0, tolerance.isFinite,
              let raw = GEOSTopologyPreserveSimplify_r(handle, area.pointer, tolerance)
        else { return fallbackCopy(area) }
        let simplified = OwnedGeometry(context, raw)
        if !context.isEmpty(simplified) {
            if context.isValid(simplified),
               let polygons = try? collectPolygons(simplified), context.isValid(polygons) {
                return polygons
            }
            if let repaired = try? polygonalValid(simplified), !context.isEmpty(repaired) {
                return repaired
            }
        }
        return fallbackCopy(area)
    }

    private func fallbackCopy(_ area: OwnedGeometry) -> OwnedGeometry {
        if let clone = GEOSGeom_clone_r(handle, area.pointer) {
            return OwnedGeometry(context, clone)
        }
        return area
    }

    // MARK: - Interior point

    private func interiorPoint(of area: OwnedGeometry) throws(GeometryError) -> GeoCoordinate {
        context.clearMessages()
        if let raw = GEOSGetCentroid_r(handle, area.pointer) {
            let centroid = OwnedGeometry(context, raw)
            if GEOSContains_r(handle, area.pointer, centroid.pointer) == 1, let c = coordinate(of: centroid) {
                return c
            }
        }
        let surface = try context.own(GEOSPointOnSurface_r(handle, area.pointer), "could not find a point inside the area", field: field)
        guard let c = coordinate(of: surface) else {
            throw context.failure("could not find a point inside the area", field: field)
        }
        return c
    }

    private func coordinate(of point: OwnedGeometry) -> GeoCoordinate? {
        guard GEOSisEmpty_r(handle, point.pointer) == 0 else { return nil }
        var x = 0.0, y = 0.0
        guard GEOSGeomGetX_r(handle, point.pointer, &x) == 1, GEOSGeomGetY_r(handle, point.pointer, &y) == 1 else {
            return nil
        }
        return GeoCoordinate(lon: x, lat: y)
    }
}
