import Crypto
import FieldSyncCore
import Foundation
import Hummingbird
import Logging
import NIOCore
import PostgresNIO

/// `PUT /v1/attachments/{sha256}` and `HEAD /v1/attachments/{sha256}`.
///
/// Files are stored in PostgreSQL, in 1 MiB chunks (`attachment_chunks`), so every
/// server process on the database sees the same files and a backup of the database is
/// a backup of everything. The body is streamed: at most one chunk is in memory; the
/// digest is computed on the way and checked before commit (422 `digest_mismatch`,
/// nothing kept); bodies over `FIELDSYNC_MAX_ATTACHMENT_BYTES` are refused (413).
struct AttachmentController {
    let database: Database
    let config: ServerConfiguration
    let logger: Logger
    static let chunkSize = 1 << 20

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.put("attachments/:sha256", use: put)
        router.head("attachments/:sha256", use: head)
    }

    static func digest(_ context: AppRequestContext) throws -> [UInt8] {
        let raw = context.parameters.get("sha256")?.lowercased() ?? ""
        let bytes = Array(raw.utf8)
        guard bytes.count == 64, bytes.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            throw APIError.badRequest("the path must end in the file's SHA-256 as 64 hex digits", field: "sha256")
        }
        return stride(from: 0, to: 64, by: 2).map { UInt8(String(decoding: bytes[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
    }

    @Sendable func head(_ request: Request, context: AppRequestContext) async throws -> Response {
        let account = try context.requireCaller().requireAccount()
        let sha = ByteBuffer(bytes: try Self.digest(context))
        let size = try await database.withConnection { [logger] c in
            try await c.query("SELECT size FROM attachments WHERE account_id = \(account) AND sha256 = \(sha)", logger: logger)
                .collect { try $0.decode(Int64.self) }.first
        }
        guard let size else { return Response(status: .notFound) }
        return Response(status: .ok, headers: [.contentLength: String(size)])
    }

    @Sendable func put(_ request: Request, context: AppRequestContext) async throws -> Response {
        let account = try context.requireCaller().requireAccount()
        let expected = try Self.digest(context)
        let limit = config.maxAttachmentBytes
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw APIError.tooLarge("the file is \(length) bytes; the limit is \(limit) (FIELDSYNC_MAX_ATTACHMENT_BYTES)")
        }
        let sha = ByteBuffer(bytes: expected)
        let hex = expected.map { String(format: "%02x", $0) }.joined()
        let body = request.body
        let logger = context.logger
        let created: Int64? = try await database.transaction(timeout: .seconds(600)) { c in
            let claimed = try await c.query(
                "INSERT INTO attachments (account_id, sha256, size) VALUES (\(account), \(sha), 0) ON CONFLICT DO NOTHING RETURNING 1",
                logger: logger).collect { _ in true }.first ?? false
            guard claimed else { return nil }
            var hasher = SHA256()
            var pending = ByteBuffer()
            var n: Int32 = 0
            var total: Int64 = 0
            func flush() async throws {
                guard pending.readableBytes > 0 else { return }
                let piece = pending
                try await c.query("INSERT INTO attachment_chunks (account_id, sha256, n, data) VALUES (\(account), \(sha), \(n), \(piece))", logger: logger)
                n += 1
                pending.clear()
            }
            for try await buffer in body {
                total += Int64(buffer.readableBytes)
                guard total <= limit else {
                    throw APIError.tooLarge("the file is larger than the limit of \(limit) bytes (FIELDSYNC_MAX_ATTACHMENT_BYTES)")
                }
                buffer.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
                var b = buffer
                while b.readableBytes > 0 {
                    let take = min(b.readableBytes, Self.chunkSize - pending.readableBytes)
                    var slice = b.readSlice(length: take)!
                    pending.writeBuffer(&slice)
                    if pending.readableBytes == Self.chunkSize { try await flush() }
                }
            }
            try await flush()
            let digest = Array(hasher.finalize())
            guard digest == expected else {
                throw APIError(.unprocessableContent, code: ErrorCode.digestMismatch,
                               message: "the bytes hash to \(digest.map { String(format: "%02x", $0) }.joined()), not to the digest in the path")
            }
            try await c.query("UPDATE attachments SET size = \(total) WHERE account_id = \(account) AND sha256 = \(sha)", logger: logger)
            // Instances waiting for this file may be complete now.
            try await c.query(
                """
                UPDATE instances i SET complete = c.complete, doc = i.doc || jsonb_build_object('complete', c.complete),
                    feed_xid = pg_current_xact_id(), feed_seq = nextval('feed_seq'), updated_at = now()
                FROM (SELECT ia.instance_id, NOT EXISTS (
                          SELECT 1 FROM instance_attachments x
                          WHERE x.account_id = \(account) AND x.instance_id = ia.instance_id
                            AND x.sha256 <> \(sha) AND NOT EXISTS (SELECT 1 FROM attachments s WHERE s.account_id = \(account) AND s.sha256 = x.sha256)
                      ) AS complete
                      FROM instance_attachments ia WHERE ia.account_id = \(account) AND ia.sha256 = \(sha)) c
                WHERE i.account_id = \(account) AND i.id = c.instance_id AND i.complete IS DISTINCT FROM c.complete
                """, logger: logger)
            return total
        }
        if let created {
            return JSONBody.response(.object(["sha256": .string(hex), "size": .number(Double(created))]), status: .created)
        }
        // Already stored (the body is not needed).
        for try await _ in request.body {}
        let size = try await database.withConnection { [logger] c in
            try await c.query("SELECT size FROM attachments WHERE account_id = \(account) AND sha256 = \(sha)", logger: logger)
                .collect { try $0.decode(Int64.self) }.first ?? 0
        }
        return JSONBody.response(.object(["sha256": .string(hex), "size": .number(Double(size))]), status: .ok)
    }
}
