import ArgumentParser
import AsyncHTTPClient
import FieldSyncCore
import Foundation
import NIOCore

/// `fieldsync-bench`: load generators for the benchmarks in BENCHMARKS.md. They talk
/// HTTP to a running server; scripts/bench-* start the server and database and compare
/// with the baseline measured in the same run.
@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fieldsync-bench",
        abstract: "Load generators for FieldSync benchmarks (see scripts/bench-positions).",
        subcommands: [Positions.self, Entities.self, PushCPU.self])
}

struct Positions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Push positions over HTTP from concurrent clients and report the rate.",
        discussion: "Example: fieldsync-bench positions --server http://127.0.0.1:8080 --token T --device D --count 200000 --batch 1000 --clients 8")

    @Option var server: String = "http://127.0.0.1:8080"
    @Option var token: String
    @Option var device: String
    @Option var project: String?
    @Option var count: Int = 200_000
    @Option var batch: Int = 1000
    @Option var clients: Int = 8

    func run() async throws {
        // Bodies are made before the clock starts: the benchmark measures the server.
        let batches = stride(from: 0, to: count, by: batch).map { start -> [UInt8] in
            let n = min(batch, count - start)
            let base: Int64 = 1_763_626_530_000
            let items: [JSONValue] = (0..<n).map { k in
                let i = start + k
                return PositionItem(
                    id: UUID(), capturedAt: Timestamp(millisecondsSinceEpoch: base + Int64(i) * 1000),
                    location: GeoPoint(
                        longitude: 90.0 + Double(i % 1000) * 0.0001, latitude: 23.5 + Double(i / 1000) * 0.0001,
                        altitude: i % 3 == 0 ? 12.5 : nil),
                    accuracy: Double(3 + i % 12), transport: i % 2 == 0 ? "foot" : "motorbike"
                ).json()
            }
            var body: [String: JSONValue] = ["batchId": .string(UUID().lowercasedText), "deviceId": .string(device), "items": .array(items)]
            if let project { body["projectId"] = .string(project) }
            return JSONWriter.encode(.object(body))
        }
        let client = PushClient(server: server, token: token, connections: clients)
        let next = Counter()
        let started = ContinuousClock.now
        let latencies: [Duration] = try await withThrowingTaskGroup(of: [Duration].self) { group in
            for _ in 0..<clients {
                group.addTask {
                    var mine: [Duration] = []
                    while let k = next.take(below: batches.count) {
                        let t0 = ContinuousClock.now
                        _ = try await client.push(batches[k])
                        mine.append(ContinuousClock.now - t0)
                    }
                    return mine
                }
            }
            var all: [Duration] = []
            for try await l in group { all += l }
            return all
        }
        let seconds = (ContinuousClock.now - started).seconds
        try await client.shutdown()
        let sorted = latencies.sorted()
        func pct(_ p: Double) -> Double { percentileMilliseconds(sorted, p) }
        let out: JSONValue = .object([
            "positions": .number(Double(count)), "seconds": .number((seconds * 1000).rounded() / 1000),
            "rate": .number((Double(count) / seconds).rounded()), "batches": .number(Double(batches.count)),
            "clients": .number(Double(clients)), "batchLatencyP50ms": .number(pct(0.5).rounded()), "batchLatencyP99ms": .number(pct(0.99).rounded()),
        ])
        print(JSONWriter.string(out))
    }
}

