/// A strict JSON parser (RFC 8259) producing ``JSONValue``.
///
/// Stricter than Foundation where the protocol asks for it: NaN and Infinity are not
/// JSON, invalid UTF-8 is refused, and nesting deeper than ``maxDepth`` is refused
/// (every body the server reads goes through here, so a deeply nested body can't
/// exhaust the stack). Errors name the byte offset.
public struct JSONParser {
    /// Why a body was refused.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        public var offset: Int
        /// `true` when the body was refused for nesting deeper than the limit.
        public var tooDeep: Bool
        public var description: String { "\(message) at byte \(offset)" }
    }

    /// The deepest nesting of arrays and objects accepted.
    public static let maxDepth = 64

    /// Parses a whole document; trailing non-space bytes are an error.
    public static func parse(_ bytes: some Collection<UInt8>, maxDepth: Int = JSONParser.maxDepth) throws(Failure) -> JSONValue {
        let result: Result<JSONValue, Failure>? = bytes.withContiguousStorageIfAvailable { buffer in
            var p = Cursor(buffer: buffer, maxDepth: maxDepth)
            return Result { () throws(Failure) in try p.parseDocument() }
        }
        if let result { return try result.get() }
        let copy = Array(bytes)
        return try copy.withUnsafeBufferPointer { buffer throws(Failure) in
            var p = Cursor(buffer: buffer, maxDepth: maxDepth)
            return try p.parseDocument()
        }
    }

    /// Parses UTF-8 text (tests, CLI).
    public static func parse(_ text: String) throws(Failure) -> JSONValue {
        try parse(Array(text.utf8))
    }

    struct Cursor {
        let buffer: UnsafeBufferPointer<UInt8>
        let maxDepth: Int
        var i = 0
        var depth = 0

        init(buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
            self.buffer = buffer
            self.maxDepth = maxDepth
        }

        func fail(_ message: String, tooDeep: Bool = false) -> Failure {
            Failure(message: message, offset: i, tooDeep: tooDeep)
        }

        mutating func parseDocument() throws(Failure) -> JSONValue {
            skipSpace()
            if i == buffer.count { throw fail("empty body: expected a JSON value") }
            let value = try parseValue()
            skipSpace()
            if i != buffer.count { throw fail("unexpected data after the JSON value") }
            return value
        }

        mutating func skipSpace() {
            while i < buffer.count {
                switch buffer[i] {
                case 0x20, 0x0A, 0x0D, 0x09: i += 1
                default: return
                }
            }
        }

        mutating func parseValue() throws(Failure) -> JSONValue {
            guard i < buffer.count else { throw fail("unexpected end of JSON") }
            switch buffer[i] {
            case UInt8(ascii: "{"): return try parseObject()
            case UInt8(ascii: "["): return try parseArray()
            case UInt8(ascii: "\""): return .string(try parseString())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
            case UInt8(ascii: "N"): throw fail("NaN is not a JSON number")
            case UInt8(ascii: "I"): throw fail("Infinity is not a JSON number")
            default: throw fail("unexpected character '\(Unicode.Scalar(buffer[i]))'")
            }
        }

        mutating func literal(_ word: StaticString) throws(Failure) {
            let n = word.utf8CodeUnitCount
            guard i + n <= buffer.count else { throw fail("unexpected end of JSON") }
            let start = word.utf8Start
            for k in 0..<n where buffer[i + k] != start[k] {
                throw fail("invalid literal")
            }
            i += n
        }

        mutating func enter() throws(Failure) {
            depth += 1
            if depth > maxDepth { throw fail("nesting deeper than \(maxDepth) levels", tooDeep: true) }
        }

        mutating func parseObject() throws(Failure) -> JSONValue {
            try enter()
            i += 1
            skipSpace()
            if i < buffer.count, buffer[i] == UInt8(ascii: "}") {
                i += 1
                depth -= 1
                return .object([:])
            }
            // Room for a pushed item's members from the start: growing 1 → 2 → 4 → 8
            // rehashed every key three times (a push reads hundreds of objects).
            var members = [String: JSONValue](minimumCapacity: 8)
            while true {
                skipSpace()
                guard i < buffer.count, buffer[i] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
                let key = try parseString()
                skipSpace()
                guard i < buffer.count, buffer[i] == UInt8(ascii: ":") else { throw fail("expected ':' after key") }
                i += 1
                skipSpace()
                members[key] = try parseValue()
                skipSpace()
                guard i < buffer.count else { throw fail("unexpected end of JSON in object") }
                if buffer[i] == UInt8(ascii: ",") { i += 1; continue }
                if buffer[i] == UInt8(ascii: "}") { i += 1; break }
                throw fail("expected ',' or '}' in object")
            }
            depth -= 1
            return .object(members)
        }

        mutating func parseArray() throws(Failure) -> JSONValue {
            try enter()
            i += 1
            var elements: [JSONValue] = []
            skipSpace()
            if i < buffer.count, buffer[i] == UInt8(ascii: "]") {
                i += 1
                depth -= 1
                return .array(elements)
            }
            while true {
                skipSpace()
                elements.append(try parseValue())
                skipSpace()
                guard i < buffer.count else { throw fail("unexpected end of JSON in array") }
                if buffer[i] == UInt8(ascii: ",") { i += 1; continue }
                if buffer[i] == UInt8(ascii: "]") { i += 1; break }
                throw fail("expected ',' or ']' in array")
            }
            depth -= 1
            return .array(elements)
        }

        mutating func parseString() throws(Failure) -> String {
            i += 1
            let start = i
            var hasEscape = false
            var nonASCII = false
            while true {
                guard i < buffer.count else { throw fail("unterminated string") }
                let c = buffer[i]
                if c == UInt8(ascii: "\"") { break }
                if c == UInt8(ascii: "\\") {
                    hasEscape = true
                    i += 2
                    continue
                }
                if c < 0x20 { throw fail("control character in string") }
                if c >= 0x80 { nonASCII = true }
                i += 1
            }
            let end = i
            i += 1
            let raw = UnsafeBufferPointer(rebasing: buffer[start..<end])
            if !hasEscape {
                if !nonASCII { return String(decoding: raw, as: UTF8.self) }
                guard let s = String(validating: raw, as: UTF8.self) else {
                    i = start
                    throw fail("invalid UTF-8 in string")
                }
                return s
            }
            var out: [UInt8] = []
            out.reserveCapacity(raw.count)
            var k = 0
            while k < raw.count {
                let c = raw[k]
                if c != UInt8(ascii: "\\") { out.append(c); k += 1; continue }
                guard k + 1 < raw.count else { throw fail("bad escape") }
                let e = raw[k + 1]
                k += 2
                switch e {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    guard var scalar = hex4(raw, k) else { throw fail("bad \\u escape") }
                    k += 4
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard k + 6 <= raw.count, raw[k] == UInt8(ascii: "\\"), raw[k + 1] == UInt8(ascii: "u"),
                            let low = hex4(raw, k + 2), (0xDC00...0xDFFF).contains(low)
                        else { throw fail("unpaired surrogate in \\u escape") }
                        k += 6
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw fail("unpaired surrogate in \\u escape")
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw fail("bad \\u escape") }
                    out.append(contentsOf: Array(String(Character(u)).utf8))
                default:
                    throw fail("bad escape '\\\(Unicode.Scalar(e))'")
                }
            }
            guard let s = String(validating: out, as: UTF8.self) else { throw fail("invalid UTF-8 in string") }
            return s
        }

        func hex4(_ raw: UnsafeBufferPointer<UInt8>, _ at: Int) -> UInt32? {
            guard at + 4 <= raw.count else { return nil }
            var v: UInt32 = 0
            for k in at..<(at + 4) {
                let c = raw[k]
                let d: UInt32
                switch c {
                case 48...57: d = UInt32(c - 48)
                case 65...70: d = UInt32(c - 55)
                case 97...102: d = UInt32(c - 87)
                default: return nil
                }
                v = v * 16 + d
            }
            return v
        }

        mutating func parseNumber() throws(Failure) -> Double {
            let start = i
            if buffer[i] == UInt8(ascii: "-") { i += 1 }
            guard i < buffer.count else { throw fail("bad number") }
            if buffer[i] == UInt8(ascii: "I") { throw fail("Infinity is not a JSON number") }
            var intDigits = 0
            var small: Int64 = 0
            if buffer[i] == UInt8(ascii: "0") {
                i += 1
                intDigits = 1
            } else {
                while i < buffer.count, buffer[i] >= 48, buffer[i] <= 57 {
                    if intDigits < 18 { small = small * 10 + Int64(buffer[i] - 48) }
                    intDigits += 1
                    i += 1
                }
            }
            guard intDigits > 0 else { throw fail("bad number") }
            var simple = intDigits < 18
            if i < buffer.count, buffer[i] == UInt8(ascii: ".") {
                simple = false
                i += 1
                let fracStart = i
                while i < buffer.count, buffer[i] >= 48, buffer[i] <= 57 { i += 1 }
                if i == fracStart { throw fail("bad number: digits expected after '.'") }
            }
            if i < buffer.count, buffer[i] == UInt8(ascii: "e") || buffer[i] == UInt8(ascii: "E") {
                simple = false
                i += 1
                if i < buffer.count, buffer[i] == UInt8(ascii: "+") || buffer[i] == UInt8(ascii: "-") { i += 1 }
                let expStart = i
                while i < buffer.count, buffer[i] >= 48, buffer[i] <= 57 { i += 1 }
                if i == expStart { throw fail("bad number: digits expected in exponent") }
            }
            if simple {
                let v = Double(small)
                return buffer[start] == UInt8(ascii: "-") ? -v : v
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<i]), as: UTF8.self)
            guard let v = Double(text), v.isFinite else {
                i = start
                throw fail("number out of range")
            }
            return v
        }
    }
}
