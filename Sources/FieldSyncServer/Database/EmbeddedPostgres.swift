import Foundation
import Logging
import ServiceLifecycle

/// The server's own PostgreSQL + PostGIS cluster, used when no `FIELDSYNC_DATABASE_URL`
/// is given: created on first start under the data directory, adopted or restarted
/// after a crash, stopped on graceful shutdown.
///
/// It listens on a unix socket inside the data directory only (no TCP port, so it can't
/// collide with another PostgreSQL), with `trust` for local connections and socket
/// permissions 0700: only the OS user owning the cluster (and root) can connect. When
/// the server runs as root, the cluster runs as the `postgres` user, because PostgreSQL
/// refuses to run as root.
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
    public static let databaseName = "fieldsync"

    /// Finds PostgreSQL 15 and PostGIS; throws a one-sentence error saying what to install.
    public init(dataDirectory: String, logger: Logger) throws {
        let root = URL(fileURLWithPath: dataDirectory, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL
        self.layout = Layout(root: root)
        self.logger = logger
        let fm = FileManager.default
        let candidates = ["/usr/lib/postgresql/15/bin"] + ((try? fm.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
            .sorted().reversed().map { "/usr/lib/postgresql/\($0)/bin" }
        guard let bin = candidates.first(where: { fm.isExecutableFile(atPath: $0 + "/initdb") && fm.isExecutableFile(atPath: $0 + "/pg_ctl") }) else {
            throw ConfigurationError("PostgreSQL server binaries were not found: install them with `apt-get install postgresql-15 postgresql-15-postgis-3`, or set FIELDSYNC_DATABASE_URL.")
        }
        self.binaries = URL(fileURLWithPath: bin)
        let version = URL(fileURLWithPath: bin).deletingLastPathComponent().lastPathComponent
        guard fm.fileExists(atPath: "/usr/share/postgresql/\(version)/extension/postgis.control") else {
            throw ConfigurationError("PostGIS for PostgreSQL \(version) is not installed: install it with `apt-get install postgresql-\(version)-postgis-3`, or set FIELDSYNC_DATABASE_URL.")
        }
        if geteuid() == 0 {
            guard getpwnam("postgres") != nil else {
                throw ConfigurationError("Running as root, the embedded database needs the `postgres` system user: install `postgresql-15` (it creates it), or run as another user.")
            }
            runAsUser = "postgres"
            ownerName = "postgres"
        } else {
            runAsUser = nil
            ownerName = String(cString: getpwuid(geteuid()).pointee.pw_name)
        }
        if layout.socketPath.utf8.count > 107 {
            throw ConfigurationError("FIELDSYNC_DATA_DIR \(root.path) is too deep for a unix socket path (107 bytes at most): choose a shorter path.")
        }
    }

    /// Creates the cluster if needed, starts it (or adopts a running one), creates the
    /// database. Returns how to connect.
    public func start() async throws -> Connection {
        let fm = FileManager.default
        try fm.createDirectory(at: layout.root, withIntermediateDirectories: true)
        try fm.createDirectory(at: layout.socketDirectory, withIntermediateDirectories: true)
        if let user = runAsUser {
            try run("/bin/chown", [user, layout.root.path, layout.socketDirectory.path])
            try run("/bin/chmod", ["0700", layout.root.path, layout.socketDirectory.path])
            // The postgres user must be able to reach the folder.
            if (try? runAs(user, "/usr/bin/test", ["-w", layout.root.path])) == nil {
                throw ConfigurationError("The postgres user cannot reach \(layout.root.path) (a parent folder is private): set FIELDSYNC_DATA_DIR to a path it can reach, e.g. /var/lib/fieldsync.")
            }
        }
        if !fm.fileExists(atPath: layout.cluster.appendingPathComponent("PG_VERSION").path) {
            logger.info("creating the embedded database cluster", metadata: ["path": "\(layout.cluster.path)"])
            try? fm.removeItem(at: layout.cluster)
            try runAs(runAsUser, binaries.appendingPathComponent("initdb").path, [
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
        if try isRunning() {
            logger.info("adopting the embedded database left running", metadata: ["path": "\(layout.cluster.path)"])
        } else {
            try startCluster()
        }
        try await waitForSocket()
        try createDatabaseIfMissing()
        return Connection(socketPath: layout.socketPath, socketDirectory: layout.socketDirectory.path, username: ownerName, database: Self.databaseName)
    }

    /// Waits for graceful shutdown, then stops the cluster (fast mode: open sessions
    /// are ended, everything committed is on disk).
    public func run() async throws {
        try? await gracefulShutdown()
        stop()
    }

    /// Stops the cluster if it runs.
    public func stop() {
        logger.info("stopping the embedded database")
        do {
            try runAs(runAsUser, binaries.appendingPathComponent("pg_ctl").path, ["-D", layout.cluster.path, "-m", "fast", "-w", "-t", "60", "stop"])
        } catch {
            logger.warning("stopping the embedded database failed", metadata: ["error": "\(error)"])
        }
    }

    func isRunning() throws -> Bool {
        let status = try runAs(runAsUser, binaries.appendingPathComponent("pg_ctl").path, ["-D", layout.cluster.path, "status"], allowFailure: true)
        return status == 0
    }

    func startCluster() throws {
        logger.info("starting the embedded database", metadata: ["path": "\(layout.cluster.path)"])
        let args = ["-D", layout.cluster.path, "-l", layout.logFile.path, "-w", "-t", "120", "start"]
        if runAsUser != nil, !FileManager.default.fileExists(atPath: layout.logFile.path) {
            _ = FileManager.default.createFile(atPath: layout.logFile.path, contents: nil)
            try run("/bin/chown", [runAsUser!, layout.logFile.path])
        }
        do {
            try runAs(runAsUser, binaries.appendingPathComponent("pg_ctl").path, args)
        } catch {
            // A crash can leave postmaster.pid naming a pid now used by another process.
            let pidFile = layout.cluster.appendingPathComponent("postmaster.pid")
            if FileManager.default.fileExists(atPath: pidFile.path) {
                logger.warning("removing a stale postmaster.pid and retrying")
                try? FileManager.default.removeItem(at: pidFile)
                try runAs(runAsUser, binaries.appendingPathComponent("pg_ctl").path, args)
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

    func createDatabaseIfMissing() throws {
        let psql = binaries.appendingPathComponent("psql").path
        let exists = try capture(psql, ["-h", layout.socketDirectory.path, "-p", "\(layout.port)", "-U", ownerName, "-d", "postgres", "-tAc",
                                        "SELECT 1 FROM pg_database WHERE datname = '\(Self.databaseName)'"])
        if exists.trimmingCharacters(in: .whitespacesAndNewlines) != "1" {
            _ = try capture(psql, ["-h", layout.socketDirectory.path, "-p", "\(layout.port)", "-U", ownerName, "-d", "postgres", "-c",
                                   "CREATE DATABASE \(Self.databaseName)"])
        }
    }

    // MARK: processes

    @discardableResult
    func runAs(_ user: String?, _ executable: String, _ arguments: [String], allowFailure: Bool = false) throws -> Int32 {
        if let user {
            return try run("/usr/sbin/runuser", ["-u", user, "--", executable] + arguments, allowFailure: allowFailure)
        }
        return try run(executable, arguments, allowFailure: allowFailure)
    }

    @discardableResult
    func run(_ executable: String, _ arguments: [String], allowFailure: Bool = false) throws -> Int32 {
        let result = try ChildProcess.run(executable, arguments)
        if result.status != 0 && !allowFailure {
            let text = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
            throw ConfigurationError("\(URL(fileURLWithPath: executable).lastPathComponent) \(arguments.first ?? "") failed (exit \(result.status)): \(text.suffix(600))")
        }
        return result.status
    }

    func capture(_ executable: String, _ arguments: [String]) throws -> String {
        let result = try ChildProcess.run(executable, arguments)
        guard result.status == 0 else {
            throw ConfigurationError("psql failed: \(result.output.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return result.output
    }
}
