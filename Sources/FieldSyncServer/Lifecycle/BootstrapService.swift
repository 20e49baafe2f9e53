import Logging
import ServiceLifecycle

/// Start-up work that needs the database: migrations and the superuser, as a `Service` of
/// the application's group. It waits for ``databaseStarted`` (the embedded cluster, when
/// there is one), then tries; while the database is unreachable it keeps trying every 2 s
/// (the server answers 503 meanwhile), so a database that comes up late is picked up by
/// itself. It never throws: a database that is down is no reason to stop the server.
///
/// ``firstRound`` opens after the first round of attempts, successful or not: the HTTP
/// server waits for it before it listens, so the first requests of a healthy start find
/// the schema and the superuser in place.
struct BootstrapService: Service {
    let migrator: Migrator
    let config: ServerConfiguration
    let logger: Logger
    /// Opened when the database may be tried; `nil`: at once.
    let databaseStarted: StartupSignal?
    let firstRound = StartupSignal()

    func run() async {
        // Whatever happens (done, cancelled, shut down), nobody waits for the first round after this.
        defer { firstRound.open() }
        // Retrying stops when the group shuts down; the next start tries again.
        await cancelWhenGracefulShutdown { await self.work() }
        // Done: stay until the group shuts down (a service that returns early would end it).
        try? await gracefulShutdown()
    }

    func work() async {
        await databaseStarted?.wait()
        guard !Task.isCancelled else { return }
        let ready = await attempt()
        firstRound.open()
        if ready { return }
        logger.warning("the database is not ready; the server will keep trying in the background")
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(2))
            guard !Task.isCancelled else { return }
            if await attempt() {
                logger.notice("the database is ready")
                return
            }
        }
    }

    /// Up to three tries a little apart; `true` once migrations and the superuser are done.
    func attempt() async -> Bool {
        for _ in 0..<3 where !Task.isCancelled {
            // A database that does not answer at all is retried later, not waited for.
            guard await migrator.database.ping(timeout: .seconds(3)) else {
                try? await Task.sleep(for: .milliseconds(500))
                continue
            }
            do {
                let applied = try await migrator.migrate()
                if !applied.isEmpty { logger.info("migrations applied", metadata: ["migrations": "\(applied)"]) }
                if let user = config.adminUser, let password = config.adminPassword {
                    let hash = try await AuthStore.hashPassword(password)
                    let created = try await migrator.database.withConnection { [logger] c in
                        try await AuthStore(connection: c, logger: logger).ensureSuperuser(username: user, passwordHash: hash)
                    }
                    if created {
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
