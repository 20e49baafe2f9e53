/// A total order on JSON values, used only to make states deterministic when two
/// values carry the same dot with different contents (which a valid history never
/// produces, but a merge of arbitrary states must still handle commutatively).
enum JSONOrder {
    /// `-1`, `0` or `1` as `a` sorts before, with, or after `b`: by kind (null, boolean,
    /// number, string, array, object), then by content; strings and member names by
    /// UTF-8 bytes; numbers numerically, then by bit pattern (so `-0.0 ≠ 0.0`).
    static func compare(_ a: JSONValue, _ b: JSONValue) -> Int {
        let (ra, rb) = (rank(a), rank(b))
        if ra != rb { return ra < rb ? -1 : 1 }
        switch (a, b) {
        case let (.bool(x), .bool(y)):
            return x == y ? 0 : (x ? 1 : -1)
        case let (.number(x), .number(y)):
            if x < y { return -1 }
            if x > y { return 1 }
            return x.bitPattern == y.bitPattern ? 0 : (x.bitPattern < y.bitPattern ? -1 : 1)
        case let (.string(x), .string(y)):
            return bytewiseCompare(x, y)
        case let (.array(x), .array(y)):
            return compareSequences(x, y)
        case let (.object(x), .object(y)):
            let keysX = x.keys.sorted(by: bytewiseLess)
            let keysY = y.keys.sorted(by: bytewiseLess)
            for (kx, ky) in zip(keysX, keysY) {
                let byKey = bytewiseCompare(kx, ky)
                if byKey != 0 { return byKey }
                let byValue = compare(x[kx] ?? .null, y[ky] ?? .null)
                if byValue != 0 { return byValue }
            }
            return keysX.count == keysY.count ? 0 : (keysX.count < keysY.count ? -1 : 1)
        default:
            return 0
        }
    }

    private static func compareSequences(_ x: [JSONValue], _ y: [JSONValue]) -> Int {
        for (ex, ey) in zip(x, y) {
            let c = compare(ex, ey)
            if c != 0 { return c }
        }
        return x.count == y.count ? 0 : (x.count < y.count ? -1 : 1)
    }

    private static func rank(_ v: JSONValue) -> Int {
        switch v {
        case .null: 0
        case .bool: 1
        case .number: 2
        case .string: 3
        case .array: 4
        case .object: 5
        }
    }
}
