/// A WGS 84 position from a GeoJSON Point: `[lon, lat]` or `[lon, lat, alt]`.
public struct GeoPoint: Sendable, Hashable {
    public var longitude: Double
    public var latitude: Double
    public var altitude: Double?

    public init(longitude: Double, latitude: Double, altitude: Double? = nil) {
        self.longitude = longitude
        self.latitude = latitude
        self.altitude = altitude
    }

    /// Reads a GeoJSON Point, checking that coordinates are finite and in range.
    /// Errors are `invalid_geometry`, naming `field`.
    public init(geoJSON value: JSONValue, field: String) throws(ItemError) {
        func bad(_ message: String) -> ItemError {
            ItemError(code: ErrorCode.invalidGeometry, message: message, field: field)
        }
        guard case .object(let o) = value else { throw bad("location must be a GeoJSON Point object, got \(value.typeName)") }
        guard o["type"]?.stringValue == "Point" else {
            throw bad("location must be a GeoJSON Point, got type \(o["type"].map { JSONWriter.string($0) } ?? "missing")")
        }
        guard case .array(let c)? = o["coordinates"] else { throw bad("Point coordinates must be an array [lon, lat] or [lon, lat, alt]") }
        guard c.count == 2 || c.count == 3 else { throw bad("Point coordinates must have 2 or 3 numbers, got \(c.count)") }
        var numbers: [Double] = []
        for (k, e) in c.enumerated() {
            guard case .number(let n) = e, n.isFinite else { throw bad("coordinate \(k) must be a finite number, got \(e.typeName)") }
            numbers.append(n)
        }
        guard (-180...180).contains(numbers[0]) else { throw bad("longitude \(numbers[0]) is outside [-180, 180]") }
        guard (-90...90).contains(numbers[1]) else { throw bad("latitude \(numbers[1]) is outside [-90, 90]") }
        self.init(longitude: numbers[0], latitude: numbers[1], altitude: c.count == 3 ? numbers[2] : nil)
    }

    /// As a GeoJSON Point.
    public var geoJSON: JSONValue {
        var c: [JSONValue] = [.number(longitude), .number(latitude)]
        if let altitude { c.append(.number(altitude)) }
        return .object(["type": .string("Point"), "coordinates": .array(c)])
    }
}
