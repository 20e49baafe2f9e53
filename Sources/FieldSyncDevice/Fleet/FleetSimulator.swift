import FieldSyncClient
import FieldSyncCore
import Foundation
import Synchronization

/// Runs a fleet of emulated devices in one process against a server: each device
/// is its own SQLite store; devices of one agent share that agent's org unit and
/// its shared entities, which they edit concurrently while offline (real conflicts).
///
/// Phases: prepare (stores, registration), seed (one device per agent creates the
/// shared entities; every device pulls them), work (offline writes), sync (rounds
/// of sync with faults until every outbox is empty, then a final pull by every
/// device), check (against a full pull by the admin).
public final class FleetSimulator: Sendable {
    public let base: FieldSyncClient
    public let options: FleetOptions
    let log: @Sendable (String) -> Void
    let progress: @Sendable (_ phase: String, _ done: Int, _ total: Int) -> Void

    public init(
        base: FieldSyncClient, options: FleetOptions, log: @escaping @Sendable (String) -> Void = { _ in },
        progress: @escaping @Sendable (String, Int, Int) -> Void = { _, _, _ in }
    ) {
        self.base = base
        self.options = options
        self.log = log
        self.progress = progress
    }

    func storePath(_ i: Int) -> String {
        options.storeDirectory + "/device-\(i + 1).sqlite"
    }

    func agentIndex(_ i: Int) -> Int { i / options.devicesPerUser }

    /// Opens device `i`'s store, runs `body`, closes it (a fleet of thousands never
    /// holds more than `concurrency` files open).
    func withDevice<T: Sendable>(_ i: Int, _ body: (EmulatedDevice) async throws -> T) async throws -> T {
        let store = try DeviceStore(path: storePath(i))
        do {
            let result = try await body(EmulatedDevice(store: store))
            try? store.close()
            return result
        } catch {
            try? store.close()
            throw error
        }
    }

