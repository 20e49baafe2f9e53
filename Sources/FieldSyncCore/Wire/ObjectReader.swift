import Foundation

/// Reads typed members out of a JSON object, naming the exact place of any problem
/// (`items[3].location`) in the ``ItemError`` it throws.
///
/// This is the one place where text entering the server is checked: every string
/// it hands out, and every raw member (``value(_:)``, ``array(_:)``,
/// ``objectMember(_:)``) with all the strings and keys inside it, is free of NUL
/// (`\u0000`), the one character PostgreSQL refuses in `text` and `jsonb`. A value
/// holding one is `invalid_field` naming where it sits (`items[2].changes.village`),
/// so it never reaches a query (where it would fail the whole statement).
/// ``rawValue(_:)`` and ``rawArray(_:)`` skip the check for parts that are read by
/// their own readers later (the items of a push, each checked alone).
public struct ObjectReader: Sendable {
    public let object: [String: JSONValue]
    /// Where this object sits in the body, e.g. `items[3]`; empty for the top level.
    public let path: String
    /// The code of a missing member: `invalid_request` in an envelope or an
    /// administration body; `invalid_field` in a pushed item (the protocol rejects the
    /// item alone and keeps `invalid_request` for the envelope).
    public let missingCode: String

    /// Reads `value` as an object at `path`; `item` when it is a pushed item (a
    /// missing member or a non-object item is then `invalid_field`).
    public init(_ value: JSONValue, path: String, item: Bool = false) throws(ItemError) {
        missingCode = item ? ErrorCode.invalidField : ErrorCode.invalidRequest
        guard case .object(let o) = value else {
            throw ItemError(code: missingCode, message: "expected an object, got \(value.typeName)", field: path.isEmpty ? nil : path)
        }
        self.object = o
        self.path = path
    }

    /// The full path of a member.
    public func field(_ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    /// `key is required`, with this reader's code for a missing member.
    public func missing(_ key: String) -> ItemError {
        ItemError(code: missingCode, message: "\(key) is required", field: field(key))
    }

    /// `true` when the member is present (even as `null`).
    public func has(_ key: String) -> Bool { object[key] != nil }

    /// The member as it is, its text checked (see the type's notes).
    public func value(_ key: String) throws(ItemError) -> JSONValue? {
        guard let v = object[key] else { return nil }
        try Self.checkText(v, field: field(key))
        return v
    }

    /// The member as it is, unchecked: for a part read by its own reader later.
    public func rawValue(_ key: String) -> JSONValue? { object[key] }

    public func requiredValue(_ key: String) throws(ItemError) -> JSONValue {
        guard let v = try value(key) else { throw missing(key) }
        return v
    }

    public func string(_ key: String) throws(ItemError) -> String? {
        guard let v = object[key], !v.isNull else { return nil }
        guard case .string(let s) = v else {
            throw ItemError.invalidField(field(key), "\(key) must be a string, got \(v.typeName)")
        }
        if Self.containsNUL(s) { throw Self.nulError(field(key)) }
        return s
    }

    public func requiredString(_ key: String) throws(ItemError) -> String {
        guard let s = try string(key) else { throw missing(key) }
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
        guard let u = try uuid(key) else { throw missing(key) }
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

    public func requiredInteger(_ key: String) throws(ItemError) -> Int64 {
        guard let n = try integer(key) else { throw missing(key) }
        return n
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
            throw ItemError.invalidField(
                field(key), "\(key) must be an RFC 3339 time with milliseconds like 2026-11-20T08:15:30.123Z, got \"\(s.prefix(60))\"")
        }
        return t
    }

    public func requiredTimestamp(_ key: String) throws(ItemError) -> Timestamp {
        guard let t = try timestamp(key) else { throw missing(key) }
        return t
    }

    /// An array member, its text checked.
    public func array(_ key: String) throws(ItemError) -> [JSONValue]? {
        guard let a = try rawArray(key) else { return nil }
        try Self.checkText(.array(a), field: field(key))
        return a
    }

    /// An array member, unchecked: for elements read by their own readers later.
    public func rawArray(_ key: String) throws(ItemError) -> [JSONValue]? {
        guard let v = object[key], !v.isNull else { return nil }
        guard case .array(let a) = v else {
            throw ItemError.invalidField(field(key), "\(key) must be an array, got \(v.typeName)")
        }
        return a
    }

    /// An object member, its text (keys included) checked.
    public func objectMember(_ key: String) throws(ItemError) -> [String: JSONValue]? {
        guard let v = object[key], !v.isNull else { return nil }
        guard case .object(let o) = v else {
            throw ItemError.invalidField(field(key), "\(key) must be an object, got \(v.typeName)")
        }
        try Self.checkText(v, field: field(key))
        return o
    }

    // MARK: text

    /// `true` when `s` holds a NUL. Only strings with a `\u0000` escape can (the parser
    /// refuses raw control bytes), and this reads the string's own bytes, not the body.
    @inline(__always)
    public static func containsNUL(_ s: String) -> Bool {
        if let found = s.utf8.withContiguousStorageIfAvailable({ b -> Bool in
            guard let base = b.baseAddress, b.count > 0 else { return false }
            return memchr(base, 0, b.count) != nil
        }) {
            return found
        }
        return s.utf8.contains(0)
    }

    /// Throws `invalid_field` at the first string or object key inside `value` that
    /// PostgreSQL would refuse, naming it below `field` (`changes.village`, `fields[0].name`).
    /// Paths (`field` too) are built only for the one value at fault: a clean value costs a
    /// walk of its strings and no allocation.
    public static func checkText(_ value: JSONValue, field: @autoclosure () -> String) throws(ItemError) {
        var steps: [PathStep] = []
        guard findNUL(value, &steps) else { return }
        var path = field()
        var keyAtFault = false
        for (n, step) in steps.reversed().enumerated() {
            switch step {
            case .index(let k): path += "[\(k)]"
            case .member(let key): path = join(path, key)
            case .key(let key):
                path = join(path, printable(key))
                keyAtFault = n == steps.count - 1
            }
        }
        if keyAtFault {
            throw ItemError.invalidField(path, "member names must not contain the NUL character (\\u0000)")
        }
        throw nulError(path)
    }

    /// One step down into a JSON value, recorded (innermost first) when a NUL is found.
    enum PathStep {
        case index(Int)
        case member(String)
        /// The key itself holds the NUL.
        case key(String)
    }

    static func findNUL(_ value: JSONValue, _ steps: inout [PathStep]) -> Bool {
        switch value {
        case .null, .bool, .number: return false
        case .string(let s): return containsNUL(s)
        case .array(let a):
            for (k, v) in a.enumerated() {
                switch v {
                case .null, .bool, .number: continue
                default:
                    if findNUL(v, &steps) { steps.append(.index(k)); return true }
                }
            }
            return false
        case .object(let o):
            for (key, v) in o {
                if containsNUL(key) { steps.append(.key(key)); return true }
                switch v {
                case .null, .bool, .number: continue
                default:
                    if findNUL(v, &steps) { steps.append(.member(key)); return true }
                }
            }
            return false
        }
    }

    static func join(_ path: String, _ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    /// A name with its NULs written as `\u0000`, to name it in an error.
    static func printable(_ s: String) -> String {
        s.replacingOccurrences(of: "\u{0}", with: "\\u0000")
    }

    static func nulError(_ field: String) -> ItemError {
        ItemError.invalidField(field, "\(field.split(separator: ".").last.map(String.init) ?? field) must not contain the NUL character (\\u0000)")
    }
}
