import FieldSyncClient
import FieldSyncCore
import Foundation
import GRDB

/// A batch of queued writes with its stable id: sent again as is (same `batchId`,
/// same items) until the server's answer is recorded.
public struct OutboxBatch: Sendable {
    public var batchId: UUID
    /// `outbox.seq` of each item, in the order sent.
    public var sequence: [Int64]
    public var items: [JSONValue]
}

/// What recording one push answer did.
public struct AnswerOutcome: Sendable, Equatable {
    public var acknowledged = 0
    /// Rejected for now (`out_of_order`, `unknown_reference`): queued again for a new batch.
    public var requeued = 0
    /// Rejected for good: kept in `rejections`.
    public var rejected = 0
    /// Results whose status was `conflict`.
    public var conflicts = 0
    /// Results by status.
    public var statuses: [String: Int] = [:]
}

extension DeviceStore {
    /// Rejection codes that a later batch can fix: the earlier write or the referenced
    /// record arrives first (e.g. batches delivered out of order).
    static let transientCodes: Set<String> = [ErrorCode.outOfOrder, ErrorCode.unknownReference]
    /// A write rejected this many times for a transient reason is rejected for good.
    static let maxAttempts = 8

    /// Groups queued writes into batches of at most `size` items, each with a new
    /// `batchId` kept in the store. Before a write is batched, `base[self]` is set to
    /// the write's previous own write to that record that the server holds or that
    /// is still in the outbox (so a write whose predecessor was rejected for good
    /// does not stay `out_of_order` forever).
    public func formBatches(size: Int) async throws {
        try await queue.write { db in
            guard let replica = try db.meta(MetaKey.deviceId) else { return }
            let rows = try Row.fetchAll(
                try db.cachedStatement(sql: "SELECT seq, kind, record_id, counter, item FROM outbox WHERE batch_id IS NULL ORDER BY seq"))
            guard !rows.isEmpty else { return }
            var batchId = UUID()
            var inBatch = 0
            for row in rows {
                let seq: Int64 = row["seq"]
                let kind: String = row["kind"]
                var itemText: String = row["item"]
                if kind != ItemKind.position.rawValue {
                    let record: String = row["record_id"]
                    let counter: Int64 = row["counter"]
                    let previousPending = try Int64.fetchOne(
                        try db.cachedStatement(
                            sql: """
                                SELECT max(counter) FROM outbox WHERE kind = ? AND record_id = ? AND seq <> ? AND counter < ?
                                """), arguments: [kind, record, seq, counter])
                    let acked =
                        try Int64.fetchOne(
                            try db.cachedStatement(sql: "SELECT own_acked FROM records WHERE kind = ? AND id = ?"), arguments: [kind, record]) ?? 0
                    let previous = previousPending ?? acked
                    if var item = (try? JSONParser.parse(itemText))?.objectValue {
                        var base = item["base"]?.objectValue ?? [:]
                        let current = Int64(base[replica]?.numberValue ?? 0)
                        if current != previous {
                            base[replica] = previous > 0 ? .number(Double(previous)) : nil
                            item["base"] = .object(base)
                            itemText = JSONWriter.string(.object(item))
                        }
                    }
                }
                if inBatch == size {
                    batchId = UUID()
                    inBatch = 0
                }
                try db.cachedStatement(sql: "UPDATE outbox SET batch_id = ?, item = ? WHERE seq = ?").execute(arguments: [
                    batchId.lowercasedText, itemText, seq,
                ])
                inBatch += 1
            }
        }
    }

