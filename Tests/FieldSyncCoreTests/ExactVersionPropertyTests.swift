import FieldSyncCore
import Foundation
import Testing

/// PushDecision against the independent model (ExactVersionModel.swift): random fleets
/// of devices that pull, edit offline and push, plus a hostile device sending forged
/// writes, delivered in many arrival orders, in random batches, with retries.
///
/// Forged writes (always rejected, whenever they arrive): a base naming a dot of another
/// record, a dot never written, a base covering the write's own dot, a previous own write
/// that never existed, a changed fixed attribute. Duplicates with other content are sent
/// once their original has been acknowledged ("the first one stands"). Not generated: a
/// device forking its own chain (two writes naming the same previous write); the first to
/// arrive wins, which no rule can make independent of order.
@Suite("Exact versions: push decision against the model")
struct ExactVersionPropertyTests {
    static let project = UUID(uuidString: "00000000-0000-4000-8000-0000000000a1")!
    static let unit = UUID(uuidString: "00000000-0000-4000-8000-0000000000b1")!
    static let otherUnit = UUID(uuidString: "00000000-0000-4000-8000-0000000000b2")!
    static let entityType = UUID(uuidString: "00000000-0000-4000-8000-0000000000c1")!
    static let fields = ["name", "village", "age"]
    static let words: [String?] = ["Amina", "Subil", "Debidwar", nil, "3", "Rahim"]

    /// One generated fleet run: honest writes (all applied in generation order), forged
    /// writes, and altered duplicates of honest writes (keyed by the original's index).
    struct Fleet {
        var honest: [ModelWrite] = []
        var forged: [ModelWrite] = []
        var duplicates: [Int: ModelWrite] = [:]
        var records: [String] = []
    }

    static func uuid(_ rng: inout SplitMix64) -> String {
        UUID(
            uuid: (
                UInt8.random(in: 0...255, using: &rng), UInt8.random(in: 0...255, using: &rng), 0x11, 0x22, 0x33, 0x44,
                0x45, 0x66, 0x87, 0x88, UInt8.random(in: 0...255, using: &rng), UInt8.random(in: 0...255, using: &rng),
                0x11, 0x22, 0x33, UInt8.random(in: 0...255, using: &rng)
            )
        ).uuidString.lowercased()
    }

    static func changes(_ rng: inout SplitMix64) -> [String: String?] {
        var out: [String: String?] = [:]
        for f in fields.shuffled(using: &rng).prefix(Int.random(in: 1...3, using: &rng)) {
            out[f] = words[Int.random(in: 0..<words.count, using: &rng)]
        }
        return out
    }

    /// Devices pull (the generating server's vector of some records), edit offline on what
    /// they hold (base = pulled ∨ own writes) and push their outbox in order.
    static func fleet(seed: UInt64) -> Fleet {
        var rng = SplitMix64(seed: seed)
        var fleet = Fleet()
        let devices = (0..<Int.random(in: 2...4, using: &rng)).map { _ in uuid(&rng) }
        fleet.records = (0..<Int.random(in: 1...3, using: &rng)).map { _ in uuid(&rng) }
        var server: [String: ModelRecord] = [:]
        var counters: [String: Int64] = [:]
        var seen: [String: [String: [String: Int64]]] = [:]  // device → record → vector
        var outbox: [String: [ModelWrite]] = [:]
        for d in devices { counters[d] = Int64.random(in: 0...5, using: &rng) }
        func flush(_ d: String) {
            for w in outbox[d] ?? [] {
                let status = server[w.record, default: ModelRecord()].push(w)
                precondition(status.isApplied, "generated write \(w) was \(status)")
                fleet.honest.append(w)
            }
            outbox[d] = []
        }
        for _ in 0..<Int.random(in: 8...30, using: &rng) {
            let d = devices[Int.random(in: 0..<devices.count, using: &rng)]
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<3:  // pull some records
                for r in fleet.records where rng.chance(2, in: 3) {
                    guard let vector = server[r]?.vector, !vector.isEmpty else { continue }
                    var mine = seen[d]?[r] ?? [:]
                    for (k, v) in vector { mine[k] = max(mine[k] ?? 0, v) }
                    seen[d, default: [:]][r] = mine
                }
            case 3..<8:  // edit one record offline (create it if nobody has)
                let r = fleet.records[Int.random(in: 0..<fleet.records.count, using: &rng)]
                let created = server[r].map { !$0.applied.isEmpty } ?? false
                let queued = devices.contains { (outbox[$0] ?? []).contains { $0.record == r } }
                let base = seen[d]?[r]
                guard base != nil || (!created && !queued) else { continue }
                // Counters advance for writes to other records too: gaps on this one.
                let counter = (counters[d] ?? 0) + Int64.random(in: 1...3, using: &rng)
                counters[d] = counter
                let w = ModelWrite(
                    record: r, replica: d, counter: counter, base: base ?? [:],
                    editedAt: Int64.random(in: 0...4, using: &rng) * 250, changes: changes(&rng), orgUnit: unit.uuidString.lowercased())
                outbox[d, default: []].append(w)
                seen[d, default: [:]][r, default: [:]][d] = counter
            default:
                flush(d)
            }
        }
        for d in devices { flush(d) }

