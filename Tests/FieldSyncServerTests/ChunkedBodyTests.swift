import AsyncHTTPClient
import FieldSyncCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOHTTP1
import Testing

@testable import FieldSyncServer

/// Bodies sent in chunks (no `Content-Length`) over a real socket are held to the same
/// limits as bodies with one: 413 `too_large` on every JSON route and on attachments,
/// never a 5xx.
@Suite("Chunked bodies over the limits")
struct ChunkedBodyTests {
    static let limit = 64 * 1024

    struct Reply: Sendable {
        let status: Int
        let body: String
        var json: JSONValue { (try? JSONParser.parse(body)) ?? .null }
        var errorCode: String? { json["error"]?["code"]?.stringValue }
    }

    /// Sends `total` bytes of `chunk` repeated as a stream of unknown length (chunked).
    static func sendChunked(
        _ http: HTTPClient, _ url: String, method: HTTPMethod = .POST, token: String?,
        prefix: [UInt8], total: Int
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Content-Type", value: "application/json")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let piece = 16 * 1024
        let stream = AsyncStream<ByteBuffer> { continuation in
            var sent = 0
            if !prefix.isEmpty {
                continuation.yield(ByteBuffer(bytes: prefix))
                sent += prefix.count
            }
            while sent < total {
                let n = min(piece, total - sent)
                continuation.yield(ByteBuffer(repeating: UInt8(ascii: " "), count: n))
                sent += n
            }
            continuation.finish()
        }
        request.body = .stream(stream, length: .unknown)
        let response = try await http.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        return Reply(status: Int(response.status.code), body: String(buffer: body))
    }

    @Test("every JSON route answers a chunked body over FIELDSYNC_MAX_PUSH_BYTES with 413 too_large, and one under it as usual")
    func chunkedJSONBodies() async throws {
        var config = testConfiguration(databaseURL: try await TestDatabase.migrated())
        config.maxPushBytes = Self.limit
        config.maxAttachmentBytes = Self.limit
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let app = try await buildApplication(configuration: config, logger: logger)
        try await app.test(.live) { client in
            let api = API(client: client)
            let f = try await Fixture.make(api)
            let base = "http://127.0.0.1:\(client.port ?? 0)"
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            do {
                let q = "?accountId=\(f.account.lowercased)"
                let root = f.rootToken
                let routes: [(HTTPMethod, String, String?)] = [
                    (.POST, "/v1/sync/push", f.agent.token),
                    (.POST, "/v1/auth/token", nil),
                    (.POST, "/v1/accounts", root),
                    (.POST, "/v1/projects" + q, root),
                    (.POST, "/v1/users" + q, root),
                    (.PATCH, "/v1/users/\(f.agent.userId.lowercased)" + q, root),
                    (.POST, "/v1/orgunit-types" + q, root),
                    (.POST, "/v1/entity-types" + q, root),
                    (.POST, "/v1/forms" + q, root),
                    (.POST, "/v1/forms/\(UUID().lowercased)/versions" + q, root),
                    (.POST, "/v1/devices", f.agent.token),
                    (.POST, "/v1/orgunits/import" + q, root),
                    (.POST, "/v1/orgunits/changes/\(UUID().lowercased)/review", f.admin.token),
                    (.POST, "/v1/conflicts/entity/\(UUID().lowercased)/resolve", f.admin.token),
                ]
                for (method, path, token) in routes {
                    let r = try await Self.sendChunked(
                        http, base + path, method: method, token: token, prefix: Array("{\"a\":\"".utf8), total: 4 * Self.limit)
                    #expect(r.status == 413, "\(method) \(path): \(r.status) \(r.body)")
                    #expect(r.errorCode == "too_large", "\(method) \(path): \(r.body)")
                }
                // Under the limit, a chunked push is read as usual.
                let body = JSONWriter.encode(pushBody(device: f.agent.device, items: [positionItem()]))
                let ok = try await Self.sendChunked(http, base + "/v1/sync/push", token: f.agent.token, prefix: body, total: body.count + 1000)
                #expect(ok.status == 200, "\(ok.body)")
                #expect(ok.json["results"]?[0]?["status"] == .string("created"), "\(ok.body)")

                // Attachments: the same for FIELDSYNC_MAX_ATTACHMENT_BYTES.
                let sha = String(repeating: "ab", count: 32)
                let big = try await Self.sendChunked(
                    http, base + "/v1/attachments/\(sha)", method: .PUT, token: f.agent.token, prefix: [], total: 4 * Self.limit)
                #expect(big.status == 413, "attachment: \(big.status) \(big.body)")
                #expect(big.errorCode == "too_large", "attachment: \(big.body)")
                // Nothing of it was kept.
                let head = try await api.call(.head, "/v1/attachments/\(sha)", token: f.agent.token)
                #expect(head.status == .notFound)
                // And the server still answers.
                let after = try await api.call(.get, "/v1/sync/pull", token: f.agent.token)
                #expect(after.status == .ok)
            } catch {
                try await http.shutdown()
                throw error
            }
            try await http.shutdown()
        }
    }
}