/// Versioned entity writes from many devices with a share of conflicting edits.
///
/// Devices are modelled as phones: each has its own HTTP connection and at most one push
/// in flight. In `open` mode (the default) pushes are due at the times of one Poisson
/// arrival stream of `--rate` writes/s (the offered load; `--rate / --batch-size` batches/s),
/// each arrival given to a random device among those with batches left, whatever the
/// server's answers take; a device whose previous push is still running when its next
/// one is due sends it as soon as that one is answered. Latency is reported
/// both from the send (what the device waits for an answer) and from the scheduled time
/// (also counting the wait behind the device's own previous push, so a server that falls
/// behind can't hide it). In `closed` mode every device pushes its next batch as soon as
/// the previous one is answered: the server's saturation throughput, where latency is
/// devices × batch size / throughput by Little's law whatever the server does.
struct Entities: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Push versioned entity writes from concurrent devices (~10% concurrent edits of shared entities).",
        discussion:
            "Example: fieldsync-bench entities --server http://127.0.0.1:8080 --token T --devices-file devices.txt --org-unit U --entity-type E --mode open --rate 10000"
    )

    @Option var server: String = "http://127.0.0.1:8080"
    @Option var token: String
    @Option(help: "A file with one registered device id per line.") var devicesFile: String
    @Option var orgUnit: String
    @Option var entityType: String
    @Option var project: String?
    @Option(help: "Batches per device.") var batches: Int = 20
    @Option var batchSize: Int = 100
    @Option var shared: Int = 200
    @Option var conflictShare: Double = 0.1
    @Option(help: "open (devices push on a schedule at --rate) or closed (each device pushes again as soon as answered).") var mode: String = "open"
    @Option(help: "open mode: offered load, versioned writes per second over all devices.") var rate: Double = 10_000

    func run() async throws {
        guard mode == "open" || mode == "closed" else { throw ValidationError("--mode must be open or closed") }
        guard rate > 0 else { throw ValidationError("--rate must be positive") }
        let devices = try String(contentsOfFile: devicesFile, encoding: .utf8).split(whereSeparator: \.isNewline).map(String.init)
        // One connection per device, as phones have.
        let client = PushClient(server: server, token: token, connections: devices.count)
        let sharedIds = (0..<shared).map { _ in UUID().lowercasedText }
        let creator = devices[0]
        func write(
            _ id: String, device: String, counter: Int, base: [String: Int], at ms: Int64, changes: [String: JSONValue], create: Bool
        ) -> JSONValue {
            var o: [String: JSONValue] = [
                "kind": .string("entity"), "id": .string(id), "replica": .string(device), "counter": .number(Double(counter)),
                "base": .object(base.mapValues { .number(Double($0)) }), "editedAt": .string(Timestamp(millisecondsSinceEpoch: ms).description),
                "changes": .object(changes),
            ]
            if create { o["entityTypeId"] = .string(entityType); o["orgUnitId"] = .string(orgUnit) }
            return .object(o)
        }
        func body(_ device: String, _ items: [JSONValue]) -> [UInt8] {
            var b: [String: JSONValue] = ["batchId": .string(UUID().lowercasedText), "deviceId": .string(device), "items": .array(items)]
            if let project { b["projectId"] = .string(project) }
            return JSONWriter.encode(.object(b))
        }
        func post(_ bytes: [UInt8]) async throws -> JSONValue { try await client.push(bytes) }
        // The shared entities exist before the clock starts.
        for chunk in stride(from: 0, to: shared, by: 100) {
            let items = sharedIds[chunk..<min(shared, chunk + 100)].enumerated().map { k, id in
                write(
                    id, device: creator, counter: 1_000_000 + chunk + k, base: [:], at: 1_763_626_530_000,
                    changes: ["name": .string("Shared \(chunk + k)")], create: true)
            }
            _ = try await post(body(creator, items))
        }
        // Every device's batches, made up front: ~10% edits of shared entities (bases that
        // saw only the creation, so concurrent edits conflict), the rest new entities with a few fields.
        var rng = SystemRandomNumberGenerator()
        var work: [[[UInt8]]] = []
        for (dk, device) in devices.enumerated() {
            var counter = 0
            var lastOnShared: [String: Int] = [:]
            var deviceBatches: [[UInt8]] = []
            for b in 0..<batches {
                var items: [JSONValue] = []
                for k in 0..<batchSize {
                    counter += 1
                    let ms = 1_763_626_600_000 + Int64(b * batchSize + k) * 10 + Int64(dk)
                    if device != creator, Double.random(in: 0..<1, using: &rng) < conflictShare {
                        let s = Int.random(in: 0..<shared, using: &rng)
                        let id = sharedIds[s]
                        var base = [creator: 1_000_000 + s]
                        if let last = lastOnShared[id] { base[device] = last }
                        items.append(
                            write(
                                id, device: device, counter: counter, base: base, at: ms, changes: ["status": .string("visited by \(dk)")],
                                create: false))
                        lastOnShared[id] = counter
                    } else {
                        items.append(
                            write(
                                UUID().lowercasedText, device: device, counter: counter, base: [:], at: ms,
                                changes: [
                                    "name": .string("Person \(dk)-\(counter)"), "age": .number(Double(counter % 90)),
                                    "village": .string("V\(counter % 37)"),
                                ], create: true))
                    }
                }
                deviceBatches.append(body(device, items))
            }
            work.append(deviceBatches)
        }
        // Open mode: one Poisson arrival stream at --rate (mean gap batch size / rate), each
        // arrival handed to a device at random among those with batches left, so every
        // device sends its batches in order at random times and the total is exactly the rate.
        let open = mode == "open"
        let meanGap = Double(batchSize) / rate
        var owners = work.enumerated().flatMap { d, batches in Array(repeating: d, count: batches.count) }
        owners.shuffle(using: &rng)
        var schedules: [[Double]] = work.map { _ in [] }
        var clock = 0.0
        for d in owners {
            clock += -log(1 - Double.random(in: 0..<1, using: &rng)) * meanGap
            schedules[d].append(clock)
        }
        let lastScheduled = clock
        let total = work.reduce(0) { $0 + $1.count } * batchSize
        let cpuBefore = processCPUSeconds()
        let started = ContinuousClock.now
        struct DeviceRun: Sendable {
            var service: [Duration] = []
            var fromSchedule: [Duration] = []
            var statuses: [String: Int] = [:]
            var lastAnswer = ContinuousClock.now
        }
        let runs: [DeviceRun] = try await withThrowingTaskGroup(of: DeviceRun.self) { group in
            for (deviceBatches, schedule) in zip(work, schedules) {
                group.addTask {
                    var run = DeviceRun()
                    for (bytes, at) in zip(deviceBatches, schedule) {
                        let due = started + .milliseconds(Int64(at * 1000))
                        if open, due > ContinuousClock.now { try await Task.sleep(until: due, clock: .continuous) }
                        let t0 = ContinuousClock.now
                        let answer = try await post(bytes)
                        let t1 = ContinuousClock.now
                        run.service.append(t1 - t0)
                        run.fromSchedule.append(open ? t1 - due : t1 - t0)
                        run.lastAnswer = t1
                        for r in answer["results"]?.arrayValue ?? [] { run.statuses[r["status"]?.stringValue ?? "?", default: 0] += 1 }
                    }
                    return run
                }
            }
            var all: [DeviceRun] = []
            for try await r in group { all.append(r) }
            return all
        }
        let seconds = ((runs.map(\.lastAnswer).max() ?? started) - started).seconds
        let cpu = processCPUSeconds() - cpuBefore
        try await client.shutdown()
        let service = runs.flatMap(\.service).sorted()
        let fromSchedule = runs.flatMap(\.fromSchedule).sorted()
        var statuses: [String: Int] = [:]
        for r in runs { statuses.merge(r.statuses, uniquingKeysWith: +) }
        // Acknowledged versioned writes: applied and durably stored (not rejected, not duplicates).
        let acknowledged = ["created", "updated", "merged", "conflict"].reduce(0) { $0 + (statuses[$1] ?? 0) }
        func ms(_ sorted: [Duration], _ p: Double) -> JSONValue { .number(percentileMilliseconds(sorted, p).rounded()) }
        let offered: Double = open ? Double(total) / lastScheduled : 0
        print(
            JSONWriter.string(
                .object([
                    "mode": .string(mode), "writes": .number(Double(acknowledged)), "answered": .number(Double(statuses.values.reduce(0, +))),
                    "planned": .number(Double(total)), "devices": .number(Double(devices.count)), "batchSize": .number(Double(batchSize)),
                    "batches": .number(Double(service.count)),
                    "offeredRate": .number(open ? rate : 0), "offeredRateActual": .number(offered.rounded()),
                    "seconds": .number((seconds * 1000).rounded() / 1000), "rate": .number((Double(acknowledged) / seconds).rounded()),
                    "p50ms": ms(service, 0.5), "p95ms": ms(service, 0.95), "p99ms": ms(service, 0.99), "maxms": ms(service, 1),
                    "schedP50ms": ms(fromSchedule, 0.5), "schedP95ms": ms(fromSchedule, 0.95), "schedP99ms": ms(fromSchedule, 0.99),
                    "statuses": .object(statuses.mapValues { .number(Double($0)) }),
                    "generatorCPUSeconds": .number((cpu * 1000).rounded() / 1000),
                ])))
    }
}

