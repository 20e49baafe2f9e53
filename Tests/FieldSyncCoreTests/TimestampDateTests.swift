import FieldSyncCore
import Foundation
import Testing

/// `Timestamp(Date)` and `Timestamp.date`: the one conversion between the two.
struct TimestampDateTests {
    @Test func everyWholeMillisecondRoundTripsThroughDate() {
        // Values whose seconds as a Double lie just below the millisecond (e.g. .123 is
        // 0.12299999...): a plain floor of seconds × 1000 gives the millisecond before.
        var rng = SplitMix64(seed: 7)
        for _ in 0..<20_000 {
            let ms = Int64.random(in: -62_167_219_200_000...253_402_300_799_999, using: &rng)
            let t = Timestamp(millisecondsSinceEpoch: ms)
            #expect(Timestamp(t.date) == t, "\(ms)")
        }
        // As PostgresNIO reads a timestamptz: microseconds since 2000-01-01 over that epoch.
        let y2k = Date(timeIntervalSince1970: 946_684_800)
        for _ in 0..<20_000 {
            let ms = Int64.random(in: 0...4_102_444_800_000, using: &rng)
            let read = Date(timeInterval: Double((ms - 946_684_800_000) * 1000) / 1_000_000, since: y2k)
            #expect(Timestamp(read).millisecondsSinceEpoch == ms, "\(ms)")
        }
        for ms: Int64 in [0, 1, -1, 999, 1_763_626_530_123, 1_763_626_530_999, -62_167_219_200_000, 253_402_300_799_999] {
            #expect(Timestamp(Timestamp(millisecondsSinceEpoch: ms).date).millisecondsSinceEpoch == ms)
        }
    }

    @Test func aClockReadingFallsInItsMillisecondNeverTheNext() {
        #expect(Timestamp(Date(timeIntervalSince1970: 1_763_626_530.1239)).description == "2025-11-20T08:15:30.123Z")
        #expect(Timestamp(Date(timeIntervalSince1970: 1_763_626_530.9996)).description == "2025-11-20T08:15:30.999Z")
        #expect(Timestamp(Date(timeIntervalSince1970: -0.0005)).millisecondsSinceEpoch == -1)
    }

    @Test func datesBeyondWhatTheProtocolWritesAreClamped() {
        #expect(Timestamp(Date.distantFuture.addingTimeInterval(1e12)) == .latest)
        #expect(Timestamp(Date(timeIntervalSince1970: -1e15)) == .earliest)
        #expect(Timestamp(Date(timeIntervalSince1970: .nan)) == .earliest)
        #expect(Timestamp(Date(timeIntervalSince1970: .infinity)) == .latest)
    }
}

/// ``Percentile/nearestRank(_:_:)`` against ranks worked out by hand.
struct PercentileTests {
    @Test func nearestRankOfOneToAHundredIsThePercentItself() {
        let samples = Array(1...100)
        for p in [1, 50, 95, 99, 100] { #expect(Percentile.nearestRank(samples, Double(p)) == p) }
        #expect(Percentile.nearestRank(samples, 0) == 1)
        #expect(Percentile.nearestRank(samples, 99.5) == 100)
    }

    @Test func smallSamplesTakeTheRankAboveNotTheInterpolation() {
        // n = 10: p99 is rank ⌈9.9⌉ = 10, p50 rank 5, p95 rank ⌈9.5⌉ = 10, p10 rank 1.
        let ten = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
        #expect(Percentile.nearestRank(ten, 99) == 100)
        #expect(Percentile.nearestRank(ten, 50) == 50)
        #expect(Percentile.nearestRank(ten, 95) == 100)
        #expect(Percentile.nearestRank(ten, 10) == 10)
        #expect(Percentile.nearestRank(ten, 11) == 20)
        #expect(Percentile.nearestRank([7], 50) == 7)
        #expect(Percentile.nearestRank([Int](), 50) == nil)
        #expect(Percentile.nearestRank(ten, -5) == 10 && Percentile.nearestRank(ten, 500) == 100 && Percentile.nearestRank(ten, .nan) == 10)
    }
}
