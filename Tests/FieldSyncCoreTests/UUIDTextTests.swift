import FieldSyncCore
import Foundation
import Testing

@Suite("UUID text")
struct UUIDTextTests {
    @Test("formatting and parsing agree with Foundation for random ids, in both cases")
    func agreesWithFoundation() {
        for _ in 0..<2000 {
            let id = UUID()
            #expect(id.lowercasedText == id.uuidString.lowercased())
            #expect(UUID(text: id.uuidString) == id)
            #expect(UUID(text: id.uuidString.lowercased()) == id)
        }
        #expect(UUID(text: "00000000-0000-0000-0000-000000000000")?.lowercasedText == "00000000-0000-0000-0000-000000000000")
    }

    @Test("anything but the canonical form is refused (Foundation also takes braces; ids on the wire never have them)")
    func refusesOtherForms() {
        let good = "0c000000-0000-4000-8000-000000000001"
        let bad = [
            "", "0c000000000040008000000000000001", good + "0", String(good.dropLast()), "0c000000-0000-4000-8000_000000000001",
            "0g000000-0000-4000-8000-000000000001", " 0c000000-0000-4000-8000-00000000001", "{0c000000-0000-4000-8000-000000000001}",
            "0c0000000-000-4000-8000-000000000001", "é0000000-0000-4000-8000-000000000001",
        ]
        for text in bad {
            #expect(UUID(text: text) == nil, "\(text)")
        }
    }
}
