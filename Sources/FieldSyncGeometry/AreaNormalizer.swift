import CGEOS

/// The GEOS side of `normalizeArea`: repair, keep the polygonal parts, simplify, and
/// find an interior point. Every intermediate geometry is an `OwnedGeometry`, so each
/// is destroyed on every path, thrown errors included.
struct AreaNormalizer {
    let context: GEOSContext
    let field: String

    private var handle: OpaquePointer { context.handle }

    static let srid: Int32 = 4326
    /// A polygon's simplification tolerance as a fraction of the larger side of its
    /// own bounding box (PROTOCOL.md, "Geometry rules").
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

        let simplified = simplify(area)
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

    /// The simplified area for devices: each polygon of the MultiPolygon simplified on
    /// its own, topology preserving, with a tolerance of ``simplifyFactor`` × the larger
    /// side of that polygon's own bounding box (PROTOCOL.md, "Geometry rules").
    ///
    /// Why per polygon: one tolerance from the whole unit's box (the old rule) is far
    /// too coarse for the small islands of a large unit, and for a unit split at ±180
    /// (Natural Earth's Fiji, Russia) the box is 360° wide: islands lost 10–95% of
    /// their area. A polygon's own box scales the tolerance to that island.
    ///
    /// Guarantees, each kept by a fallback rather than by hoping:
    /// - every polygon keeps its area within ``maxAreaChange`` (so the whole does too),
    ///   stays one valid, non-empty Polygon and gets no more coordinates: otherwise the
    ///   tolerance is divided by 8, then by 64, and at last the polygon is kept
    ///   unsimplified (see ``simplifiedPolygon(_:)``);
    /// - the result is a valid MultiPolygon: polygons simplified one by one can come to
    ///   overlap or share an edge (two islands close together); the polygons of such a
    ///   pair go back to their unsimplified form, repeated until the whole is valid
    ///   (unsimplified polygons are the valid input), and the unsimplified area is
    ///   returned if that ever fails.
    private func simplify(_ area: OwnedGeometry) -> OwnedGeometry {
        let count = Int(GEOSGetNumGeometries_r(handle, area.pointer))
        guard count > 0 else { return fallbackCopy(area) }
        var originals: [OpaquePointer] = []
        originals.reserveCapacity(count)
        for index in 0..<count {
            guard let part = GEOSGetGeometryN_r(handle, area.pointer, Int32(index)) else { return fallbackCopy(area) }
            originals.append(part)
        }
        var parts: [OwnedGeometry] = []
        var simplified: [Bool] = []
        parts.reserveCapacity(count)
        simplified.reserveCapacity(count)
        for original in originals {
            if let candidate = simplifiedPolygon(original) {
                parts.append(candidate)
                simplified.append(true)
            } else if let clone = GEOSGeom_clone_r(handle, original) {
                parts.append(OwnedGeometry(context, clone))
                simplified.append(false)
            } else {
                return fallbackCopy(area)
            }
        }
        // Each round puts at least one polygon back, so `count + 1` rounds always suffice.
        for _ in 0...count {
            guard simplified.contains(true) else { return fallbackCopy(area) }
            if let whole = multiPolygon(cloning: parts), context.isValid(whole) { return whole }
            let conflicts = conflictingParts(parts, simplified: simplified)
            guard !conflicts.isEmpty else { return fallbackCopy(area) }
            for index in conflicts {
                guard let clone = GEOSGeom_clone_r(handle, originals[index]) else { return fallbackCopy(area) }
                parts[index] = OwnedGeometry(context, clone)
                simplified[index] = false
            }
        }
        return fallbackCopy(area)
    }

    /// The largest relative change of a polygon's area that simplification may make
    /// (PROTOCOL.md: the simplified area stays within 5% of the full one).
    static let maxAreaChange = 0.05