        // The hostile device: fresh dots of its own, never applied.
        let x = uuid(&rng)
        var xc: Int64 = 100
        func next() -> Int64 { xc += Int64.random(in: 2...3, using: &rng); return xc }
        for r in fleet.records {
            let here = fleet.honest.filter { $0.record == r }
            let final = server[r]?.vector ?? [:]
            let elsewhere = fleet.honest.filter { $0.record != r }
            let u = unit.uuidString.lowercased()
            if let other = elsewhere.randomElement(using: &rng) {  // a dot of another record
                fleet.forged.append(
                    ModelWrite(
                        record: r, replica: x, counter: next(), base: final.merging([other.replica: other.counter]) { _, b in b },
                        editedAt: 999, changes: ["name": "forged-other-record"], orgUnit: u))
            }
            if let some = here.randomElement(using: &rng) {  // a dot never written
                fleet.forged.append(
                    ModelWrite(
                        record: r, replica: x, counter: next(), base: [some.replica: 90_000 + some.counter],
                        editedAt: 999, changes: ["village": "forged-never-written"], orgUnit: u))
                // A base covering the write's own dot (and otherwise fine).
                let c = next()
                fleet.forged.append(
                    ModelWrite(
                        record: r, replica: x, counter: c, base: final.merging([x: c + 1]) { _, b in b },
                        editedAt: 999, changes: ["age": "forged-own-dot"], orgUnit: u))
                // A previous own write that never existed.
                let c2 = next()
                fleet.forged.append(
                    ModelWrite(
                        record: r, replica: x, counter: c2, base: final.merging([x: c2 - 1]) { _, b in b },
                        editedAt: 999, changes: ["age": "forged-previous"], orgUnit: u))
                // The other org unit on a later write: immutable once the record exists.
                fleet.forged.append(
                    ModelWrite(
                        record: r, replica: x, counter: next(), base: final,
                        editedAt: 999, changes: ["name": "forged-unit"], orgUnit: otherUnit.uuidString.lowercased()))
            }
        }
        // Duplicates with other content of some honest writes.
        for (k, w) in fleet.honest.enumerated() where rng.chance(1, in: 4) {
            var dup = w
            dup.changes = ["name": "duplicate-\(k)"]
            fleet.duplicates[k] = dup
        }
        return fleet
    }

    // MARK: wire

    static func timestamp(_ ms: Int64) -> String {
        func pad(_ n: Int64, _ width: Int) -> String {
            let s = String(n)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "2026-11-20T08:\(pad(ms / 60_000, 2)):\(pad((ms / 1000) % 60, 2)).\(pad(ms % 1000, 3))Z"
    }

    static func item(_ w: ModelWrite, path: String) throws -> VersionedItem {
        var changes: [String: JSONValue] = [:]
        for (k, v) in w.changes { changes[k] = v.map(JSONValue.string) ?? .null }
        let json: JSONValue = .object([
            "kind": .string("entity"), "id": .string(w.record), "entityTypeId": .string(entityType.uuidString.lowercased()),
            "orgUnitId": .string(w.orgUnit), "base": .object(w.base.mapValues { .number(Double($0)) }),
            "replica": .string(w.replica), "counter": .number(Double(w.counter)), "editedAt": .string(timestamp(w.editedAt)),
            "changes": .object(changes),
        ])
        guard let device = UUID(uuidString: w.replica) else { throw ModelFailure("replica \(w.replica) is not a UUID") }
        return try VersionedItem(json: json, kind: .entity, path: path, device: device)
    }

    struct ModelFailure: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    /// The production status of a result, in the model's words.
    static func status(_ r: PushResult?) -> String {
        guard let r else { return "missing" }
        return r.status == .rejected ? (r.error?.code ?? "rejected?") : r.status.rawValue
    }

    // MARK: delivery

    struct Outcome {
        var states: [String: RecordState]
        var model: [String: ModelRecord]
        var mismatches: [String]
        var appliedOrder: [ModelWrite]
    }

    /// Delivers the fleet's writes in an order drawn from `seed`: rounds of shuffled
    /// batches (one device each, up to 6 items), rejected honest writes sent again in a
    /// later round, forged writes sent in random rounds (some twice), duplicates once
    /// their original was acknowledged.
    static func deliver(_ fleet: Fleet, seed: UInt64) throws -> Outcome {
        var rng = SplitMix64(seed: seed)
        var records: [ItemKind: [UUID: LoadedRecord]] = [.entity: [:], .instance: [:]]
        var model: [String: ModelRecord] = [:]
        var mismatches: [String] = []
        var appliedOrder: [ModelWrite] = []
        var pending = Array(fleet.honest.indices)
        var forgedLeft = fleet.forged + fleet.forged.filter { _ in rng.chance(1, in: 3) }
        var acked = Set<Int>()
        var duplicatesSent = Set<Int>()
        let references = PushReferences(units: [unit: true, otherUnit: true], entityTypes: [entityType])
        var round = 0
        while round < 60 {
            round += 1
            var queue: [(write: ModelWrite, honest: Int?)] = pending.map { (fleet.honest[$0], $0) }
            let forgedNow = forgedLeft.filter { _ in rng.chance(1, in: 2) || pending.isEmpty }
            forgedLeft.removeAll { w in forgedNow.contains(w) }
            queue += forgedNow.map { ($0, nil) }
            for (k, dup) in fleet.duplicates where acked.contains(k) && !duplicatesSent.contains(k) {
                queue.append((dup, nil))
                duplicatesSent.insert(k)
            }
            if queue.isEmpty { break }
            queue.shuffle(using: &rng)
            pending = []
            var progressed = false
            while !queue.isEmpty {
                let device = queue[0].write.replica
                let size = Int.random(in: 1...6, using: &rng)
                var batch: [(write: ModelWrite, honest: Int?)] = []
                queue.removeAll { entry in
                    guard batch.count < size, entry.write.replica == device else { return false }
                    batch.append(entry)
                    return true
                }
                let items = try batch.enumerated().map { (index: $0.offset, item: try item($0.element.write, path: "items[\($0.offset)]")) }
                let decision = PushDecision.decide(items, records: records, references: references, project: project, projects: [project])
                records = decision.records
                for (k, entry) in batch.enumerated() {
                    let w = entry.write
                    let expected = model[w.record, default: ModelRecord()].push(w)
                    let got = status(decision.results[k])
                    if got != expected.rawValue {
                        mismatches.append(
                            "round \(round): \(w) expected \(expected.rawValue), got \(got) \(decision.results[k]?.error?.message ?? "")")
                    }
                    if expected.isApplied { appliedOrder.append(w) }
                    if let h = entry.honest {
                        if expected.isApplied || expected == .unchanged {
                            acked.insert(h)
                            progressed = true
                        } else {
                            pending.append(h)
                        }
                    } else if expected.isApplied {
                        mismatches.append("a forged or duplicate write was applied: \(w)")
                    }
                }
            }
            if pending.isEmpty && forgedLeft.isEmpty && fleet.duplicates.keys.allSatisfy({ duplicatesSent.contains($0) }) { break }
            if !progressed && !pending.isEmpty && forgedLeft.isEmpty {
                mismatches.append("no progress with \(pending.count) honest writes pending")
                break
            }
        }
        var states: [String: RecordState] = [:]
        for r in fleet.records {
            if let id = UUID(uuidString: r), let state = records[.entity]?[id]?.state { states[r] = state }
        }
        return Outcome(states: states, model: model, mismatches: mismatches, appliedOrder: appliedOrder)
    }

    /// The production state in the model's terms: field → values.
    static func values(_ state: RecordState, _ name: String) -> Set<ModelValue> {
        Set(
            (state.fields[name] ?? []).map { v in
                ModelValue(
                    replica: v.replica, counter: v.counter, value: v.value.stringValue,
                    editedAt: v.editedAt.millisecondsSinceEpoch - Timestamp(rfc3339: timestamp(0))!.millisecondsSinceEpoch)
            })
    }

    // MARK: properties

    @Test(
        "every status as the contract determines, the same final states in every arrival order, no acknowledged write lost, forged writes always rejected",
        arguments: 0..<60)
    func fleetInManyOrders(seed: UInt64) throws {
        let fleet = Self.fleet(seed: 0xF1EE7 &+ seed)
        var finals: [[String: RecordState]] = []
        for order in 0..<6 {
            let outcome = try Self.deliver(fleet, seed: seed &* 7919 &+ UInt64(order))
            #expect(outcome.mismatches.isEmpty, "seed \(seed) order \(order):\n\(outcome.mismatches.prefix(8).joined(separator: "\n"))")
            for r in fleet.records {
                let model = outcome.model[r] ?? ModelRecord()
                let state = outcome.states[r] ?? RecordState()
                // Every honest write applied, nothing else.
                let honestHere = Set(fleet.honest.filter { $0.record == r }.map { "\($0.replica):\($0.counter)" })
                let appliedHere = Set(state.applied.dots.map { "\($0.replica):\($0.counter)" })
                #expect(appliedHere == honestHere, "seed \(seed) order \(order): applied dots of \(r)")
                #expect(state.version.entries == model.vector, "seed \(seed) order \(order): vector of \(r)")
                for name in model.fieldNames.union(state.fields.keys) {
                    #expect(Self.values(state, name) == model.values(of: name), "seed \(seed) order \(order): values of \(name)")
                    let visible = state.fields[name]?.first
                    let expected = model.visible(name)
                    #expect(
                        visible?.replica == expected?.replica && visible?.counter == expected?.counter,
                        "seed \(seed) order \(order): visible value of \(name)")
                }
                // No acknowledged write lost: each value survives, or a write applied after
                // it (so its author had seen it) replaced it.
                for w in fleet.honest where w.record == r {
                    for name in w.changes.keys where !Self.values(state, name).contains(where: { $0.replica == w.replica && $0.counter == w.counter })
                    {
                        let position = outcome.appliedOrder.firstIndex(of: w) ?? Int.max
                        let replacedBySeer = outcome.appliedOrder.enumerated().contains { k, later in
                            k > position && later.record == r && later.changes.keys.contains(name) && (later.base[w.replica] ?? 0) >= w.counter
                        }
                        #expect(replacedBySeer, "seed \(seed) order \(order): \(w)'s \(name) was lost")
                    }
                }
            }
            finals.append(outcome.states)
        }
        for (k, f) in finals.enumerated().dropFirst() {
            #expect(f == finals[0], "seed \(seed): arrival order \(k) ended in another state than order 0")
        }
    }

    @Test("a replayed history is answered unchanged and changes nothing", arguments: 0..<10)
    func replays(seed: UInt64) throws {
        let fleet = Self.fleet(seed: 0xAB5 &+ seed)
        var outcome = try Self.deliver(fleet, seed: seed)
        #expect(outcome.mismatches.isEmpty)
        var records: [ItemKind: [UUID: LoadedRecord]] = [.entity: [:], .instance: [:]]
        for (r, s) in outcome.states {
            if let id = UUID(uuidString: r) {
                records[.entity]?[id] = LoadedRecord(
                    state: s, projectId: Self.project,
                    fixed: [
                        "entityTypeId": .string(Self.entityType.uuidString.lowercased()), "orgUnitId": .string(Self.unit.uuidString.lowercased()),
                    ], isNew: false)
            }
        }
        for device in Set(fleet.honest.map(\.replica)) {
            let writes = fleet.honest.filter { $0.replica == device }
            let items = try writes.enumerated().map { (index: $0.offset, item: try Self.item($0.element, path: "items[\($0.offset)]")) }
            let decision = PushDecision.decide(
                items, records: records, references: PushReferences(units: [Self.unit: true], entityTypes: [Self.entityType]),
                project: Self.project, projects: [Self.project])
            for (k, w) in writes.enumerated() {
                #expect(Self.status(decision.results[k]) == "unchanged", "\(w)")
                #expect(outcome.model[w.record, default: ModelRecord()].push(w) == .unchanged)
            }
            #expect(decision.touched.values.allSatisfy { $0.isEmpty })
        }
    }
}
