import Foundation

/// A device position (`kind: "position"`): immutable, identified by `id`.
public struct PositionItem: Sendable, Hashable {
    public var id: UUID
    public var capturedAt: Timestamp
    public var location: GeoPoint
    public var accuracy: Double?
    public var altitude: Double?
    public var transport: String?

    public init(id: UUID, capturedAt: Timestamp, location: GeoPoint, accuracy: Double? = nil, altitude: Double? = nil, transport: String? = nil) {
        self.id = id
        self.capturedAt = capturedAt
        self.location = location
        self.accuracy = accuracy
        self.altitude = altitude
        self.transport = transport
    }

    /// Reads and checks a pushed position item at `path` (e.g. `items[3]`); a missing
    /// or mistyped member is `invalid_field` naming it.
    public init(json: JSONValue, path: String) throws(ItemError) {
        let r = try ObjectReader(json, path: path, item: true)
        id = try r.requiredUUID("id")
        capturedAt = try r.requiredTimestamp("capturedAt")
        location = try GeoPoint(geoJSON: try r.requiredValue("location"), field: r.field("location"))
        accuracy = try r.number("accuracy")
        if let a = accuracy, a < 0 {
            throw ItemError.invalidField(r.field("accuracy"), "accuracy must be 0 or more metres, got \(a)")
        }
        altitude = try r.number("altitude")
        transport = try r.string("transport")
        if let t = transport, t.isEmpty || t.utf8.count > 64 {
            throw ItemError.invalidField(r.field("transport"), "transport must be 1 to 64 bytes long")
        }
    }

    /// As pushed (and as pulled, with `kind` and `deviceId`).
    public func json(deviceId: UUID? = nil) -> JSONValue {
        var o: [String: JSONValue] = [
            "kind": .string(ItemKind.position.rawValue),
            "id": .string(id.lowercasedText),
            "capturedAt": .string(capturedAt.description),
            "location": location.geoJSON,
        ]
        if let deviceId { o["deviceId"] = .string(deviceId.lowercasedText) }
        if let accuracy { o["accuracy"] = .number(accuracy) }
        if let altitude { o["altitude"] = .number(altitude) }
        if let transport { o["transport"] = .string(transport) }
        return .object(o)
    }
}
