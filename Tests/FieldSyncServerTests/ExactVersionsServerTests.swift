import FieldSyncCore
import Foundation
import HTTPTypes
import Testing

/// Issue 11 end to end against PostGIS: the same writes (honest ones and forged ones)
/// delivered in two arrival orders to two accounts end in the same records; forged
/// writes are rejected in both; nothing acknowledged is lost.
@Suite("Exact versions through the server")
struct ExactVersionsServerTests {
    /// One write as generated, independent of the account it is sent to.
    struct Write: Sendable {
        var device: Int
        var entity: Int
        var counter: Int64
        var base: [Int: Int64]  // device index → counter
        var at: Int64
        var changes: [String: JSONValue]
        var forged = false
    }

    /// Three devices on one account's admin, the same device ids in both accounts.
    static let devices = (0..<3).map { _ in UUID() }
    static let entities = (0..<2).map { _ in UUID() }

    static func item(_ w: Write, _ world: VersionedSyncTests.World) -> JSONValue {
        var base: [String: Int64] = [:]
        for (d, c) in w.base { base[devices[d].lowercased] = c }
        return world.entity(
            entities[w.entity], device: devices[w.device], counter: w.counter, base: base, at: 1_763_626_530_000 + w.at,
            changes: w.changes, unit: world.districtA, type: world.entityType)
    }

    static func setUp(_ api: API) async throws -> VersionedSyncTests.World {
        let world = try await VersionedSyncTests.World.make(api)
        for d in devices.dropFirst() {
            let r = try await api.call(.post, "/v1/devices", token: world.f.admin.token, json: .object(["deviceId": .string(d.lowercased)]))
            guard r.status == .ok else { throw TestSetupError("device: \(r.text)") }
        }
        // The fixture's own admin device is not one of ours; register the first too.
        let r = try await api.call(.post, "/v1/devices", token: world.f.admin.token, json: .object(["deviceId": .string(devices[0].lowercased)]))
        guard r.status == .ok else { throw TestSetupError("device: \(r.text)") }
        return world
    }

    /// Generates honest writes on the first account as devices would (pull, edit offline
    /// on what they hold, push in order), counters with gaps; then forged writes.
    static func generate(_ api: API, _ world: VersionedSyncTests.World) async throws -> [Write] {
        var rng = SplitMix64(seed: 0x11E7)
        func draw(_ n: Int) -> Int { Int.random(in: 0..<n, using: &rng) }
        var counters = [3, 10, 20].map(Int64.init)
        var held: [Int: [Int: [Int: Int64]]] = [:]  // device → entity → vector
        var honest: [Write] = []
        // Device 0 creates both entities.
        for e in 0..<2 {
            counters[0] += Int64(1 + draw(2))
            let w = Write(
                device: 0, entity: e, counter: counters[0], base: [:], at: 0, changes: ["name": .string("E\(e)"), "village": .string("Subil")])
            honest.append(w)
            held[0, default: [:]][e] = [0: w.counter]
        }
        _ = try await VersionedSyncTests.push(api, world.f.admin.token, devices[0], honest.map { item($0, world) })
        for round in 0..<4 {
            // Every device pulls, then edits offline, then all push (concurrently in the replay).
            let pulled = try await VersionedSyncTests.pullAll(api, world.f.admin.token)
            for d in 0..<3 where draw(3) > 0 {
                for (e, id) in entities.enumerated() {
                    guard let doc = pulled.last(where: { $0["id"] == .string(id.lowercased) }), let version = doc["version"]?.objectValue else {
                        continue
                    }
                    var v = held[d]?[e] ?? [:]
                    for (k, n) in version {
                        if let i = devices.firstIndex(where: { $0.lowercased == k }), let n = n.numberValue { v[i] = max(v[i] ?? 0, Int64(n)) }
                    }
                    held[d, default: [:]][e] = v
                }
            }
            var batch: [[Write]] = [[], [], []]
            for d in 0..<3 {
                for _ in 0..<(1 + draw(3)) {
                    let e = draw(2)
                    guard let base = held[d]?[e] else { continue }
                    counters[d] += Int64(1 + draw(3))  // gaps: writes to records not in this test
                    let field = ["name", "village", "age"][draw(3)]
                    let w = Write(
                        device: d, entity: e, counter: counters[d], base: base, at: Int64(round * 1000 + draw(5) * 100),
                        changes: [field: .string("d\(d)r\(round)c\(counters[d])")])
                    held[d, default: [:]][e, default: [:]][d] = w.counter
                    batch[d].append(w)
                }
            }
            for d in 0..<3 where !batch[d].isEmpty {
                let results = try await VersionedSyncTests.push(api, world.f.admin.token, devices[d], batch[d].map { item($0, world) })
                #expect(results.allSatisfy { $0["status"] != .string("rejected") }, "generation: \(results)")
                honest += batch[d]
            }
        }
        // Forged writes from device 2, with dots it never uses: a dot never written, a dot of
        // the other entity, a base covering its own dot, a previous own write that never was.
        let e0 = honest.filter { $0.entity == 0 }, e1 = honest.filter { $0.entity == 1 }
        let otherDot = e1.first { $0.device == 1 } ?? e1[0]
        var forged = [
            Write(device: 2, entity: 0, counter: 900, base: [1: 9_999], at: 50, changes: ["name": .string("never-written")]),
            Write(device: 2, entity: 0, counter: 901, base: [otherDot.device: otherDot.counter], at: 50, changes: ["name": .string("other-record")]),
            Write(device: 2, entity: 1, counter: 905, base: [2: 905, 0: e1[0].counter], at: 50, changes: ["village": .string("own-dot")]),
            Write(device: 2, entity: 1, counter: 907, base: [2: 906], at: 50, changes: ["village": .string("no-previous")]),
        ]
        // Issue 11's case 1: a dot between two of one device's writes to this record.
        let zeros = e0.filter { $0.device == 0 }.map(\.counter)
        if let low = zeros.min(), let high = zeros.max(), let missing = (low...high).first(where: { !zeros.contains($0) }) {
            forged.append(Write(device: 2, entity: 0, counter: 909, base: [0: missing], at: 50, changes: ["name": .string("gap-dot")]))
        }
        for k in forged.indices { forged[k].forged = true }
        return honest + forged
    }

