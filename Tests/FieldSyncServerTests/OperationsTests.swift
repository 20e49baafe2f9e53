import FieldSyncCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import Testing

@testable import FieldSyncServer

@Suite("Operations: health, metrics, migrations, outages")
struct OperationsTests {
    @Test("healthz, readyz and metrics answer")
    func health() async throws {
        try await withTestApp { api in
            let h = try await api.call(.get, "/healthz")
            #expect(h.status == .ok)
            let r = try await api.call(.get, "/readyz")
            #expect(r.status == .ok)
            // Make some traffic, then the metrics show it.
            let f = try await Fixture.make(api)
            _ = try await api.call(.post, "/v1/sync/push", token: f.agent.token, json: pushBody(device: f.agent.device, items: [positionItem()]))
            let m = try await api.call(.get, "/metrics")
            #expect(m.status == .ok)
            #expect(m.headers[.contentType]?.hasPrefix("text/plain") == true)
            #expect(m.text.contains("fieldsync_push_items_total"))
            #expect(m.text.contains("hb_requests"))
        }
    }

    @Test("migrations run once even when several servers start at the same time")
    func concurrentMigrations() async throws {
        let url = try await TestDatabase.fresh()
        let logger = {
            var l = Logger(label: "test"); l.logLevel = .warning; return l
        }()
        let client = PostgresClient(configuration: try DatabaseURL.configuration(from: url), backgroundLogger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            let database = Database(client: client, timeout: .seconds(30), logger: logger)
            let applied = try await withThrowingTaskGroup(of: [String].self) { g in
                for _ in 0..<4 { g.addTask { try await Migrator(database: database, logger: logger).migrate() } }
                var all: [[String]] = []
                for try await a in g { all.append(a) }
                return all
            }
            #expect(applied.filter { !$0.isEmpty }.count == 1, "exactly one migrator applied the files")
            #expect(applied.flatMap { $0 } == EmbeddedMigrations.all.map(\.name))
            #expect(try await Migrator(database: database, logger: logger).isUpToDate())
            let count = try await database.withConnection { c in
                try await c.query("SELECT count(*)::int8 FROM schema_migrations", logger: logger).collect { try $0.decode(Int64.self) }.first ?? 0
            }
            #expect(count == Int64(EmbeddedMigrations.all.count))
            group.cancelAll()
        }
    }

    @Test("the embedded migrations are exactly the files in Schemas/migrations")
    func migrationFilesEmbedded() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dir = root.appendingPathComponent("Schemas/migrations")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".sql") }.sorted()
        #expect(files == EmbeddedMigrations.all.map(\.name), "the EmbedMigrations plugin embeds every file of Schemas/migrations")
        for m in EmbeddedMigrations.all {
            let text = try String(contentsOf: dir.appendingPathComponent(m.name), encoding: .utf8)
            #expect(text == m.sql, "\(m.name) is embedded as it is in Schemas/migrations")
        }
    }

    @Test("the migration splitter keeps quoted semicolons and dollar-quoted bodies whole")
    func statementSplitting() {
        let sql =
            "CREATE TABLE a (x text DEFAULT ';'); -- comment; here\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n\nSELECT 2"
        #expect(
            Migrator.statements(in: sql) == [
                "CREATE TABLE a (x text DEFAULT ';')",
                "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql",
                "SELECT 2",
            ])
    }

    @Test("an unreachable database gives 503 unavailable within the deadline, and readyz says 503")
    func databaseDown() async throws {
        // A loopback port nobody listens on.
        var config = testConfiguration(databaseURL: "postgres://nobody@127.0.0.1:9/none?sslmode=disable")
        config.databaseTimeout = .seconds(2)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let app = try await buildApplication(configuration: config, logger: logger)
        try await app.test(.router) { client in
            let started = ContinuousClock.now
            try await client.execute(uri: "/v1/auth/token", method: .post, body: ByteBuffer(string: #"{"username":"a","password":"b"}"#)) { r in
                #expect(r.status == .serviceUnavailable)
                #expect(String(buffer: r.body).contains("\"unavailable\""))
                #expect(r.headers[.retryAfter] != nil)
            }
            #expect(ContinuousClock.now - started < .seconds(5))
            try await client.execute(uri: "/readyz", method: .get) { r in
                #expect(r.status == .serviceUnavailable)
            }
            try await client.execute(uri: "/healthz", method: .get) { r in
                #expect(r.status == .ok)
            }
        }
    }
}

/// The embedded cluster: created on first start, stopped, restarted; the server answers
/// 503 while it is down and recovers by itself when it is back.
@Suite("Embedded database", .serialized)
struct EmbeddedDatabaseTests {
    @Test("create, serve, survive the database going away and coming back, stop")
    func lifecycle() async throws {
        let dir = URL(fileURLWithPath: "/tmp").appendingPathComponent("fs-embedded-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: dir) }
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let embedded = try EmbeddedPostgres(dataDirectory: dir.path, logger: logger)
        _ = try await embedded.start()
        #expect(FileManager.default.fileExists(atPath: embedded.layout.socketPath))
        // A second start adopts the running cluster.
        let again = try EmbeddedPostgres(dataDirectory: dir.path, logger: logger)
        _ = try await again.start()

        var config = ServerConfiguration()
        config.dataDirectory = dir.path
        config.adminUser = "root"
        config.adminPassword = "root-password"
        config.databaseTimeout = .seconds(2)
        let app = try await buildApplication(configuration: config, logger: logger)
        try await app.test(.router) { client in
            let api = API(client: client)
            _ = try await api.signIn("root", "root-password")
            await embedded.stop()
            let started = ContinuousClock.now
            let down = try await api.call(
                .post, "/v1/auth/token", json: .object(["username": .string("root"), "password": .string("root-password")]))
            #expect(down.status == .serviceUnavailable)
            #expect(down.errorCode == "unavailable")
            #expect(ContinuousClock.now - started < .seconds(5))
            #expect(try await api.call(.get, "/readyz").status == .serviceUnavailable)
            _ = try await embedded.start()
            var recovered = false
            for _ in 0..<40 where !recovered {
                if try await api.call(.get, "/readyz").status == .ok { recovered = true } else { try await Task.sleep(for: .milliseconds(250)) }
            }
            #expect(recovered)
            _ = try await api.signIn("root", "root-password")
        }
        // Graceful shutdown of the app stopped the cluster.
        #expect(try await embedded.isRunning() == false)
    }
}
