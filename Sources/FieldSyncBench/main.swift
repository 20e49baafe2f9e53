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
        subcommands: [Positions.self, Entities.self])
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
                    location: GeoPoint(longitude: 90.0 + Double(i % 1000) * 0.0001, latitude: 23.5 + Double(i / 1000) * 0.0001,
                                       altitude: i % 3 == 0 ? 12.5 : nil),
                    accuracy: Double(3 + i % 12), transport: i % 2 == 0 ? "foot" : "motorbike").json()
            }
            var body: [String: JSONValue] = ["batchId": .string(UUID().uuidString.lowercased()), "deviceId": .string(device), "items": .array(items)]
            if let project { body["projectId"] = .string(project) }
            return JSONWriter.encode(.object(body))
        }
        let client = PushClient(server: server, token: token)
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
struct Entities: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Push versioned entity writes from concurrent devices (~10% concurrent edits of shared entities).",
        discussion: "Example: fieldsync-bench entities --server http://127.0.0.1:8080 --token T --devices-file devices.txt --org-unit U --entity-type E")

    @Option var server: String = "http://127.0.0.1:8080"
    @Option var token: String
    @Option(help: "A file with one registered device id per line.") var devicesFile: String
    @Option var orgUnit: String
    @Option var entityType: String
    @Option var project: String?
    @Option var batches: Int = 20
    @Option var batchSize: Int = 100
    @Option var shared: Int = 200
    @Option var conflictShare: Double = 0.1

    func run() async throws {
        let devices = try String(contentsOfFile: devicesFile, encoding: .utf8).split(whereSeparator: \.isNewline).map(String.init)
        let client = PushClient(server: server, token: token)
        let sharedIds = (0..<shared).map { _ in UUID().uuidString.lowercased() }
        let creator = devices[0]
        func write(_ id: String, device: String, counter: Int, base: [String: Int], at ms: Int64, changes: [String: JSONValue], create: Bool) -> JSONValue {
            var o: [String: JSONValue] = [
                "kind": .string("entity"), "id": .string(id), "replica": .string(device), "counter": .number(Double(counter)),
                "base": .object(base.mapValues { .number(Double($0)) }), "editedAt": .string(Timestamp(millisecondsSinceEpoch: ms).description),
                "changes": .object(changes),
            ]
            if create { o["entityTypeId"] = .string(entityType); o["orgUnitId"] = .string(orgUnit) }
            return .object(o)
        }
        func body(_ device: String, _ items: [JSONValue]) -> [UInt8] {
            var b: [String: JSONValue] = ["batchId": .string(UUID().uuidString.lowercased()), "deviceId": .string(device), "items": .array(items)]
            if let project { b["projectId"] = .string(project) }
            return JSONWriter.encode(.object(b))
        }
        func post(_ bytes: [UInt8]) async throws -> JSONValue { try await client.push(bytes) }
        // The shared entities exist before the clock starts.
        for chunk in stride(from: 0, to: shared, by: 100) {
            let items = sharedIds[chunk..<min(shared, chunk + 100)].enumerated().map { k, id in
                write(id, device: creator, counter: 1_000_000 + chunk + k, base: [:], at: 1_763_626_530_000, changes: ["name": .string("Shared \(chunk + k)")], create: true)
            }
            _ = try await post(body(creator, items))
        }
        // Every device's batches, made up front: ~10% edits of shared entities (bases that
        // saw only the creation, so concurrent edits conflict), the rest new entities with a few fields.
        var rng = SystemRandomNumberGenerator()
        var work: [[(String, [UInt8])]] = []
        for (dk, device) in devices.enumerated() {
            var counter = 0
            var lastOnShared: [String: Int] = [:]
            var deviceBatches: [(String, [UInt8])] = []
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
                        items.append(write(id, device: device, counter: counter, base: base, at: ms, changes: ["status": .string("visited by \(dk)")], create: false))
                        lastOnShared[id] = counter
                    } else {
                        items.append(write(UUID().uuidString.lowercased(), device: device, counter: counter, base: [:], at: ms,
                                           changes: ["name": .string("Person \(dk)-\(counter)"), "age": .number(Double(counter % 90)), "village": .string("V\(counter % 37)")], create: true))
                    }
                }
                deviceBatches.append((device, body(device, items)))
            }
            work.append(deviceBatches)
        }
        let total = work.reduce(0) { $0 + $1.count } * batchSize
        let started = ContinuousClock.now
        let results: [([Duration], [String: Int])] = try await withThrowingTaskGroup(of: ([Duration], [String: Int]).self) { group in
            for deviceBatches in work {
                group.addTask {
                    var lat: [Duration] = []
                    var statuses: [String: Int] = [:]
                    for (_, bytes) in deviceBatches {
                        let t0 = ContinuousClock.now
                        let answer = try await post(bytes)
                        lat.append(ContinuousClock.now - t0)
                        for r in answer["results"]?.arrayValue ?? [] { statuses[r["status"]?.stringValue ?? "?", default: 0] += 1 }
                    }
                    return (lat, statuses)
                }
            }
            var all: [([Duration], [String: Int])] = []
            for try await r in group { all.append(r) }
            return all
        }
        let seconds = (ContinuousClock.now - started).seconds
        try await client.shutdown()
        let sorted = results.flatMap(\.0).sorted()
        var statuses: [String: Int] = [:]
        for (_, s) in results { statuses.merge(s, uniquingKeysWith: +) }
        let written = statuses.values.reduce(0, +)
        func pct(_ p: Double) -> Double { percentileMilliseconds(sorted, p) }
        print(JSONWriter.string(.object([
            "writes": .number(Double(written)), "planned": .number(Double(total)), "devices": .number(Double(devices.count)),
            "seconds": .number((seconds * 1000).rounded() / 1000), "rate": .number((Double(written) / seconds).rounded()),
            "p50ms": .number(pct(0.5).rounded()), "p95ms": .number(pct(0.95).rounded()), "p99ms": .number(pct(0.99).rounded()),
            "statuses": .object(statuses.mapValues { .number(Double($0)) }),
        ])))
    }
}

/// Posts push bodies to one server with one token.
struct PushClient: Sendable {
    let server: String
    let token: String
    let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(timeout: .init(connect: .seconds(10), read: .seconds(120))))

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

/// The `p` quantile of sorted latencies, in milliseconds.
func percentileMilliseconds(_ sorted: [Duration], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))].seconds * 1000
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
