import AsyncHTTPClient
import FieldSyncCore
import Foundation
import Logging
import Synchronization

/// A client of one FieldSync server: JSON over HTTP with a bearer token, retries
/// and per-request timeouts.
///
/// Push and pull bodies are built and read with ``JSONValue``, ``JSONWriter`` and
/// ``JSONParser`` (the hot paths); the other calls send and read `Codable` types
/// through ``JSONCoding``. Call ``shutdown()`` when done (or use
/// ``withClient(baseURL:token:timeout:retry:logger:_:)``).
public final class FieldSyncClient: Sendable {
    /// The server's base URL without a trailing slash, e.g. `http://127.0.0.1:8080`.
    public let baseURL: String
    /// How long one request may take, unless a call says otherwise.
    public let timeout: Duration
    /// How failed requests are retried.
    public let retry: RetryPolicy
    let http: HTTPClient
    /// Whether ``shutdown()`` closes `http` (clients made with ``sharing(token:)`` don't).
    private let ownsHTTP: Bool
    let logger: Logger
    private let tokenBox: Mutex<String?>
    /// Whether the server has ever answered this client (see ``RetryPolicy``).
    private let answeredBox = Mutex(false)

    /// The largest answer body read (a pull page of 1000 records is far below this).
    static let maxAnswerBytes = 512 * 1024 * 1024

    /// Makes a client. `baseURL` must be `http://` or `https://`. `maxConnections`
    /// bounds the connections kept to the server (requests beyond it wait for one):
    /// at least the number of requests meant to run at once.
    public init(
        baseURL: String, token: String? = nil, timeout: Duration = .seconds(60),
        retry: RetryPolicy = RetryPolicy(), logger: Logger = Logger(label: "fieldsync.client"),
        maxConnections: Int = 64
    ) throws {
        var base = baseURL.trimmingCharacters(in: .whitespaces)
        while base.hasSuffix("/") { base.removeLast() }
        guard let url = URL(string: base), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", url.host != nil else {
            throw ClientError.invalidURL(baseURL)
        }
        self.baseURL = base
        self.timeout = timeout
        self.retry = retry
        self.logger = logger
        self.tokenBox = Mutex(token)
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(5), read: nil)
        configuration.redirectConfiguration = .disallow
        // Retries are ours (bounded, logged); the pool's own would wait out the connect timeout.
        configuration.connectionPool.retryConnectionEstablishment = false
        // AsyncHTTPClient's default of 8 connections per host would queue a fleet's
        // requests in the client: every device syncing at once needs its own.
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(1, maxConnections)
        self.http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.ownsHTTP = true
    }

    private init(sharing other: FieldSyncClient, token: String?, timeout: Duration?, retry: RetryPolicy?) {
        baseURL = other.baseURL
        self.timeout = timeout ?? other.timeout
        self.retry = retry ?? other.retry
        logger = other.logger
        tokenBox = Mutex(token)
        http = other.http
        ownsHTTP = false
    }

    /// A client of the same server that shares this one's connection pool but sends
    /// its own token (e.g. one per emulated device). Shut down this client, not the
    /// shared one's copies, when done; ``shutdown()`` on a copy does nothing.
    public func sharing(token: String?, timeout: Duration? = nil, retry: RetryPolicy? = nil) -> FieldSyncClient {
        FieldSyncClient(sharing: self, token: token, timeout: timeout, retry: retry)
    }

    /// Runs `body` with a new client and shuts the client down afterwards.
    public static func withClient<T: Sendable>(
        baseURL: String, token: String? = nil, timeout: Duration = .seconds(60),
        retry: RetryPolicy = RetryPolicy(), logger: Logger = Logger(label: "fieldsync.client"), maxConnections: Int = 64,
        _ body: (FieldSyncClient) async throws -> T
    ) async throws -> T {
        let client = try FieldSyncClient(
            baseURL: baseURL, token: token, timeout: timeout, retry: retry, logger: logger, maxConnections: maxConnections)
        let result: T
        do {
            result = try await body(client)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
        return result
    }

    /// Closes the connections. The client cannot be used afterwards.
    public func shutdown() async throws {
        guard ownsHTTP else { return }
        try await http.shutdown()
    }

    /// The bearer token sent with every request, if any.
    public var token: String? {
        tokenBox.withLock { $0 }
    }

    /// Replaces the bearer token (``signIn(username:password:deviceId:)`` does this).
    public func setToken(_ token: String?) {
        tokenBox.withLock { $0 = token }
    }
}

