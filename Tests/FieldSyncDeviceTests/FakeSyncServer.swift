import FieldSyncClient
import FieldSyncCore
import FieldSyncDevice
import Foundation
import Synchronization

/// A ``SyncTransport`` that is a tiny server in memory, written for these tests from the
/// protocol's words rather than from the device's code: each pushed versioned write is
/// kept with its dot; a record's pull document holds its fixed attributes, the last
/// value written to each field, and the pointwise maximum of its writes' bases and dots;
/// a batch sent again answers its first answer; the feed lists records in the order they
/// last changed. `verdict` may reject an item (`nil` accepts it).
final class FakeSyncServer: SyncTransport, Sendable {
    struct State {
        var records: [String: [String: JSONValue]] = [:]
        var fields: [String: [String: JSONValue]] = [:]
        var versions: [String: [String: Int]] = [:]
        var dots: Set<String> = []
        var positions: Set<String> = []
        /// Keys of records and positions in the order they last changed (the feed).
        var feed: [String] = []
        var answers: [UUID: PushAnswer] = [:]
        var pushedBatches: [UUID] = []
        var pulls = 0
        var changeIds = 0
    }

    private let state = Mutex(State())
    let verdict: @Sendable (JSONValue) -> ItemError?
    /// Extra pull documents served once, before the feed (e.g. a record in conflict).
    private let injected = Mutex<[JSONValue]>([])

    init(verdict: @escaping @Sendable (JSONValue) -> ItemError? = { _ in nil }) {
        self.verdict = verdict
    }

    var pushedBatches: [UUID] { state.withLock { $0.pushedBatches } }
    var appliedDots: Set<String> { state.withLock { $0.dots } }
    var positionIds: Set<String> { state.withLock { $0.positions } }
    var pulls: Int { state.withLock { $0.pulls } }

    /// The pull document of `kind/id`.
    func document(_ key: String) -> JSONValue? {
        state.withLock { Self.document(key, $0) }
    }

    /// Serves `doc` in the next pull (on top of the feed).
    func inject(_ doc: JSONValue) {
        injected.withLock { $0.append(doc) }
    }

    func push(batchId: UUID, deviceId: UUID, projectId: UUID?, items: [JSONValue]) async throws -> PushAnswer {
        state.withLock { s in
            s.pushedBatches.append(batchId)
            if let first = s.answers[batchId] { return first }
            var results: [PushResult] = []
            var raw: [JSONValue] = []
            for item in items {
                let result = Self.apply(item, device: deviceId.lowercasedText, verdict: verdict, &s)
                results.append(result)
                raw.append(result.json)
            }
            let answer = PushAnswer(batchId: batchId.lowercasedText, results: results, cursor: String(s.feed.count), rawResults: raw)
            s.answers[batchId] = answer
            return answer
        }
    }

    func pull(cursor: String?, limit: Int, projectId: UUID?) async throws -> PullPage {
        let extra = injected.withLock { docs in
            defer { docs = [] }
            return docs
        }
        return state.withLock { s in
            s.pulls += 1
            let start = cursor.flatMap { Int($0) } ?? 0
            // Records that changed after `start`, each once, at its latest position.
            var seen = Set<String>()
            var keys: [String] = []
            for key in s.feed.suffix(from: min(start, s.feed.count)).reversed() where seen.insert(key).inserted {
                keys.append(key)
            }
            keys.reverse()
            let page = Array(keys.prefix(limit))
            let hasMore = keys.count > page.count
            let next = hasMore ? start + page.count : s.feed.count
            let docs = page.compactMap { Self.document($0, s) }
            return PullPage(changes: extra + docs, cursor: String(next), hasMore: hasMore)
        }
    }

