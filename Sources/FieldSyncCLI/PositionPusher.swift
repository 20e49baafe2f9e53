import FieldSyncClient
import FieldSyncCore
import Foundation

/// Pushes positions in batches, each with a fresh `batchId`, and tallies the results.
struct PositionPusher {
    /// What a push of many batches did.
    struct Summary: Encodable {
        var pushed = 0
        var batches = 0
        var created = 0
        var unchanged = 0
        var rejected = 0
        var seconds = 0.0
        var cursor = ""
        /// The first few rejections, as `id: code: message (field)`.
        var rejections: [String] = []
        /// The ids the server stored (created or unchanged).
        var storedIds: Set<String> = []

        var perSecond: Double { seconds > 0 ? Double(pushed) / seconds : 0 }

        private enum CodingKeys: String, CodingKey {
            case pushed, batches, created, unchanged, rejected, seconds, perSecond, cursor, rejections
        }

        /// `positions push --json` (`storedIds` is left out; seconds to the millisecond).
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(pushed, forKey: .pushed)
            try c.encode(batches, forKey: .batches)
            try c.encode(created, forKey: .created)
            try c.encode(unchanged, forKey: .unchanged)
            try c.encode(rejected, forKey: .rejected)
            try c.encode(Format.rounded(seconds, places: 3), forKey: .seconds)
            try c.encode(Format.rounded(perSecond, places: 1), forKey: .perSecond)
            try c.encode(cursor, forKey: .cursor)
            try c.encode(rejections, forKey: .rejections)
        }

        /// `pushed 300 positions in 1 batch (300 created, 0 unchanged, 0 rejected) in 0.4 s, 750/s`.
        var text: String {
            "pushed \(Format.plural(pushed, "position")) in \(Format.plural(batches, "batch", "batches")) "
                + "(\(Format.count(created)) created, \(Format.count(unchanged)) unchanged, \(Format.count(rejected)) rejected) "
                + "in \(Format.seconds(seconds)) s, \(Format.count(Int(perSecond.rounded())))/s"
        }
    }

    let client: FieldSyncClient
    let deviceId: UUID
    let projectId: UUID?
    let batchSize: Int

    /// Pushes `positions` in order; `progress` is told after each batch.
    func push(_ positions: [PositionItem], progress: (Summary) -> Void = { _ in }) async throws -> Summary {
        var summary = Summary()
        let started = ContinuousClock.now
        var start = 0
        while start < positions.count {
            let batch = positions[start..<min(start + batchSize, positions.count)]
            let answer = try await client.push(batchId: UUID(), deviceId: deviceId, projectId: projectId, items: batch.map { $0.json() })
            summary.batches += 1
            summary.pushed += batch.count
            summary.cursor = answer.cursor
            for result in answer.results {
                switch result.status {
                case .created: summary.created += 1
                case .unchanged: summary.unchanged += 1
                case .rejected:
                    summary.rejected += 1
                    if summary.rejections.count < 5 {
                        summary.rejections.append("\(result.id ?? "?"): \(result.error.map(Self.describe) ?? "rejected")")
                    }
                default: break
                }
                if result.status != .rejected, let id = result.id { summary.storedIds.insert(id.lowercased()) }
            }
            summary.seconds = (ContinuousClock.now - started).seconds
            progress(summary)
            start += batchSize
        }
        summary.seconds = (ContinuousClock.now - started).seconds
        return summary
    }

    /// `code: message (field)`.
    static func describe(_ e: ItemError) -> String {
        e.field.map { "\(e.code): \(e.message) (\($0))" } ?? "\(e.code): \(e.message)"
    }
}
