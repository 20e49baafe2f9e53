import FieldSyncCore
import Foundation

/// A plausible GPS track: a random walk from a start point, one fix about every
/// `interval` seconds, on foot or by motorbike, accuracy 3–15 m, some fixes with
/// altitude. The last fix is about now. Seeded: `--seed` reproduces the same track and ids.
public struct TrackGenerator {
    /// Dhaka.
    public static let defaultStart = (longitude: 90.4125, latitude: 23.8103)

    var rng: SplitMix64
    var longitude: Double
    var latitude: Double
    var interval: Double

    public init(seed: UInt64, longitude: Double = defaultStart.longitude, latitude: Double = defaultStart.latitude, interval: Double = 5) {
        rng = SplitMix64(seed: seed)
        self.longitude = longitude
        self.latitude = latitude
        self.interval = interval
    }

    /// A version 4 UUID drawn from the generator.
    public mutating func uuid() -> UUID {
        var bytes = [UInt8](repeating: 0, count: 16)
        for k in stride(from: 0, to: 16, by: 8) {
            var word = rng.next()
            for j in 0..<8 {
                bytes[k + j] = UInt8(truncatingIfNeeded: word)
                word >>= 8
            }
        }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
    }

    /// `count` positions ending about now.
    public mutating func positions(count: Int, endingAt end: Timestamp = Timestamp(Date())) -> [PositionItem] {
        var out: [PositionItem] = []
        out.reserveCapacity(count)
        var time = end.millisecondsSinceEpoch - Int64(Double(count) * interval * 1000)
        var heading = Double.random(in: 0..<(2 * .pi), using: &rng)
        var transport = "foot"
        var segmentLeft = Int.random(in: 20...80, using: &rng)
        for _ in 0..<count {
            if segmentLeft == 0 {
                transport = Double.random(in: 0..<1, using: &rng) < 0.3 ? "motorbike" : "foot"
                segmentLeft = Int.random(in: 20...80, using: &rng)
            }
            segmentLeft -= 1
            let step = interval * Double.random(in: 0.8...1.2, using: &rng)
            time += Int64(step * 1000)
            let speed = transport == "foot" ? Double.random(in: 0.8...1.8, using: &rng) : Double.random(in: 5...12, using: &rng)
            heading += Double.random(in: -0.35...0.35, using: &rng)
            let metres = speed * step
            latitude += metres * cos(heading) / 111_320
            longitude += metres * sin(heading) / (111_320 * cos(latitude * .pi / 180))
            latitude = min(max(latitude, -89.9), 89.9)
            if longitude > 180 { longitude -= 360 } else if longitude < -180 { longitude += 360 }
            let altitude: Double? =
                Double.random(in: 0..<1, using: &rng) < 0.4
                ? Self.round(Double.random(in: 4...22, using: &rng), places: 1) : nil
            out.append(
                PositionItem(
                    id: uuid(), capturedAt: Timestamp(millisecondsSinceEpoch: time),
                    location: GeoPoint(longitude: Self.round(longitude, places: 7), latitude: Self.round(latitude, places: 7), altitude: altitude),
                    accuracy: Self.round(Double.random(in: 3...15, using: &rng), places: 1),
                    altitude: altitude, transport: transport))
        }
        return out
    }

    static func round(_ v: Double, places: Int) -> Double {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        return (v * scale).rounded() / scale
    }
}
