import FieldSyncCore
import Testing

@Suite("JSON string escaping")
struct JSONStringEscapingTests {
    @Test(
        "quotes, backslashes and control characters are escaped; everything else, multi-byte text included, passes through; the parser reads it back")
    func roundTrip() throws {
        let samples = [
            "", "plain", "say \"hi\"", "back\\slash", "tab\tnew\nline\rret", "\u{01}\u{1f}", "বাংলাদেশ", "mixed \"বা\"\n\\",
            String(repeating: "x", count: 5000) + "\"",
        ]
        for s in samples {
            var w = JSONWriter()
            w.write(string: s)
            let text = String(decoding: w.bytes, as: UTF8.self)
            #expect(try JSONParser.parse(w.bytes) == .string(s), "\(text)")
        }
        var w = JSONWriter()
        w.write(string: "a\"b\\c\n\u{01}")
        #expect(String(decoding: w.bytes, as: UTF8.self) == #""a\"b\\c\n\u0001""#)
    }

    @Test("a byte that needs escaping is found wherever it sits in a long string (the writer scans eight bytes at a time)")
    func everyPosition() throws {
        let specials: [String] = ["\"", "\\", "\n", "\u{00}", "\u{1f}", "\u{7f}", "é", "বা"]
        for length in [1, 7, 8, 9, 15, 16, 17, 33] {
            for position in 0..<length {
                for special in specials {
                    var chars = Array(repeating: "a", count: length)
                    chars[position] = special
                    let s = chars.joined()
                    var w = JSONWriter()
                    w.write(string: s)
                    #expect(try JSONParser.parse(w.bytes) == .string(s), "\(String(decoding: w.bytes, as: UTF8.self))")
                    let text = String(decoding: w.bytes, as: UTF8.self)
                    #expect(!text.dropFirst().dropLast().unicodeScalars.contains { $0.value < 0x20 }, "unescaped control in \(text)")
                }
            }
        }
    }
}
