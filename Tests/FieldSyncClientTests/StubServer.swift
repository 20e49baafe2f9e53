import FieldSyncClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization

/// One request as the stub server received it.
struct Received: Sendable {
    var method: String
    var path: String
    var query: String
    /// Header names in lower case.
    var headers: [String: String]
    var body: String
}

/// A local HTTP server whose routes answer what each test scripts, recording every
/// request: the other side of ``FieldSyncClient`` on a real socket, no FieldSync server.
final class StubServer: Sendable {
    /// What a route answers: status, extra headers, body text.
    struct Reply: Sendable {
        var status: HTTPResponse.Status
        var headers: [String: String] = [:]
        var body: String

        static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Reply { Reply(status: status, body: text) }
        static func error(_ status: HTTPResponse.Status, code: String, message: String, field: String? = nil) -> Reply {
            let f = field.map { ",\"field\":\"\($0)\"" } ?? ""
            return Reply(status: status, body: "{\"error\":{\"code\":\"\(code)\",\"message\":\"\(message)\"\(f)}}")
        }
    }

    private let log = Mutex<[Received]>([])
    /// Answers for `METHOD path`, by attempt (the last one repeats).
    private let scripts: [String: [Reply]]

    init(_ scripts: [String: [Reply]]) {
        self.scripts = scripts
    }

    var received: [Received] { log.withLock { $0 } }

    func count(_ route: String) -> Int {
        received.filter { "\($0.method) \($0.path)" == route }.count
    }

    /// Runs `body` with a client of the stub server at `http://127.0.0.1:PORT`.
    func run<T: Sendable>(
        token: String? = nil, retry: RetryPolicy = RetryPolicy(baseDelay: .milliseconds(5), maxDelay: .milliseconds(20)),
        timeout: Duration = .seconds(10), _ body: @Sendable (FieldSyncClient) async throws -> T
    ) async throws -> T {
        let router = Router()
        for route in scripts.keys {
            let parts = route.split(separator: " ", maxSplits: 1).map(String.init)
            let method = HTTPRequest.Method(rawValue: parts[0]) ?? .get
            router.on(RouterPath(parts[1]), method: method) { request, _ -> Response in
                try await self.answer(route, request)
            }
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        return try await app.test(.live) { client in
            let port = client.port ?? 0
            return try await FieldSyncClient.withClient(baseURL: "http://127.0.0.1:\(port)/", token: token, timeout: timeout, retry: retry) { c in
                try await body(c)
            }
        }
    }

    private func answer(_ route: String, _ request: Request) async throws -> Response {
        let bytes = try await request.body.collect(upTo: 1 << 20)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let attempt = log.withLock { entries in
            entries.append(
                Received(
                    method: request.method.rawValue, path: request.uri.path, query: request.uri.query ?? "",
                    headers: headers, body: String(buffer: bytes)))
            return entries.filter { "\($0.method) \($0.path)" == route }.count
        }
        let replies = scripts[route] ?? []
        guard let reply = replies.isEmpty ? nil : replies[min(attempt, replies.count) - 1] else {
            return Response(status: .internalServerError)
        }
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        for (name, value) in reply.headers {
            if let n = HTTPField.Name(name) { fields[n] = value }
        }
        return Response(status: reply.status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: reply.body)))
    }
}
