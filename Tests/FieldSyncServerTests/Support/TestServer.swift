import FieldSyncCore
@testable import FieldSyncServer
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PostgresNIO
import Testing

/// The throwaway PostGIS that `scripts/test` starts (FIELDSYNC_TEST_DATABASE_URL).
enum TestDatabase {
    static var baseURL: String {
        get throws {
            guard let url = ProcessInfo.processInfo.environment["FIELDSYNC_TEST_DATABASE_URL"], !url.isEmpty else {
                throw TestSetupError("FIELDSYNC_TEST_DATABASE_URL is not set: run the tests with scripts/test, which starts a throwaway PostGIS")
            }
            return url
        }
    }

    /// Creates an empty database on the test cluster and returns its URL: each test
    /// gets its own, so suites can run in parallel.
    static func fresh() async throws -> String {
        try await create(template: nil)
    }

    /// A database already migrated: a copy of a template migrated once per test run
    /// (migrating one database per test, PostGIS included, loads the machine for nothing).
    static func migrated() async throws -> String {
        let template = try await MigratedTemplate.shared.name()
        return try await create(template: template)
    }

    static func create(template: String?) async throws -> String {
        let base = try baseURL
        let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await admin { connection in
            let sql = template.map { "CREATE DATABASE \(name) TEMPLATE \($0)" } ?? "CREATE DATABASE \(name)"
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: Logger(label: "test"))
        }
        return url(of: name, base: base)
    }

    static func url(of database: String, base: String) -> String {
        var components = URLComponents(string: base)!
        components.path = "/" + database
        return components.string!
    }

    /// Runs `body` on a connection to the test cluster's base database.
    static func admin<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let components = URLComponents(string: try baseURL)!
        let config = PostgresConnection.Configuration(
            host: components.host ?? "127.0.0.1", port: components.port ?? 5432, username: components.user ?? "postgres",
            password: components.password, database: String(components.path.dropFirst()), tls: .disable)
        let connection = try await PostgresConnection.connect(configuration: config, id: 1, logger: Logger(label: "test"))
        do {
            let result = try await body(connection)
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }
}

/// The template database: created and migrated by the first test that needs it.
actor MigratedTemplate {
    static let shared = MigratedTemplate()
    private var ready: String?

    func name() async throws -> String {
        if let ready { return ready }
        let name = "fieldsync_template_" + UUID().uuidString.prefix(8).lowercased()
        let url = try await TestDatabase.create(template: nil)
        // Migrate a fresh database, then rename it as the template (no connection stays open on it).
        let logger = { var l = Logger(label: "template"); l.logLevel = .warning; return l }()
        let client = PostgresClient(configuration: try DatabaseURL.configuration(from: url), backgroundLogger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            try await Migrator(database: Database(client: client, timeout: .seconds(300), logger: logger), logger: logger).migrate()
            group.cancelAll()
        }
        let migratedName = String(URLComponents(string: url)!.path.dropFirst())
        try await TestDatabase.admin { c in
            try await c.query(PostgresQuery(unsafeSQL: "ALTER DATABASE \(migratedName) RENAME TO \(name)"), logger: logger)
        }
        ready = name
        return name
    }
}

struct TestSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// A configuration for a test server on a fresh database.
func testConfiguration(databaseURL: String) -> ServerConfiguration {
    var config = ServerConfiguration()
    config.databaseURL = databaseURL
    config.adminUser = "root"
    config.adminPassword = "root-password"
    config.port = 0
    config.databaseTimeout = .seconds(5)
    config.poolSize = 8
    return config
}

/// Builds the real application on a fresh database and runs `body` against it
/// through Hummingbird's router test client (no sockets).
func withTestApp<T: Sendable>(
    configure: (inout ServerConfiguration) -> Void = { _ in },
    _ body: @Sendable (API) async throws -> T
) async throws -> T {
    try await withTestApp(databaseURL: try await TestDatabase.migrated(), configure: configure, body)
}

/// The same on a given database (several apps on one database stand for several
/// server processes: each has its own connection pool).
func withTestApp<T: Sendable>(
    databaseURL: String,
    configure: (inout ServerConfiguration) -> Void = { _ in },
    _ body: @Sendable (API) async throws -> T
) async throws -> T {
    var config = testConfiguration(databaseURL: databaseURL)
    configure(&config)
    var logger = Logger(label: "test")
    logger.logLevel = .warning
    let app = try await buildApplication(configuration: config, logger: logger)
    return try await app.test(.router) { client in
        try await body(API(client: client))
    }
}

/// A thin JSON client over the test client.
struct API: Sendable {
    let client: any TestClientProtocol

