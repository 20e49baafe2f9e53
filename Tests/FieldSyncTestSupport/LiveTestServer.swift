import FieldSyncServer
import Hummingbird
import HummingbirdTesting
import Logging

/// The real application listening on a loopback port, on a fresh migrated database of
/// the test cluster: for clients that need a socket (``FieldSyncClient``, the CLI).
public enum LiveTestServer {
    /// Runs `body` with the port of a live server; the server stops when it returns.
    public static func run<T: Sendable>(
        configure: (inout ServerConfiguration) -> Void = { _ in },
        _ body: @Sendable (_ port: Int) async throws -> T
    ) async throws -> T {
        var config = testConfiguration(databaseURL: try await TestDatabase.migrated())
        configure(&config)
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let app = try await buildApplication(configuration: config, logger: logger)
        return try await app.test(.live) { client in
            guard let port = client.port else { throw TestSetupError("the live test server has no port") }
            return try await body(port)
        }
    }
}
