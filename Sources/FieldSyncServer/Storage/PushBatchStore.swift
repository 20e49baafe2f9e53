import Crypto
import FieldSyncCore
import Foundation
import Logging
import PostgresNIO

/// A push's batch: claimed once per account by its `batchId`, answered once, and that
/// first answer replayed to the device that sends the batch again.
struct PushBatchStore {
    let scope: CallerScope
    let connection: PostgresConnection
    let logger: Logger

    /// What the claim found.
    enum Claim {
        /// The batch is ours to process; its records' locks are held.
        case claimed
        /// A replay: the stored first answer.
        case replay([UInt8])
    }

    /// The first statement of a push transaction, one round trip: checks that the named
    /// project exists (404) and is the caller's (403) and that the device is registered to
    /// the caller (403); claims the batch id; takes the advisory locks of the records the
    /// batch writes (sorted: see ``RecordWriter/lockKeys(account:_:)``), only when the
    /// claim succeeded. A batch already claimed answers its stored answer.
    ///
    /// `digest` is the batch's (``digest(items:project:)``): the same `batchId` with another
    /// digest is another batch, refused with 409 `batch_id_taken` rather than answered with
    /// the first batch's results (which would silently drop its items).
    func claim(_ batchId: UUID, project: UUID, named: Bool, device: UUID, lockKeys: [String], digest: [UInt8]) async throws -> Claim {
        let account = scope.account
        let user = scope.user
        let member = !named || scope.projects.contains(project)
        let rows = try await connection.execute(
            ClaimStatement(
                account: account, projectId: project, checkProject: named, device: device, user: user, member: member,
                batchId: batchId, lockKeys: lockKeys, digest: digest), logger: logger
        ).collectAll()
        guard let (projectOK, deviceOK, claimed, _) = rows.first else { throw APIError.unavailable("the batch claim answered nothing") }
        guard projectOK else { throw APIError.notFound("project \(project.lowercased) does not exist") }
        guard member else { throw APIError.forbidden("you are not a member of project \(project.lowercased)") }
        guard deviceOK else {
            throw APIError.forbidden("device \(device.lowercased) is not registered to you; register it with POST /v1/devices first")
        }
        if claimed { return .claimed }
        // A replay: the first answer stands, for the device that sent the batch. Read the
        // batch after the claim: when its transaction committed while our claim waited on
        // it, the claim's snapshot did not see its answer.
        let first = try await connection.query(
            "SELECT user_id, device_id, response, items_sha256 FROM push_batches WHERE account_id = \(account) AND batch_id = \(batchId)",
            logger: logger
        ).collect { try $0.decode((UUID?, UUID?, String?, ByteBuffer?).self) }.first
        guard let first, first.0 == user, first.1 == device else {
            // Another user's or device's batch: its answer is not this caller's to see.
            throw APIError.conflict(
                ErrorCode.batchIdTaken,
                "batchId \(batchId.lowercased) was already used by another device; send this batch with a new batchId")
        }
        if let stored = first.3, Array(buffer: stored) != digest {
            throw APIError.conflict(
                ErrorCode.batchIdTaken,
                "batchId \(batchId.lowercased) was already used for a batch with other items; a replay sends the same items, new items need a new batchId"
            )
        }
        guard let answer = first.2 else { throw APIError.conflict(ErrorCode.batchInProgress, "this batch is being processed; retry it") }
        return .replay(Array(answer.utf8))
    }

    /// A batch's identity besides its `batchId`: SHA-256 of its items written canonically
    /// (sorted keys, no spaces: a client that serialises them again in another order
    /// still replays) and its project.
    static func digest(items: [JSONValue], project: UUID) -> [UInt8] {
        var hash = SHA256()
        hash.update(data: Array(project.lowercased.utf8))
        var writer = JSONWriter(capacity: 32 * 1024)
        writer.write(.array(items))
        hash.update(data: writer.bytes)
        return Array(hash.finalize())
    }

    /// The statement of ``claim(_:project:named:device:lockKeys:)``, prepared once per connection.
    struct ClaimStatement: PostgresPreparedStatement {
        static let sql = """
            WITH chk AS (
                SELECT (NOT $3::bool OR EXISTS (SELECT 1 FROM projects WHERE account_id = $1 AND id = $2)) AS project_ok,
                       EXISTS (SELECT 1 FROM device_ownerships WHERE account_id = $1 AND device_id = $4
                               AND user_id = $5 AND ended_at IS NULL) AS device_ok
            ), claim AS (
                INSERT INTO push_batches (account_id, batch_id, user_id, device_id, items_sha256)
                SELECT $1, $7, $5, $4, $9 FROM chk WHERE chk.project_ok AND chk.device_ok AND $6::bool
                ON CONFLICT (account_id, batch_id) DO NOTHING RETURNING 1
            ), locks AS (
                SELECT count(pg_advisory_xact_lock(hashtextextended(s.k, 0))) AS n
                FROM (SELECT unnest($8::text[]) AS k ORDER BY 1) s WHERE EXISTS (SELECT 1 FROM claim)
            )
            SELECT chk.project_ok, chk.device_ok, EXISTS (SELECT 1 FROM claim), (SELECT n FROM locks)
            FROM chk
            """
        typealias Row = (Bool, Bool, Bool, Int64)
        let account: UUID, projectId: UUID, checkProject: Bool, device: UUID, user: UUID, member: Bool, batchId: UUID
        let lockKeys: [String]
        let digest: [UInt8]

        func makeBindings() throws -> PostgresBindings {
            var b = PostgresBindings(capacity: 9)
            b.append(account); b.append(projectId); b.append(checkProject); b.append(device); b.append(user)
            b.append(member); b.append(batchId); b.append(lockKeys); b.append(ByteBuffer(bytes: digest))
            return b
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// Stores the batch's answer and answers the cursor that ends it: `prefix` is the
    /// answer's JSON up to the cursor, which the statement makes (this transaction's id,
    /// the feed sequence after its writes): one round trip for both.
    func storeAnswer(_ batchId: UUID, prefix: String) async throws -> String {
        let cursor = try await connection.execute(StoreAnswerStatement(account: scope.account, batchId: batchId, prefix: prefix), logger: logger)
            .collectAll().first
        guard let cursor else { throw APIError.unavailable("the batch's answer was not stored") }
        return cursor
    }

    /// The statement of ``storeAnswer(_:prefix:)``, prepared once per connection.
    struct StoreAnswerStatement: PostgresPreparedStatement {
        static let sql = """
            UPDATE push_batches SET response = $3::text || to_json(c.cursor)::text || '}'
            FROM (SELECT 'c1.' || pg_current_xact_id()::text || '.' || (SELECT last_value FROM feed_seq)::text AS cursor) c
            WHERE account_id = $1 AND batch_id = $2
            RETURNING c.cursor
            """
        typealias Row = String
        let account: UUID, batchId: UUID, prefix: String

        func makeBindings() throws -> PostgresBindings {
            var b = PostgresBindings(capacity: 3)
            b.append(account); b.append(batchId); b.append(prefix)
            return b
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(String.self) }
    }
}
