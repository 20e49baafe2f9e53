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
/// (``buildRouter(database:migrator:config:)``).
/// The one composition root: `fieldsync-server` and the tests both call it.
///
/// Nothing here touches the database or starts a process: the work runs as services of the
/// application's group, started together and shut down in reverse order, so the server
/// stops first, then the bootstrap, then the pool, then the embedded cluster:
/// - ``EmbeddedPostgres`` (without a URL): creates or adopts the cluster, stops it at the end;
/// - the `PostgresClient` pool;
/// - ``BootstrapService``: migrations and the superuser once the database answers, retried
///   while it does not (requests answer 503 meanwhile). The HTTP server listens after its
///   first round of attempts.
public func buildApplication(
    configuration config: ServerConfiguration,
    logger: Logger = Logger(label: "fieldsync")
) async throws -> some ApplicationProtocol {
    var services: [any Service] = []
    let clientConfiguration: PostgresClient.Configuration
    var databaseStarted: StartupSignal?
    if let url = config.databaseURL {
        clientConfiguration = try DatabaseURL.configuration(from: url)
    } else {
        let embedded = try EmbeddedPostgres(dataDirectory: config.dataDirectory, logger: logger)
        let connection = embedded.connection
        services.append(embedded)
        databaseStarted = embedded.started
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
    let bootstrap = BootstrapService(migrator: migrator, config: config, logger: logger, databaseStarted: databaseStarted)
    services.append(bootstrap)

    let router = buildRouter(database: database, migrator: migrator, config: config)

    var app = Application(
        router: router,
        configuration: .init(address: .hostname(config.host, port: config.port), serverName: "fieldsync"),
        services: services,
        logger: logger)
    app.beforeServerStarts {
        await bootstrap.firstRound.wait()
        // A group that is failing (the embedded cluster did not start) does not listen at all.
        try Task.checkCancellation()
    }
    return app
}
