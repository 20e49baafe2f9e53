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
        subcommands: [Positions.self])
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
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(timeout: .init(connect: .seconds(10), read: .seconds(120))))
        let next = Counter()
        let started = ContinuousClock.now
        let latencies: [Duration] = try await withThrowingTaskGroup(of: [Duration].self) { group in
            for _ in 0..<clients {
                group.addTask {
                    var mine: [Duration] = []
                    while let k = next.take(below: batches.count) {
                        var request = HTTPClientRequest(url: server + "/v1/sync/push")
                        request.method = .POST
                        request.headers.add(name: "Authorization", value: "Bearer \(token)")
                        request.headers.add(name: "Content-Type", value: "application/json")
                        request.body = .bytes(ByteBuffer(bytes: batches[k]))
                        let t0 = ContinuousClock.now
                        let response = try await http.execute(request, timeout: .seconds(120))
                        let body = try await response.body.collect(upTo: 64 << 20)
                        guard response.status == .ok else {
                            throw ValidationError("push answered \(response.status): \(String(buffer: body).prefix(300))")
                        }
                        mine.append(ContinuousClock.now - t0)
                    }
                    return mine
                }
            }
            var all: [Duration] = []
            for try await l in group { all += l }
            return all
        }
        let elapsed = ContinuousClock.now - started
        try await http.shutdown()
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let sorted = latencies.sorted()
        func pct(_ p: Double) -> Double {
            let d = sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))]
            return Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
        }
        let out: JSONValue = .object([
            "positions": .number(Double(count)), "seconds": .number((seconds * 1000).rounded() / 1000),
            "rate": .number((Double(count) / seconds).rounded()), "batches": .number(Double(batches.count)),
            "clients": .number(Double(clients)), "batchLatencyP50ms": .number(pct(0.5).rounded()), "batchLatencyP99ms": .number(pct(0.99).rounded()),
        ])
        print(JSONWriter.string(out))
    }
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
