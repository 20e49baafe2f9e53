import AsyncHTTPClient
import FieldSyncCore
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import PostgresNIO
import Testing

/// Two real `fieldsync-server` processes on one database (issue #3): concurrent
/// conflicting pushes to the same records through both lose no acknowledged write and
/// deadlock nowhere, pulls through either answer the same, and a batch replayed through
/// the other process (also at the same moment) gets the first answer.
///
/// The binary is the one `swift build --build-tests` (scripts/test) leaves next to the
/// test runner; FIELDSYNC_SERVER_BINARY overrides it.
@Suite("Two server processes on one database", .serialized, .timeLimit(.minutes(5)))
struct TwoProcessTests {
    @Test(
        "concurrent conflicting writes through two processes: no lost update, no deadlock, pulls agree",
        .enabled(if: ServerBinary.path != nil, ServerBinary.missing))
    func concurrentConflictingWrites() async throws {
        try await withTwoServers { a, b, http, database in
            let w = try await TwoProcessWorld.make(a, http)
            let servers = [a, b]
            // The creator makes the shared records through A.
            let shared = (0..<12).map { _ in UUID() }
            let creator = w.devices[0]
            let creation = shared.enumerated().map { k, id in
                w.entity(id, device: creator, counter: Int64(k + 1), base: [:], value: "created", at: 0, create: true)
            }
            let created = try await w.push(a, http, device: creator, items: creation)
            #expect(created.allSatisfy { $0["status"] == .string("created") })

            // Four devices edit every shared record in every batch (two in ascending, two in
            // descending order: opposite lock orders if the server did not sort), and create
            // records of their own; each device alternates between the processes.
            let editors = Array(w.devices[1...4])
            let batches = 6
            struct Acked: Sendable {
                var lastOnShared: [UUID: Int64] = [:]
                var own: [UUID: Int64] = [:]
                var statuses: [String] = []
            }
            let acked: [String: Acked] = try await withThrowingTaskGroup(of: (String, Acked).self) { group in
                for (i, device) in editors.enumerated() {
                    group.addTask {
                        var mine = Acked()
                        var counter: Int64 = 0
                        for j in 0..<batches {
                            var items: [JSONValue] = []
                            var pending: [(UUID, Int64, Bool)] = []
                            let order = i % 2 == 0 ? shared : shared.reversed()
                            for (k, id) in order.enumerated() {
                                counter += 1
                                let s = shared.firstIndex(of: id)!
                                var base = [creator.lowercased: Int64(s + 1)]
                                if let last = mine.lastOnShared[id] { base[device.lowercased] = last }
                                items.append(
                                    w.entity(
                                        id, device: device, counter: counter, base: base, value: "\(device.lowercased)-\(counter)",
                                        at: Int64(j * 100 + k) * 10 + Int64(i), create: false))
                                pending.append((id, counter, true))
                            }
                            for _ in 0..<5 {
                                counter += 1
                                let id = UUID()
                                items.append(w.entity(id, device: device, counter: counter, base: [:], value: "own", at: Int64(j), create: true))
                                pending.append((id, counter, false))
                            }
                            let results = try await w.push(servers[(i + j) % 2], http, device: device, items: items)
                            for (result, (id, c, isShared)) in zip(results, pending) {
                                let status = result["status"]?.stringValue ?? "?"
                                mine.statuses.append(status)
                                guard ["created", "updated", "merged", "conflict"].contains(status) else { continue }
                                if isShared { mine.lastOnShared[id] = c } else { mine.own[id] = c }
                            }
                        }
                        return (device.lowercased, mine)
                    }
                }
                var all: [String: Acked] = [:]
                for try await (device, a) in group { all[device] = a }
                return all
            }
            // Every write was applied (no rejection, no duplicate).
            for (device, a) in acked {
                #expect(a.statuses.count == batches * (shared.count + 5), "device \(device)")
                #expect(a.statuses.allSatisfy { ["created", "updated", "merged", "conflict"].contains($0) }, "device \(device): \(Set(a.statuses))")
            }

            // Pulls through both processes agree, record for record.
            let fromA = try await w.pullAll(a, http)
            let fromB = try await w.pullAll(b, http)
            #expect(fromA.values.filter { $0["kind"] == .string("entity") }.count == shared.count + editors.count * batches * 5)
            #expect(fromA == fromB)

            // No lost update: each shared record's vector covers every acknowledged dot, and its
            // `status` field keeps exactly the last acknowledged value of each editor (each one's
            // base covered only the creation and its own earlier writes).
            for (s, id) in shared.enumerated() {
                let doc = try #require(fromA[id.lowercased], "shared record \(id.lowercased) not pulled")
                let version = doc["version"]?.objectValue ?? [:]
                #expect(version[creator.lowercased]?.numberValue == Double(s + 1))
                var expected = Set<String>()
                for (device, a) in acked {
                    let last = try #require(a.lastOnShared[id])
                    #expect(version[device]?.numberValue == Double(last), "record \(s), device \(device)")
                    expected.insert("\(device)-\(last)")
                }
                let values = Set(
                    (doc["conflicts"]?["status"]?.arrayValue ?? []).compactMap { v -> String? in
                        guard let value = v["value"]?.stringValue, let replica = v["replica"]?.stringValue, let counter = v["counter"]?.numberValue,
                            value == "\(replica)-\(Int64(counter))"
                        else { return "mismatch: \(v)" }
                        return value
                    })
                #expect(values == expected, "record \(s)")
                #expect(doc["fields"]?["status"]?.stringValue.map { expected.contains($0) } == true)
            }
            for (device, a) in acked {
                for (id, counter) in a.own {
                    #expect(fromA[id.lowercased]?["version"]?[device]?.numberValue == Double(counter))
                }
            }
            // No deadlock was detected on this database (a push that hit one would have failed above too).
            try await Task.sleep(for: .milliseconds(1500))  // statistics reach pg_stat_database within a second
            let deadlocks = try await TestDatabase.admin { c in
                var n: Int64 = -1
                for try await d in try await c.query(
                    "SELECT deadlocks FROM pg_stat_database WHERE datname = \(database)", logger: Logger(label: "test")
                )
                .decode(Int64.self) { n = d }
                return n
            }
            #expect(deadlocks == 0)
        }
    }

