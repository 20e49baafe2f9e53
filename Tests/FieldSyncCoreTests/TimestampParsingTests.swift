import FieldSyncCore
import Foundation
import Testing

/// RFC 3339 parsing as the contract words it (PROTOCOL.md: 1 to 9 fraction digits and any
/// offset accepted, milliseconds kept), and that no text or number traps: a push with
/// `capturedAt: "2026-11-20T08:14:02.1234Z"` used to kill the server (issue 12, finding 1).
///
/// Expected instants come from Foundation's Gregorian calendar, not from `Timestamp`.
@Suite("Timestamp parsing")
struct TimestampParsingTests {
    /// Milliseconds since the epoch of a wall-clock time at `offsetSeconds` east of UTC
    /// (RFC 3339: the local time minus its offset is UTC). Foundation's time zones stop
    /// at ±18 h, so the offset is subtracted here rather than given to the calendar.
    func calendarMilliseconds(
        _ year: Int, _ month: Int, _ day: Int, _ hour: Int, _ minute: Int, _ second: Int,
        millis: Int, offsetSeconds: Int = 0
    ) -> Int64? {
        var calendar = Calendar(identifier: .gregorian)
        guard let utc = TimeZone(identifier: "UTC") else { return nil }
        calendar.timeZone = utc
        let components = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        guard let date = calendar.date(from: components) else { return nil }
        return (Int64(date.timeIntervalSince1970.rounded()) - Int64(offsetSeconds)) * 1000 + Int64(millis)
    }

    @Test("1 to 9 fraction digits parse, keeping the milliseconds (the 4-to-9 cases trapped)")
    func everyFractionLength() {
        let fraction = "987654321"
        for length in 1...9 {
            let digits = String(fraction.prefix(length))
            let text = "2026-11-20T08:14:02.\(digits)Z"
            // The first three digits, padded with zeros on the right: .9 -> 900, .98 -> 980.
            let millis = Int(String((digits + "00").prefix(3))) ?? -1
            let expected = calendarMilliseconds(2026, 11, 20, 8, 14, 2, millis: millis)
            #expect(expected != nil)
            #expect(Timestamp(rfc3339: text)?.millisecondsSinceEpoch == expected, "\(text)")
        }
        #expect(Timestamp(rfc3339: "2026-11-20T08:14:02.1234Z")?.description == "2026-11-20T08:14:02.123Z")
        #expect(Timestamp(rfc3339: "2026-11-20T08:14:02.000000001Z")?.description == "2026-11-20T08:14:02.000Z")
        #expect(Timestamp(rfc3339: "2026-11-20T08:14:02.999999999Z")?.description == "2026-11-20T08:14:02.999Z")
    }

    @Test("any numeric offset is applied and the time answered in UTC")
    func offsets() {
        let cases: [(String, Int)] = [
            ("+03:00", 3 * 3600), ("-05:30", -(5 * 3600 + 30 * 60)), ("+23:59", 23 * 3600 + 59 * 60),
            ("-23:59", -(23 * 3600 + 59 * 60)), ("+00:00", 0), ("-00:00", 0), ("+05:45", 5 * 3600 + 45 * 60),
        ]
        for (suffix, seconds) in cases {
            let text = "2026-11-20T11:15:30.123456\(suffix)"
            let expected = calendarMilliseconds(2026, 11, 20, 11, 15, 30, millis: 123, offsetSeconds: seconds)
            #expect(expected != nil)
            #expect(Timestamp(rfc3339: text)?.millisecondsSinceEpoch == expected, "\(text)")
        }
        #expect(Timestamp(rfc3339: "2026-11-20T11:15:30.123456+03:00")?.description == "2026-11-20T08:15:30.123Z")
        #expect(Timestamp(rfc3339: "2026-12-31T23:30:00.5-01:00")?.description == "2027-01-01T00:30:00.500Z")
        #expect(Timestamp(rfc3339: "2026-11-20t08:14:02.1z")?.description == "2026-11-20T08:14:02.100Z")
    }

    @Test(
        "malformed times are refused, never a trap",
        arguments: [
            "", "2026", "2026-11-20T08:14:02Z", "2026-11-20T08:14:02.Z", "2026-11-20T08:14:02.1234567890Z",
            "2026-11-20T08:14:02." + String(repeating: "1", count: 10_000) + "Z",
            "2026-11-20T08:14:02." + String(repeating: "9", count: 40) + "+03:00",
            "2026-11-20T08:14:02.123", "2026-11-20T08:14:02.123+03", "2026-11-20T08:14:02.123+03:0",
            "2026-11-20T08:14:02.123+0300", "2026-11-20T08:14:02.123+24:00", "2026-11-20T08:14:02.123+03:60",
            "2026-11-20T08:14:02.123Zjunk", "2026-11-20T08:14:02.123+03:00:00", "2026-11-20 08:14:02.123Z",
            "2026-13-20T08:14:02.123Z", "2026-00-20T08:14:02.123Z", "2027-02-29T08:14:02.123Z",
            "2026-11-31T08:14:02.123Z", "2026-11-00T08:14:02.123Z", "2026-11-20T24:00:00.000Z",
            "2026-11-20T08:60:02.123Z", "2026-11-20T08:14:60.123Z", "-026-11-20T08:14:02.123Z",
            "+2026-11-20T08:14:02.123Z", "2026-11-20T08:14:02.-123Z", "2026-11-20T08:14:02.12a3Z",
            "２026-11-20T08:14:02.123Z", "2026-11-20T08:14:02.123\u{0}Z", "2026-11-20T08:14:02.123Z\u{0}",
            // Instants that UTC cannot write with a four-digit year.
            "0000-01-01T00:00:00.000+00:01", "9999-12-31T23:59:59.999-00:01",
        ])
    func refused(text: String) {
        #expect(Timestamp(rfc3339: text) == nil, "\(text.prefix(80))")
    }