    /// Delivers `writes` concurrently from the three devices, each device's batches in
    /// the order given, rejected versioned items sent again until nothing progresses.
    /// Answers the forged writes' final statuses.
    static func deliver(_ writes: [Write], _ api: API, _ world: VersionedSyncTests.World, batch size: Int) async throws -> [String] {
        var pending = writes
        var forgedStatuses: [String] = []
        for _ in 0..<12 where !pending.isEmpty {
            let round = pending
            let results = try await withThrowingTaskGroup(of: [(Write, JSONValue)].self) { group in
                for d in 0..<3 {
                    let mine = round.filter { $0.device == d }
                    group.addTask {
                        var out: [(Write, JSONValue)] = []
                        var k = 0
                        while k < mine.count {
                            let chunk = Array(mine[k..<min(k + size, mine.count)])
                            let r = try await VersionedSyncTests.push(api, world.f.admin.token, devices[d], chunk.map { item($0, world) })
                            out += zip(chunk, r).map { ($0, $1) }
                            k += size
                        }
                        return out
                    }
                }
                var all: [(Write, JSONValue)] = []
                for try await part in group { all += part }
                return all
            }
            pending = []
            for (w, r) in results {
                let status = r["status"]?.stringValue ?? "?"
                let code = r["error"]?["code"]?.stringValue
                if w.forged {
                    #expect(status == "rejected", "forged write \(w.counter) was \(status)")
                    forgedStatuses.append(code ?? status)
                } else if status == "rejected" {
                    #expect(code == "out_of_order" || code == "invalid_version", "honest write rejected with \(code ?? "?")")
                    pending.append(w)
                }
            }
        }
        #expect(pending.isEmpty, "writes never applied: \(pending.map(\.counter))")
        return forgedStatuses
    }

    /// The two records as pulled, without the attributes that differ between accounts.
    /// The records as the admin pulls them, once every one is in the feed (the feed shows
    /// a write only once no earlier transaction can still commit: pull until settled).
    static func finalRecords(_ api: API, _ world: VersionedSyncTests.World) async throws -> [JSONValue] {
        var records: [JSONValue] = []
        for attempt in 0..<40 {
            records = try await pulledRecords(api, world)
            if !records.contains(.null) { break }
            if attempt < 39 { try await Task.sleep(for: .milliseconds(250)) }
        }
        return records
    }

    static func pulledRecords(_ api: API, _ world: VersionedSyncTests.World) async throws -> [JSONValue] {
        let pulled = try await VersionedSyncTests.pullAll(api, world.f.admin.token)
        return entities.map { id in
            guard case .object(var o)? = pulled.last(where: { $0["id"] == .string(id.lowercased) }) else { return .null }
            for k in ["orgUnitId", "entityTypeId", "projectId"] { o[k] = nil }
            return .object(o)
        }
    }

    @Test(
        "the same writes, forged ones mixed in, in two arrival orders from concurrent devices: same final records, forged always rejected, nothing lost"
    )
    func twoArrivalOrders() async throws {
        try await withTestApp { api in
            let first = try await Self.setUp(api)
            let writes = try await Self.generate(api, first)
            let forgedOnFirst = try await Self.deliver(writes.filter(\.forged), api, first, batch: 2)
            #expect(forgedOnFirst.count == writes.filter(\.forged).count)

            // The second account gets the same writes latest first: later writes arrive
            // ahead of the ones they build on, forged ones before their bases exist.
            let second = try await Self.setUp(api)
            let statuses = try await Self.deliver(writes.reversed(), api, second, batch: 3)
            #expect(statuses.allSatisfy { $0 == "invalid_version" || $0 == "out_of_order" }, "\(statuses)")

            let a = try await Self.finalRecords(api, first)
            let b = try await Self.finalRecords(api, second)
            #expect(a == b, "the arrival order changed the final records:\n\(a)\n\(b)")
            // Every honest write applied: its device's entry covers it (a device's writes to
            // one record are applied in its order, so that means applied); no forged value.
            for (e, doc) in a.enumerated() {
                let version = doc["version"]?.objectValue ?? [:]
                for w in writes where !w.forged && w.entity == e {
                    #expect((version[Self.devices[w.device].lowercased]?.numberValue ?? 0) >= Double(w.counter))
                }
                #expect(!JSONWriter.string(doc).contains("never-written") && !JSONWriter.string(doc).contains("forged"))
            }
            // Replaying everything changes nothing.
            _ = try await Self.deliver(writes.filter { !$0.forged }, api, second, batch: 5)
            #expect(try await Self.finalRecords(api, second) == b)
        }
    }
}
