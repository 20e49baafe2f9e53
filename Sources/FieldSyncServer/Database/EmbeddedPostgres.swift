import Foundation
import Logging
import NIOPosix
import PostgresNIO
import ServiceLifecycle
import Subprocess

#if canImport(System)
    import System
#else
    import SystemPackage
#endif

/// The server's own PostgreSQL + PostGIS cluster, used when no `FIELDSYNC_DATABASE_URL`
/// is given: created on first start under the data directory, adopted or restarted
/// after a crash, stopped on graceful shutdown.
///
/// It listens on a unix socket inside the data directory only (no TCP port, so it can't
/// collide with another PostgreSQL), with `trust` for local connections and socket
/// permissions 0700: only the OS user owning the cluster (and root) can connect. When
/// the server runs as root, the cluster runs as the `postgres` user, because PostgreSQL
/// refuses to run as root.
///
/// As a `Service` (``run()``) it starts the cluster, opens ``started`` (the bootstrap
/// service waits for it), and stops the cluster when the group shuts down: it comes
/// first in the group, so it is shut down last, after the connection pool.
public struct EmbeddedPostgres: Service {
    /// Where things are.
    public struct Layout: Sendable {
        public let root: URL
        public var cluster: URL { root.appendingPathComponent("pgdata") }
        public var socketDirectory: URL { root.appendingPathComponent("run") }
        public var logFile: URL { root.appendingPathComponent("postgresql.log") }
        public let port = 5432
        public var socketPath: String { socketDirectory.path + "/.s.PGSQL.\(port)" }
    }

    /// How to connect once it runs.
    public struct Connection: Sendable {
        public let socketPath: String
        public let socketDirectory: String
        public let username: String
        public let database: String
    }

    public let layout: Layout
    let binaries: URL
    let runAsUser: String?
    let ownerName: String
    let logger: Logger
    /// Opened when ``run()`` has started the cluster.
    let started = StartupSignal()
    public static let databaseName = "fieldsync"