    @Test("the first and last instants with four-digit years parse and print back")
    func yearEdges() {
        #expect(Timestamp(rfc3339: "0000-01-01T00:00:00.000Z") == Timestamp.earliest)
        #expect(Timestamp(rfc3339: "9999-12-31T23:59:59.999Z") == Timestamp.latest)
        #expect(Timestamp(rfc3339: "0000-01-01T01:00:00.000+01:00") == Timestamp.earliest)
        #expect(Timestamp.earliest.description == "0000-01-01T00:00:00.000Z")
        #expect(Timestamp.latest.description == "9999-12-31T23:59:59.999Z")
        #expect(Timestamp(rfc3339: "2000-02-29T12:00:00.0Z") != nil)
        #expect(Timestamp(rfc3339: "1900-02-29T12:00:00.0Z") == nil)
    }

    @Test("any number of milliseconds prints without trapping (Int64.min overflowed the floor division)")
    func extremeMilliseconds() {
        // Time of day by floor division done here in Int128-free steps: the remainder of
        // Int64.min by 1000 is -808, so its milliseconds are 192 and its second is one earlier.
        #expect(Timestamp(millisecondsSinceEpoch: .min).description.hasSuffix(".192Z"))
        #expect(Timestamp(millisecondsSinceEpoch: .max).description.hasSuffix(".807Z"))
        let extremes: [Int64] = [
            Int64.min, Int64.min + 1, Int64.min + 999, Int64.min + 1000, Int64.max, Int64.max - 999, -1, -86_400_000, -86_400_001,
        ]
        for ms in extremes {
            let text = Timestamp(millisecondsSinceEpoch: ms).description
            #expect(text.hasSuffix("Z") && text.utf8.count <= 32, "\(ms): \(text)")
            var w = JSONWriter()
            w.write(timestamp: Timestamp(millisecondsSinceEpoch: ms))
            #expect(w.bytes.count == text.utf8.count + 2)
        }
        #expect(Timestamp(millisecondsSinceEpoch: -86_400_001).description == "1969-12-30T23:59:59.999Z")
    }

    @Test("mangled times never trap, and whatever parses prints and parses back to itself")
    func mangled() {
        var rng = SplitMix64(seed: 12)
        let seeds = ["2026-11-20T08:14:02.1234Z", "2026-11-20T11:15:30.123456+03:00", "0000-01-01T00:00:00.000Z"]
        let alphabet = Array("0123456789.:+-TZtz 9".utf8)
        for n in 0..<20_000 {
            var bytes = Array(seeds[n % seeds.count].utf8)
            for _ in 0...(Int(rng.next() % 3)) {
                let at = Int(rng.next() % UInt64(bytes.count))
                let byte = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                switch rng.next() % 3 {
                case 0: bytes[at] = byte
                case 1: bytes.insert(byte, at: at)
                default: if bytes.count > 1 { bytes.remove(at: at) }
                }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            if let t = Timestamp(rfc3339: text) {
                #expect(Timestamp(rfc3339: t.description) == t, "\(text)")
            }
        }
    }

    @Test("a pushed position with 4 fraction digits is read; one with 10 names capturedAt")
    func pushedItems() throws {
        func item(_ capturedAt: String) throws -> JSONValue {
            try JSONParser.parse(
                #"""
                {"kind":"position","id":"5f0c2a0e-3b9d-4c41-9a7e-0d6c1f2b8a11","capturedAt":"\#(capturedAt)",
                 "location":{"type":"Point","coordinates":[90.4125,23.8103]}}
                """#)
        }
        let read = try PositionItem(json: try item("2026-11-20T08:14:02.1234Z"), path: "items[0]")
        #expect(read.capturedAt.description == "2026-11-20T08:14:02.123Z")
        #expect(throws: ItemError.self) { try PositionItem(json: try item("2026-11-20T08:14:02.1234567890Z"), path: "items[0]") }
        do {
            _ = try PositionItem(json: try item("2026-11-20T08:14:02.1234567890Z"), path: "items[0]")
        } catch let error as ItemError {
            #expect(error.field == "items[0].capturedAt")
        } catch {
            Issue.record("unexpected error \(error)")
        }
        let decoded = try JSONDecoder().decode([Timestamp].self, from: Data(#"["2026-11-20T08:14:02.12345678+01:00"]"#.utf8))
        #expect(decoded.map(\.description) == ["2026-11-20T07:14:02.123Z"])
    }
}