    @Test(
        "a batch replayed through the other process, later or at the same moment, gets the first answer",
        .enabled(if: ServerBinary.path != nil, ServerBinary.missing))
    func replayAcrossProcesses() async throws {
        try await withTwoServers { a, b, http, _ in
            let w = try await TwoProcessWorld.make(a, http)
            let device = w.devices[0]
            let first = UUID(), second = UUID()
            // Pushed through A, replayed through B; the same batchId with other items is another batch: 409.
            let batch = UUID()
            let body = w.body(
                batch: batch, device: device,
                items: [
                    w.entity(first, device: device, counter: 1, base: [:], value: "one", at: 0, create: true),
                    w.entity(second, device: device, counter: 2, base: [:], value: "two", at: 1, create: true),
                    w.entity(first, device: device, counter: 3, base: [device.lowercased: 1], value: "three", at: 2, create: false),
                ])
            let answerA = try await w.post(a, http, "/v1/sync/push", body)
            #expect(answerA.status == 200)
            #expect(answerA.json["results"]?.arrayValue?.map { $0["status"] } == [.string("created"), .string("created"), .string("updated")])
            let answerB = try await w.post(b, http, "/v1/sync/push", body)
            #expect(answerB.status == 200)
            #expect(answerB.json["batchId"] == .string(batch.lowercased))
            #expect(answerB.json["results"] == answerA.json["results"])
            let altered = w.body(
                batch: batch, device: device, items: [w.entity(UUID(), device: device, counter: 9, base: [:], value: "x", at: 3, create: true)])
            let answerC = try await w.post(b, http, "/v1/sync/push", altered)
            #expect(answerC.status == 409 && answerC.json["error"]?["code"] == .string("batch_id_taken"), "\(answerC.json)")

            // The same new batch sent to both processes at once, several times: every answer
            // is the one answer, and its writes are applied once.
            for round in 0..<5 {
                let id = UUID()
                let counter = Int64(10 + round)
                let racing = w.body(
                    batch: UUID(), device: device,
                    items: [
                        w.entity(id, device: device, counter: counter, base: [:], value: "race \(round)", at: 10, create: true),
                        w.entity(
                            first, device: device, counter: counter + 100, base: [device.lowercased: round == 0 ? 3 : 110 + Int64(round) - 1],
                            value: "race edit \(round)", at: 11 + Int64(round), create: false),
                    ])
                async let ra = w.post(a, http, "/v1/sync/push", racing)
                async let rb = w.post(b, http, "/v1/sync/push", racing)
                let (x, y) = try await (ra, rb)
                #expect(x.status == 200 && y.status == 200, "round \(round): \(x.status) \(x.text) / \(y.status) \(y.text)")
                #expect(x.json["results"] == y.json["results"], "round \(round)")
                #expect(x.json["results"]?.arrayValue?.map { $0["status"] } == [.string("created"), .string("updated")], "round \(round): \(x.text)")
            }
            let pulledA = try await w.pullAll(a, http)
            let pulledB = try await w.pullAll(b, http)
            #expect(pulledA == pulledB)
            #expect(pulledA.values.filter { $0["kind"] == .string("entity") }.count == 2 + 5)
            #expect(pulledA[first.lowercased]?["version"]?[device.lowercased] == .number(114))
            #expect(pulledA[first.lowercased]?["fields"]?["status"] == .string("race edit 4"))
        }
    }
}

