import FieldSyncCore
import Foundation
import Hummingbird
import Logging
import Metrics
import PostgresNIO
import Prometheus
import ServiceLifecycle

/// The process-wide metrics registry; swift-metrics is bootstrapped into it once.
public enum FieldSyncMetrics {
    public static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()
}

/// Builds the whole server: database (embedded or from the URL), migrations, routes
/// (``buildRouter(database:migrator:auth:config:logger:)``).
/// The one composition root: `fieldsync-server` and the tests both call it.
public func buildApplication(
    configuration config: ServerConfiguration,
    logger: Logger = Logger(label: "fieldsync")
) async throws -> some ApplicationProtocol {
    var services: [any Service] = []
    let clientConfiguration: PostgresClient.Configuration
    if let url = config.databaseURL {
        clientConfiguration = try DatabaseURL.configuration(from: url)
    } else {
        let embedded = try EmbeddedPostgres(dataDirectory: config.dataDirectory, logger: logger)
        let connection = try await embedded.start()
        services.append(embedded)
        clientConfiguration = PostgresClient.Configuration(
            unixSocketPath: connection.socketPath, username: connection.username, password: nil, database: connection.database)
        logger.info("using the embedded database", metadata: ["socket": "\(connection.socketDirectory)"])
    }
    var options = clientConfiguration
    options.options.maximumConnections = config.poolSize
    options.options.minimumConnections = 0
    options.options.connectTimeout = .seconds(3)
    let client = PostgresClient(configuration: options, backgroundLogger: logger)
    services.append(client)
    let database = Database(client: client, timeout: config.databaseTimeout, logger: logger, endpoint: DatabaseEndpoint(options))
    let migrator = Migrator(database: database, logger: logger)
    let auth = AuthStore(database: database, logger: logger)

    let router = buildRouter(database: database, migrator: migrator, auth: auth, config: config, logger: logger)

    var app = Application(
        router: router,
        configuration: .init(address: .hostname(config.host, port: config.port), serverName: "fieldsync"),
        services: services,
        logger: logger)
    app.beforeServerStarts {
        await Bootstrap(migrator: migrator, auth: auth, config: config, logger: logger).run()
    }
    return app
}

/// Start-up work that needs the database: migrations and the superuser. Retries while
/// the database is unreachable (the server answers 503 meanwhile) and never throws, so
/// a database that comes up late is picked up by itself.
struct Bootstrap: Sendable {
    let migrator: Migrator
    let auth: AuthStore
    let config: ServerConfiguration
    let logger: Logger

    func run() async {
        if await attempt() { return }
        logger.warning("the database is not ready; the server will keep trying in the background")
        Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(2))
                if await attempt() { return }
            }
        }
    }

    func attempt() async -> Bool {
        for _ in 0..<3 {
            // A database that does not answer at all is retried later, not waited for.
            guard await migrator.database.ping(timeout: .seconds(3)) else {
                try? await Task.sleep(for: .milliseconds(500))
                continue
            }
            do {
                let applied = try await migrator.migrate()
                if !applied.isEmpty { logger.info("migrations applied", metadata: ["migrations": "\(applied)"]) }
                if let user = config.adminUser, let password = config.adminPassword {
                    if try await auth.ensureSuperuser(username: user, password: password) {
                        logger.notice("superuser created", metadata: ["username": "\(user)"])
                    }
                }
                return true
            } catch {
                logger.warning("database start-up work failed", metadata: ["error": "\(String(reflecting: error))"])
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
        return false
    }
}