    /// `polygon` (one valid polygon of the area, not owned) simplified with its own
    /// tolerance, or with 1/8 and then 1/64 of it when the result is not one valid,
    /// non-empty Polygon with no more coordinates and an area within
    /// ``maxAreaChange`` of the polygon's; `nil` when none is (the caller keeps the
    /// polygon unsimplified).
    ///
    /// Why smaller tolerances before giving up: a thin or comb-like polygon (a sand
    /// bar, a coast of long narrow inlets) can lose its teeth at the full tolerance yet
    /// keep most of its detail, and its area, at a smaller one.
    private func simplifiedPolygon(_ polygon: OpaquePointer) -> OwnedGeometry? {
        var minX = 0.0, minY = 0.0, maxX = 0.0, maxY = 0.0
        var fullArea = 0.0
        guard GEOSGeom_getExtent_r(handle, polygon, &minX, &minY, &maxX, &maxY) == 1,
            GEOSArea_r(handle, polygon, &fullArea) == 1, fullArea > 0, fullArea.isFinite
        else { return nil }
        let fullCoordinates = GEOSGetNumCoordinates_r(handle, polygon)
        let tolerance = Self.simplifyFactor * max(maxX - minX, maxY - minY)
        guard tolerance > 0, tolerance.isFinite else { return nil }
        for divisor in [1.0, 8.0, 64.0] {
            guard let raw = GEOSTopologyPreserveSimplify_r(handle, polygon, tolerance / divisor) else { continue }
            let candidate = OwnedGeometry(context, raw)
            var area = 0.0
            guard context.typeID(candidate) == Int32(GEOS_POLYGON.rawValue), !context.isEmpty(candidate),
                GEOSGetNumCoordinates_r(handle, candidate.pointer) <= fullCoordinates,
                GEOSArea_r(handle, candidate.pointer, &area) == 1,
                abs(area - fullArea) <= Self.maxAreaChange * fullArea,
                context.isValid(candidate)
            else { continue }
            return candidate
        }
        return nil
    }

    /// A MultiPolygon of clones of `parts` (which stay owned by the caller).
    private func multiPolygon(cloning parts: [OwnedGeometry]) -> OwnedGeometry? {
        var pointers: [OpaquePointer?] = []
        pointers.reserveCapacity(parts.count)
        for part in parts {
            guard let clone = GEOSGeom_clone_r(handle, part.pointer) else {
                for case let p? in pointers { GEOSGeom_destroy_r(handle, p) }
                return nil
            }
            pointers.append(clone)
        }
        // The collection takes ownership of the members, even when it fails.
        let count = UInt32(pointers.count)
        let collection = pointers.withUnsafeMutableBufferPointer {
            GEOSGeom_createCollection_r(handle, Int32(GEOS_MULTIPOLYGON.rawValue), $0.baseAddress, count)
        }
        return collection.map { OwnedGeometry(context, $0) }
    }

    /// Indices of the simplified parts that overlap another part or share more than
    /// points with it (what makes a MultiPolygon invalid), with the other part of each
    /// such pair when it is simplified too. A sweep over the parts' boxes sorted by
    /// west edge keeps this near linear for the usual unit whose islands lie apart.
    private func conflictingParts(_ parts: [OwnedGeometry], simplified: [Bool]) -> [Int] {
        var boxes: [(minX: Double, minY: Double, maxX: Double, maxY: Double)] = []
        boxes.reserveCapacity(parts.count)
        for part in parts {
            var minX = 0.0, minY = 0.0, maxX = 0.0, maxY = 0.0
            if GEOSGeom_getExtent_r(handle, part.pointer, &minX, &minY, &maxX, &maxY) != 1 {
                // Unknown extent: make it meet every other box, so it gets checked.
                (minX, minY, maxX, maxY) = (-Double.infinity, -Double.infinity, Double.infinity, Double.infinity)
            }
            boxes.append((minX, minY, maxX, maxY))
        }
        let order = boxes.indices.sorted { boxes[$0].minX < boxes[$1].minX }
        var conflicting = Set<Int>()
        for (position, i) in order.enumerated() {
            for j in order[(position + 1)...] {
                if boxes[j].minX > boxes[i].maxX { break }
                guard simplified[i] || simplified[j],
                    boxes[j].minY <= boxes[i].maxY, boxes[i].minY <= boxes[j].maxY
                else { continue }
                // Allowed between members of a MultiPolygon: disjoint, or touching at points.
                let apart =
                    GEOSDisjoint_r(handle, parts[i].pointer, parts[j].pointer) == 1
                    || GEOSRelatePattern_r(handle, parts[i].pointer, parts[j].pointer, "FF*F0****") == 1
                if !apart {
                    if simplified[i] { conflicting.insert(i) }
                    if simplified[j] { conflicting.insert(j) }
                }
            }
        }
        return conflicting.sorted()
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