// MARK: - the binary and the processes

/// Where the `fieldsync-server` executable is: FIELDSYNC_SERVER_BINARY, else the build
/// products folder the test runner itself was started from.
enum ServerBinary {
    static let missing: Comment = """
        fieldsync-server binary not found next to the test runner (build it with `swift build --build-tests`, \
        as scripts/test does) and FIELDSYNC_SERVER_BINARY is not set: two-process tests skipped
        """

    static let path: String? = {
        let fm = FileManager.default
        if let p = ProcessInfo.processInfo.environment["FIELDSYNC_SERVER_BINARY"], !p.isEmpty {
            return fm.isExecutableFile(atPath: p) ? p : nil
        }
        var folders: [URL] = []
        if let exe = try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            folders.append(URL(fileURLWithPath: exe).deletingLastPathComponent())
        }
        if let exe = Bundle.main.executableURL { folders.append(exe.deletingLastPathComponent()) }
        for bundle in [Bundle.main] + Bundle.allBundles {
            folders.append(bundle.bundleURL)
            folders.append(bundle.bundleURL.deletingLastPathComponent())
        }
        for folder in folders {
            let candidate = folder.appendingPathComponent("fieldsync-server").path
            if fm.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }()
}

/// One `fieldsync-server` process on a loopback port; its output goes to a temporary file.
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    let port: Int
    let log: URL
    var url: String { "http://127.0.0.1:\(port)" }

    init(binary: String, databaseURL: String, port: Int) throws {
        self.port = port
        log = FileManager.default.temporaryDirectory.appendingPathComponent("fieldsync-server-\(port)-\(UUID().uuidString.prefix(8)).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let out = try FileHandle(forWritingTo: log)
        process.executableURL = URL(fileURLWithPath: binary)
        var env = ProcessInfo.processInfo.environment
        env["FIELDSYNC_DATABASE_URL"] = databaseURL
        env["FIELDSYNC_HOST"] = "127.0.0.1"
        env["FIELDSYNC_PORT"] = String(port)
        env["FIELDSYNC_ADMIN_USER"] = "root"
        env["FIELDSYNC_ADMIN_PASSWORD"] = "root-password"
        env["FIELDSYNC_LOG_LEVEL"] = "warning"
        env["FIELDSYNC_DB_POOL_SIZE"] = "8"
        process.environment = env
        process.standardOutput = out
        process.standardError = out
        try process.run()
    }

    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: log)
    }

    /// Waits for `GET /readyz` to answer 200.
    func waitUntilReady(_ http: HTTPClient) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            guard process.isRunning else { throw TestSetupError("fieldsync-server on port \(port) exited: \(output)") }
            if let r = try? await http.execute(HTTPClientRequest(url: url + "/readyz"), timeout: .seconds(2)), r.status == .ok {
                _ = try? await r.body.collect(upTo: 1 << 16)
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestSetupError("fieldsync-server on port \(port) not ready within 60 s: \(output)")
    }
}

