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
}
