import Testing

@testable import FieldSyncCore

/// `RecordState(stateText:)` reads stored states straight from their bytes; it must give
/// exactly what the general route (`JSONParser` then `init(stateJSON:)`) gives, for
/// every state and for text that is not quite the stored shape.
@Suite("Stored state text")
struct RecordStateTextTests {
    func general(_ text: String) -> RecordState? {
        (try? JSONParser.parse(text)).flatMap(RecordState.init(stateJSON:))
    }

    /// The direct reader alone (no fallback): `nil` when it handed the text on.
    func direct(_ text: String) -> RecordState? {
        var text = text
        return text.withUTF8 { buffer in
            var cursor = JSONParser.Cursor(buffer: buffer, maxDepth: JSONParser.maxDepth)
            return (try? cursor.parseStoredState()) ?? nil
        }
    }

    @Test("every state of random histories reads back equal from its stored text, by the direct reader", arguments: 0..<40)
    func roundTrip(seed: UInt64) {
        var state = RecordState()
        for w in HistoryGenerator.history(seed: seed, writes: 30) {
            _ = state.apply(w)
            let text = JSONWriter.string(state.stateJSON)
            #expect(direct(text) == state)
            #expect(RecordState(stateText: text) == state)
            #expect(RecordState(stateText: text) == general(text))
            // The direct writer: the same document, read back by the direct reader.
            #expect((try? JSONParser.parse(state.stateText)) == state.stateJSON)
            #expect(direct(state.stateText) == state)
        }
    }

    @Test("strings with escapes, unicode and every kind of value survive")
    func values() {
        let values: [JSONValue] = [
            .string("a \"quoted\" back\\slash\n\t and \u{1F600} and ক্যাম্প"), .number(-12.75), .number(1e21), .null,
            .array([.object(["x": .array([])]), .bool(false)]), .object([:]),
        ]
        for (k, value) in values.enumerated() {
            var state = RecordState()
            _ = state.apply(
                VersionedWrite(
                    base: VersionVector(), replica: "dev \"\(k)\"", counter: Int64(k + 1), editedAt: time(Int64(k)),
                    changes: ["f\u{e9}ld \\\(k)": value]))
            let text = JSONWriter.string(state.stateJSON)
            #expect(RecordState(stateText: text) == state, "\(text)")
            #expect((try? JSONParser.parse(state.stateText)) == state.stateJSON, "\(state.stateText)")
        }
    }

    @Test("text off the stored shape reads as the general route reads it")
    func unusualText() {
        let entry = #"{"value":"A","replica":"dev-a","counter":2,"editedAt":"2026-11-20T08:15:30.123Z"}"#
        let texts = [
            // other member orders and spacing
            #" { "version" : {"dev-a":2} , "fields" : {"name" : [ "# + entry + #" ] } } "#,
            #"{"fields":{"name":[{"editedAt":"2026-11-20T08:15:30.123Z","counter":2,"replica":"dev-a","value":"A"}]},"version":{"dev-a":2}}"#,
            // a value entry without a value (null), with an extra member, not an object, with a fractional counter
            #"{"fields":{"name":[{"replica":"dev-a","counter":2,"editedAt":"2026-11-20T08:15:30.123Z"}]},"version":{"dev-a":2}}"#,
            #"{"fields":{"name":[{"value":1,"extra":true,"replica":"dev-a","counter":2,"editedAt":"2026-11-20T08:15:30.123Z"}]},"version":{"dev-a":2}}"#,
            #"{"fields":{"name":[3, "# + entry + #"]},"version":{"dev-a":2}}"#,
            #"{"fields":{"name":[{"value":1,"replica":"dev-a","counter":2.5,"editedAt":"2026-11-20T08:15:30.123Z"}]},"version":{"dev-a":3}}"#,
            // duplicate keys (the last wins in the general route), an extra top-level member
            #"{"fields":{"name":[]},"fields":{"name":["# + entry + #"]},"version":{"dev-a":2}}"#,
            #"{"fields":{"name":["# + entry + #"]},"version":{"dev-a":1,"dev-a":2}}"#,
            #"{"fields":{"name":["# + entry + #"]},"version":{"dev-a":2},"note":"x"}"#,
            // not a state
            #"{"fields":{"name":["# + entry + #"]}}"#, #"{"version":{"dev-a":2}}"#, #"{"fields":{"name":"A"},"version":{}}"#,
            #"{"fields":{},"version":{"dev-a":-1}}"#, #"{"fields":{},"version":{"dev-a":2}} x"#, "", "null", "[]", #"{"fields":{"#,
            #"{"fields":{"name":[{"value":1,"replica":"dev-a","counter":2,"editedAt":"yesterday"}]},"version":{"dev-a":2}}"#,
        ]
        for text in texts {
            #expect(RecordState(stateText: text) == general(text), "\(text)")
        }
        #expect(RecordState(stateText: texts[0]) != nil)
        #expect(RecordState(stateText: texts[9]) == nil)
    }

    @Test(
        "with the dots first (jsonb's order), the vector is taken from them; lists out of precedence order and twice-held dots are still normalised")
    func dotsFirst() {
        let a2 = #"{"value":"A","replica":"dev-a","counter":2,"editedAt":"2026-11-20T08:15:30.123Z"}"#
        let b5 = #"{"value":"B","replica":"dev-b","counter":5,"editedAt":"2026-11-20T08:16:00.000Z"}"#
        let b5older = #"{"value":"C","replica":"dev-b","counter":5,"editedAt":"2026-11-20T08:10:00.000Z"}"#
        let dots = #""dots":{"dev-a":[1,2],"dev-b":[5]}"#
        let texts = [
            // jsonb's own spacing and order
            #"{"dots": {"dev-a": [1, 2], "dev-b": [5]}, "fields": {"name": ["# + b5 + ", " + a2 + #"]}, "version": {"dev-a": 2, "dev-b": 5}}"#,
            // values out of precedence order; one dot held twice (the one that takes precedence stays)
            "{" + dots + #","fields":{"name":["# + a2 + "," + b5 + #"]},"version":{"dev-a":2,"dev-b":5}}"#,
            "{" + dots + #","fields":{"name":["# + b5older + "," + a2 + "," + b5 + #"]},"version":{"dev-a":2,"dev-b":5}}"#,
            // an empty field is dropped
            "{" + dots + #","fields":{"name":["# + a2 + #"],"gone":[]},"version":{"dev-a":2,"dev-b":5}}"#,
            // a vector that is not whole numbers, a duplicate vector, an escaped key: the general route decides
            "{" + dots + #","fields":{"name":["# + a2 + #"]},"version":{"dev-a":2.5,"dev-b":5}}"#,
            "{" + dots + #","fields":{"name":["# + a2 + #"]},"version":{"dev-a":2,"dev-b":5},"version":{"dev-a":2,"dev-b":5}}"#,
            "{" + dots + #","fields":{"name":["# + a2 + #"]},"version":{"dev\u002da":2,"dev-b":5}}"#,
            "{" + dots + #","fields":{"name":["# + a2 + #"]},"version":{"dev-a":-2,"dev-b":5}}"#,
        ]
        for text in texts {
            #expect(RecordState(stateText: text) == general(text), "\(text)")
        }
        let read = RecordState(stateText: texts[2])
        #expect(read?.fields["name"]?.map(\.value) == [.string("B"), .string("A")])
        #expect(read?.version == ["dev-a": 2, "dev-b": 5])
        #expect(direct(texts[0]) != nil, "jsonb's text is read by the direct reader")
        #expect(RecordState(stateText: texts[3])?.fields["gone"] == nil)
    }
}