/// A free loopback port (bound, read, released).
func freeLoopbackPort() async throws -> Int {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
    let port = channel.localAddress?.port ?? 0
    try await channel.close()
    return port
}

/// Starts two server processes on one fresh migrated database, runs `body` with them, an
/// HTTP client and the database's name, and stops them whatever happens.
func withTwoServers(_ body: (ServerProcess, ServerProcess, HTTPClient, String) async throws -> Void) async throws {
    let binary = try #require(ServerBinary.path)
    let databaseURL = try await TestDatabase.migrated()
    let name = String(URLComponents(string: databaseURL)!.path.dropFirst())
    let http = HTTPClient(eventLoopGroupProvider: .singleton)
    var servers: [ServerProcess] = []
    do {
        for _ in 0..<2 {
            servers.append(try ServerProcess(binary: binary, databaseURL: databaseURL, port: try await freeLoopbackPort()))
        }
        for s in servers { try await s.waitUntilReady(http) }
        try await body(servers[0], servers[1], http, name)
        for s in servers {
            #expect(!s.output.contains("deadlock"), "server log: \(s.output)")
        }
    } catch {
        for s in servers { s.stop() }
        try? await http.shutdown()
        throw error
    }
    for s in servers { s.stop() }
    try await http.shutdown()
}

/// An account with a project, an admin user with five registered devices, an org unit
/// and an entity type, set up through one process.
struct TwoProcessWorld: Sendable {
    let token: String
    let project: UUID
    let unit: UUID
    let entityType: UUID
    let devices: [UUID]

    struct Reply: Sendable {
        let status: Int
        let text: String
        var json: JSONValue { (try? JSONParser.parse(text)) ?? .null }
    }

    static func make(_ server: ServerProcess, _ http: HTTPClient) async throws -> TwoProcessWorld {
        func call(_ path: String, _ token: String?, _ json: JSONValue) async throws -> JSONValue {
            let r = try await send(server, http, path, token: token, body: JSONWriter.encode(json))
            guard r.status == 200 || r.status == 201 else { throw TestSetupError("\(path): \(r.status) \(r.text)") }
            return r.json
        }
        let root =
            try await call("/v1/auth/token", nil, .object(["username": .string("root"), "password": .string("root-password")]))["token"]?.stringValue
            ?? ""
        let account = try await call("/v1/accounts", root, .object(["name": .string("Two processes")]))["id"]?.stringValue ?? ""
        let q = "?accountId=\(account)"
        let project =
            try await call("/v1/projects" + q, root, .object(["name": .string("Survey"), "appId": .string("two.processes")]))["id"]?.stringValue ?? ""
        let username = "editor-\(UUID().uuidString.prefix(8).lowercased())"
        _ = try await call(
            "/v1/users" + q, root,
            .object([
                "username": .string(username), "password": .string("editor-password"), "role": .string("admin"),
                "projectIds": .array([.string(project)]),
            ]))
        let token =
            try await call("/v1/auth/token", nil, .object(["username": .string(username), "password": .string("editor-password")]))["token"]?
            .stringValue ?? ""
        let unit = UUID()
        _ = try await call(
            "/v1/orgunits/import" + q, root, .array([.object(["id": .string(unit.lowercased), "name": .string("District"), "parentId": .null])]))
        let type = try await call("/v1/entity-types" + q, root, .object(["name": .string("Household")]))["id"]?.stringValue ?? ""
        var devices: [UUID] = []
        for _ in 0..<5 {
            let d = UUID()
            _ = try await call("/v1/devices", token, .object(["deviceId": .string(d.lowercased)]))
            devices.append(d)
        }
        return TwoProcessWorld(token: token, project: UUID(uuidString: project)!, unit: unit, entityType: UUID(uuidString: type)!, devices: devices)
    }