/// A 2xx answer: status, headers and the body read as JSON (`null` when empty).
public struct ClientResponse: Sendable {
    public var status: Int
    /// Header names as the server sent them, in order.
    public var headers: [(name: String, value: String)]
    public var json: JSONValue
    /// The body as read (decompressed when the server sent it gzip-encoded).
    public var body: [UInt8] = []
    /// Bytes received on the wire (smaller than `body.count` when gzip-encoded).
    public var wireBytes = 0

    /// The first value of a header, compared case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// The body read as `T`; ``ClientError/invalidResponse(path:detail:)`` naming the
    /// member at fault when it is not one.
    public func decode<T: Decodable>(_ type: T.Type, path: String) throws -> T {
        do {
            return try JSONCoding.decode(type, from: body)
        } catch {
            throw ClientError.invalidResponse(path: path, detail: JSONCoding.describe(error))
        }
    }
}

/// The protocol's error body, `{"error": {"code", "message", "field"?}}`.
struct ErrorEnvelope: Decodable {
    var error: ItemError
}

extension FieldSyncClient {
    /// Sends one request and reads the answer as JSON; throws ``ClientError`` for a
    /// non-2xx answer, a connection failure or a timeout.
    ///
    /// - Parameters:
    ///   - method: `GET`, `POST`, `PUT`, `DELETE`, …
    ///   - path: the path under the base URL, starting with `/` (e.g. `/v1/projects`).
    ///   - query: query parameters, percent-encoded here.
    ///   - body: a JSON body, sent as `application/json`.
    ///   - idempotent: whether a connection lost after sending may be retried;
    ///     defaults to `true` for every method but `POST` and `PATCH`.
    ///   - timeout: overrides the client's per-request timeout.
    ///   - acceptGzip: sends `Accept-Encoding: gzip` and decompresses a gzip answer.
    public func request(
        method: String, path: String, query: [(String, String)] = [], body: JSONValue? = nil,
        idempotent: Bool? = nil, timeout: Duration? = nil, acceptGzip: Bool = false
    ) async throws -> ClientResponse {
        try await request(
            method: method, path: path, query: query, bodyBytes: body.map(JSONWriter.encode),
            idempotent: idempotent, timeout: timeout, acceptGzip: acceptGzip)
    }

    /// As ``request(method:path:query:body:idempotent:timeout:acceptGzip:)`` with an
    /// `Encodable` body, written by ``JSONCoding``.
    public func request(
        method: String, path: String, query: [(String, String)] = [], encoding body: some Encodable,
        idempotent: Bool? = nil, timeout: Duration? = nil
    ) async throws -> ClientResponse {
        try await request(
            method: method, path: path, query: query, bodyBytes: try JSONCoding.encode(body),
            idempotent: idempotent, timeout: timeout)
    }

    /// As ``request(method:path:query:body:idempotent:timeout:acceptGzip:)`` with a body
    /// that is already JSON text (sent as is).
    public func request(
        method: String, path: String, query: [(String, String)] = [], bodyBytes: [UInt8]?,
        idempotent: Bool? = nil, timeout: Duration? = nil, acceptGzip: Bool = false
    ) async throws -> ClientResponse {
        let url = try makeURL(path: path, query: query)
        let canRetryLostConnection = idempotent ?? !["POST", "PATCH"].contains(method.uppercased())
        let limit = timeout ?? self.timeout
        let started = ContinuousClock.now
        var attempt = 1
        while true {
            let outcome = await send(method: method, url: url, path: path, body: bodyBytes, timeout: limit, acceptGzip: acceptGzip)
            let failure: ClientError
            var retryAfter: Duration? = nil
            var retryable: Bool
            switch outcome {
            case .answer(let response):
                return response
            case .refused(let error, let after):
                failure = error
                retryAfter = after
                retryable = error.status == 429 || error.status == 503
            case .noAnswer(let error, let neverSent):
                failure = error
                retryable = neverSent || canRetryLostConnection
                if !answeredBox.withLock({ $0 }) && attempt >= retry.attemptsBeforeFirstAnswer { retryable = false }
            }
            if case .timedOut = failure { retryable = false }
            let elapsed = ContinuousClock.now - started
            guard retryable, attempt < retry.maxAttempts else { throw failure }
            let wait = retry.delay(beforeRetry: attempt, retryAfter: retryAfter)
            guard elapsed + wait <= retry.maxTotal else { throw failure }
            // Before the server ever answered, retries are quick and quiet: it may just be starting.
            logger.log(
                level: answeredBox.withLock({ $0 }) ? .warning : .debug,
                "retrying \(method) \(path) in \(String(format1: wait.seconds)) s (attempt \(attempt + 1) of \(retry.maxAttempts)): \(failure)")
            try await Task.sleep(for: wait)
            attempt += 1
        }
    }

