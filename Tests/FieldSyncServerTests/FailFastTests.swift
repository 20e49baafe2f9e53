import FieldSyncCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import FieldSyncServer

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `close(2)`, out of reach of the methods named `close`.
private func closeDescriptor(_ fd: Int32) { _ = close(fd) }

/// While PostgreSQL refuses connections, requests answer 503 at once (not at the
/// deadline); a database that accepts connections and never answers still gets the
/// whole `FIELDSYNC_DB_TIMEOUT_MS`; the server recovers by itself.
@Suite("Database outages: fail fast while refused, deadline while hanging", .serialized)
struct FailFastTests {
    static var quietLogger: Logger {
        var l = Logger(label: "test")
        l.logLevel = .critical
        return l
    }

    /// A loopback TCP socket, listening (never accepting: a database that hangs) or
    /// bound and closed (a port where connections are refused).
    final class LoopbackSocket: @unchecked Sendable {
        let fd: Int32
        let port: Int

        init(listening: Bool) throws {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw TestSetupError("socket() failed") }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = 0
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else { closeDescriptor(fd); throw TestSetupError("bind() failed") }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            if listening {
                guard listen(fd, 64) == 0 else { closeDescriptor(fd); throw TestSetupError("listen() failed") }
            }
            self.fd = fd
            self.port = Int(UInt16(bigEndian: address.sin_port))
        }

        func close() { closeDescriptor(fd) }
    }

    static func signIn(_ client: some TestClientProtocol) async throws -> (status: HTTPResponse.Status, body: String, retryAfter: String?) {
        try await client.execute(
            uri: "/v1/auth/token", method: .post, headers: [.contentType: "application/json"],
            body: ByteBuffer(string: #"{"username":"root","password":"root-password"}"#)
        ) { r in
            (r.status, String(buffer: r.body), r.headers[.retryAfter])
        }
    }

    @Test("connections refused on a closed loopback port: 503 unavailable with Retry-After in well under a second, every time")
    func refusedPort() async throws {
        let closed = try LoopbackSocket(listening: false)
        closed.close()
        var config = testConfiguration(databaseURL: "postgres://nobody@127.0.0.1:\(closed.port)/none?sslmode=disable")
        config.databaseTimeout = .seconds(5)
        let app = try await buildApplication(configuration: config, logger: Self.quietLogger)
        try await app.test(.router) { client in
            for attempt in 0..<5 {
                let started = ContinuousClock.now
                let r = try await Self.signIn(client)
                let took = ContinuousClock.now - started
                #expect(r.status == .serviceUnavailable, "attempt \(attempt): \(r.body)")
                #expect(r.body.contains("\"unavailable\""), "attempt \(attempt)")
                #expect(r.retryAfter != nil, "attempt \(attempt)")
                #expect(took < .seconds(2), "attempt \(attempt) took \(took)")
                try await Task.sleep(for: .milliseconds(150 * attempt))
            }
            let started = ContinuousClock.now
            let ready = try await client.execute(uri: "/readyz", method: .get) { $0.status }
            #expect(ready == .serviceUnavailable)
            #expect(ContinuousClock.now - started < .seconds(2))
        }
    }

    @Test("a database that accepts connections and never answers: 503 at the deadline, not before")
    func hangingDatabase() async throws {
        let hanging = try LoopbackSocket(listening: true)
        defer { hanging.close() }
        var config = testConfiguration(databaseURL: "postgres://nobody@127.0.0.1:\(hanging.port)/none?sslmode=disable")
        config.databaseTimeout = .seconds(2)
        let app = try await buildApplication(configuration: config, logger: Self.quietLogger)
        try await app.test(.router) { client in
            let started = ContinuousClock.now
            let r = try await Self.signIn(client)
            let took = ContinuousClock.now - started
            #expect(r.status == .serviceUnavailable, "\(r.body)")
            #expect(r.retryAfter != nil)
            #expect(took >= .milliseconds(1900), "a hanging database is not a refusing one: took \(took)")
            #expect(took < .seconds(5), "took \(took)")
        }
    }

    @Test("the database stops under a running server: pushes answer 503 at once; it starts again: the server recovers by itself")
    func stopAndRecover() async throws {
        let dir = URL(fileURLWithPath: "/tmp").appendingPathComponent("fs-failfast-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: dir) }
        let logger = Self.quietLogger
        let embedded = try EmbeddedPostgres(dataDirectory: dir.path, logger: logger)
        _ = try await embedded.start()
        // The app adopts the cluster and stops it when it shuts down; stopped here too if the test throws first.
        do {
            var config = ServerConfiguration()
            config.dataDirectory = dir.path
            config.adminUser = "root"
            config.adminPassword = "root-password"
            config.databaseTimeout = .seconds(5)
            let app = try await buildApplication(configuration: config, logger: logger)
            try await app.test(.router) { client in
                let api = API(client: client)
                let f = try await Fixture.make(api)
                let push = { () async throws -> API.Reply in
                    try await api.call(.post, "/v1/sync/push", token: f.agent.token, json: pushBody(device: f.agent.device, items: [positionItem()]))
                }
                #expect(try await push().status == .ok)

                await embedded.stop()
                for attempt in 0..<6 {
                    let started = ContinuousClock.now
                    let r = try await push()
                    let took = ContinuousClock.now - started
                    #expect(r.status == .serviceUnavailable, "attempt \(attempt): \(r.text)")
                    #expect(r.errorCode == "unavailable", "attempt \(attempt)")
                    #expect(r.headers[.retryAfter] != nil, "attempt \(attempt)")
                    #expect(took < .seconds(2), "attempt \(attempt) took \(took)")
                    try await Task.sleep(for: .milliseconds(200 * attempt))
                }

                _ = try await embedded.start()
                let back = ContinuousClock.now
                var recovered = false
                while !recovered, ContinuousClock.now - back < .seconds(30) {
                    if try await push().status == .ok { recovered = true } else { try await Task.sleep(for: .milliseconds(200)) }
                }
                #expect(recovered, "the server did not recover within 30 s of the database's return")
                #expect(try await api.call(.get, "/readyz").status == .ok)
            }
        } catch {
            await embedded.stop()
            throw error
        }
        await embedded.stop()
    }
}
