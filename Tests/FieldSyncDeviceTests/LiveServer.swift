import FieldSyncClient
import FieldSyncCore
import FieldSyncDevice
import FieldSyncTestSupport
import Foundation
import Logging
import Testing

/// A real server on a loopback port over a fresh database of the throwaway PostGIS
/// (``LiveTestServer``), for the end-to-end device tests.
enum LiveServer {
    static let rootUser = TestServerDefaults.rootUser
    static let rootPassword = TestServerDefaults.rootPassword

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
        try await LiveTestServer.run { port in
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
