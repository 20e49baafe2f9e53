/// Compact JSON serialisation of ``JSONValue`` and of hand-built documents.
///
/// Object keys are written sorted, so equal values serialise to equal bytes (the
/// server stores documents and compares answers byte-wise).
public struct JSONWriter {
    /// The bytes written so far.
    public var bytes: [UInt8] = []

    public init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    /// Serialises one value.
    public static func encode(_ value: JSONValue) -> [UInt8] {
        var w = JSONWriter()
        w.write(value)
        return w.bytes
    }

    /// Serialises one value as a `String`.
    public static func string(_ value: JSONValue) -> String {
        String(decoding: encode(value), as: UTF8.self)
    }

    public mutating func write(_ value: JSONValue) {
        switch value {
        case .null: raw("null")
        case .bool(let b): raw(b ? "true" : "false")
        case .number(let n): write(number: n)
        case .string(let s): write(string: s)
        case .array(let a):
            bytes.append(UInt8(ascii: "["))
            for (k, e) in a.enumerated() {
                if k > 0 { bytes.append(UInt8(ascii: ",")) }
                write(e)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let o):
            bytes.append(UInt8(ascii: "{"))
            // Members sorted by key (the canonical text batch digests hash: keep this order),
            // each written from the sorted pair rather than looked up again.
            for (k, member) in o.sorted(by: { $0.key < $1.key }).enumerated() {
                if k > 0 { bytes.append(UInt8(ascii: ",")) }
                write(string: member.key)
                bytes.append(UInt8(ascii: ":"))
                write(member.value)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    /// Appends ASCII text as is (for hand-built documents).
    public mutating func raw(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    /// Appends bytes that are already JSON.
    public mutating func raw(bytes more: some Sequence<UInt8>) {
        bytes.append(contentsOf: more)
    }

    /// Writes a finite number; integers up to 2^53 without a fraction.
    public mutating func write(number n: Double) {
        if !n.isFinite {
            raw("null")
        } else if n == n.rounded(), abs(n) < 9_007_199_254_740_992 {
            write(integer: Int64(n))
        } else {
            raw(n.description)
        }
    }

    /// Writes a timestamp as its quoted RFC 3339 text, without making a `String`.
    public mutating func write(timestamp t: Timestamp) {
        bytes.append(UInt8(ascii: "\""))
        t.withRFC3339Bytes { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Writes an integer in decimal, without making a `String`.
    public mutating func write(integer v: Int64) {
        if v < 0 { bytes.append(UInt8(ascii: "-")) }
        var m = v.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var start = 20
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(m % 10)
                m /= 10
            } while m > 0
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start..<20]))
        }
    }

    /// Writes a quoted, escaped string.
    public mutating func write(string s: String) {
        bytes.append(UInt8(ascii: "\""))
        var s = s
        // Runs of bytes that need no escaping are copied whole (most strings are one run).
        s.withUTF8 { utf8 in
            var start = 0
            var i = 0
            while i < utf8.count {
                // Eight bytes at a time while none of them needs escaping.
                if utf8.count - i >= 8, let base = utf8.baseAddress {
                    let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                    if !Self.needsEscape(word) {
                        i += 8
                        continue
                    }
                }
                let c = utf8[i]
                if c >= 0x20 && c != UInt8(ascii: "\"") && c != UInt8(ascii: "\\") {
                    i += 1
                    continue
                }
                if i > start { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<i])) }
                escape(c)
                i += 1
                start = i
            }
            if utf8.count > start { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<utf8.count])) }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Whether any of the eight bytes of `word` is below 0x20, a quote or a backslash
    /// (the classic "has a byte less than n" and "has a zero byte" bit tricks; bytes
    /// at or above 0x80 never match, so UTF-8 sequences pass whole).
    static func needsEscape(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let control = (word &- ones &* 0x20) & ~word & highs
        let q = word ^ (ones &* 0x22)
        let quote = (q &- ones) & ~q & highs
        let b = word ^ (ones &* 0x5C)
        let backslash = (b &- ones) & ~b & highs
        return (control | quote | backslash) != 0
    }

    private mutating func escape(_ c: UInt8) {
        switch c {
        case UInt8(ascii: "\""): raw("\\\"")
        case UInt8(ascii: "\\"): raw("\\\\")
        case 0x0A: raw("\\n")
        case 0x0D: raw("\\r")
        case 0x09: raw("\\t")
        default:
            let hex = Array("0123456789abcdef".utf8)
            raw("\\u00")
            bytes.append(hex[Int(c >> 4)])
            bytes.append(hex[Int(c & 0xF)])
        }
    }
}
