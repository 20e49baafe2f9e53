import Foundation

/// UUIDs as text without Foundation's `uuidString` / `UUID(uuidString:)`, which format
/// and parse through sprintf and sscanf: together about 6% of the server's CPU on a push
/// of 100 entity writes (perf, 2026-11-21). Every id on the wire is a UUID.
extension UUID {
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// The canonical lower-case text, `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
    public var lowercasedText: String {
        withUnsafeBytes(of: uuid) { raw in
            String(unsafeUninitializedCapacity: 36) { out in
                var j = 0
                for i in 0..<16 {
                    if i == 4 || i == 6 || i == 8 || i == 10 {
                        out[j] = UInt8(ascii: "-")
                        j += 1
                    }
                    out[j] = Self.hexDigits[Int(raw[i] >> 4)]
                    out[j + 1] = Self.hexDigits[Int(raw[i] & 0x0F)]
                    j += 2
                }
                return 36
            }
        }
    }

    /// Parses the canonical text (36 characters, hex digits in either case, dashes after
    /// the 8th, 12th, 16th and 20th digit), the only form `UUID(uuidString:)` accepts too;
    /// `nil` for anything else.
    public init?(text: String) {
        var text = text
        guard let value = text.withUTF8(Self.parse) else { return nil }
        self.init(uuid: value)
    }

    /// ``init(text:)-(String)`` for a substring.
    public init?(text: Substring) {
        var text = text
        guard let value = text.withUTF8(Self.parse) else { return nil }
        self.init(uuid: value)
    }

    /// The bytes of a canonical UUID text (a non-generic loop over contiguous UTF-8: the
    /// generic `StringProtocol` version was not specialised across modules and cost ~2%
    /// of the server's CPU on a push).
    static func parse(_ utf8: UnsafeBufferPointer<UInt8>) -> uuid_t? {
        guard utf8.count == 36 else { return nil }
        var value: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let ok = withUnsafeMutableBytes(of: &value) { out -> Bool in
            var k = 0
            var i = 0
            while i < 36 {
                if i == 8 || i == 13 || i == 18 || i == 23 {
                    guard utf8[i] == UInt8(ascii: "-") else { return false }
                    i += 1
                    continue
                }
                guard let high = nibble(utf8[i]), let low = nibble(utf8[i + 1]) else { return false }
                out[k] = high << 4 | low
                k += 1
                i += 2
            }
            return true
        }
        return ok ? value : nil
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
