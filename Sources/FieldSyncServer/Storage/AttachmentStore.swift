import Foundation
import Logging
import NIOCore
import PostgresNIO

/// Attachments, content-addressed by SHA-256 and stored in 1 MiB chunks
/// (`attachment_chunks`), so every server process on the database sees the same files
/// and a backup of the database is a backup of everything.
struct AttachmentStore {
    let connection: PostgresConnection
    let logger: Logger

    /// The stored size of a file; nil when it is not stored.
    func size(account: UUID, sha256: ByteBuffer) async throws -> Int64? {
        try await connection.query("SELECT size FROM attachments WHERE account_id = \(account) AND sha256 = \(sha256)", logger: logger)
            .collect { try $0.decode(Int64.self) }.first
    }

    /// Claims the file for this upload (in its transaction); false when it is stored
    /// already (or another upload of it holds the claim until it commits).
    func claim(account: UUID, sha256: ByteBuffer) async throws -> Bool {
        try await connection.query(
            "INSERT INTO attachments (account_id, sha256, size) VALUES (\(account), \(sha256), 0) ON CONFLICT DO NOTHING RETURNING 1",
            logger: logger
        ).collect { _ in true }.first ?? false
    }

    /// Stores chunk `n` of a claimed file.
    func writeChunk(account: UUID, sha256: ByteBuffer, n: Int32, data: ByteBuffer) async throws {
        try await connection.query(
            "INSERT INTO attachment_chunks (account_id, sha256, n, data) VALUES (\(account), \(sha256), \(n), \(data))", logger: logger)
    }

    /// Completes a claimed file: its size, and the instances that waited for it are
    /// complete now when no other of their files is missing (they show again in the feed).
    func complete(account: UUID, sha256: ByteBuffer, size: Int64) async throws {
        try await connection.query("UPDATE attachments SET size = \(size) WHERE account_id = \(account) AND sha256 = \(sha256)", logger: logger)
        try await connection.query(
            """
            UPDATE instances i SET complete = c.complete, doc = i.doc || jsonb_build_object('complete', c.complete),
                feed_xid = pg_current_xact_id(), feed_seq = nextval('feed_seq'), updated_at = now()
            FROM (SELECT ia.instance_id, NOT EXISTS (
                      SELECT 1 FROM instance_attachments x
                      WHERE x.account_id = \(account) AND x.instance_id = ia.instance_id
                        AND x.sha256 <> \(sha256) AND NOT EXISTS (SELECT 1 FROM attachments s WHERE s.account_id = \(account) AND s.sha256 = x.sha256)
                  ) AS complete
                  FROM instance_attachments ia WHERE ia.account_id = \(account) AND ia.sha256 = \(sha256)) c
            WHERE i.account_id = \(account) AND i.id = c.instance_id AND i.complete IS DISTINCT FROM c.complete
            """, logger: logger)
    }

    /// Stores a whole file held in memory (an ODK submission's attachment) under its
    /// digest `sha256`, unless it is stored already; instances waiting for it complete.
    func storeWhole(account: UUID, sha256: [UInt8], bytes: [UInt8], chunkSize: Int) async throws {
        let digest = ByteBuffer(bytes: sha256)
        guard try await claim(account: account, sha256: digest) else { return }
        var n: Int32 = 0
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + max(1, chunkSize))
            try await writeChunk(account: account, sha256: digest, n: n, data: ByteBuffer(bytes: bytes[start..<end]))
            n += 1
            start = end
        }
        try await complete(account: account, sha256: digest, size: Int64(bytes.count))
    }

    /// A stored file's bytes, in order; nil when it is not stored (or still being
    /// written). For files served whole (form media), so callers bound their size.
    func read(account: UUID, sha256: [UInt8]) async throws -> [UInt8]? {
        let digest = ByteBuffer(bytes: sha256)
        guard try await size(account: account, sha256: digest) != nil else { return nil }
        var out: [UInt8] = []
        let rows = try await connection.query(
            "SELECT data FROM attachment_chunks WHERE account_id = \(account) AND sha256 = \(digest) ORDER BY n", logger: logger)
        for try await row in rows {
            let chunk = try row.decode(ByteBuffer.self)
            out.append(contentsOf: chunk.readableBytesView)
        }
        return out
    }
}
