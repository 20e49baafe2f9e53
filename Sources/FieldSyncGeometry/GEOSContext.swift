import CGEOS
import FieldSyncCore

/// One GEOS context handle (`GEOS_init_r`), with its WKB reader and writer.
///
/// Not `Sendable`: a GEOS handle must not be used from two threads at once. Create one
/// per owner or per operation (creation is cheap, ~0.1 ms) and let only values — WKB
/// bytes, `NormalizedArea` — cross tasks. GEOS error and notice messages raised through
/// this handle are recorded in ``lastErrorMessage`` and ``lastNoticeMessage``.
public final class GEOSContext {
    /// The raw handle, for this module's wrappers.
    let handle: OpaquePointer
    /// Receives messages from the C callbacks; passed as unretained userdata, kept
    /// alive by this object for as long as the handle exists.
    private let messages = MessageBox()
    private var wkbReader: OpaquePointer?
    private var wkbWriter: OpaquePointer?

    /// Creates a context with its own GEOS handle and message handlers.
    public init() {
        guard let handle = GEOS_init_r() else {
            fatalError("GEOS_init_r failed (out of memory)")
        }
        self.handle = handle
        let userdata = Unmanaged.passUnretained(messages).toOpaque()
        _ = GEOSContext_setErrorMessageHandler_r(
            handle,
            { message, userdata in
                guard let userdata, let message else { return }
                Unmanaged<MessageBox>.fromOpaque(userdata).takeUnretainedValue().error = String(cString: message)
            }, userdata)
        _ = GEOSContext_setNoticeMessageHandler_r(
            handle,
            { message, userdata in
                guard let userdata, let message else { return }
                Unmanaged<MessageBox>.fromOpaque(userdata).takeUnretainedValue().notice = String(cString: message)
            }, userdata)
    }

    deinit {
        if let wkbReader { GEOSWKBReader_destroy_r(handle, wkbReader) }
        if let wkbWriter { GEOSWKBWriter_destroy_r(handle, wkbWriter) }
        _ = GEOSContext_setErrorMessageHandler_r(handle, nil, nil)
        _ = GEOSContext_setNoticeMessageHandler_r(handle, nil, nil)
        GEOS_finish_r(handle)
    }

    /// The last error message GEOS reported through this context, if any.
    public var lastErrorMessage: String? { messages.error }

    /// The last notice message GEOS reported through this context, if any.
    public var lastNoticeMessage: String? { messages.notice }

    /// Normalises a GeoJSON Polygon or MultiPolygon with this context; see
    /// ``GeometryPipeline/normalizeArea(_:field:)``.
    public func normalizeArea(_ geojson: JSONValue, field: String) throws(GeometryError) -> NormalizedArea {
        let polygons = try GeoJSONInput.polygons(from: geojson, field: field)
        let input = try geometry(fromWKB: WKBEncoder.multiPolygon(polygons), field: field)
        return try AreaNormalizer(context: self, field: field).normalize(input)
    }

    /// Whether the point (`lon`, `lat`) lies inside or on the boundary of the area
    /// stored as (E)WKB; see ``GeometryPipeline/contains(areaEWKB:lon:lat:)``.
    public func contains(areaEWKB: [UInt8], lon: Double, lat: Double) -> Bool {
        guard lon.isFinite, lat.isFinite,
            let area = try? geometry(fromWKB: areaEWKB, field: nil),
            let point = GEOSGeom_createPointFromXY_r(handle, lon, lat)
        else { return false }
        defer { GEOSGeom_destroy_r(handle, point) }
        return GEOSCovers_r(handle, area.pointer, point) == 1
    }

    // MARK: - Internal helpers

    func clearMessages() {
        messages.error = nil
        messages.notice = nil
    }

    /// A `GeometryError` for a GEOS operation that failed, quoting GEOS's message.
    func failure(_ what: String, field: String?) -> GeometryError {
        let detail = messages.error.map { ": \($0)" } ?? ""
        let prefix = field.map { "\($0): " } ?? ""
        return GeometryError(message: "\(prefix)\(what)\(detail)", field: field)
    }

