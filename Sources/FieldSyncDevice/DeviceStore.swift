import FieldSyncCore
import Foundation
import GRDB

/// One emulated device's local SQLite file: its identity and session (`meta`), the
/// records it holds (`records`), the writes not yet acknowledged (`outbox`, grouped
/// into batches with a stable `batch_id`), conflicts as the server reported them,
/// rejected writes and pending org-unit proposals.
public final class DeviceStore: Sendable {
    /// The SQLite file.
    public let path: String
    let queue: DatabaseQueue

    /// Opens (creating when missing, with its directory) and migrates the store at `path`.
    public init(path: String) throws {
        self.path = path
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw DeviceError("cannot create the directory \(directory) for the device store: \(error.localizedDescription)")
            }
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
            try Self.migrator.migrate(queue)
        } catch {
            throw DeviceError("cannot open the device store \(path) (\(error)); check the path, or delete the file to start over")
        }
    }

    /// Closes the file; the store cannot be used afterwards.
    public func close() throws {
        try queue.close()
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE records (
                    kind TEXT NOT NULL, id TEXT NOT NULL,
                    attributes TEXT NOT NULL,      -- fixed attributes (JSON object)
                    server_doc TEXT,               -- the record as last pulled (JSON), NULL before
                    state TEXT NOT NULL,           -- local RecordState (stateJSON): pulled + own pending writes; "" = as pulled (server_doc)
                    own_acked INTEGER NOT NULL DEFAULT 0, -- highest own counter the server holds
                    PRIMARY KEY (kind, id));
                CREATE TABLE outbox (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    kind TEXT NOT NULL, record_id TEXT NOT NULL,
                    counter INTEGER NOT NULL,      -- 0 for positions
                    item TEXT NOT NULL,            -- the push item (JSON)
                    batch_id TEXT,                 -- set once when the batch is formed; NULL while queued
                    attempts INTEGER NOT NULL DEFAULT 0);
                CREATE INDEX outbox_batch ON outbox (batch_id);
                CREATE INDEX outbox_record ON outbox (kind, record_id);
                CREATE TABLE conflicts (
                    kind TEXT NOT NULL, id TEXT NOT NULL, field TEXT NOT NULL,
                    "values" TEXT NOT NULL,        -- the conflict entries as pulled (JSON array)
                    PRIMARY KEY (kind, id, field));
                CREATE TABLE rejections (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, record_id TEXT NOT NULL,
                    item TEXT NOT NULL, code TEXT NOT NULL, message TEXT NOT NULL, field TEXT);
                CREATE TABLE written_log (     -- every write made here, never deleted (for loss checks)
                    kind TEXT NOT NULL, record_id TEXT NOT NULL, counter INTEGER NOT NULL);
                CREATE TABLE proposals (
                    change_id TEXT PRIMARY KEY, org_unit_id TEXT NOT NULL, status TEXT NOT NULL);
                """)
        }
        return m
    }
}

/// `meta` keys.
enum MetaKey {
    static let deviceId = "deviceId"
    static let counter = "counter"
    static let server = "server"
    static let token = "token"
    static let username = "username"
    static let userId = "userId"
    static let role = "role"
    static let accountId = "accountId"
    static let projectId = "projectId"
    static let orgUnitIds = "orgUnitIds"
    static let registered = "registered"
    static let cursor = "cursor"
    static let clockSkewMs = "clockSkewMs"
    static let forms = "forms"
    static let entityTypes = "entityTypes"
    static let written = "written"
    static let acknowledged = "acknowledged"
    static let rejected = "rejected"
}

extension Database {
    func meta(_ key: String) throws -> String? {
        try String.fetchOne(cachedStatement(sql: "SELECT value FROM meta WHERE key = ?"), arguments: [key])
    }

    func setMeta(_ key: String, _ value: String?) throws {
        if let value {
            try cachedStatement(sql: "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
                .execute(arguments: [key, value])
        } else {
            try cachedStatement(sql: "DELETE FROM meta WHERE key = ?").execute(arguments: [key])
        }
    }

    func metaInt(_ key: String) throws -> Int64 {
        try meta(key).flatMap { Int64($0) } ?? 0
    }

    func addMeta(_ key: String, _ delta: Int64) throws {
        try setMeta(key, String(try metaInt(key) + delta))
    }

    func metaJSON(_ key: String) throws -> JSONValue? {
        try meta(key).flatMap { try? JSONParser.parse($0) }
    }
}