    enum Outcome {
        case answer(ClientResponse)
        /// A non-2xx answer, with `Retry-After` when given.
        case refused(ClientError, retryAfter: Duration?)
        /// No answer; `neverSent` when the connection was never made.
        case noAnswer(ClientError, neverSent: Bool)
    }

    func send(method: String, url: String, path: String, body: [UInt8]?, timeout: Duration, acceptGzip: Bool = false) async -> Outcome {
        var request = HTTPClientRequest(url: url)
        request.method = .init(rawValue: method.uppercased())
        request.headers.add(name: "Accept", value: "application/json")
        if acceptGzip { request.headers.add(name: "Accept-Encoding", value: "gzip") }
        request.headers.add(name: "User-Agent", value: "fieldsync-client/1")
        if let token {
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
        }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(body)
        }
        let deadlineNanos = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        var status = 0
        do {
            let response = try await http.execute(request, timeout: .nanoseconds(deadlineNanos))
            status = Int(response.status.code)
            answeredBox.withLock { $0 = true }
            let buffer = try await response.body.collect(upTo: Self.maxAnswerBytes)
            var bytes = Array(buffer.readableBytesView)
            let wireBytes = bytes.count
            let headers = response.headers.map { (name: $0.name, value: $0.value) }
            let encoding = headers.first { $0.name.lowercased() == "content-encoding" }?.value.trimmingCharacters(in: .whitespaces).lowercased()
            if let encoding, encoding == "gzip" || encoding == "x-gzip" {
                guard let plain = Gunzip.decompress(bytes, limit: Self.maxAnswerBytes) else {
                    return .refused(.invalidResponse(path: path, detail: "the gzip-encoded body is damaged"), retryAfter: nil)
                }
                bytes = plain
            }
            if (200..<300).contains(status) {
                let json: JSONValue
                if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
                    json = .null
                } else if let parsed = try? JSONParser.parse(bytes) {
                    json = parsed
                } else {
                    return .refused(.invalidResponse(path: path, detail: "the body is not JSON"), retryAfter: nil)
                }
                return .answer(ClientResponse(status: status, headers: headers, json: json, body: bytes, wireBytes: wireBytes))
            }
            let body = try? JSONCoding.decode(ErrorEnvelope.self, from: bytes)
            let error = ClientError.server(status: status, error: body?.error, method: method.uppercased(), path: path)
            let retryAfter = headers.first { $0.name.lowercased() == "retry-after" }
                .flatMap { Double($0.value.trimmingCharacters(in: .whitespaces)) }
                .flatMap { $0.isFinite ? Duration.milliseconds(Int64(min(max(0, $0), 86_400) * 1000)) : nil }
            return .refused(error, retryAfter: retryAfter)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            return .noAnswer(.timedOut(url: baseURL, seconds: timeout.seconds), neverSent: false)
        } catch {
            let detail = String(describing: error)
            logger.debug("no answer from \(baseURL)\(path): \(detail)")
            return .noAnswer(.unreachable(url: baseURL, detail: detail), neverSent: status == 0 && Self.isConnectFailure(error))
        }
    }

    /// `true` when the error says the connection was never made (so the request was
    /// never sent, and retrying cannot repeat it).
    static func isConnectFailure(_ error: any Error) -> Bool {
        if let e = error as? HTTPClientError, e == .connectTimeout { return true }
        let text = String(reflecting: error)
        return text.contains("NIOConnectionError") || text.contains("connectionRefused")
            || text.contains("Connection refused") || text.contains("connectTimeout")
    }

    func makeURL(path: String, query: [(String, String)]) throws -> String {
        guard path.hasPrefix("/") else { throw ClientError.invalidURL(baseURL + path) }
        var url = baseURL + path
        if !query.isEmpty {
            url += "?" + query.map { "\(Self.escape($0.0))=\(Self.escape($0.1))" }.joined(separator: "&")
        }
        return url
    }

    static let queryAllowed: CharacterSet = {
        CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    }()

    static func escape(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: queryAllowed) ?? s
    }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
