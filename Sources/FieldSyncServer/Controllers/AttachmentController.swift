import Crypto
import FieldSyncCore
import Foundation
import Hummingbird
import Logging
import NIOCore

/// `PUT /v1/attachments/{sha256}` and `HEAD /v1/attachments/{sha256}`.
///
/// Files are stored in PostgreSQL by ``AttachmentStore``. The body is streamed: at most one chunk is in memory; the
/// digest is computed on the way and checked before commit (422 `digest_mismatch`,
/// nothing kept); bodies over `FIELDSYNC_MAX_ATTACHMENT_BYTES` are refused (413).
struct AttachmentController {
    let database: Database
    let config: ServerConfiguration
    static let chunkSize = 1 << 20

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.put("attachments/:sha256", use: put)
        router.head("attachments/:sha256", use: head)
    }

    static func digest(_ context: AppRequestContext) throws -> [UInt8] {
        let raw = context.parameters.get("sha256")?.lowercased() ?? ""
        let bytes = Array(raw.utf8)
        guard bytes.count == 64, let digest = Hex.bytes(raw) else {
            throw APIError.badRequest("the path must end in the file's SHA-256 as 64 hex digits", field: "sha256")
        }
        return digest
    }

    @Sendable func head(_ request: Request, context: AppRequestContext) async throws -> Response {
        let account = try context.requireCaller().requireAccount()
        let sha = ByteBuffer(bytes: try Self.digest(context))
        let size = try await database.withConnection { c in
            try await AttachmentStore(connection: c, logger: context.logger).size(account: account, sha256: sha)
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
        let hex = Hex.string(expected)
        let body = request.body
        let logger = context.logger
        let created: Int64? = try await database.transaction(timeout: .seconds(600)) { c in
            let store = AttachmentStore(connection: c, logger: logger)
            guard try await store.claim(account: account, sha256: sha) else { return nil }
            var hasher = SHA256()
            var pending = ByteBuffer()
            var n: Int32 = 0
            var total: Int64 = 0
            func flush() async throws {
                guard pending.readableBytes > 0 else { return }
                let piece = pending
                try await store.writeChunk(account: account, sha256: sha, n: n, data: piece)
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
                    guard var slice = b.readSlice(length: take) else { break }
                    pending.writeBuffer(&slice)
                    if pending.readableBytes == Self.chunkSize { try await flush() }
                }
            }
            try await flush()
            let digest = Array(hasher.finalize())
            guard digest == expected else {
                throw APIError(
                    .unprocessableContent, code: ErrorCode.digestMismatch,
                    message: "the bytes hash to \(Hex.string(digest)), not to the digest in the path")
            }
            try await store.complete(account: account, sha256: sha, size: total)
            return total
        }
        if let created {
            return JSONBody.response(.object(["sha256": .string(hex), "size": .number(Double(created))]), status: .created)
        }
        // Already stored (the body is not needed).
        for try await _ in request.body {}
        let size = try await database.withConnection { c in
            try await AttachmentStore(connection: c, logger: logger).size(account: account, sha256: sha) ?? 0
        }
        return JSONBody.response(.object(["sha256": .string(hex), "size": .number(Double(size))]), status: .ok)
    }
}