    /// Runs every phase against `setup` and reports.
    public func run(setup: FleetSetup) async throws -> FleetReport {
        let n = options.devices
        var report = FleetReport(options: options)
        let clients = setup.agents.map { base.sharing(token: $0.session.token) }
        let faults = FaultCounter()
        var plan = options.faults
        plan.counter = faults
        let faultPlan = plan
        let latencies = LatencyRecorder()

        // Prepare.
        var clock = ContinuousClock.now
        try await phase("prepare", n) { i in
            let agent = setup.agents[self.agentIndex(i)]
            try await self.withDevice(i) { device in
                let session = try await device.store.session()
                try await device.adopt(server: self.base.baseURL, answer: agent.session, projectId: setup.projectId)
                if self.options.clockSkewSeconds > 0 {
                    let s = self.options.clockSkewSeconds
                    try await device.store.setClockSkew(milliseconds: Int64(Double.random(in: -s...s) * 1000))
                }
                _ = try await clients[self.agentIndex(i)].registerDevice(
                    deviceId: session.deviceId, model: "fleet-emulator", appVersion: "fieldsync-simulate")
                try await device.store.setRegistered()
                try await device.store.saveCatalog(forms: setup.forms, entityTypes: setup.entityTypes)
            }
        }
        // Seed: the first device of each agent creates the shared entities; everyone pulls.
        let shared = setup.agents.map { _ in (0..<options.sharedEntities).map { _ in UUID() } }
        try await phase("seed", setup.agents.count) { k in
            try await self.withDevice(k * self.options.devicesPerUser) { device in
                for id in shared[k] {
                    try await device.createEntity(
                        id: id, type: setup.entityTypeId, orgUnit: setup.agents[k].orgUnit,
                        attributes: ["name": .string("Household \(id.uuidString.prefix(4))"), "status": .string("new")])
                }
                _ = try await device.sync(transport: ClientTransport(client: clients[k]), batchSize: self.options.batchSize)
            }
        }
        try await phase("initial pull", n) { i in
            try await self.withDevice(i) { device in
                _ = try await device.sync(transport: ClientTransport(client: clients[self.agentIndex(i)]), batchSize: self.options.batchSize)
            }
        }
        report.setupSeconds = (ContinuousClock.now - clock).seconds

        // Work, offline.
        clock = ContinuousClock.now
        try await phase("offline work", n) { i in
            let k = self.agentIndex(i)
            try await self.withDevice(i) { device in
                var sharedEdits = 0
                for _ in 0..<self.options.records {
                    if !shared[k].isEmpty && Double.random(in: 0..<1) < self.options.sharedEditRate {
                        let field = Bool.random() ? "status" : "visits"
                        let value: JSONValue =
                            field == "status"
                            ? .string(["visited", "absent", "moved", "refused"].randomElement()!) : .number(Double(Int.random(in: 1...9)))
                        try await device.edit(kind: .entity, id: shared[k].randomElement()!, changes: [field: value])
                        sharedEdits += 1
                    }
                }
                try await device.collect(
                    count: self.options.records - sharedEdits, form: setup.formId, orgUnit: setup.agents[k].orgUnit, track: self.options.track)
            }
        }
        report.workSeconds = (ContinuousClock.now - clock).seconds

        // Sync, with faults and offline spells, until every outbox is empty.
        clock = ContinuousClock.now
        let pending = Mutex(Set(0..<n))
        let offline = Set((0..<n).filter { _ in Double.random(in: 0..<1) < options.offlineRate })
        let failures = Mutex(0)
        let spent = Mutex((push: 0.0, pull: 0.0, store: 0.0))
        let account: @Sendable (SyncReport) -> Void = { r in
            spent.withLock {
                $0.push += r.pushSeconds; $0.pull += r.pullSeconds; $0.store += r.storeSeconds
            }
        }
        var round = 0
        while round < options.maxRounds && !pending.withLock({ $0.isEmpty }) {
            round += 1
            // Devices come back online in random order (as phones do), not agent by agent:
            // siblings editing the same shared entities don't all push at the same moment.
            let todo = pending.withLock { $0 }.filter { round > 1 || !offline.contains($0) }.shuffled()
            _ = try? await phase("sync round \(round)", todo.count, tolerateFailures: true) { j in
                let i = todo[j]
                let transport = FaultyTransport(ClientTransport(client: clients[self.agentIndex(i)]), plan: faultPlan, counter: faults)
                do {
                    let r = try await self.withDevice(i) { device in
                        try await device.sync(
                            transport: transport, batchSize: self.options.batchSize, faults: faultPlan,
                            onPush: { latencies.record($0) })
                    }
                    account(r)
                    if r.outboxLeft == 0 { _ = pending.withLock { $0.remove(i) } }
                } catch {
                    failures.withLock { $0 += 1 }
                    throw error
                }
            }
        }
        report.rounds = round
        report.failedSyncs = failures.withLock { $0 }
        report.devicesNotDrained = pending.withLock { $0.count }
        // Final pull: every device catches up with the others' writes.
        _ = try? await phase("final pull", n, tolerateFailures: true) { i in
            try await self.withDevice(i) { device in
                account(try await device.sync(transport: ClientTransport(client: clients[self.agentIndex(i)]), batchSize: self.options.batchSize))
            }
        }
        report.syncSeconds = (ContinuousClock.now - clock).seconds
        (report.pushWaitSeconds, report.pullWaitSeconds, report.storeSeconds) = spent.withLock { ($0.push, $0.pull, $0.store) }
        report.pushes = latencies.count
        report.p50 = latencies.percentile(50)
        report.p95 = latencies.percentile(95)
        report.p99 = latencies.percentile(99)
        report.faults = Dictionary(uniqueKeysWithValues: faults.snapshot.map { ($0.key.rawValue, $0.value) })
        (report.forgedSent, report.forgedRejected) = faults.forgedWrites

        // Check.
        clock = ContinuousClock.now
        try await check(setup: setup, report: &report)
        report.checkSeconds = (ContinuousClock.now - clock).seconds
        return report
    }

    /// Runs `body` for `0..<count` with bounded concurrency and progress; throws the
    /// first failure unless `tolerateFailures`.
    @discardableResult
    func phase(
        _ name: String, _ count: Int, tolerateFailures: Bool = false, _ body: @escaping @Sendable (Int) async throws -> Void
    ) async throws -> Int {
        let done = Atomic<Int>(0)
        let progress = self.progress
        progress(name, 0, count)
        let failures = await forEachConcurrently(count, width: options.concurrency) { i in
            defer {
                let d = done.add(1, ordering: .relaxed).newValue
                progress(name, d, count)
            }
            try await body(i)
        }
        if !failures.isEmpty {
            let sample = failures.sorted { $0.key < $1.key }.first!
            if !tolerateFailures {
                throw DeviceError("\(failures.count) of \(count) devices failed in the \(name) phase; device \(sample.key + 1): \(sample.value)")
            }
            log("\(name): \(failures.count) of \(count) syncs failed (e.g. device \(sample.key + 1): \(sample.value)); they retry next round")
        }
        return failures.count
    }

