import FieldSyncCore
import Foundation
import Testing

/// Wire and storage shapes: vectors as plain objects, conflict entries, push writes,
/// and a compact deterministic encoding of record states.
@Suite("Coding")
struct CodingTests {
    func decode<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(json.utf8))
    }

    func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    @Test("a version vector is a plain JSON object of counters")
    func vectorShape() throws {
        let v = try decode(VersionVector.self, #"{"server":3,"dev-a":2,"dev-c":0}"#)
        #expect(v == ["server": 3, "dev-a": 2])
        #expect(try encode(v) == #"{"dev-a":2,"server":3}"#)
        #expect(throws: DecodingError.self) { try decode(VersionVector.self, #"{"dev-a":-1}"#) }
        #expect(throws: DecodingError.self) { try decode(VersionVector.self, #"{"dev-a":"2"}"#) }
    }

    @Test("timestamps print as RFC 3339 UTC with milliseconds, the same text a calendar gives, and parse back")
    func timestampText() throws {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"
        var rng = SystemRandomNumberGenerator()
        // 1970 to 9999, plus the edges of days, years and the epoch.
        let samples =
            [0, 999, 1000, 86_399_999, 86_400_000, 951_782_400_000, 1_763_626_530_123, 253_402_300_799_999]
            + (0..<2000).map { _ in Int64.random(in: 0...253_402_300_799_999, using: &rng) }
        for ms in samples {
            let t = Timestamp(millisecondsSinceEpoch: ms)
            let expected = formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000 + 0.0001))
            #expect(t.description == expected, "\(ms)")
            #expect(Timestamp(rfc3339: t.description) == t, "\(ms)")
            var w = JSONWriter()
            w.write(timestamp: t)
            #expect(String(decoding: w.bytes, as: UTF8.self) == "\"\(expected)\"")
        }
        #expect(Timestamp(millisecondsSinceEpoch: -1).description == "1969-12-31T23:59:59.999Z")
    }

    @Test("integers are written in decimal, as Swift prints them")
    func integerText() {
        var rng = SystemRandomNumberGenerator()
        for v in [0, 1, -1, 9, 10, 99, 100, Int64.max, Int64.min] + (0..<500).map({ _ in Int64.random(in: .min ... .max, using: &rng) }) {
            var w = JSONWriter()
            w.write(integer: v)
            #expect(String(decoding: w.bytes, as: UTF8.self) == String(v))
        }
    }

    @Test("a conflict entry has value, replica, counter and editedAt; null is a value")
    func fieldValueShape() throws {
        let json = #"{"counter":7,"editedAt":"2026-11-20T08:15:30.123Z","replica":"dev-b","value":null}"#
        let v = try decode(FieldValue.self, json)
        #expect(v.value == .null)
        #expect(v.dot == Dot(replica: "dev-b", counter: 7))
        #expect(v.editedAt.description == "2026-11-20T08:15:30.123Z")
        #expect(try encode(v) == json)
        #expect(throws: DecodingError.self) {
            try decode(FieldValue.self, #"{"replica":"dev-b","counter":7,"editedAt":"2026-11-20T08:15:30.123Z"}"#)
        }
    }

    @Test("a push item decodes as a versioned write; an absent base is empty")
    func writeFromPushItem() throws {
        let item = #"""
            {"kind":"entity","id":"5b0c","entityTypeId":"t","orgUnitId":"o",
             "base":{"server":3,"dev-a":2},"replica":"dev-b","counter":7,
             "editedAt":"2026-11-20T08:15:30.123Z",
             "changes":{"name":"Amina","village":null}}
            """#
        let w = try decode(VersionedWrite.self, item)
        #expect(w.base == ["server": 3, "dev-a": 2])
        #expect(w.dot == Dot(replica: "dev-b", counter: 7))
        #expect(w.changes == ["name": .string("Amina"), "village": .null])
        let bare = try decode(
            VersionedWrite.self,
            #"{"replica":"dev-b","counter":1,"editedAt":"2026-11-20T08:15:30.123Z","changes":{}}"#)
        #expect(bare.base.isEmpty)
        #expect(throws: DecodingError.self) {
            try decode(VersionedWrite.self, #"{"replica":"dev-b","counter":1,"changes":{}}"#)
        }
        #expect(try decode(VersionedWrite.self, try encode(w)) == w)
    }

    @Test("a record state round-trips and equal states encode to the same bytes (with sorted keys)")
    func stateEncoding() throws {
        var one = RecordState()
        push(
            write("dev-a", 4, at: 1, ["village": .string("Debidwar"), "name": .string("Amina")]),
            write("dev-b", 7, at: 2, ["village": .string("Subil")]),
            onto: &one)
        var two = RecordState()
        push(
            write("dev-b", 7, at: 2, ["village": .string("Subil")]),
            write("dev-a", 4, at: 1, ["name": .string("Amina"), "village": .string("Debidwar")]),
            onto: &two)
        #expect(one == two)
        let text = try encode(one)
        #expect(text == (try encode(two)))
        let (t1, t2) = (time(1).description, time(2).description)
        #expect(
            text == """
                {"dots":{"dev-a":[4],"dev-b":[7]},"fields":{"name":[{"counter":4,"editedAt":"\(t1)","replica":"dev-a","value":"Amina"}],\
                "village":[{"counter":7,"editedAt":"\(t2)","replica":"dev-b","value":"Subil"},\
                {"counter":4,"editedAt":"\(t1)","replica":"dev-a","value":"Debidwar"}]},\
                "version":{"dev-a":4,"dev-b":7}}
                """)
        #expect(try decode(RecordState.self, text) == one)
    }

    @Test("decoding a stored state normalises its order")
    func decodeNormalises() throws {
        let stored = #"""
            {"fields":{"f":[{"value":1,"replica":"dev-a","counter":1,"editedAt":"2026-11-20T08:00:00.000Z"},
                            {"value":2,"replica":"dev-b","counter":1,"editedAt":"2026-11-20T09:00:00.000Z"}],
                       "empty":[]},
             "version":{"dev-a":1,"dev-b":1}}
            """#
        let state = try decode(RecordState.self, stored)
        #expect(state.fields["f"]?.map(\.replica) == ["dev-b", "dev-a"])
        #expect(state.fields["empty"] == nil)
    }
}
