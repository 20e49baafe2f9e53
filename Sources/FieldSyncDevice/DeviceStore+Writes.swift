import FieldSyncCore
import Foundation
import GRDB

/// A record as the device holds it.
public struct LocalRecord: Sendable {
    public var kind: ItemKind
    public var id: UUID
    /// Fixed attributes (`entityTypeId`, `orgUnitId`, `formId`, …).
    public var attributes: [String: JSONValue]
    /// The local state: as last pulled, plus this device's writes not yet acknowledged.
    public var state: RecordState
    /// The record exactly as last pulled, `nil` when never pulled.
    public var serverDocument: JSONValue?

    /// The record as a pull RECORD would show the local state.
    public var document: JSONValue {
        state.recordDocument(kind: kind, id: id, attributes: attributes)
    }
}

extension DeviceStore {
    /// Makes a versioned write to a record, locally only: takes the next counter,
    /// writes on the record's local version (`base`), applies it to the local state
    /// and queues the push item. `fixed` (the kind's fixed attributes) goes with the
    /// write that creates the record. Answers the item queued.
    @discardableResult
    public func write(
        kind: ItemKind, id: UUID, changes: [String: JSONValue], fixed: [String: JSONValue] = [:],
        extra: [String: JSONValue] = [:], now: Timestamp? = nil
    ) async throws -> JSONValue {
        try await queue.write { db in
            try self.write(db, kind: kind, id: id, changes: changes, fixed: fixed, extra: extra, now: now)
        }
    }

    /// One new local write, as ``write(kind:id:changes:fixed:extra:now:)`` takes.
    public struct LocalWrite: Sendable {
        public var kind: ItemKind
        public var id: UUID
        public var changes: [String: JSONValue]
        public var fixed: [String: JSONValue]

        public init(kind: ItemKind, id: UUID, changes: [String: JSONValue], fixed: [String: JSONValue] = [:]) {
            self.kind = kind
            self.id = id
            self.changes = changes
            self.fixed = fixed
        }
    }

    /// Makes several writes in one transaction (one commit instead of one per write).
    public func write(all writes: [LocalWrite]) async throws {
        try await queue.write { db in
            for w in writes { try self.write(db, kind: w.kind, id: w.id, changes: w.changes, fixed: w.fixed, extra: [:], now: nil) }
        }
    }

    @discardableResult
    func write(
        _ db: Database, kind: ItemKind, id: UUID, changes: [String: JSONValue], fixed: [String: JSONValue],
        extra: [String: JSONValue], now: Timestamp?
    ) throws -> JSONValue {
        guard let replica = try db.meta(MetaKey.deviceId) else {
            throw DeviceError("the device store \(self.path) has no device id yet; run fieldsync device login first")
        }
        let key = id.lowercasedText
        let row = try Row.fetchOne(
            try db.cachedStatement(sql: "SELECT attributes, state, server_doc FROM records WHERE kind = ? AND id = ?"),
            arguments: [kind.rawValue, key])
        var state = RecordState()
        var attributes = fixed
        if let row {
            state = Self.state(row) ?? RecordState()
            attributes = (try JSONParser.parse(row["attributes"] as String)).objectValue ?? [:]
        } else if changes.isEmpty && fixed.isEmpty {
            throw DeviceError("\(kind.rawValue) \(key) is not on this device; sync first to pull it, or check the id")
        }
        let counter = try db.metaInt(MetaKey.counter) + 1
        let skew = try db.metaInt(MetaKey.clockSkewMs)
        let editedAt = Timestamp(millisecondsSinceEpoch: (now ?? Timestamp(Date())).millisecondsSinceEpoch + skew)
        let write = VersionedWrite(base: state.version, replica: replica, counter: counter, editedAt: editedAt, changes: changes)
        let creating = state.isEmpty
        state.apply(write)
        var item: [String: JSONValue] = creating ? attributes : [:]
        for (k, v) in extra { item[k] = v }
        item["kind"] = .string(kind.rawValue)
        item["id"] = .string(key)
        item["base"] = write.base.json
        item["replica"] = .string(replica)
        item["counter"] = .number(Double(counter))
        item["editedAt"] = .string(editedAt.description)
        item["changes"] = .object(changes)
        let itemJSON = JSONValue.object(item)
        try db.cachedStatement(
            sql: """
                INSERT INTO records (kind, id, attributes, state) VALUES (?, ?, ?, ?)
                ON CONFLICT (kind, id) DO UPDATE SET state = excluded.state
                """
        ).execute(arguments: [kind.rawValue, key, JSONWriter.string(.object(attributes)), state.stateText])
        try db.cachedStatement(sql: "INSERT INTO outbox (kind, record_id, counter, item) VALUES (?, ?, ?, ?)").execute(arguments: [
            kind.rawValue, key, counter, JSONWriter.string(itemJSON),
        ])
        try db.cachedStatement(sql: "INSERT INTO written_log (kind, record_id, counter) VALUES (?, ?, ?)").execute(arguments: [
            kind.rawValue, key, counter,
        ])
        try db.setMeta(MetaKey.counter, String(counter))
        try db.addMeta(MetaKey.written, 1)
        return itemJSON
    }

