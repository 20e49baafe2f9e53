import FieldSyncServer
import Foundation
import Logging
import PostgresNIO

/// The throwaway PostGIS that `scripts/test` (or `scripts/throwaway-postgis.sh`) starts,
/// named by `FIELDSYNC_TEST_DATABASE_URL`; every test that needs PostgreSQL gets its own
/// database on it, so suites can run in parallel. Shared by the server, device and CLI
/// tests.
public enum TestDatabase {
    /// `FIELDSYNC_TEST_DATABASE_URL`; throws with what to do when it is not set.
    public static var baseURL: String {
        get throws {
            guard let url = ProcessInfo.processInfo.environment["FIELDSYNC_TEST_DATABASE_URL"], !url.isEmpty else {
                throw TestSetupError("FIELDSYNC_TEST_DATABASE_URL is not set: run the tests with scripts/test, which starts a throwaway PostGIS")
            }
            return url
        }
    }

    /// Creates an empty database on the test cluster and returns its URL.
    public static func fresh() async throws -> String {
        try await create(template: nil)
    }

    /// A database already migrated: a copy of a template migrated once per test run
    /// (migrating one database per test, PostGIS included, loads the machine for nothing).
    public static func migrated() async throws -> String {
        let template = try await MigratedTemplate.shared.name()
        return try await create(template: template)
    }

    /// A new database, empty or a copy of `template`; its URL.
    public static func create(template: String?) async throws -> String {
        let base = try baseURL
        let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await admin { connection in
            let sql = template.map { "CREATE DATABASE \(name) TEMPLATE \($0)" } ?? "CREATE DATABASE \(name)"
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: Logger(label: "test"))
        }
        return try url(of: name, base: base)
    }

    /// `base` with its database replaced by `database`.
    public static func url(of database: String, base: String) throws -> String {
        guard var components = URLComponents(string: base) else { throw TestSetupError("\(base) is not a database URL") }
        components.path = "/" + database
        guard let url = components.string else { throw TestSetupError("cannot name database \(database) on \(base)") }
        return url
    }

    /// The connection settings of a `postgres://user:pass@host:port/db` test URL (no TLS:
    /// the throwaway cluster listens on loopback only).
    public static func connectionConfiguration(_ url: String) throws -> PostgresConnection.Configuration {
        guard let components = URLComponents(string: url) else { throw TestSetupError("\(url) is not a database URL") }
        return PostgresConnection.Configuration(
            host: components.host ?? "127.0.0.1", port: components.port ?? 5432, username: components.user ?? "postgres",
            password: components.password, database: String(components.path.dropFirst()), tls: .disable)
    }

    /// Runs `body` on a connection to the test cluster's base database.
    public static func admin<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await PostgresConnection.connect(
            configuration: try connectionConfiguration(try baseURL), id: 1, logger: Logger(label: "test"))
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
public actor MigratedTemplate {
    public static let shared = MigratedTemplate()
    private var making: Task<String, any Error>?

    /// The template's name, migrating it on first use (callers that come while it is
    /// being made wait for that one, so there is only ever one template per run).
    public func name() async throws -> String {
        if let making { return try await making.value }
        let task = Task { try await Self.make() }
        making = task
        do {
            return try await task.value
        } catch {
            making = nil
            throw error
        }
    }

    private static func make() async throws -> String {
        let name = "fieldsync_template_" + UUID().uuidString.prefix(8).lowercased()
        let url = try await TestDatabase.create(template: nil)
        // Migrate a fresh database, then rename it as the template (no connection stays open on it).
        let logger = {
            var l = Logger(label: "template"); l.logLevel = .warning; return l
        }()
        let c = try TestDatabase.connectionConfiguration(url)
        let configuration = PostgresClient.Configuration(
            host: c.host ?? "127.0.0.1", port: c.port ?? 5432, username: c.username, password: c.password,
            database: c.database, tls: .disable)
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            try await Migrator(database: Database(client: client, timeout: .seconds(300), logger: logger), logger: logger).migrate()
            group.cancelAll()
        }
        let migratedName = c.database ?? ""
        try await TestDatabase.admin { c in
            try await c.query(PostgresQuery(unsafeSQL: "ALTER DATABASE \(migratedName) RENAME TO \(name)"), logger: logger)
        }
        return name
    }
}

/// A test's set-up went wrong (no database, an unexpected answer while preparing).
public struct TestSetupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// A configuration for a test server on `databaseURL`: superuser `root` /
/// `root-password`, any free port, a small pool.
public func testConfiguration(databaseURL: String) -> ServerConfiguration {
    var config = ServerConfiguration()
    config.databaseURL = databaseURL
    config.adminUser = TestServerDefaults.rootUser
    config.adminPassword = TestServerDefaults.rootPassword
    config.port = 0
    config.databaseTimeout = .seconds(5)
    config.poolSize = 8
    return config
}

/// The superuser every test server starts with.
public enum TestServerDefaults {
    public static let rootUser = "root"
    public static let rootPassword = "root-password"
}
