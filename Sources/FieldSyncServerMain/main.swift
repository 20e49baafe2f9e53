import ArgumentParser
import FieldSyncServer
import Foundation
import Hummingbird
import Logging

/// `fieldsync-server`: the FieldSync sync server.
@main
struct FieldSyncServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fieldsync-server",
        abstract: "The FieldSync sync server.",
        discussion: """
            Settings come from the environment; the flags below override the first four.

              FIELDSYNC_HOST                  address to listen on (default 127.0.0.1)
              FIELDSYNC_PORT                  port to listen on, 0 picks a free one
                                              (default 8080)
              FIELDSYNC_DATABASE_URL          postgres://user:pass@host:port/db, with
                                              ?sslmode=disable|prefer|require (default
                                              prefer); unset: the server runs its own
                                              PostgreSQL+PostGIS under FIELDSYNC_DATA_DIR
              FIELDSYNC_DATA_DIR              folder of the embedded database
                                              (default ./.fieldsync)
              FIELDSYNC_ADMIN_USER            superuser created on first start if
                                              absent (default: none)
              FIELDSYNC_ADMIN_PASSWORD        its password (default: none; the
                                              superuser needs both)
              FIELDSYNC_MAX_PUSH_BYTES        largest JSON body, imports included; 413
                                              beyond (default 33554432, 32 MiB)
              FIELDSYNC_MAX_ATTACHMENT_BYTES  largest attachment
                                              (default 104857600, 100 MiB)
              FIELDSYNC_TOKEN_TTL             bearer token lifetime in seconds
                                              (default 2592000, 30 days)
              FIELDSYNC_DB_TIMEOUT_MS         how long a request waits for the
                                              database before 503 (default 5000)
              FIELDSYNC_DB_POOL_SIZE          database connections per server process
                                              (default 16)
              FIELDSYNC_LOGIN_LIMIT           failed logins per username or per
                                              address in 15 minutes before 429
                                              (default 10)
              FIELDSYNC_LOG_LEVEL             trace, debug, info, notice, warning,
                                              error (default info)

            Example:
              FIELDSYNC_ADMIN_USER=admin FIELDSYNC_ADMIN_PASSWORD=change-me \\
                fieldsync-server --port 8080
            """)

    @Option(help: "Address to listen on (FIELDSYNC_HOST).") var host: String?
    @Option(help: "Port to listen on (FIELDSYNC_PORT).") var port: Int?
    @Option(help: "postgres://user:pass@host:port/db (FIELDSYNC_DATABASE_URL).") var databaseURL: String?
    @Option(help: "Folder of the embedded database (FIELDSYNC_DATA_DIR).") var dataDir: String?

    func run() async throws {
        var config: ServerConfiguration
        do {
            config = try ServerConfiguration.fromEnvironment()
        } catch {
            FileHandle.standardError.write(Data("fieldsync-server: \(error)\n".utf8))
            throw ExitCode(2)
        }
        if let host { config.host = host }
        if let port { config.port = port }
        if let databaseURL { config.databaseURL = databaseURL }
        if let dataDir { config.dataDirectory = dataDir }
        var logger = Logger(label: "fieldsync")
        logger.logLevel = Logger.Level(rawValue: config.logLevel) ?? .info
        do {
            let app = try await buildApplication(configuration: config, logger: logger)
            try await app.runService()
        } catch let error as ConfigurationError {
            FileHandle.standardError.write(Data("fieldsync-server: \(error.description)\n".utf8))
            throw ExitCode(1)
        }
    }
}
