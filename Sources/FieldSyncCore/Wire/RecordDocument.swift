import Foundation

extension VersionVector {
    /// `{"server":3,"dev-b":7}`.
    public var json: JSONValue {
        .object(entries.mapValues { .number(Double($0)) })
    }

    /// Reads a version vector; `nil` when a counter is not a whole number ≥ 0.
    public init?(json: JSONValue) {
        guard case .object(let o) = json else { return nil }
        var entries: [String: Int64] = [:]
        for (k, v) in o {
            guard case .number(let n) = v, n >= 0, n == n.rounded(), n < 9_007_199_254_740_992 else { return nil }
            if n > 0 { entries[k] = Int64(n) }
        }
        self.init(entries)
    }
}

extension FieldValue {
    /// A conflict entry: `{"value","replica","counter","editedAt"}`.
    public var json: JSONValue {
        .object([
            "value": value, "replica": .string(replica), "counter": .number(Double(counter)),
            "editedAt": .string(editedAt.description),
        ])
    }

    public init?(json: JSONValue) {
        guard let replica = json["replica"]?.stringValue, let counter = json["counter"]?.numberValue,
            counter >= 0, counter == counter.rounded(), counter < 9_007_199_254_740_992,
            let at = json["editedAt"]?.stringValue.flatMap(Timestamp.init(rfc3339:))
        else { return nil }
        self.init(value: json["value"] ?? .null, replica: replica, counter: Int64(counter), editedAt: at)
    }
}

extension RecordState {
    /// The stored form: every field's values with their dots, the vector, and the
    /// exact set of dots applied (`"dots":{"dev-a":[3,9]}`).
    public var stateJSON: JSONValue {
        .object([
            "fields": .object(fields.mapValues { .array($0.map(\.json)) }),
            "version": version.json,
            "dots": .object(applied.counters.mapValues { .array($0.map { .number(Double($0)) }) }),
        ])
    }

    /// Reads ``stateJSON`` (a state stored without `dots` gets the applied set its values
    /// and vector prove; see ``init(fields:version:applied:)``).
    public init?(stateJSON: JSONValue) {
        guard let version = stateJSON["version"].flatMap(VersionVector.init(json:)),
            case .object(let f)? = stateJSON["fields"]
        else { return nil }
        var fields: [String: [FieldValue]] = [:]
        for (name, values) in f {
            guard case .array(let a) = values else { return nil }
            fields[name] = a.compactMap(FieldValue.init(json:))
        }
        var counters: [String: [Int64]] = [:]
        if let d = stateJSON["dots"] {
            guard case .object(let o) = d else { return nil }
            for (replica, list) in o {
                guard case .array(let a) = list else { return nil }
                var out: [Int64] = []
                for n in a {
                    guard case .number(let x) = n, x >= 1, x == x.rounded(), x < 9_007_199_254_740_992 else { return nil }
                    out.append(Int64(x))
                }
                counters[replica] = out
            }
        }
        self.init(fields: fields, version: version, applied: AppliedDots(counters: counters))
    }

    /// The pull RECORD: `kind`, `id`, the fixed attributes, `fields` (visible values),
    /// `version`, and `conflicts` for fields holding two or more values.
    public func recordDocument(kind: ItemKind, id: UUID, attributes: [String: JSONValue]) -> JSONValue {
        var o = attributes
        o["kind"] = .string(kind.rawValue)
        o["id"] = .string(id.lowercasedText)
        o["fields"] = .object(visibleFields())
        o["version"] = version.json
        let c = conflicts()
        if !c.isEmpty {
            o["conflicts"] = .object(c.mapValues { .array($0.map(\.json)) })
        }
        return .object(o)
    }
}
