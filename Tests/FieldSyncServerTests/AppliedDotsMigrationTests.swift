import FieldSyncCore
import Foundation
import Logging
import PostgresNIO
import Testing

@testable import FieldSyncServer

/// Migration 0007 on a database the release before it wrote (Fixtures/v6-database.sql,
/// made by Fixtures/make-v6-database.py against commit 09673a8): every stored state gets
/// its exact set of applied dots, and the checks then use it.
@Suite("Migration 0007: applied dots of states written before")
struct AppliedDotsMigrationTests {
    static let account = UUID(uuidString: "0a000000-0000-4000-8000-000000000001")!
    static let project = UUID(uuidString: "0b000000-0000-4000-8000-000000000001")!
    static let devA = "0e000000-0000-4000-8000-00000000000a"
    static let devB = "0e000000-0000-4000-8000-00000000000b"
    static let e1 = "0f000000-0000-4000-8000-000000000001"

    static func fixture() throws -> String {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/v6-database.sql")
        return try String(contentsOf: url, encoding: .utf8)
    }

    /// A database migrated to 0006 holding the fixture's rows, as the release before left it.
    static func releaseBeforeDatabase() async throws -> String {
        let url = try await TestDatabase.fresh()
        let logger = {
            var l = Logger(label: "migration-test"); l.logLevel = .warning; return l
        }()
        let client = PostgresClient(configuration: try DatabaseURL.configuration(from: url), backgroundLogger: logger)
        let sql = try fixture()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            let database = Database(client: client, timeout: .seconds(300), logger: logger)
            try await Migrator(database: database, logger: logger).migrate(upTo: 6)
            try await database.transaction(timeout: .seconds(300)) { c in
                for statement in Migrator.statements(in: sql)
                where !statement.hasPrefix("SET ") && !statement.hasPrefix("SELECT pg_catalog.set_config") {
                    try await c.query(PostgresQuery(unsafeSQL: statement), logger: logger).drain()
                }
            }
            group.cancelAll()
        }
        return url
    }

    static func rows<T: PostgresDecodable & Sendable>(_ url: String, _ sql: String, as type: T.Type) async throws -> [T] {
        let logger = {
            var l = Logger(label: "migration-test"); l.logLevel = .warning; return l
        }()
        let client = PostgresClient(configuration: try DatabaseURL.configuration(from: url), backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: [T].self) { group in
            group.addTask {
                await client.run(); return []
            }
            let out = try await client.query(PostgresQuery(unsafeSQL: sql), logger: logger).collect { try $0.decode(T.self) }
            group.cancelAll()
            return out
        }
    }

    static let withoutDots = """
        SELECT ((SELECT count(*) FROM entities WHERE NOT (state::jsonb ? 'dots'))
              + (SELECT count(*) FROM instances WHERE NOT (state::jsonb ? 'dots'))
              + (SELECT count(*) FROM org_units WHERE NOT (state ? 'dots')))::int8
        """

    @Test("every state written by the release before gets its exact dots; the checks then reject a base naming a gap and an unapplied earlier dot")
    func migratesReleaseBeforeDatabase() async throws {
        let url = try await Self.releaseBeforeDatabase()
        let before = try await Self.rows(url, Self.withoutDots, as: Int64.self).first ?? -1
        #expect(before > 0, "the fixture holds states of the old shape")

        try await withTestApp(databaseURL: url) { api in
            #expect(try await Self.rows(url, Self.withoutDots, as: Int64.self).first == 0, "no state left with a vector and no dot set")
            // Every logged write and every vector entry is in its record's dots.
            let missing = try await Self.rows(
                url,
                """
                SELECT count(*)::int8 FROM record_writes w
                LEFT JOIN entities e ON w.kind = 'entity' AND e.account_id = w.account_id AND e.id = w.record_id
                LEFT JOIN instances i ON w.kind = 'instance' AND i.account_id = w.account_id AND i.id = w.record_id
                LEFT JOIN org_units o ON w.kind = 'orgUnit' AND o.account_id = w.account_id AND o.id = w.record_id
                WHERE NOT coalesce(e.state::jsonb, i.state::jsonb, o.state) -> 'dots' -> w.replica @> to_jsonb(w.counter)
                """, as: Int64.self
            ).first
            #expect(missing == 0)
            let e1 = try await Self.rows(
                url, "SELECT state::jsonb -> 'dots' ->> '\(Self.devA)' FROM entities WHERE id = '\(Self.e1)'", as: String.self
            ).first
            #expect(e1?.replacingOccurrences(of: " ", with: "") == "[3,7,12]", "dev-a's counters on E1, with their gaps")
            let imported = try await Self.rows(url, "SELECT (state -> 'dots')::text FROM org_units WHERE name = 'Country'", as: String.self).first
            #expect(imported?.replacingOccurrences(of: " ", with: "") == "{\"server\":[1]}")

            let admin = try await api.signIn("mig-admin", "mig-admin-password")
            func e1Write(_ device: String, _ counter: Int64, base: [String: Int64], _ changes: [String: JSONValue]) -> JSONValue {
                .object([
                    "kind": .string("entity"), "id": .string(Self.e1), "replica": .string(device), "counter": .number(Double(counter)),
                    "base": .object(base.mapValues { .number(Double($0)) }), "editedAt": .string("2026-11-20T09:00:00.000Z"),
                    "changes": .object(changes),
                ])
            }
            let a = UUID(uuidString: Self.devA)!, b = UUID(uuidString: Self.devB)!
            // dev-b wrote 5, 8 and 20 to E1; 6 never: a base naming it is forged.
            var r = try await api.call(
                .post, "/v1/sync/push", token: admin,
                json: pushBody(
                    device: a, project: Self.project,
                    items: [
                        e1Write(Self.devA, 30, base: [Self.devA: 12, Self.devB: 6], ["name": .string("forged")]),
                        // dev-a:10 was never applied to E1 (dev-a's writes there are 3, 7, 12).
                        e1Write(Self.devA, 10, base: [Self.devA: 7], ["name": .string("late")]),
                    ]))
            #expect(r.json["results"]?[0]?["error"]?["code"] == .string("invalid_version"), "\(r.text)")
            #expect(r.json["results"]?[1]?["error"]?["code"] == .string("invalid_version"), "\(r.text)")
            // An honest write on what the server holds is applied.
            r = try await api.call(
                .post, "/v1/sync/push", token: admin,
                json: pushBody(
                    device: b, project: Self.project,
                    items: [
                        e1Write(Self.devB, 25, base: [Self.devA: 12, Self.devB: 20, "server": 1], ["age": .string("32")])
                    ]))
            #expect(r.json["results"]?[0]?["status"] == .string("updated"), "\(r.text)")
            // And a duplicate of an old dot is still a duplicate.
            r = try await api.call(
                .post, "/v1/sync/push", token: admin,
                json: pushBody(
                    device: a, project: Self.project,
                    items: [
                        e1Write(Self.devA, 7, base: [Self.devA: 3], ["village": .string("other content")])
                    ]))
            #expect(r.json["results"]?[0]?["status"] == .string("unchanged"), "\(r.text)")
        }
    }
}