    /// Finds PostgreSQL 15 and PostGIS; throws a one-sentence error saying what to install.
    public init(dataDirectory: String, logger: Logger) throws {
        let root = URL(fileURLWithPath: dataDirectory, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL
        self.layout = Layout(root: root)
        self.logger = logger
        let fm = FileManager.default
        let candidates =
            ["/usr/lib/postgresql/15/bin"]
            + ((try? fm.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
            .sorted().reversed().map { "/usr/lib/postgresql/\($0)/bin" }
        guard let bin = candidates.first(where: { fm.isExecutableFile(atPath: $0 + "/initdb") && fm.isExecutableFile(atPath: $0 + "/pg_ctl") }) else {
            throw ConfigurationError(
                "PostgreSQL server binaries were not found: install them with `apt-get install postgresql-15 postgresql-15-postgis-3`, or set FIELDSYNC_DATABASE_URL."
            )
        }
        self.binaries = URL(fileURLWithPath: bin)
        let version = URL(fileURLWithPath: bin).deletingLastPathComponent().lastPathComponent
        guard fm.fileExists(atPath: "/usr/share/postgresql/\(version)/extension/postgis.control") else {
            throw ConfigurationError(
                "PostGIS for PostgreSQL \(version) is not installed: install it with `apt-get install postgresql-\(version)-postgis-3`, or set FIELDSYNC_DATABASE_URL."
            )
        }
        if geteuid() == 0 {
            guard getpwnam("postgres") != nil else {
                throw ConfigurationError(
                    "Running as root, the embedded database needs the `postgres` system user: install `postgresql-15` (it creates it), or run as another user."
                )
            }
            runAsUser = "postgres"
            ownerName = "postgres"
        } else {
            runAsUser = nil
            guard let entry = getpwuid(geteuid()) else {
                throw ConfigurationError(
                    "The user id \(geteuid()) has no name in the user database, which the embedded database needs: set FIELDSYNC_DATABASE_URL.")
            }
            ownerName = String(cString: entry.pointee.pw_name)
        }
        if layout.socketPath.utf8.count > 107 {
            throw ConfigurationError("FIELDSYNC_DATA_DIR \(root.path) is too deep for a unix socket path (107 bytes at most): choose a shorter path.")
        }
    }

    /// How to connect; known before the cluster runs (the socket is at a fixed place).
    public var connection: Connection {
        Connection(socketPath: layout.socketPath, socketDirectory: layout.socketDirectory.path, username: ownerName, database: Self.databaseName)
    }

    /// Starts the cluster, then waits for graceful shutdown and stops it (fast mode: open
    /// sessions are ended, everything committed is on disk). A cluster that does not start
    /// throws, which ends the server with that sentence.
    public func run() async throws {
        // On failure `started` stays closed: the error cancels the group, which ends the waits.
        _ = try await start()
        started.open()
        try? await gracefulShutdown()
        // Also when the group is cancelled: the stop must run to its end, not be torn down.
        await Task { await stop() }.value
    }

    /// Creates the cluster if needed, starts it (or adopts a running one), creates the
    /// database. Returns how to connect.
    public func start() async throws -> Connection {
        let fm = FileManager.default
        try fm.createDirectory(at: layout.root, withIntermediateDirectories: true)
        try fm.createDirectory(at: layout.socketDirectory, withIntermediateDirectories: true)
        if let user = runAsUser {
            try await run("/bin/chown", [user, layout.root.path, layout.socketDirectory.path])
            try await run("/bin/chmod", ["0700", layout.root.path, layout.socketDirectory.path])
            // The postgres user must be able to reach the folder.
            if try await runAs(user, "/usr/bin/test", ["-w", layout.root.path], allowFailure: true) != 0 {
                throw ConfigurationError(
                    "The postgres user cannot reach \(layout.root.path) (a parent folder is private): set FIELDSYNC_DATA_DIR to a path it can reach, e.g. /var/lib/fieldsync."
                )
            }
        }
        if !fm.fileExists(atPath: layout.cluster.appendingPathComponent("PG_VERSION").path) {
            logger.info("creating the embedded database cluster", metadata: ["path": "\(layout.cluster.path)"])
            try? fm.removeItem(at: layout.cluster)
            try await runAs(
                runAsUser, binaries.appendingPathComponent("initdb").path,
                [
                    "-D", layout.cluster.path, "-U", ownerName, "-E", "UTF8", "--locale=C",
                    "--auth-local=trust", "--auth-host=reject",
                ])
            let settings = """

                # FieldSync embedded cluster: unix socket only, private to its owner.
                listen_addresses = ''
                unix_socket_directories = '\(layout.socketDirectory.path)'
                unix_socket_permissions = 0700
                port = \(layout.port)
                max_connections = 200
                shared_buffers = 256MB
                logging_collector = off

                """
            let conf = layout.cluster.appendingPathComponent("postgresql.conf")
            let handle = try FileHandle(forWritingTo: conf)
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(settings.utf8))
            try handle.close()
        }
        if try await isRunning() {
            logger.info("adopting the embedded database left running", metadata: ["path": "\(layout.cluster.path)"])
        } else {
            try await startCluster()
        }
        try await waitForSocket()
        try await createDatabaseIfMissing()
        return connection
    }

    /// Stops the cluster if it runs.
    public func stop() async {
        logger.info("stopping the embedded database")
        do {
            try await runAs(
                runAsUser, binaries.appendingPathComponent("pg_ctl").path, ["-D", layout.cluster.path, "-m", "fast", "-w", "-t", "60", "stop"])
        } catch {
            logger.warning("stopping the embedded database failed", metadata: ["error": "\(error)"])
        }
    }

    /// Whether a postmaster runs on the cluster (`pg_ctl status`).
    public func isRunning() async throws -> Bool {
        let status = try await runAs(
            runAsUser, binaries.appendingPathComponent("pg_ctl").path, ["-D", layout.cluster.path, "status"], allowFailure: true)
        return status == 0
    }

    func startCluster() async throws {
        logger.info("starting the embedded database", metadata: ["path": "\(layout.cluster.path)"])
        // With `-l` the postmaster writes to the log file, not to our pipe, so the output of
        // pg_ctl ends when pg_ctl does.
        let args = ["-D", layout.cluster.path, "-l", layout.logFile.path, "-w", "-t", "120", "start"]
        if let user = runAsUser, !FileManager.default.fileExists(atPath: layout.logFile.path) {
            _ = FileManager.default.createFile(atPath: layout.logFile.path, contents: nil)
            try await run("/bin/chown", [user, layout.logFile.path])
        }
        do {
            try await runAs(runAsUser, binaries.appendingPathComponent("pg_ctl").path, args)
        } catch {
            // A crash can leave postmaster.pid naming a pid now used by another process.
            let pidFile = layout.cluster.appendingPathComponent("postmaster.pid")
            if FileManager.default.fileExists(atPath: pidFile.path) {
                logger.warning("removing a stale postmaster.pid and retrying")
                try? FileManager.default.removeItem(at: pidFile)
                try await runAs(runAsUser, binaries.appendingPathComponent("pg_ctl").path, args)
            } else {
                throw ConfigurationError("The embedded database did not start; see \(layout.logFile.path).")
            }
        }
    }

    func waitForSocket() async throws {
        for _ in 0..<200 {
            if FileManager.default.fileExists(atPath: layout.socketPath) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ConfigurationError("The embedded database started but its socket \(layout.socketPath) did not appear; see \(layout.logFile.path).")
    }

    /// Creates the server's database over the socket, as the cluster's owner, unless it
    /// exists. Two servers starting on one data directory may race: the loser's
    /// `duplicate_database` means the work is done.
    func createDatabaseIfMissing() async throws {
        let configuration = PostgresConnection.Configuration(
            unixSocketPath: layout.socketPath, username: ownerName, password: nil, database: "postgres")
        let connection = try await PostgresConnection.connect(
            on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration, id: 0, logger: logger)
        do {
            let rows = try await connection.query("SELECT 1::int4 FROM pg_database WHERE datname = \(Self.databaseName)", logger: logger)
            if try await rows.collect().isEmpty {
                logger.info("creating the embedded database", metadata: ["database": "\(Self.databaseName)"])
                do {
                    // An identifier can't be bound; the name is a constant of ours.
                    try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(Self.databaseName)"), logger: logger)
                } catch let error as PSQLError where error.serverInfo?[.sqlState] == "42P04" {
                    // duplicate_database: another server created it meanwhile.
                }
            }
        } catch {
            try? await connection.close()
            throw ConfigurationError("Creating the embedded database \(Self.databaseName) failed: \(String(reflecting: error))")
        }
        try? await connection.close()
    }

    // MARK: processes

    @discardableResult
    func runAs(_ user: String?, _ executable: String, _ arguments: [String], allowFailure: Bool = false) async throws -> Int32 {
        if let user {
            return try await run("/usr/sbin/runuser", ["-u", user, "--", executable] + arguments, allowFailure: allowFailure)
        }
        return try await run(executable, arguments, allowFailure: allowFailure)
    }

    /// Runs a program to its end through swift-subprocess (which closes the descriptors
    /// this process holds, so a postmaster left behind keeps none of ours), stdin empty,
    /// stdout and stderr captured together; returns the exit status (128 + n for signal n).
    @discardableResult
    func run(_ executable: String, _ arguments: [String], allowFailure: Bool = false) async throws -> Int32 {
        let name = URL(fileURLWithPath: executable).lastPathComponent
        let result: ExecutionRecord
        do {
            result = try await Subprocess.run(
                .path(FilePath(executable)), arguments: Arguments(arguments),
                output: .string(limit: 1 << 20), error: .combinedWithOutput)
        } catch {
            throw ConfigurationError("could not run \(executable): \(error)")
        }
        let status: Int32
        switch result.terminationStatus {
        case .exited(let code): status = Int32(truncatingIfNeeded: code)
        case .signaled(let signal): status = 128 + Int32(truncatingIfNeeded: signal)
        }
        if status != 0 && !allowFailure {
            let text = result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
            throw ConfigurationError("\(name) \(arguments.first ?? "") failed (exit \(status)): \(text.suffix(600))")
        }
        return status
    }

    typealias ExecutionRecord = ExecutionResult<Void, StringOutput<UTF8>, CombinedErrorOutput>
}