    /// Queues positions (immutable; no local record is kept).
    public func addPositions(_ positions: [PositionItem]) async throws {
        try await queue.write { db in
            for p in positions {
                try db.cachedStatement(sql: "INSERT INTO outbox (kind, record_id, counter, item) VALUES ('position', ?, 0, ?)").execute(arguments: [
                    p.id.lowercasedText, JSONWriter.string(p.json()),
                ])
                try db.cachedStatement(sql: "INSERT INTO written_log (kind, record_id, counter) VALUES ('position', ?, 0)").execute(arguments: [
                    p.id.lowercasedText
                ])
            }
            try db.addMeta(MetaKey.written, Int64(positions.count))
        }
    }

    /// One record as held, `nil` when the device does not hold it.
    public func record(kind: ItemKind, id: UUID) async throws -> LocalRecord? {
        try await queue.read { db in
            try Row.fetchOne(
                try db.cachedStatement(sql: "SELECT kind, id, attributes, state, server_doc FROM records WHERE kind = ? AND id = ?"),
                arguments: [kind.rawValue, id.lowercasedText]
            ).flatMap(Self.localRecord)
        }
    }

    /// Every record held (of `kind`, or all).
    public func records(kind: ItemKind? = nil) async throws -> [LocalRecord] {
        try await queue.read { db in
            let rows =
                kind.map {
                    try? Row.fetchAll(
                        try db.cachedStatement(sql: "SELECT kind, id, attributes, state, server_doc FROM records WHERE kind = ? ORDER BY id"),
                        arguments: [$0.rawValue])
                }
                ?? (try? Row.fetchAll(try db.cachedStatement(sql: "SELECT kind, id, attributes, state, server_doc FROM records ORDER BY kind, id")))
            return (rows ?? []).compactMap(Self.localRecord)
        }
    }

    /// The local state of a `records` row: its `state`, or the pulled record when
    /// `state` is empty (a pull stores "" when no own write waits on top of it).
    static func state(_ row: Row) -> RecordState? {
        let text: String = row["state"]
        if text.isEmpty {
            return (row["server_doc"] as String?).flatMap { try? JSONParser.parse($0) }.flatMap(RecordState.init(pulled:))
        }
        return RecordState(stateText: text)
    }

    static func localRecord(_ row: Row) -> LocalRecord? {
        guard let kind = ItemKind(rawValue: row["kind"]), let id = UUID(uuidString: row["id"]),
            let state = Self.state(row)
        else { return nil }
        let attributes = (try? JSONParser.parse(row["attributes"] as String))?.objectValue ?? [:]
        let doc = (row["server_doc"] as String?).flatMap { try? JSONParser.parse($0) }
        return LocalRecord(kind: kind, id: id, attributes: attributes, state: state, serverDocument: doc)
    }
}

/// One write this device made: (kind, record id, counter; 0 for a position).
public struct WrittenEntry: Sendable, Hashable {
    public var kind: String
    public var id: String
    public var counter: Int64
}

extension DeviceStore {
    /// Every write made on this device, and the records whose writes were rejected for good.
    public func writtenLog() async throws -> (written: [WrittenEntry], rejected: Set<String>) {
        try await queue.read { db in
            let written = try Row.fetchAll(try db.cachedStatement(sql: "SELECT kind, record_id, counter FROM written_log")).map {
                WrittenEntry(kind: $0["kind"], id: $0["record_id"], counter: $0["counter"])
            }
            let rejected = Set(try String.fetchAll(try db.cachedStatement(sql: "SELECT kind || '/' || record_id FROM rejections")))
            return (written, rejected)
        }
    }

    /// The records as last pulled (`server_doc`), by `kind/id`.
    public func pulledDocuments() async throws -> [String: JSONValue] {
        try await queue.read { db in
            var out: [String: JSONValue] = [:]
            for row in try Row.fetchAll(try db.cachedStatement(sql: "SELECT kind, id, server_doc FROM records WHERE server_doc IS NOT NULL")) {
                let kind: String = row["kind"], id: String = row["id"]
                if let doc = try? JSONParser.parse(row["server_doc"] as String) { out[kind + "/" + id] = doc }
            }
            return out
        }
    }
}