    /// Reads WKB or EWKB (either byte order, SRID flag allowed).
    func geometry(fromWKB bytes: [UInt8], field: String?) throws(GeometryError) -> OwnedGeometry {
        let reader: OpaquePointer
        if let wkbReader {
            reader = wkbReader
        } else {
            guard let created = GEOSWKBReader_create_r(handle) else {
                throw failure("could not create a WKB reader", field: field)
            }
            wkbReader = created
            reader = created
        }
        clearMessages()
        let pointer = bytes.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            guard let base = buffer.baseAddress else { return nil }
            return GEOSWKBReader_read_r(handle, reader, base, buffer.count)
        }
        guard let pointer else { throw failure("could not read WKB", field: field) }
        return OwnedGeometry(self, pointer)
    }

    /// Writes little-endian 2D EWKB with the geometry's SRID embedded.
    func ewkb(of geometry: OwnedGeometry, srid: Int32, field: String?) throws(GeometryError) -> [UInt8] {
        let writer: OpaquePointer
        if let wkbWriter {
            writer = wkbWriter
        } else {
            guard let created = GEOSWKBWriter_create_r(handle) else {
                throw failure("could not create a WKB writer", field: field)
            }
            GEOSWKBWriter_setByteOrder_r(handle, created, Int32(GEOS_WKB_NDR.rawValue))
            GEOSWKBWriter_setOutputDimension_r(handle, created, 2)
            GEOSWKBWriter_setIncludeSRID_r(handle, created, 1)
            wkbWriter = created
            writer = created
        }
        GEOSSetSRID_r(handle, geometry.pointer, srid)
        clearMessages()
        var size = 0
        guard let buffer = GEOSWKBWriter_write_r(handle, writer, geometry.pointer, &size) else {
            throw failure("could not write WKB", field: field)
        }
        defer { GEOSFree_r(handle, buffer) }
        return Array(UnsafeBufferPointer(start: buffer, count: size))
    }

    func isValid(_ geometry: OwnedGeometry) -> Bool {
        GEOSisValid_r(handle, geometry.pointer) == 1
    }

    func isEmpty(_ geometry: OwnedGeometry) -> Bool {
        GEOSisEmpty_r(handle, geometry.pointer) != 0
    }

    func typeID(_ geometry: OwnedGeometry) -> Int32 {
        GEOSGeomTypeId_r(handle, geometry.pointer)
    }

    func area(_ geometry: OwnedGeometry) -> Double? {
        var value = 0.0
        return GEOSArea_r(handle, geometry.pointer, &value) == 1 ? value : nil
    }

    func coordinateCount(_ geometry: OwnedGeometry) -> Int {
        Int(GEOSGetNumCoordinates_r(handle, geometry.pointer))
    }

    func partCount(_ geometry: OwnedGeometry) -> Int {
        Int(GEOSGetNumGeometries_r(handle, geometry.pointer))
    }

    func srid(_ geometry: OwnedGeometry) -> Int32 {
        GEOSGetSRID_r(handle, geometry.pointer)
    }

    func hausdorffDistance(_ a: OwnedGeometry, _ b: OwnedGeometry) -> Double? {
        var value = 0.0
        return GEOSHausdorffDistance_r(handle, a.pointer, b.pointer, &value) == 1 ? value : nil
    }

    /// Takes ownership of a geometry GEOS just returned, or reports why it returned none.
    func own(_ pointer: OpaquePointer?, _ what: String, field: String?) throws(GeometryError) -> OwnedGeometry {
        guard let pointer else { throw failure(what, field: field) }
        return OwnedGeometry(self, pointer)
    }
}

@available(*, unavailable, message: "a GEOS context must stay on one thread; create one per task")
extension GEOSContext: Sendable {}

/// Messages from GEOS's C callbacks.
private final class MessageBox {
    var error: String?
    var notice: String?
}

/// A GEOS geometry this module owns: destroyed with its context's handle when released,
/// unless ownership was handed to GEOS with ``release()``.
final class OwnedGeometry {
    let context: GEOSContext
    private(set) var pointer: OpaquePointer
    private var owned = true

    init(_ context: GEOSContext, _ pointer: OpaquePointer) {
        self.context = context
        self.pointer = pointer
    }

    /// Gives up ownership (for a GEOS call that takes it, such as a collection constructor).
    func release() -> OpaquePointer {
        owned = false
        return pointer
    }

    deinit {
        if owned { GEOSGeom_destroy_r(context.handle, pointer) }
    }
}

@available(*, unavailable)
extension OwnedGeometry: Sendable {}
