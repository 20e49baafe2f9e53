import FieldSyncClient
import FieldSyncCore
import FieldSyncDevice
import FieldSyncServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import Testing

/// A real server on a loopback port over a fresh database of the throwaway PostGIS
/// (FIELDSYNC_TEST_DATABASE_URL, set by scripts/test or scripts/throwaway-postgis.sh).
enum LiveServer {
    static let rootUser = "root"
    static let rootPassword = "root-password"

    static func freshDatabase() async throws -> String {
        guard let base = ProcessInfo.processInfo.environment["FIELDSYNC_TEST_DATABASE_URL"], !base.isEmpty,
              var components = URLComponents(string: base)
        else {
            throw DeviceError("FIELDSYNC_TEST_DATABASE_URL is not set: run the tests with scripts/test, which starts a throwaway PostGIS")
        }
        let name = "dev_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let config = PostgresConnection.Configuration(
            host: components.host ?? "127.0.0.1", port: components.port ?? 5432, username: components.user ?? "postgres",
            password: components.password, database: String(components.path.dropFirst()), tls: .disable)
        let logger = Logger(label: "test")
        let connection = try await PostgresConnection.connect(configuration: config, id: 1, logger: logger)
        do {
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
            try await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }
        components.path = "/" + name
        return components.string!
    }

    /// Where ``device(_:_:agent:)`` puts its stores: a directory of the running ``run(_:)``.
    @TaskLocal static var storeDirectory: String?

    /// Runs `body` with a client of a live server (no token) on a fresh database; the
    /// device stores it makes are removed when it ends.
    static func run<T: Sendable>(_ body: @Sendable (FieldSyncClient) async throws -> T) async throws -> T {
        let dir = NSTemporaryDirectory() + "fieldsync-device-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        return try await $storeDirectory.withValue(dir) { try await runServer(body) }
    }

    private static func runServer<T: Sendable>(_ body: @Sendable (FieldSyncClient) async throws -> T) async throws -> T {
        var config = ServerConfiguration()
        config.databaseURL = try await freshDatabase()
        config.adminUser = rootUser
        config.adminPassword = rootPassword
        config.port = 0
        config.poolSize = 8
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let app = try await buildApplication(configuration: config, logger: logger)
        return try await app.test(.live) { testClient in
            let port = try #require(testClient.port)
            var clientLogger = Logger(label: "test.client")
            clientLogger.logLevel = .error
            return try await FieldSyncClient.withClient(baseURL: "http://127.0.0.1:\(port)", logger: clientLogger) { client in
                try await body(client)
            }
        }
    }

    /// A fresh fleet set-up (account, project, form, entity type, `agents` agents).
    static func setup(_ client: FieldSyncClient, agents: Int = 1, devicesPerUser: Int = 10) async throws -> FleetSetup {
        var options = FleetOptions(devices: agents * devicesPerUser, records: 0, storeDirectory: storeDirectory ?? NSTemporaryDirectory())
        options.devicesPerUser = devicesPerUser
        return try await FleetSetup.create(base: client, adminUser: rootUser, adminPassword: rootPassword, options: options)
    }

    /// A new registered device of the setup's agent `k`, in a temporary store.
    static func device(_ client: FieldSyncClient, _ setup: FleetSetup, agent k: Int = 0) async throws -> (EmulatedDevice, FieldSyncClient) {
        let path = (storeDirectory ?? NSTemporaryDirectory()) + "/device-\(UUID().uuidString).sqlite"
        let device = EmulatedDevice(store: try DeviceStore(path: path))
        try await device.adopt(server: client.baseURL, answer: setup.agents[k].session, projectId: setup.projectId)
        let deviceClient = try await device.client(sharing: client)
        try await device.register(client: deviceClient)
        return (device, deviceClient)
    }

    /// Every record and position of the project, by `kind/id`, as the admin pulls them.
    static func serverView(_ client: FieldSyncClient, _ setup: FleetSetup) async throws -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        try await client.sharing(token: setup.adminToken).pullAll(limit: 1000, projectId: setup.projectId) { page in
            for doc in page.changes {
                if let kind = doc["kind"]?.stringValue, let id = doc["id"]?.stringValue { out[kind + "/" + id] = doc }
            }
        }
        return out
    }
}

/// Passes pushes through, but after `dropAfter` successful pushes throws the answers
/// of the next `drops` away (the server did the work; the device never hears of it).
/// Records every `batchId` pushed.
final class DroppingTransport: SyncTransport, @unchecked Sendable {
    let inner: any SyncTransport
    private let lock = NSLock()
    private var pushed: [UUID] = []
    private var remainingBeforeDrop: Int
    private var drops: Int

    init(_ inner: any SyncTransport, dropAfter: Int, drops: Int = 1) {
        self.inner = inner
        self.remainingBeforeDrop = dropAfter
        self.drops = drops
    }

    var batchIds: [UUID] { lock.withLock { pushed } }

    func push(batchId: UUID, deviceId: UUID, projectId: UUID?, items: [JSONValue]) async throws -> PushAnswer {
        let answer = try await inner.push(batchId: batchId, deviceId: deviceId, projectId: projectId, items: items)
        let drop: Bool = lock.withLock {
            pushed.append(batchId)
            if remainingBeforeDrop > 0 {
                remainingBeforeDrop -= 1
                return false
            }
            if drops > 0 {
                drops -= 1
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
