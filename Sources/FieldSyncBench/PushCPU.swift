import ArgumentParser
import FieldSyncCore
import Foundation

/// `fieldsync-bench push-cpu`: the CPU of a push's pure work, phase by phase, in one
/// process with no I/O: what `scripts/bench-entities` measures as server CPU per batch,
/// less HTTP, PostgreSQL's protocol and the scheduler. The batch has the shape of that
/// benchmark's (100 entity writes, ~10% edits of shared entities that each hold ~50
/// conflicting values and ~100 dots, the rest creations), so a phase that grows here
/// grows there; perf on this loop attributes time that async frames hide on the server.
struct PushCPU: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push-cpu",
        abstract: "CPU per batch of the push's pure phases (parse, canonical digest text, stored-state read, decide, state write, answer).")

    @Option(help: "Batches to time (after one warm-up pass).") var batches: Int = 2000
    @Option(help: "Devices writing to the shared entities.") var devices: Int = 50
    @Option(help: "Edits already applied to each shared entity.") var history: Int = 100

    func run() throws {
        var rng = SplitMix64(seed: 20_261_204)
        let deviceIds = (0..<devices).map { _ in UUID() }
        let replicas = deviceIds.map(\.lowercasedText)
        let type = UUID()
        let unit = UUID()
        let project = UUID()
        let creator = replicas[0]
        // Ten shared entities, each edited `history` times by devices that saw only its
        // creation (so the edits conflict), stored as text the way the server stores them.
        let shared = (0..<10).map { _ in UUID() }
        var lastOf: [String: Int64] = [:]
        var storedTexts: [String] = []
        for (s, id) in shared.enumerated() {
            _ = id
            var state = RecordState()
            state.apply(
                VersionedWrite(
                    base: VersionVector(), replica: creator, counter: Int64(1_000_000 + s),
                    editedAt: Timestamp(millisecondsSinceEpoch: 1_763_626_530_000),
                    changes: ["name": .string("Shared \(s)")]))
            for h in 0..<history {
                let d = 1 + Int(rng.next() % UInt64(devices - 1))
                let counter = (lastOf[replicas[d]] ?? 0) + 1 + Int64(rng.next() % 3)
                var base: VersionVector = [creator: Int64(1_000_000 + s)]
                let own = state.applied.greatest(of: replicas[d])
                if own > 0 { base[replicas[d]] = own }
                lastOf[replicas[d]] = counter
                state.apply(
                    VersionedWrite(
                        base: base, replica: replicas[d], counter: counter,
                        editedAt: Timestamp(millisecondsSinceEpoch: 1_763_626_600_000 + Int64(h) * 10),
                        changes: ["status": .string("visited by \(d)")]))
            }
            storedTexts.append(state.stateText)
        }
        // One device's batches: 10 edits of the shared entities, 90 creations.
        let device = deviceIds[1]
        let replica = replicas[1]
        var counter = (lastOf[replica] ?? 0) + 10
        func body(_ b: Int) -> [UInt8] {
            var items: [JSONValue] = []
            for k in 0..<100 {
                counter += 1
                let ms = 1_763_626_700_000 + Int64(b * 100 + k) * 10
                if k % 10 == 0 {
                    let s = k / 10
                    guard let state = RecordState(stateText: storedTexts[s]) else { continue }
                    var base: [String: JSONValue] = [creator: .number(Double(1_000_000 + s))]
                    let own = state.applied.greatest(of: replica)
                    if own > 0 { base[replica] = .number(Double(own)) }
                    items.append(
                        .object([
                            "kind": .string("entity"), "id": .string(shared[s].lowercasedText), "replica": .string(replica),
                            "counter": .number(Double(counter)), "base": .object(base),
                            "editedAt": .string(Timestamp(millisecondsSinceEpoch: ms).description),
                            "changes": .object(["status": .string("visited by 1")]),
                        ]))
                } else {
                    items.append(
                        .object([
                            "kind": .string("entity"), "id": .string(UUID().lowercasedText), "replica": .string(replica),
                            "counter": .number(Double(counter)), "base": .object([:]),
                            "editedAt": .string(Timestamp(millisecondsSinceEpoch: ms).description),
                            "changes": .object([
                                "name": .string("Person 1-\(counter)"), "age": .number(Double(counter % 90)), "village": .string("V\(counter % 37)"),
                            ]),
                            "entityTypeId": .string(type.lowercasedText), "orgUnitId": .string(unit.lowercasedText),
                        ]))
                }
            }
            return JSONWriter.encode(
                .object(["batchId": .string(UUID().lowercasedText), "deviceId": .string(device.lowercasedText), "items": .array(items)]))
        }
        let bodies = (0..<min(batches, 200)).map(body)
        let references = PushReferences(units: [unit: true], entityTypes: [type])

        var clock = PhaseClock()
        for round in 0...batches {
            let bytes = bodies[round % bodies.count]
            let timed = round > 0
            // 1. The body into items.
            let t0 = ContinuousClock.now
            guard let json = try? JSONParser.parse(bytes), let envelope = try? PushEnvelope(json: json) else {
                throw ValidationError("the generated body does not parse")
            }
            var items: [(index: Int, item: VersionedItem)] = []
            for (index, raw) in envelope.items.enumerated() {
                guard let item = try? VersionedItem(json: raw, kind: .entity, path: "items[\(index)]", device: envelope.deviceId) else {
                    throw ValidationError("item \(index) does not read")
                }
                items.append((index, item))
            }
            // 2. The canonical text the batch digest hashes.
            let t1 = ContinuousClock.now
            var canonical = JSONWriter(capacity: 32 * 1024)
            canonical.write(.array(envelope.items))
            // 3. The stored states of the records the batch names.
            let t2 = ContinuousClock.now
            var loaded: [UUID: LoadedRecord] = [:]
            for (s, id) in shared.enumerated() {
                loaded[id] = LoadedRecord(
                    state: RecordState(stateText: storedTexts[s]) ?? RecordState(), projectId: project,
                    fixed: ["entityTypeId": .string(type.lowercasedText), "orgUnitId": .string(unit.lowercasedText)], isNew: false)
            }
            // 4. The decision.
            let t3 = ContinuousClock.now
            let decision = PushDecision.decide(items, records: [.entity: loaded], references: references, project: project, projects: [project])
            // 5. The states written back.
            let t4 = ContinuousClock.now
            var written = 0
            for id in decision.touched[.entity] ?? [] {
                guard let record = decision.records[.entity]?[id] else { continue }
                // As the server's entity flush: the state's text, then the document's
                // visible values, vector and conflicts (copied from the state's text).
                let stored = record.state.storedText()
                written += String(decoding: stored.bytes, as: UTF8.self).utf8.count
                var doc = JSONWriter(capacity: 256)
                for (name, values) in record.state.fields {
                    guard let visible = values.first else { continue }
                    doc.write(string: name)
                    doc.write(visible.value)
                }
                doc.write(version: record.state.version)
                stored.writeConflicts(into: &doc)
                written += doc.bytes.count
            }
            // 6. The answer.
            let t5 = ContinuousClock.now
            var answer = JSONWriter(capacity: 64 * 100 + 128)
            for index in 0..<items.count {
                if let r = decision.results[index] { answer.write(result: r) }
            }
            let t6 = ContinuousClock.now
            if timed {
                clock.add([t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5])
            }
            if written == 0 || canonical.bytes.isEmpty || answer.bytes.isEmpty { throw ValidationError("nothing was written") }
        }
        let names = ["parse body + items", "canonical digest text", "read 10 stored states", "decide", "write states + conflicts", "write answer"]
        print("push-cpu: \(batches) batches of 100 entity writes (10 on shared entities of \(history) edits by \(devices) devices)")
        for (name, total) in zip(names, clock.totals) {
            print(
                "  \(name.padding(toLength: 26, withPad: " ", startingAt: 0)): \(String(format: "%7.1f", clock.microseconds(total) / Double(batches))) µs per batch"
            )
        }
        print(
            "  total                     : \(String(format: "%7.1f", clock.microseconds(clock.totals.reduce(.zero, +)) / Double(batches))) µs per batch"
        )
    }
}

/// Sums of the phases' durations.
private struct PhaseClock {
    var totals: [Duration] = Array(repeating: .zero, count: 6)

    mutating func add(_ phases: [Duration]) {
        for (k, d) in phases.enumerated() where k < totals.count { totals[k] += d }
    }

    func microseconds(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12
    }
}
