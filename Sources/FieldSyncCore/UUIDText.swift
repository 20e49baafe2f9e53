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
    public init?(text: some StringProtocol) {
        var value: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let ok = withUnsafeMutableBytes(of: &value) { out -> Bool in
            var count = 0
            var high: UInt8? = nil
            var k = 0
            for c in text.utf8 {
                defer { count += 1 }
                if count == 8 || count == 13 || count == 18 || count == 23 {
                    guard c == UInt8(ascii: "-") else { return false }
                    continue
                }
                let nibble: UInt8
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = c - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = c - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = c - UInt8(ascii: "A") + 10
                default: return false
                }
                guard count < 36 else { return false }
                if let h = high {
                    out[k] = h << 4 | nibble
                    k += 1
                    high = nil
                } else {
                    high = nibble
                }
            }
            return count == 36 && k == 16
        }
        guard ok else { return nil }
        self.init(uuid: value)
    }
}
