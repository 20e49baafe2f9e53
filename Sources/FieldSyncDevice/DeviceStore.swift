import FieldSyncClient
import FieldSyncCore
import Foundation
import GRDB

/// One emulated device's local SQLite file: its identity and session (`meta`), the
/// records it holds (`records`), the writes not yet acknowledged (`outbox`, grouped
/// into batches with a stable `batch_id`), conflicts as the server reported them,
/// rejected writes and pending org-unit proposals.
public final class DeviceStore: Sendable {
    /// The SQLite file, or a name for a store that has none (e.g. in memory), used in messages.
    public let path: String
    let queue: any DatabaseWriter

    /// Opens (creating when missing, with its directory) and migrates the store at `path`,
    /// in WAL mode.
    public convenience init(path: String) throws {
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
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
        } catch {
            throw DeviceError("cannot open the device store \(path) (\(error)); check the path, or delete the file to start over")
        }
        try self.init(writer: queue, name: path)
    }

    /// Opens and migrates a store on any GRDB database (a `DatabaseQueue` in memory for
    /// tests, a `DatabasePool`, …); `name` stands for it in messages.
    public init(writer: any DatabaseWriter, name: String) throws {
        path = name
        queue = writer
        do {
            try Self.migrator.migrate(writer)
        } catch {
            throw DeviceError("cannot open the device store \(name) (\(error)); check the path, or delete the file to start over")
        }
    }

    /// A new empty store in memory (gone when closed): a device that needs no file.
    public static func inMemory(name: String = "memory") throws -> DeviceStore {
        try DeviceStore(writer: try DatabaseQueue(), name: name)
    }

    /// Closes the database; the store cannot be used afterwards.
    public func close() throws {
        try queue.close()
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(
                sql: """
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

    /// A `meta` value stored as JSON; `nil` when absent. A value that no longer reads as
    /// `T` is an error naming the key (the store was written by something else).
    func metaValue<T: Decodable>(_ type: T.Type, _ key: String) throws -> T? {
        guard let text = try meta(key) else { return nil }
        do {
            return try JSONCoding.decode(type, from: Array(text.utf8))
        } catch {
            throw DeviceError(
                "the device store's \(key) is not what this version writes (\(JSONCoding.describe(error))); delete the store to start over")
        }
    }

    /// Stores `value` as JSON under `key`.
    func setMeta(_ key: String, value: some Encodable) throws {
        try setMeta(key, try JSONCoding.string(value))
    }
}