    /// Compares every device with a full pull by the admin: nothing lost (every write
    /// a device made is covered by the server's version, every position is there) and
    /// converged (each device holds exactly its agent's records, as the server has them).
    func check(setup: FleetSetup, report: inout FleetReport) async throws {
        let admin = base.sharing(token: setup.adminToken)
        var server: [String: JSONValue] = [:]
        var positions = Set<String>()
        try await admin.pullAll(from: nil, limit: 1000, projectId: setup.projectId) { page in
            for doc in page.changes {
                guard let kind = doc["kind"]?.stringValue, let id = doc["id"]?.stringValue else { continue }
                if kind == "position" { positions.insert(id) } else if kind == "entity" || kind == "instance" { server[kind + "/" + id] = doc }
            }
        }
        var byUnit: [String: Set<String>] = [:]
        for (key, doc) in server {
            if let unit = doc["orgUnitId"]?.stringValue { byUnit[unit, default: []].insert(key) }
        }
        report.serverRecords = server.count
        report.serverPositions = positions.count
        report.recordsInConflict = server.values.filter { $0["conflicts"]?.objectValue?.isEmpty == false }.count
        let serverView = server
        let positionSet = positions
        let units = byUnit
        struct Tally: Sendable { var written = 0, acknowledged = 0, lost = 0, rejected = 0, divergent = 0, sample: String? = nil }
        let tally = Mutex(Tally())
        try await phase("check", options.devices, tolerateFailures: false) { i in
            let unit = setup.agents[self.agentIndex(i)].orgUnit.lowercasedText
            try await self.withDevice(i) { device in
                let replica = try await device.store.session().replica
                let (written, rejected) = try await device.store.writtenLog()
                let held = try await device.store.pulledDocuments().filter { $0.key.hasPrefix("entity/") || $0.key.hasPrefix("instance/") }
                let outbox = try await device.store.outboxCount()
                let acknowledged = try await device.store.acknowledgedCount()
                var lost = 0
                var why: String? = nil
                for w in written {
                    let key = w.kind + "/" + w.id
                    if rejected.contains(key) { continue }
                    if w.kind == "position" {
                        if !positionSet.contains(w.id) { lost += 1; why = why ?? "position \(w.id) is not on the server" }
                    } else if let doc = serverView[key] {
                        let have = Int64(doc["version"]?[replica]?.numberValue ?? 0)
                        if have < w.counter {
                            lost += 1; why = why ?? "\(key): the server's version has \(replica):\(have), the device wrote \(w.counter)"
                        }
                    } else {
                        lost += 1
                        why = why ?? "\(key) is not on the server"
                    }
                }
                var divergent = outbox > 0
                if divergent { why = why ?? "\(outbox) writes still in the outbox" }
                let expected = units[unit] ?? []
                if Set(held.keys) != expected {
                    divergent = true
                    why = why ?? "holds \(held.count) records, the server has \(expected.count) in its org unit"
                } else {
                    for (key, doc) in held where serverView[key] != doc {
                        divergent = true
                        why = why ?? "\(key) differs from the server's"
                        break
                    }
                }
                let w = written.count, r = rejected.count, l = lost, d = divergent, y = why
                tally.withLock {
                    $0.written += w
                    $0.acknowledged += acknowledged
                    $0.lost += l
                    $0.rejected += r
                    if d { $0.divergent += 1 }
                    if (l > 0 || d), $0.sample == nil { $0.sample = "device \(i + 1): \(y ?? "?")" }
                }
            }
        }
        let t = tally.withLock { $0 }
        report.writes = t.written
        report.acknowledged = t.acknowledged
        report.lost = t.lost
        report.rejected = t.rejected
        report.divergentDevices = t.divergent
        report.problem = t.sample
    }
}
