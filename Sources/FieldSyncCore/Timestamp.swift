import Foundation

/// A point in time with millisecond precision, as the protocol writes it:
/// RFC 3339 in UTC with exactly three fraction digits (`2026-11-20T08:15:30.123Z`).
///
/// Parsing accepts any RFC 3339 date-time with a fraction (1 to 9 digits) and a `Z`
/// or numeric offset, normalising to UTC; digits beyond milliseconds are truncated.
/// Malformed text, more than 9 fraction digits, and times that UTC cannot write with a
/// four-digit year are refused (`nil`), never a trap: every body's times come through here.
public struct Timestamp: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var millisecondsSinceEpoch: Int64

    public init(millisecondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = millisecondsSinceEpoch
    }

    /// The millisecond that `date` falls in: rounded down, except that a time within a
    /// microsecond (or a few units in the last place) of a whole millisecond is that millisecond (a `Date` made by ``date``,
    /// or read from a `timestamptz` written from a `Timestamp`, may lie a hair below its
    /// millisecond as a `Double` of seconds). Clamped to ``earliest``…``latest``, so every
    /// `Date` gives a time the protocol can write. The one conversion from `Date`: one
    /// instant is one `Timestamp` on the server, the client, the devices and benchmarks.
    public init(_ date: Date) {
        let seconds = date.timeIntervalSince1970
        guard !seconds.isNaN else {
            self = .earliest
            return
        }
        if seconds * 1000 <= Double(Timestamp.earliest.millisecondsSinceEpoch) {
            self = .earliest
            return
        }
        if seconds * 1000 >= Double(Timestamp.latest.millisecondsSinceEpoch) {
            self = .latest
            return
        }
        // The nearest millisecond, and its own Double of seconds (what ``date`` makes).
        let nearest = (seconds * 1000).rounded()
        let whole = nearest / 1000
        var ms = Int64(nearest)
        // `Date` keeps seconds since 2001, so what it gives back may differ from what it
        // was made of by a few units in the last place: within that (and at least a
        // microsecond), the time is that millisecond; below it, the millisecond before.
        let tolerance = max(0.000_001, 4 * seconds.magnitude.ulp)
        if abs(seconds - whole) >= tolerance && seconds < whole { ms -= 1 }
        millisecondsSinceEpoch = min(max(ms, Timestamp.earliest.millisecondsSinceEpoch), Timestamp.latest.millisecondsSinceEpoch)
    }

    /// The same instant as a `Date`; ``init(_:)`` gives this `Timestamp` back.
    public var date: Date {
        Date(timeIntervalSince1970: Double(millisecondsSinceEpoch) / 1000)
    }

    public static func < (a: Timestamp, b: Timestamp) -> Bool {
        a.millisecondsSinceEpoch < b.millisecondsSinceEpoch
    }

    /// The earliest time the protocol can write: `0000-01-01T00:00:00.000Z`.
    public static let earliest = Timestamp(millisecondsSinceEpoch: -62_167_219_200_000)
    /// The latest time the protocol can write: `9999-12-31T23:59:59.999Z`.
    public static let latest = Timestamp(millisecondsSinceEpoch: 253_402_300_799_999)

    /// Parses an RFC 3339 date-time; `nil` when it is not one, has no fraction of a
    /// second or more than 9 fraction digits, names an impossible date, or falls (once
    /// its offset is applied) outside ``earliest``…``latest``, which is all that four-digit
    /// years in UTC can write back. Never traps, whatever the text.
    public init?(rfc3339 text: String) {
        var text = text
        guard let ms = text.withUTF8({ Timestamp.parseRFC3339($0) }) else { return nil }
        self.millisecondsSinceEpoch = ms
    }

    /// Milliseconds since the epoch for RFC 3339 bytes, or `nil`. Every index is checked
    /// against the buffer and every number is bounded by its digit count, so no input traps.
    static func parseRFC3339(_ utf8: UnsafeBufferPointer<UInt8>) -> Int64? {
        if utf8.count < 21 { return nil }
        func digits(_ from: Int, _ count: Int) -> Int? {
            guard from >= 0, count >= 0, from <= utf8.count - count else { return nil }
            var v = 0
            for i in from..<(from + count) {
                let c = utf8[i]
                guard c >= 48 && c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            return v
        }
        // utf8.count >= 21, so indexes 0...20 exist.
        guard let year = digits(0, 4), utf8[4] == UInt8(ascii: "-"),
            let month = digits(5, 2), utf8[7] == UInt8(ascii: "-"),
            let day = digits(8, 2), utf8[10] == UInt8(ascii: "T") || utf8[10] == UInt8(ascii: "t"),
            let hour = digits(11, 2), utf8[13] == UInt8(ascii: ":"),
            let minute = digits(14, 2), utf8[16] == UInt8(ascii: ":"),
            let second = digits(17, 2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= Timestamp.daysIn(month: month, year: year),
            hour < 24, minute < 60, second < 60
        else { return nil }
        var i = 19
        guard utf8[i] == UInt8(ascii: ".") else { return nil }
        i += 1
        // 1 to 9 fraction digits; the first three are the milliseconds, the rest are dropped.
        var fractionDigits = 0
        var millis = 0
        while i < utf8.count, utf8[i] >= 48, utf8[i] <= 57, fractionDigits <= 9 {
            if fractionDigits < 3 { millis = millis * 10 + Int(utf8[i] - 48) }
            fractionDigits += 1
            i += 1
        }
        guard fractionDigits >= 1, fractionDigits <= 9 else { return nil }
        var scaled = fractionDigits
        while scaled < 3 {
            millis *= 10
            scaled += 1
        }
        var offsetSeconds = 0
        guard i < utf8.count else { return nil }
        let zone = utf8[i]
        if zone == UInt8(ascii: "Z") || zone == UInt8(ascii: "z") {
            i += 1
        } else if zone == UInt8(ascii: "+") || zone == UInt8(ascii: "-") {
            guard let oh = digits(i + 1, 2), i + 3 < utf8.count, utf8[i + 3] == UInt8(ascii: ":"),
                let om = digits(i + 4, 2), oh < 24, om < 60
            else { return nil }
            offsetSeconds = (oh * 3600 + om * 60) * (zone == UInt8(ascii: "+") ? 1 : -1)
            i += 6
        } else {
            return nil
        }
        guard i == utf8.count else { return nil }
        // Every term is bounded (years 0-9999, offsets under a day): no overflow.
        let days = Timestamp.daysFromCivil(year: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetSeconds)
        let ms = seconds * 1000 + Int64(millis)
        guard ms >= earliest.millisecondsSinceEpoch, ms <= latest.millisecondsSinceEpoch else { return nil }
        return ms
    }

    /// `2026-11-20T08:15:30.123Z`.
    public var description: String {
        String(unsafeUninitializedCapacity: 32) { buffer in
            withRFC3339Bytes { bytes in
                _ = buffer.initialize(fromContentsOf: bytes)
                return bytes.count
            }
        }
    }

    /// Calls `body` with the UTF-8 bytes of ``description`` (years 0–9999 in four digits,
    /// others with as many as they need), without making a `String`: writers of many
    /// timestamps (stored states, pull documents) copy them straight into their output.
    public func withRFC3339Bytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        // Floor division by quotient and remainder: no intermediate can overflow, even
        // at Int64.min (`(ms - 999) / 1000` trapped there).
        let ms = millisecondsSinceEpoch
        var (seconds, msRemainder) = ms.quotientAndRemainder(dividingBy: 1000)
        if msRemainder < 0 { seconds -= 1; msRemainder += 1000 }
        let millis = Int(msRemainder)
        var (days, secondsOfDay) = seconds.quotientAndRemainder(dividingBy: 86_400)
        if secondsOfDay < 0 { days -= 1; secondsOfDay += 86_400 }
        seconds = secondsOfDay
        let (y, m, d) = Timestamp.civilFromDays(Int(days))
        let hh = Int(seconds / 3600), mm = Int(seconds % 3600 / 60), ss = Int(seconds % 60)
        return try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { out in
            var n = 0
            func put(_ c: UInt8) { out[n] = c; n += 1 }
            func digits(_ v: Int, _ width: Int) {
                var v = v
                if v < 0 { put(UInt8(ascii: "-")); v = -v }
                var count = 1, p = 10
                while p <= v { count += 1; p *= 10 }
                count = max(count, width)
                for k in stride(from: count - 1, through: 0, by: -1) {
                    out[n + k] = UInt8(ascii: "0") + UInt8(v % 10)
                    v /= 10
                }
                n += count
            }
            digits(y, 4); put(UInt8(ascii: "-")); digits(m, 2); put(UInt8(ascii: "-")); digits(d, 2)
            put(UInt8(ascii: "T")); digits(hh, 2); put(UInt8(ascii: ":")); digits(mm, 2); put(UInt8(ascii: ":")); digits(ss, 2)
            put(UInt8(ascii: ".")); digits(millis, 3); put(UInt8(ascii: "Z"))
            return try body(UnsafeBufferPointer(rebasing: out[0..<n]))
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let s = try c.decode(String.self)
        guard let t = Timestamp(rfc3339: s) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "not an RFC 3339 time with milliseconds: \(s)")
        }
        self = t
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }

    static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    // Howard Hinnant's civil-from-days algorithms (proleptic Gregorian).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}
