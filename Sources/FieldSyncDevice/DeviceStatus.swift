import FieldSyncCore
import Foundation
import GRDB

/// What a device holds and owes: its outbox, conflicts as the server reported them,
/// rejected writes and org-unit proposals.
public struct DeviceStatus: Sendable, Encodable {
    /// One conflicted field of a record, with all its values as pulled.
    public struct Conflict: Sendable, Encodable {
        public var kind: String
        public var id: String
        public var field: String
        public var values: JSONValue
    }

    /// A write the server rejected for good.
    public struct Rejection: Sendable, Encodable {
        public var kind: String
        public var id: String
        public var code: String
        public var message: String
        public var field: String?
    }

    public var session: DeviceSession
    /// Writes not in a batch yet, by kind.
    public var queued: [String: Int]
    /// Writes in batches sent (or about to be) and not yet answered.
    public var inFlight: Int
    /// Their batch ids, oldest first.
    public var batchIds: [String]
    public var records: [String: Int]
    public var conflicts: [Conflict]
    public var rejections: [Rejection]
    /// Org-unit change requests this device made: change id → status.
    public var proposals: [String: String]
    public var counter: Int64
    public var cursor: String?
    public var written: Int64
    public var acknowledged: Int64

    public var queuedTotal: Int { queued.values.reduce(0, +) }

    private enum CodingKeys: String, CodingKey {
        case device, queued, inFlight, batchIds, records, conflicts, rejections, proposals, counter, cursor, written, acknowledged
    }

    /// The status for scripts (`device status --json`): `device` is the session without
    /// its token, `cursor` is `null` before the first pull.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(session, forKey: .device)
        try c.encode(queued, forKey: .queued)
        try c.encode(inFlight, forKey: .inFlight)
        try c.encode(batchIds, forKey: .batchIds)
        try c.encode(records, forKey: .records)
        try c.encode(conflicts, forKey: .conflicts)
        try c.encode(rejections, forKey: .rejections)
        try c.encode(proposals, forKey: .proposals)
        try c.encode(counter, forKey: .counter)
        try c.encode(cursor, forKey: .cursor)
        try c.encode(written, forKey: .written)
        try c.encode(acknowledged, forKey: .acknowledged)
    }
}

extension DeviceStore {
    /// The device's status.
    public func status() async throws -> DeviceStatus {
        let session = try await session()
        return try await queue.read { db in
            var queued: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT kind, count(*) AS n FROM outbox WHERE batch_id IS NULL GROUP BY kind") {
                queued[row["kind"]] = row["n"]
            }
            let inFlight = try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox WHERE batch_id IS NOT NULL") ?? 0
            let batchIds = try String.fetchAll(db, sql: "SELECT batch_id FROM outbox WHERE batch_id IS NOT NULL GROUP BY batch_id ORDER BY min(seq)")
            var records: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT kind, count(*) AS n FROM records GROUP BY kind") {
                records[row["kind"]] = row["n"]
            }
            let conflicts = try Row.fetchAll(db, sql: "SELECT kind, id, field, \"values\" FROM conflicts ORDER BY kind, id, field").map { row in
                DeviceStatus.Conflict(
                    kind: row["kind"], id: row["id"], field: row["field"],
                    values: (try? JSONParser.parse(row["values"] as String)) ?? .null)
            }
            let rejections = try Row.fetchAll(db, sql: "SELECT kind, record_id, code, message, field FROM rejections ORDER BY seq").map { row in
                DeviceStatus.Rejection(kind: row["kind"], id: row["record_id"], code: row["code"], message: row["message"], field: row["field"])
            }
            var proposals: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT change_id, status FROM proposals") {
                proposals[row["change_id"]] = row["status"]
            }
            return DeviceStatus(
                session: session, queued: queued, inFlight: inFlight, batchIds: batchIds, records: records,
                conflicts: conflicts, rejections: rejections, proposals: proposals,
                counter: try db.metaInt(MetaKey.counter), cursor: try db.meta(MetaKey.cursor),
                written: try db.metaInt(MetaKey.written), acknowledged: try db.metaInt(MetaKey.acknowledged))
        }
    }
}
