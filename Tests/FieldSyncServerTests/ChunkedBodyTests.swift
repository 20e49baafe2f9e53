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

    /// A live server whose push and attachment limits are ``limit``, with its fixture, base
    /// URL and an HTTP client for chunked bodies (shut down however `body` ends).
    static func withLimitedServer(_ body: @escaping @Sendable (API, Fixture, String, HTTPClient) async throws -> Void) async throws {
        var config = testConfiguration(databaseURL: try await TestDatabase.migrated())
        config.maxPushBytes = limit
        config.maxAttachmentBytes = limit
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let app = try await buildApplication(configuration: config, logger: logger)
        try await app.test(.live) { client in
            let api = API(client: client)
            let f = try await Fixture.make(api)
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            do {
                try await body(api, f, "http://127.0.0.1:\(client.port ?? 0)", http)
            } catch {
                try await http.shutdown()
                throw error
            }
            try await http.shutdown()
        }
    }

    /// Sends `prefix`, then spaces up to `total` bytes, as a stream of unknown length
    /// (chunked), made piece by piece as the client sends it (a 100 MiB body is never held).
    static func sendChunked(
        _ http: HTTPClient, _ url: String, method: HTTPMethod = .POST, token: String?,
        prefix: [UInt8], total: Int, contentType: String = "application/json", piece: Int = 16 * 1024
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Content-Type", value: contentType)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        request.body = .stream(Pieces(prefix: prefix, total: total, piece: piece), length: .unknown)
        let response = try await http.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        return Reply(status: Int(response.status.code), body: String(buffer: body))
    }

    /// `prefix`, then spaces up to `total` bytes, in pieces made as they are read.
    struct Pieces: AsyncSequence, Sendable {
        typealias Element = ByteBuffer
        let prefix: [UInt8]
        let total: Int
        let piece: Int

        struct AsyncIterator: AsyncIteratorProtocol {
            let pieces: Pieces
            let spaces: ByteBuffer
            var sent = 0

            mutating func next() async -> ByteBuffer? {
                if sent == 0, !pieces.prefix.isEmpty {
                    sent = pieces.prefix.count
                    return ByteBuffer(bytes: pieces.prefix)
                }
                guard sent < pieces.total else { return nil }
                let n = Swift.min(pieces.piece, pieces.total - sent)
                sent += n
                return spaces.getSlice(at: 0, length: n)
            }
        }

        func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(pieces: self, spaces: ByteBuffer(repeating: UInt8(ascii: " "), count: piece))
        }
    }

    @Test("every JSON route answers a chunked body over FIELDSYNC_MAX_PUSH_BYTES with 413 too_large, and one under it as usual")
    func chunkedJSONBodies() async throws {
        try await Self.withLimitedServer { api, f, base, http in
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
        }
    }

    @Test("the ODK routes (XForm upload, OpenRosa submission, Central sign-in and entities) answer a chunked body over their limit with 413")
    func chunkedODKBodies() async throws {
        try await Self.withLimitedServer { api, f, base, http in
            let q = "?accountId=\(f.account.lowercased)"
            let unit = UUID()
            let imported = try await api.call(
                .post, "/v1/orgunits/import" + q, token: f.rootToken,
                json: .array([.object(["id": .string(unit.lowercased), "name": .string("Country"), "parentId": .null])]))
            #expect(imported.status == .created, "\(imported.text)")
            let type = try await api.call(.post, "/v1/entity-types" + q, token: f.rootToken, json: .object(["name": .string("Household")]))
            #expect(type.status == .created, "\(type.text)")
            let appUser = try await api.call(
                .post, "/v1/app-users", token: f.admin.token,
                json: .object(["projectId": .string(f.project.lowercased), "orgUnitIds": .array([.string(unit.lowercased)])]))
            #expect(appUser.status == .created, "\(appUser.text)")
            let key = try #require(appUser.json["key"]?.stringValue)
            let odk = try #require(appUser.json["odkProjectId"]?.numberValue.map { Int($0) })
            let collect = "/odk/v1/key/\(key)/projects/\(odk)"
            let entities = "/odk/v1/projects/\(odk)/datasets/Household/entities"
            // The submission route's own limit, as it tells Collect (ODKLimits.maxMultipartBytes, 100 MiB).
            let head = try await api.call(.head, collect + "/submission")
            let multipartLimit = try #require(head.headers[HTTPField.Name("X-OpenRosa-Accept-Content-Length")!].flatMap { Int($0) })
            #expect(multipartLimit > Self.limit)
            // JSON routes, held to FIELDSYNC_MAX_PUSH_BYTES.
            let json: [(String, String?)] = [("/odk/v1/sessions", nil), (entities, f.admin.token)]
            for (path, token) in json {
                let r = try await Self.sendChunked(http, base + path, token: token, prefix: Array("{\"email\":\"".utf8), total: 4 * Self.limit)
                #expect(r.status == 413, "\(path): \(r.status) \(r.body)")
                #expect(r.errorCode == "too_large", "\(path): \(r.body)")
            }
            // The XForm upload, held to the XML limit (ODKLimits.maxXMLBytes, 10 MiB), not the JSON one.
            let xform = try await Self.sendChunked(
                http, base + "/v1/forms/xform?projectId=\(f.project.lowercased)", token: f.admin.token,
                prefix: Array("<?xml version=\"1.0\"?><h:html xmlns:h=\"http://www.w3.org/1999/xhtml\">".utf8), total: (10 << 20) + (512 << 10),
                contentType: "application/xml", piece: 256 << 10)
            #expect(xform.status == 413, "xform: \(xform.status) \(xform.body.prefix(300))")
            #expect(xform.errorCode == "too_large", "xform: \(xform.body.prefix(300))")
            // Collect's submission: multipart over the advertised limit, answered as an OpenRosa message.
            let part =
                "--fs\r\nContent-Disposition: form-data; name=\"xml_submission_file\"; filename=\"s.xml\"\r\nContent-Type: text/xml\r\n\r\n<data>"
            let submission = try await Self.sendChunked(
                http, base + collect + "/submission", token: nil, prefix: Array(part.utf8), total: multipartLimit + (1 << 20),
                contentType: "multipart/form-data; boundary=fs", piece: 256 << 10)
            #expect(submission.status == 413, "submission: \(submission.status) \(submission.body.prefix(300))")
            #expect(submission.body.contains("<OpenRosaResponse") && submission.body.contains("limit"), "\(submission.body.prefix(300))")

            // Under the limit, a chunked sign-in is read as usual.
            let signIn = JSONWriter.encode(.object(["email": .string("root"), "password": .string("root-password")]))
            let ok = try await Self.sendChunked(http, base + "/odk/v1/sessions", token: nil, prefix: signIn, total: signIn.count + 1000)
            #expect(ok.status == 200, "\(ok.body)")
            #expect(ok.json["token"]?.stringValue?.isEmpty == false, "\(ok.body)")
            // Nothing was written, and the server still answers.
            let list = try await api.call(.get, entities, token: f.admin.token)
            #expect(list.status == .ok, "\(list.text)")
            #expect(list.json.arrayValue?.isEmpty == true, "\(list.text)")
            let forms = try await api.call(.get, "/v1/forms" + q, token: f.rootToken)
            #expect(forms.json["items"]?.arrayValue?.isEmpty == true, "\(forms.text)")
            #expect(try await api.call(.get, "/v1/sync/pull", token: f.agent.token).status == .ok)
        }
    }
}
