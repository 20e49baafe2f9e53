import Foundation

/// A pushed `entity` or `instance` item: a versioned write plus the kind's fixed
/// attributes (set by the creating write; later writes may omit them).
public struct VersionedItem: Sendable {
    public var kind: ItemKind
    public var id: UUID
    public var write: VersionedWrite
    /// Fixed attributes present in the item, by wire name (`entityTypeId`, `orgUnitId`,
    /// `formId`, `formVersion`, `entityId`, `period`, `location`).
    public var fixed: [String: JSONValue]
    /// For instances: `attachments:[{"name","sha256","size","contentType"}]`.
    public var attachments: [Attachment]?
    /// Where the item sits in the body (`items[3]`).
    public var path: String

    /// An attachment an instance lists.
    public struct Attachment: Sendable, Hashable {
        public var name: String
        public var sha256: String
        public var size: Int64
        public var contentType: String?

        public init(name: String, sha256: String, size: Int64, contentType: String?) {
            self.name = name
            self.sha256 = sha256
            self.size = size
            self.contentType = contentType
        }

        public var json: JSONValue {
            var o: [String: JSONValue] = ["name": .string(name), "sha256": .string(sha256), "size": .number(Double(size))]
            if let contentType { o["contentType"] = .string(contentType) }
            return .object(o)
        }
    }

    /// The fixed attributes of each kind.
    public static func fixedAttributes(of kind: ItemKind) -> [String] {
        switch kind {
        case .entity: ["entityTypeId", "orgUnitId"]
        case .instance: ["formId", "formVersion", "orgUnitId", "entityId", "period", "location"]
        case .orgUnit, .position: []
        }
    }

    /// Reads the item at `path`; `replica` must be the pushing device. A missing member,
    /// one of the wrong type, or text PostgreSQL refuses is `invalid_field` naming it.
    public init(json: JSONValue, kind: ItemKind, path: String, device: UUID) throws(ItemError) {
        let r = try ObjectReader(json, path: path, item: true)
        self.kind = kind
        self.path = path
        id = try r.requiredUUID("id")
        let sent = try r.requiredString("replica")
        let deviceText = device.lowercasedText
        // Devices send their id in lower case: that text is used as it is, without making
        // a lower-cased copy per item.
        let replica = sent == deviceText ? deviceText : sent.lowercased()
        guard replica == deviceText else {
            throw ItemError(
                code: ErrorCode.invalidVersion, message: "replica must be the pushing device \(device.lowercasedText), got \"\(sent.prefix(60))\"",
                field: r.field("replica"))
        }
        let counter = try r.requiredInteger("counter")
        guard counter >= 1 else { throw ItemError.invalidField(r.field("counter"), "counter must be 1 or more, got \(counter)") }
        let editedAt = try r.requiredTimestamp("editedAt")
        guard let changes = try r.objectMember("changes") else { throw r.missing("changes") }
        var base = VersionVector()
        if let b = try r.value("base"), !b.isNull {
            guard case .object = b else { throw ItemError.invalidField(r.field("base"), "base must be an object, got \(b.typeName)") }
            guard let v = VersionVector(json: b) else {
                throw ItemError(
                    code: ErrorCode.invalidVersion, message: "base must be an object of replica → whole number ≥ 0", field: r.field("base"))
            }
            base = v
        }
        if let deleted = changes["deleted"], deleted.boolValue == nil {
            throw ItemError.invalidField("\(r.field("changes")).deleted", "deleted must be true or false")
        }
        write = VersionedWrite(base: base, replica: replica, counter: counter, editedAt: editedAt, changes: changes)
        var fixed: [String: JSONValue] = [:]
        for name in Self.fixedAttributes(of: kind) {
            guard let v = try r.value(name), !v.isNull else { continue }
            switch name {
            case "location":
                fixed[name] = try GeoPoint(geoJSON: v, field: r.field(name)).geoJSON
            case "formId", "formVersion", "period":
                guard let s = v.stringValue, !s.isEmpty else { throw ItemError.invalidField(r.field(name), "\(name) must be a non-empty string") }
                fixed[name] = .string(s)
            default:
                guard let s = v.stringValue, let u = UUID(text: s) else { throw ItemError.invalidField(r.field(name), "\(name) must be a UUID") }
                fixed[name] = .string(u.lowercasedText)
            }
        }
        self.fixed = fixed
        if kind == .instance, let list = try r.array("attachments") {
            var out: [Attachment] = []
            for (k, a) in list.enumerated() {
                let ar = try ObjectReader(a, path: r.field("attachments[\(k)]"), item: true)
                let sha = try ar.requiredString("sha256").lowercased()
                guard sha.utf8.count == 64, sha.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
                    throw ItemError.invalidField(ar.field("sha256"), "sha256 must be 64 hex digits")
                }
                guard let size = try ar.integer("size"), size >= 0 else {
                    throw ItemError.invalidField(ar.field("size"), "size must be a whole number ≥ 0")
                }
                out.append(Attachment(name: try ar.requiredString("name"), sha256: sha, size: size, contentType: try ar.string("contentType")))
            }
            attachments = out
        } else {
            attachments = nil
        }
    }

    /// A fixed attribute as a UUID.
    public func uuid(_ name: String) -> UUID? {
        fixed[name]?.stringValue.flatMap(UUID.init(text:))
    }
}
