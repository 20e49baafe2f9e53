import FieldSyncClient
import FieldSyncCore
import Foundation
import GRDB

extension RecordState {
    /// The local state of a pulled RECORD: conflicted fields with every value and
    /// its dot; other fields with their visible value under a dot every base covers
    /// (counter 0), so the next local write replaces it. `version` as pulled.
    public init?(pulled doc: JSONValue) {
        guard let version = doc["version"].flatMap(VersionVector.init(json:)) else { return nil }
        let conflicts = doc["conflicts"]?.objectValue ?? [:]
        var fields: [String: [FieldValue]] = [:]
        for (name, value) in doc["fields"]?.objectValue ?? [:] {
            if let entries = conflicts[name]?.arrayValue, !entries.isEmpty {
                fields[name] = entries.compactMap(FieldValue.init(json:))
            } else {
                fields[name] = [FieldValue(value: value, replica: "", counter: 0, editedAt: Timestamp(millisecondsSinceEpoch: 0))]
            }
        }
        self.init(fields: fields, version: version)
    }
}

/// What applying pulled pages did.
public struct PullOutcome: Sendable, Equatable {
    public var records = 0
    public var positions = 0
    public var pages = 0
}

extension DeviceStore {
    /// The cursor after the last page applied (`nil` before the first pull).
    public func cursor() async throws -> String? {
        try await queue.read { db in try db.meta(MetaKey.cursor) }
    }

    /// Applies one pulled page in one transaction: each record replaces the held one
    /// (this device's writes still in the outbox are applied again on top), its
    /// conflicts replace the held ones, and the cursor moves to the page's.
    public func apply(page: PullPage) async throws -> PullOutcome {
        try await queue.write { db in
            guard let replica = try db.meta(MetaKey.deviceId) else { return PullOutcome() }
            let outboxEmpty = (try Int.fetchOne(try db.cachedStatement(sql: "SELECT count(*) FROM outbox WHERE kind <> 'position'")) ?? 0) == 0
            var outcome = PullOutcome(pages: 1)
            for doc in page.changes {
                guard let kindName = doc["kind"]?.stringValue, let kind = ItemKind(rawValue: kindName), let id = doc["id"]?.stringValue else {
                    continue
                }
                if kind == .position {
                    outcome.positions += 1
                    continue
                }
                guard doc["version"].flatMap(VersionVector.init(json:)) != nil else { continue }
                var attributes = doc.objectValue ?? [:]
                for key in ["kind", "id", "fields", "version", "conflicts"] { attributes[key] = nil }
                // The local state is the pulled record, plus this device's writes still in
                // the outbox. Stored as "" (read back as the pulled record) when there are none.
                var stateText = ""
                if !outboxEmpty {
                    let pending = try String.fetchAll(
                        try db.cachedStatement(sql: "SELECT item FROM outbox WHERE kind = ? AND record_id = ? ORDER BY seq"),
                        arguments: [kindName, id])
                    if !pending.isEmpty, var state = RecordState(pulled: doc) {
                        for text in pending {
                            guard let item = try? JSONParser.parse(text), let write = Self.write(of: item), !state.version.covers(write.dot) else {
                                continue
                            }
                            state.apply(write)
                        }
                        stateText = state.stateText
                    }
                }
                let serverOwn = doc["version"]?[replica]?.numberValue.map { Int64($0) } ?? 0
                try db.cachedStatement(
                    sql: """
                        INSERT INTO records (kind, id, attributes, server_doc, state, own_acked) VALUES (?, ?, ?, ?, ?, ?)
                        ON CONFLICT (kind, id) DO UPDATE SET attributes = excluded.attributes, server_doc = excluded.server_doc,
                            state = excluded.state, own_acked = max(records.own_acked, excluded.own_acked)
                        """
                ).execute(arguments: [
                    kindName, id, JSONWriter.string(.object(attributes)), JSONWriter.string(doc),
                    stateText, serverOwn,
                ])
                try db.cachedStatement(sql: "DELETE FROM conflicts WHERE kind = ? AND id = ?").execute(arguments: [kindName, id])
                for (field, values) in doc["conflicts"]?.objectValue ?? [:] {
                    try db.cachedStatement(sql: "INSERT INTO conflicts (kind, id, field, \"values\") VALUES (?, ?, ?, ?)").execute(arguments: [
                        kindName, id, field, JSONWriter.string(values),
                    ])
                }
                outcome.records += 1
            }
            try db.setMeta(MetaKey.cursor, page.cursor)
            return outcome
        }
    }

    /// The versioned write of a push item.
    static func write(of item: JSONValue) -> VersionedWrite? {
        guard let replica = item["replica"]?.stringValue, let counter = item["counter"]?.numberValue,
            let editedAt = item["editedAt"]?.stringValue.flatMap(Timestamp.init(rfc3339:)),
            let changes = item["changes"]?.objectValue
        else { return nil }
        let base = item["base"].flatMap(VersionVector.init(json:)) ?? VersionVector()
        return VersionedWrite(base: base, replica: replica, counter: Int64(counter), editedAt: editedAt, changes: changes)
    }
}