/// CPU time (user + system) this process has used, in seconds.
func processCPUSeconds() -> Double {
    var usage = rusage()
    #if os(Linux)
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    #else
        getrusage(RUSAGE_SELF, &usage)
    #endif
    func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return s(usage.ru_utime) + s(usage.ru_stime)
}

/// Posts push bodies to one server with one token.
struct PushClient: Sendable {
    let server: String
    let token: String
    let http: HTTPClient

    /// - Parameter connections: how many HTTP/1 connections to the server at most (AsyncHTTPClient's default is 8).
    init(server: String, token: String, connections: Int = 8) {
        self.server = server
        self.token = token
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(10), read: .seconds(120)))
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, connections))
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Pushes one body; any answer but 200 is an error.
    func push(_ bytes: [UInt8]) async throws -> JSONValue {
        var request = HTTPClientRequest(url: server + "/v1/sync/push")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: bytes))
        let response = try await http.execute(request, timeout: .seconds(120))
        let buffer = try await response.body.collect(upTo: 64 << 20)
        guard response.status == .ok else { throw ValidationError("push answered \(response.status): \(String(buffer: buffer).prefix(300))") }
        return try JSONParser.parse(Array(buffer.readableBytesView))
    }

    func shutdown() async throws { try await http.shutdown() }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// The `fraction`-th quantile (0…1) of ascending `sorted` in milliseconds, by nearest
/// rank (``Percentile/nearestRank(_:_:)``, as the fleet report); 0 without samples.
func percentileMilliseconds(_ sorted: [Duration], _ fraction: Double) -> Double {
    (Percentile.nearestRank(sorted, fraction * 100)?.seconds ?? 0) * 1000
}

/// Hands out batch numbers to the client tasks.
final class Counter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func take(below limit: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard value < limit else { return nil }
        value += 1
        return value - 1
    }
}
