import FieldSyncCore
import FieldSyncTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PostgresNIO
import Testing

@testable import FieldSyncServer

// The fresh-database helpers (TestDatabase, MigratedTemplate, testConfiguration,
// TestSetupError) live in the FieldSyncTestSupport target, shared with the device and
// CLI tests; these names make them visible to every file of this target.
typealias TestDatabase = FieldSyncTestSupport.TestDatabase
typealias MigratedTemplate = FieldSyncTestSupport.MigratedTemplate
typealias TestSetupError = FieldSyncTestSupport.TestSetupError

func testConfiguration(databaseURL: String) -> ServerConfiguration {
    FieldSyncTestSupport.testConfiguration(databaseURL: databaseURL)
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

    func call(
        _ method: HTTPRequest.Method, _ uri: String, token: String? = nil, json: JSONValue? = nil, raw: [UInt8]? = nil, headers: HTTPFields = [:]
    ) async throws -> Reply {
        var h = headers
        if let token { h[.authorization] = "Bearer \(token)" }
        var body: ByteBuffer? = nil
        if let json { body = ByteBuffer(bytes: JSONWriter.encode(json)); h[.contentType] = "application/json" }
        if let raw { body = ByteBuffer(bytes: raw); if h[.contentType] == nil { h[.contentType] = "application/json" } }
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
        var r = try await api.call(
            .post, "/v1/accounts", token: root, json: .object(["id": .string(account.lowercased), "name": .string("Test account")]))
        guard r.status == .created else { throw TestSetupError("account: \(r.text)") }
        r = try await api.call(
            .post, "/v1/projects?accountId=\(account.lowercased)", token: root,
            json: .object(["id": .string(project.lowercased), "name": .string("Survey"), "appId": .string("test.survey")]))
        guard r.status == .created else { throw TestSetupError("project: \(r.text)") }
        let suffix = UUID().uuidString.prefix(8).lowercased()
        func member(_ role: String) async throws -> Member {
            let name = "\(role)-\(suffix)"
            let r = try await api.call(
                .post, "/v1/users?accountId=\(account.lowercased)", token: root,
                json: .object([
                    "username": .string(name), "password": .string("password-\(role)"), "role": .string(role),
                    "projectIds": .array([.string(project.lowercased)]), "orgUnitIds": .array([]),
                ]))
            guard r.status == .created, let id = r.json["id"]?.stringValue.flatMap(UUID.init(uuidString:)) else {
                throw TestSetupError("user \(role): \(r.text)")
            }
            let token = try await api.signIn(name, "password-\(role)")
            let device = UUID()
            let d = try await api.call(
                .post, "/v1/devices", token: token, json: .object(["deviceId": .string(device.lowercased), "model": .string("test-phone")]))
            guard d.status == .ok else { throw TestSetupError("device: \(d.text)") }
            return Member(userId: id, token: token, device: device)
        }
        return Fixture(
            api: api, rootToken: root, account: account, project: project,
            admin: try await member("admin"), agent: try await member("agent"))
    }
}

/// A position item as a device sends it.
func positionItem(
    id: UUID = UUID(), at millis: Int64 = 1_763_626_530_123, lon: Double = 90.4125, lat: Double = 23.8103,
    alt: Double? = nil, accuracy: Double? = 5, transport: String? = "foot"
) -> JSONValue {
    PositionItem(
        id: id, capturedAt: Timestamp(millisecondsSinceEpoch: millis),
        location: GeoPoint(longitude: lon, latitude: lat, altitude: alt), accuracy: accuracy, transport: transport
    ).json()
}

func pushBody(batch: UUID = UUID(), device: UUID, project: UUID? = nil, items: [JSONValue]) -> JSONValue {
    var o: [String: JSONValue] = ["batchId": .string(batch.lowercased), "deviceId": .string(device.lowercased), "items": .array(items)]
    if let project { o["projectId"] = .string(project.lowercased) }
    return .object(o)
}

extension UUID {
    var lowercased: String { uuidString.lowercased() }
}