    static func send(
        _ server: ServerProcess, _ http: HTTPClient, _ path: String, method: HTTPMethod = .POST, token: String?, body: [UInt8]?
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: server.url + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await http.execute(request, timeout: .seconds(60))
        let buffer = try await response.body.collect(upTo: 64 << 20)
        return Reply(status: Int(response.status.code), text: String(buffer: buffer))
    }

    func post(_ server: ServerProcess, _ http: HTTPClient, _ path: String, _ body: [UInt8]) async throws -> Reply {
        try await Self.send(server, http, path, token: token, body: body)
    }

    func entity(_ id: UUID, device: UUID, counter: Int64, base: [String: Int64], value: String, at offset: Int64, create: Bool) -> JSONValue {
        var o: [String: JSONValue] = [
            "kind": .string("entity"), "id": .string(id.lowercased), "replica": .string(device.lowercased), "counter": .number(Double(counter)),
            "base": .object(base.mapValues { .number(Double($0)) }),
            "editedAt": .string(Timestamp(millisecondsSinceEpoch: 1_763_626_530_000 + offset).description),
            "changes": .object(["status": .string(value)]),
        ]
        if create {
            o["entityTypeId"] = .string(entityType.lowercased)
            o["orgUnitId"] = .string(unit.lowercased)
        }
        return .object(o)
    }

    func body(batch: UUID = UUID(), device: UUID, items: [JSONValue]) -> [UInt8] {
        JSONWriter.encode(
            .object([
                "batchId": .string(batch.lowercased), "deviceId": .string(device.lowercased), "projectId": .string(project.lowercased),
                "items": .array(items),
            ]))
    }

    /// Pushes one batch; anything but 200 fails; returns the results.
    func push(_ server: ServerProcess, _ http: HTTPClient, device: UUID, items: [JSONValue]) async throws -> [JSONValue] {
        let r = try await post(server, http, "/v1/sync/push", body(device: device, items: items))
        guard r.status == 200 else { throw TestSetupError("push through port \(server.port): \(r.status) \(r.text)") }
        return r.json["results"]?.arrayValue ?? []
    }

    /// Every record pulled through `server` from the start, by id (the last change wins).
    func pullAll(_ server: ServerProcess, _ http: HTTPClient) async throws -> [String: JSONValue] {
        var cursor = ""
        var out: [String: JSONValue] = [:]
        while true {
            let r = try await Self.send(server, http, "/v1/sync/pull?limit=1000&cursor=\(cursor)", method: .GET, token: token, body: nil)
            guard r.status == 200 else { throw TestSetupError("pull through port \(server.port): \(r.status) \(r.text)") }
            let page = r.json
            for change in page["changes"]?.arrayValue ?? [] {
                if let id = change["id"]?.stringValue { out[id] = change }
            }
            cursor = page["cursor"]?.stringValue ?? ""
            if page["hasMore"] != .bool(true) { return out }
        }
    }
}
