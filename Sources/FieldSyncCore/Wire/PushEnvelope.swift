import Foundation

/// The envelope of `POST /v1/sync/push`: `{"batchId","deviceId","projectId"?,"items":[…]}`.
///
/// Items stay raw JSON here: each is interpreted on its own, so a bad item is
/// rejected alone while the envelope's own problems fail the request (400).
public struct PushEnvelope: Sendable {
    public var batchId: UUID
    public var deviceId: UUID
    public var projectId: UUID?
    public var items: [JSONValue]

    public init(batchId: UUID, deviceId: UUID, projectId: UUID?, items: [JSONValue]) {
        self.batchId = batchId
        self.deviceId = deviceId
        self.projectId = projectId
        self.items = items
    }

    /// Reads the envelope; throws `invalid_request` naming the member at fault.
    public init(json: JSONValue) throws(ItemError) {
        let r = try ObjectReader(json, path: "")
        // No member of the envelope is nullable: `"projectId": null` is refused rather than
        // read as "not given" (which would pick the caller's only project silently).
        if let key = ["batchId", "deviceId", "projectId", "items"].first(where: { r.object[$0]?.isNull == true }) {
            throw ItemError.invalidRequest("\(key) must not be null; leave it out to mean \"not given\"", field: key)
        }
        batchId = try r.requiredUUID("batchId")
        deviceId = try r.requiredUUID("deviceId")
        projectId = try r.uuid("projectId")
        // Unchecked here: each item's text is checked by its own reader, so a bad item
        // is rejected alone.
        guard let items = try r.rawArray("items") else { throw ItemError.invalidRequest("items is required", field: "items") }
        self.items = items
    }

    /// The kind of the item at `index`, if it names a known one.
    public static func kind(of item: JSONValue) -> ItemKind? {
        item["kind"]?.stringValue.flatMap(ItemKind.init(rawValue:))
    }
}

/// The kinds of pushed items (and of pulled records).
public enum ItemKind: String, Sendable, Hashable, Codable, CaseIterable {
    case position
    case instance
    case entity
    case orgUnit
}

/// What happened to one pushed item.
public enum PushStatus: String, Sendable, Hashable, Codable {
    case created, updated, merged, conflict, unchanged, pending, rejected
}

/// One entry of the push answer's `results`, in the order items were sent.
public struct PushResult: Sendable, Hashable {
    public var id: String?
    public var kind: String?
    public var status: PushStatus
    /// The record's version after the write (absent for positions and rejected items).
    public var version: VersionVector?
    public var error: ItemError?
    /// For an org-unit proposal (`pending`): the change request it became.
    public var changeId: String?

    public init(id: String?, kind: String?, status: PushStatus, version: VersionVector? = nil, error: ItemError? = nil, changeId: String? = nil) {
        self.id = id
        self.kind = kind
        self.status = status
        self.version = version
        self.error = error
        self.changeId = changeId
    }

    /// A rejected item.
    public static func rejected(id: String?, kind: String?, _ error: ItemError) -> PushResult {
        PushResult(id: id, kind: kind, status: .rejected, error: error)
    }

    /// As a `JSONValue` (the answer itself is written by ``JSONWriter/write(result:)``).
    public var json: JSONValue {
        var o: [String: JSONValue] = ["status": .string(status.rawValue)]
        o["id"] = id.map(JSONValue.string) ?? .null
        o["kind"] = kind.map(JSONValue.string) ?? .null
        if let version { o["version"] = version.json }
        if let error { o["error"] = error.json }
        if let changeId { o["changeId"] = .string(changeId) }
        return .object(o)
    }

    /// Reads one entry of an answer's `results`; `nil` without a known `status`.
    public init?(json: JSONValue) {
        guard let s = json["status"]?.stringValue, let status = PushStatus(rawValue: s) else { return nil }
        self.init(
            id: json["id"]?.stringValue, kind: json["kind"]?.stringValue, status: status,
            version: json["version"].flatMap(VersionVector.init(json:)), error: json["error"].flatMap(ItemError.init(json:)),
            changeId: json["changeId"]?.stringValue)
    }
}

extension JSONWriter {
    /// One entry of a push answer's `results`, written straight from the result: the
    /// `JSONValue` route built a dictionary per result and one per version (a shared
    /// record's version names every device that wrote to it) and sorted their keys.
    public mutating func write(result r: PushResult) {
        raw("{\"status\":\"")
        raw(r.status.rawValue)
        raw("\",\"id\":")
        if let id = r.id { write(string: id) } else { raw("null") }
        raw(",\"kind\":")
        if let kind = r.kind { write(string: kind) } else { raw("null") }
        if let version = r.version {
            raw(",\"version\":")
            write(version: version)
        }
        if let error = r.error {
            raw(",\"error\":")
            write(error.json)
        }
        if let changeId = r.changeId {
            raw(",\"changeId\":")
            write(string: changeId)
        }
        raw("}")
    }
}