    /// The batches formed and not yet answered, oldest first.
    public func pendingBatches() async throws -> [OutboxBatch] {
        try await queue.read { db in
            let rows = try Row.fetchAll(
                try db.cachedStatement(
                    sql: """
                        SELECT seq, batch_id, item FROM outbox WHERE batch_id IS NOT NULL
                        ORDER BY (SELECT min(o.seq) FROM outbox o WHERE o.batch_id = outbox.batch_id), seq
                        """))
            var batches: [OutboxBatch] = []
            for row in rows {
                let id: String = row["batch_id"]
                guard let batch = UUID(uuidString: id) else { continue }
                let item = (try? JSONParser.parse(row["item"] as String)) ?? .null
                if batches.last?.batchId == batch {
                    batches[batches.count - 1].sequence.append(row["seq"])
                    batches[batches.count - 1].items.append(item)
                } else {
                    batches.append(OutboxBatch(batchId: batch, sequence: [row["seq"]], items: [item]))
                }
            }
            return batches
        }
    }

    /// Records the server's answer to `batch`: acknowledged items leave the outbox
    /// (their counter becomes the record's `own_acked`; an org-unit proposal's
    /// `changeId` is kept), transient rejections go back to the queue, the others
    /// move to `rejections`. Recording the same answer twice changes nothing.
    public func record(answer: PushAnswer, for batch: OutboxBatch) async throws -> AnswerOutcome {
        try await queue.write { db in
            var outcome = AnswerOutcome()
            for (index, (seq, result)) in zip(batch.sequence, answer.results).enumerated() {
                guard
                    let row = try Row.fetchOne(
                        try db.cachedStatement(sql: "SELECT kind, record_id, counter, item, batch_id, attempts FROM outbox WHERE seq = ?"),
                        arguments: [seq]),
                    (row["batch_id"] as String?) == batch.batchId.lowercasedText
                else { continue }
                outcome.statuses[result.status.rawValue, default: 0] += 1
                let kind: String = row["kind"]
                let record: String = row["record_id"]
                let counter: Int64 = row["counter"]
                if result.status != .rejected {
                    outcome.acknowledged += 1
                    if result.status == .conflict { outcome.conflicts += 1 }
                    try db.cachedStatement(sql: "DELETE FROM outbox WHERE seq = ?").execute(arguments: [seq])
                    if counter > 0 {
                        try db.cachedStatement(sql: "UPDATE records SET own_acked = max(own_acked, ?) WHERE kind = ? AND id = ?").execute(arguments: [
                            counter, kind, record,
                        ])
                    }
                    if result.status == .pending, index < answer.rawResults.count,
                        let change = answer.rawResults[index]["changeId"]?.stringValue
                    {
                        try db.cachedStatement(sql: "INSERT OR REPLACE INTO proposals (change_id, org_unit_id, status) VALUES (?, ?, 'pending')")
                            .execute(arguments: [change, record])
                    }
                    try db.addMeta(MetaKey.acknowledged, 1)
                    continue
                }
                let error = result.error ?? ItemError(code: "rejected", message: "the server rejected the item without saying why")
                let attempts: Int = row["attempts"]
                if Self.transientCodes.contains(error.code) && attempts + 1 < Self.maxAttempts {
                    outcome.requeued += 1
                    try db.cachedStatement(sql: "UPDATE outbox SET batch_id = NULL, attempts = attempts + 1 WHERE seq = ?").execute(arguments: [seq])
                } else {
                    outcome.rejected += 1
                    try db.cachedStatement(sql: "DELETE FROM outbox WHERE seq = ?").execute(arguments: [seq])
                    try db.cachedStatement(sql: "INSERT INTO rejections (kind, record_id, item, code, message, field) VALUES (?, ?, ?, ?, ?, ?)")
                        .execute(arguments: [kind, record, row["item"] as String, error.code, error.message, error.field])
                    try db.addMeta(MetaKey.rejected, 1)
                }
            }
            return outcome
        }
    }

    /// How many writes the server acknowledged so far.
    public func acknowledgedCount() async throws -> Int {
        try await queue.read { db in Int(try db.metaInt(MetaKey.acknowledged)) }
    }

    /// How many writes wait in the outbox.
    public func outboxCount() async throws -> Int {
        try await queue.read { db in try Int.fetchOne(try db.cachedStatement(sql: "SELECT count(*) FROM outbox")) ?? 0 }
    }
}
