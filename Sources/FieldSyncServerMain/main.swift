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
            Settings come from the environment (FIELDSYNC_HOST, FIELDSYNC_PORT, FIELDSYNC_DATABASE_URL,
            FIELDSYNC_DATA_DIR, FIELDSYNC_ADMIN_USER, FIELDSYNC_ADMIN_PASSWORD, FIELDSYNC_MAX_PUSH_BYTES,
            FIELDSYNC_MAX_ATTACHMENT_BYTES, FIELDSYNC_TOKEN_TTL); the flags below override them.
            Without FIELDSYNC_DATABASE_URL the server runs its own PostgreSQL+PostGIS under FIELDSYNC_DATA_DIR.

            Example:
              FIELDSYNC_ADMIN_USER=admin FIELDSYNC_ADMIN_PASSWORD=change-me fieldsync-server --port 8080
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