    private static func apply(_ item: JSONValue, device: String, verdict: (JSONValue) -> ItemError?, _ s: inout State) -> PushResult {
        let kind = item["kind"]?.stringValue ?? ""
        let id = item["id"]?.stringValue ?? ""
        if let error = verdict(item) { return .rejected(id: id, kind: kind, error) }
        let key = kind + "/" + id
        if kind == "position" {
            let fresh = s.positions.insert(id).inserted
            if fresh { s.feed.append(key); s.records[key] = item.objectValue ?? [:] }
            return PushResult(id: id, kind: kind, status: fresh ? .created : .unchanged)
        }
        guard let replica = item["replica"]?.stringValue, let counter = item["counter"]?.numberValue,
            let changes = item["changes"]?.objectValue
        else {
            return .rejected(id: id, kind: kind, .invalidField("items[].changes", "not a versioned write"))
        }
        let dot = "\(key)@\(replica):\(Int(counter))"
        if s.dots.contains(dot) { return PushResult(id: id, kind: kind, status: .unchanged) }
        let creating = s.records[key] == nil
        if creating {
            var fixed = item.objectValue ?? [:]
            for member in ["kind", "id", "base", "replica", "counter", "editedAt", "changes"] { fixed[member] = nil }
            s.records[key] = fixed
        }
        s.dots.insert(dot)
        var version = s.versions[key] ?? [:]
        for (r, n) in item["base"]?.objectValue ?? [:] { version[r] = max(version[r] ?? 0, Int(n.numberValue ?? 0)) }
        version[replica] = max(version[replica] ?? 0, Int(counter))
        s.versions[key] = version
        var fields = s.fields[key] ?? [:]
        for (name, value) in changes { fields[name] = value }
        s.fields[key] = fields
        s.feed.append(key)
        if kind == "orgUnit" {
            s.changeIds += 1
            return PushResult(id: id, kind: kind, status: .pending, changeId: "change-\(s.changeIds)")
        }
        return PushResult(
            id: id, kind: kind, status: creating ? .created : .updated,
            version: VersionVector(version.mapValues { Int64($0) }))
    }

    private static func document(_ key: String, _ s: State) -> JSONValue? {
        guard var doc = s.records[key] else { return nil }
        let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
        doc["kind"] = .string(parts[0])
        doc["id"] = .string(parts[1])
        if parts[0] != "position" {
            doc["fields"] = .object(s.fields[key] ?? [:])
            doc["version"] = .object((s.versions[key] ?? [:]).mapValues { .number(Double($0)) })
        }
        return .object(doc)
    }
}

/// Passes pushes through, but after `dropAfter` successful pushes throws the answers
/// of the next `drops` away (the server did the work; the device never hears of it).
/// Records every `batchId` pushed.
final class DroppingTransport: SyncTransport, Sendable {
    let inner: any SyncTransport
    private struct Counts {
        var pushed: [UUID] = []
        var remainingBeforeDrop: Int
        var drops: Int
    }
    private let counts: Mutex<Counts>

    init(_ inner: any SyncTransport, dropAfter: Int, drops: Int = 1) {
        self.inner = inner
        counts = Mutex(Counts(remainingBeforeDrop: dropAfter, drops: drops))
    }

    var batchIds: [UUID] { counts.withLock { $0.pushed } }

    func push(batchId: UUID, deviceId: UUID, projectId: UUID?, items: [JSONValue]) async throws -> PushAnswer {
        let answer = try await inner.push(batchId: batchId, deviceId: deviceId, projectId: projectId, items: items)
        let drop: Bool = counts.withLock { c in
            c.pushed.append(batchId)
            if c.remainingBeforeDrop > 0 {
                c.remainingBeforeDrop -= 1
                return false
            }
            if c.drops > 0 {
                c.drops -= 1
                return true
            }
            return false
        }
        if drop { throw InjectedFault(kind: .drop) }
        return answer
    }

    func pull(cursor: String?, limit: Int, projectId: UUID?) async throws -> PullPage {
        try await inner.pull(cursor: cursor, limit: limit, projectId: projectId)
    }
}
