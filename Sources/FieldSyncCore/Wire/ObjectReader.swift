import Foundation

/// Reads typed members out of a JSON object, naming the exact place of any problem
/// (`items[3].location`) in the ``ItemError`` it throws.
public struct ObjectReader: Sendable {
    public let object: [String: JSONValue]
    /// Where this object sits in the body, e.g. `items[3]`; empty for the top level.
    public let path: String

    public init(_ value: JSONValue, path: String) throws(ItemError) {
        guard case .object(let o) = value else {
            throw ItemError.invalidRequest("expected an object, got \(value.typeName)", field: path.isEmpty ? nil : path)
        }
        self.object = o
        self.path = path
    }

    /// The full path of a member.
    public func field(_ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    /// `true` when the member is present (even as `null`).
    public func has(_ key: String) -> Bool { object[key] != nil }

    public func value(_ key: String) -> JSONValue? { object[key] }

    public func requiredValue(_ key: String) throws(ItemError) -> JSONValue {
        guard let v = object[key] else {
            throw ItemError.invalidRequest("\(key) is required", field: field(key))
        }
        return v
    }

    public func string(_ key: String) throws(ItemError) -> String? {
        guard let v = object[key], !v.isNull else { return nil }
        guard case .string(let s) = v else {
            throw ItemError.invalidField(field(key), "\(key) must be a string, got \(v.typeName)")
        }
        return s
    }

    public func requiredString(_ key: String) throws(ItemError) -> String {
        guard let s = try string(key) else {
            throw ItemError.invalidRequest("\(key) is required", field: field(key))
        }
        return s
    }

    public func uuid(_ key: String) throws(ItemError) -> UUID? {
        guard let s = try string(key) else { return nil }
        guard let u = UUID(text: s) else {
            throw ItemError.invalidField(field(key), "\(key) must be a UUID, got \"\(s.prefix(60))\"")
        }
        return u
    }

    public func requiredUUID(_ key: String) throws(ItemError) -> UUID {
        guard let u = try uuid(key) else {
            throw ItemError.invalidRequest("\(key) is required", field: field(key))
        }
        return u
    }

    public func number(_ key: String) throws(ItemError) -> Double? {
        guard let v = object[key], !v.isNull else { return nil }
        guard case .number(let n) = v else {
            throw ItemError.invalidField(field(key), "\(key) must be a number, got \(v.typeName)")
        }
        return n
    }

    public func integer(_ key: String) throws(ItemError) -> Int64? {
        guard let n = try number(key) else { return nil }
        guard n == n.rounded(), abs(n) < 9_007_199_254_740_992 else {
            throw ItemError.invalidField(field(key), "\(key) must be an integer, got \(n)")
        }
        return Int64(n)
    }

    public func bool(_ key: String) throws(ItemError) -> Bool? {
        guard let v = object[key], !v.isNull else { return nil }
        guard case .bool(let b) = v else {
            throw ItemError.invalidField(field(key), "\(key) must be a boolean, got \(v.typeName)")
        }
        return b
    }

    public func timestamp(_ key: String) throws(ItemError) -> Timestamp? {
        guard let s = try string(key) else { return nil }
        guard let t = Timestamp(rfc3339: s) else {
            throw ItemError.invalidField(field(key), "\(key) must be an RFC 3339 time with milliseconds like 2026-11-20T08:15:30.123Z, got \"\(s.prefix(60))\"")
        }
        return t
    }

    public func requiredTimestamp(_ key: String) throws(ItemError) -> Timestamp {
        guard let t = try timestamp(key) else {
            throw ItemError.invalidRequest("\(key) is required", field: field(key))
        }
        return t
    }

    public func array(_ key: String) throws(ItemError) -> [JSONValue]? {
        guard let v = object[key], !v.isNull else { return nil }
        guard case .array(let a) = v else {
            throw ItemError.invalidField(field(key), "\(key) must be an array, got \(v.typeName)")
        }
        return a
    }

    public func objectMember(_ key: String) throws(ItemError) -> [String: JSONValue]? {
        guard let v = object[key], !v.isNull else { return nil }
        guard case .object(let o) = v else {
            throw ItemError.invalidField(field(key), "\(key) must be an object, got \(v.typeName)")
        }
        return o
    }
}