    struct Reply: Sendable {
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let body: ByteBuffer
        var json: JSONValue {
            (try? JSONParser.parse(Array(body.readableBytesView))) ?? .null
        }
        var text: String { String(buffer: body) }
        /// The protocol error code, when the body is an error.
        var errorCode: String? { json["error"]?["code"]?.stringValue }
        var errorField: String? { json["error"]?["field"]?.stringValue }
    }

    func call(_ method: HTTPRequest.Method, _ uri: String, token: String? = nil, json: JSONValue? = nil, raw: [UInt8]? = nil, headers: HTTPFields = [:]) async throws -> Reply {
        var h = headers
        if let token { h[.authorization] = "Bearer \(token)" }
        var body: ByteBuffer? = nil
        if let json { body = ByteBuffer(bytes: JSONWriter.encode(json)); h[.contentType] = "application/json" }
        if let raw { body = ByteBuffer(bytes: raw); h[.contentType] = "application/json" }
        return try await client.execute(uri: uri, method: method, headers: h, body: body) { r in
            Reply(status: r.status, headers: r.headers, body: r.body)
        }
    }

    /// Signs in; returns the token.
    func signIn(_ username: String, _ password: String) async throws -> String {
        let r = try await call(.post, "/v1/auth/token", json: .object(["username": .string(username), "password": .string(password)]))
        guard r.status == .ok, let token = r.json["token"]?.stringValue else {
            throw TestSetupError("sign-in of \(username) failed: \(r.status) \(r.text)")
        }
        return token
    }
}

/// An account with a project, an admin, a supervisor and an agent, each with a
/// registered device and a token.
struct Fixture: Sendable {
    let api: API
    let rootToken: String
    let account: UUID
    let project: UUID
    let admin: Member
    let agent: Member

    struct Member: Sendable {
        let userId: UUID
        let token: String
        let device: UUID
    }

    static func make(_ api: API) async throws -> Fixture {
        let root = try await api.signIn("root", "root-password")
        let account = UUID()
        let project = UUID()
        var r = try await api.call(.post, "/v1/accounts", token: root, json: .object(["id": .string(account.lowercased), "name": .string("Test account")]))
        guard r.status == .created else { throw TestSetupError("account: \(r.text)") }
        r = try await api.call(.post, "/v1/projects?accountId=\(account.lowercased)", token: root,
                               json: .object(["id": .string(project.lowercased), "name": .string("Survey"), "appId": .string("test.survey")]))
        guard r.status == .created else { throw TestSetupError("project: \(r.text)") }
        let suffix = UUID().uuidString.prefix(8).lowercased()
        func member(_ role: String) async throws -> Member {
            let name = "\(role)-\(suffix)"
            let r = try await api.call(.post, "/v1/users?accountId=\(account.lowercased)", token: root, json: .object([
                "username": .string(name), "password": .string("password-\(role)"), "role": .string(role),
                "projectIds": .array([.string(project.lowercased)]), "orgUnitIds": .array([]),
            ]))
            guard r.status == .created, let id = r.json["id"]?.stringValue.flatMap(UUID.init(uuidString:)) else {
                throw TestSetupError("user \(role): \(r.text)")
            }
            let token = try await api.signIn(name, "password-\(role)")
            let device = UUID()
            let d = try await api.call(.post, "/v1/devices", token: token, json: .object(["deviceId": .string(device.lowercased), "model": .string("test-phone")]))
            guard d.status == .ok else { throw TestSetupError("device: \(d.text)") }
            return Member(userId: id, token: token, device: device)
        }
        return Fixture(api: api, rootToken: root, account: account, project: project,
                       admin: try await member("admin"), agent: try await member("agent"))
    }
}

/// A position item as a device sends it.
func positionItem(id: UUID = UUID(), at millis: Int64 = 1_763_626_530_123, lon: Double = 90.4125, lat: Double = 23.8103,
                  alt: Double? = nil, accuracy: Double? = 5, transport: String? = "foot") -> JSONValue {
    PositionItem(id: id, capturedAt: Timestamp(millisecondsSinceEpoch: millis),
                 location: GeoPoint(longitude: lon, latitude: lat, altitude: alt), accuracy: accuracy, transport: transport).json()
}

func pushBody(batch: UUID = UUID(), device: UUID, project: UUID? = nil, items: [JSONValue]) -> JSONValue {
    var o: [String: JSONValue] = ["batchId": .string(batch.lowercased), "deviceId": .string(device.lowercased), "items": .array(items)]
    if let project { o["projectId"] = .string(project.lowercased) }
    return .object(o)
}

extension UUID {
    var lowercased: String { uuidString.lowercased() }
}
