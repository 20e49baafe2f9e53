import FieldSyncCore
import Foundation

/// Makes answers that match a form version's declared questions, and GPS tracks.
public enum AnswerGenerator {
    static let words = ["Amina", "Rahim", "Karim", "Fatema", "Nasrin", "Subil", "Debidwar", "Comilla", "Barisal", "Khulna", "Sylhet", "Rangpur"]

    /// Answers for every question of `fields` (`[{"name","type","required"?,"choices"?}]`),
    /// near `around` for geopoints. Forms without declared questions get `name` and `age`.
    public static func answers(fields: JSONValue?, around: GeoPoint, using rng: inout some RandomNumberGenerator) -> [String: JSONValue] {
        guard let list = fields?.arrayValue, !list.isEmpty else {
            return ["name": .string(words.randomElement(using: &rng)!), "age": .number(Double(Int.random(in: 1...90, using: &rng)))]
        }
        var out: [String: JSONValue] = [:]
        for q in list {
            guard let name = q["name"]?.stringValue, let type = q["type"]?.stringValue else { continue }
            let choices = (q["choices"]?.arrayValue ?? []).compactMap(\.stringValue)
            switch type {
            case "text": out[name] = .string("\(words.randomElement(using: &rng)!) \(Int.random(in: 1...999, using: &rng))")
            case "integer": out[name] = .number(Double(Int.random(in: 0...120, using: &rng)))
            case "decimal": out[name] = .number((Double.random(in: 0...1000, using: &rng) * 100).rounded() / 100)
            case "date":
                let day = Int.random(in: 1...28, using: &rng), month = Int.random(in: 1...12, using: &rng)
                out[name] = .string("2026-\(month < 10 ? "0" : "")\(month)-\(day < 10 ? "0" : "")\(day)")
            case "select_one": if let c = choices.randomElement(using: &rng) { out[name] = .string(c) }
            case "select_multiple":
                out[name] = .array(choices.filter { _ in Bool.random(using: &rng) }.map(JSONValue.string))
            case "geopoint": out[name] = jitter(around, metres: 200, using: &rng).geoJSON
            default: break
            }
        }
        return out
    }

    /// A point within about `metres` of `p`.
    public static func jitter(_ p: GeoPoint, metres: Double, using rng: inout some RandomNumberGenerator) -> GeoPoint {
        let d = metres / 111_000
        return GeoPoint(
            longitude: min(180, max(-180, p.longitude + Double.random(in: -d...d, using: &rng))),
            latitude: min(90, max(-90, p.latitude + Double.random(in: -d...d, using: &rng))))
    }

    /// A walk of `count` positions from `start` (``TrackGenerator``), one about every
    /// 10 s, the last about `now`.
    public static func track(count: Int, start: GeoPoint, now: Timestamp, using rng: inout some RandomNumberGenerator) -> [PositionItem] {
        var generator = TrackGenerator(seed: rng.next(), longitude: start.longitude, latitude: start.latitude, interval: 10)
        return generator.positions(count: count, endingAt: now)
    }
}
