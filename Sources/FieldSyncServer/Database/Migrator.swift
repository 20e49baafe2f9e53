import Foundation
import Logging
import PostgresNIO

/// The SQL migrations compiled into the binary, so the server needs no files beside it.
/// ``all`` is generated at build time from `Schemas/migrations/*.sql` by the
/// EmbedMigrations plugin (Plugins/EmbedMigrations): the SQL files are the only copy.
public enum EmbeddedMigrations {
    /// One migration file: `version` is the number its name starts with.
    public struct Migration: Sendable {
        public let version: Int
        public let name: String
        public let sql: String
    }
}

/// Applies `Schemas/migrations/*.sql` (embedded in ``EmbeddedMigrations``) in order,
/// each once, recording them in `schema_migrations`. Safe when several servers start
/// at once: everything happens in one transaction holding an advisory lock, so a
/// second server waits and then finds the work done.
public struct Migrator: Sendable {
    let database: Database
    let logger: Logger

    /// A fixed key for `pg_advisory_xact_lock`: "fieldsyn" in ASCII.
    static let lockKey: Int64 = 0x6669_656C_6473_796E

    public init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// Applies what is missing (up to and including `version`, when given: tests build
    /// a database as an earlier release left it); returns the names applied now.
    @discardableResult
    public func migrate(upTo version: Int? = nil) async throws -> [String] {
        let logger = self.logger
        // Not a request: creating PostGIS on a busy machine may take longer than the request deadline.
        return try await database.transaction(timeout: .seconds(300)) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.lockKey))", logger: logger).drain()
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version integer PRIMARY KEY,
                    name text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """, logger: logger)
            let done = Set(
                try await connection.query("SELECT version FROM schema_migrations", logger: logger)
                    .collect { try $0.decode(Int32.self) })
            var applied: [String] = []
            for migration in EmbeddedMigrations.all where !done.contains(Int32(migration.version)) && migration.version <= (version ?? .max) {
                logger.info("applying migration", metadata: ["migration": "\(migration.name)"])
                // Migration text is our own, from Schemas/migrations: no binds. The
                // extended protocol takes one statement at a time.
                for statement in Self.statements(in: migration.sql) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger).drain()
                }
                try await connection.query(
                    "INSERT INTO schema_migrations (version, name) VALUES (\(Int32(migration.version)), \(migration.name))",
                    logger: logger)
                applied.append(migration.name)
            }
            return applied
        }
    }

    /// Splits SQL text into statements at `;` outside quotes, dollar quotes and comments.
    static func statements(in sql: String) -> [String] {
        var out: [String] = []
        var current = ""
        var chars = Array(sql)
        var i = 0
        var dollarTag: String? = nil
        while i < chars.count {
            let c = chars[i]
            if let tag = dollarTag {
                if c == "$", String(chars[i..<min(chars.count, i + tag.count)]) == tag {
                    current += tag
                    i += tag.count
                    dollarTag = nil
                    continue
                }
                current.append(c)
                i += 1
                continue
            }
            if c == "-", i + 1 < chars.count, chars[i + 1] == "-" {
                while i < chars.count, chars[i] != "\n" { i += 1 }
                continue
            }
            if c == "'" {
                current.append(c)
                i += 1
                while i < chars.count {
                    current.append(chars[i])
                    if chars[i] == "'" { i += 1; break }
                    i += 1
                }
                continue
            }
            if c == "$", let end = chars[(i + 1)...].firstIndex(of: "$"),
                chars[(i + 1)..<end].allSatisfy({ $0.isLetter || $0 == "_" })
            {
                let tag = String(chars[i...end])
                dollarTag = tag
                current += tag
                i = end + 1
                continue
            }
            if c == ";" {
                let trimmed = current.trimmingCharacters(in: .whitespacesAndNewlines)
                if !trimmed.isEmpty { out.append(trimmed) }
                current = ""
                i += 1
                continue
            }
            current.append(c)
            i += 1
        }
        let trimmed = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !trimmed.isEmpty { out.append(trimmed) }
        chars.removeAll()
        return out
    }

    /// `true` when every embedded migration is recorded as applied.
    public func isUpToDate() async throws -> Bool {
        let latest = Int32(EmbeddedMigrations.all.last?.version ?? 0)
        return try await database.withConnection { connection in
            let rows = try await connection.query(
                "SELECT coalesce(max(version), 0)::int4 FROM schema_migrations WHERE to_regclass('schema_migrations') IS NOT NULL",
                logger: Logger(label: "readyz"))
            let v = try await rows.collect { try $0.decode(Int32.self) }.first ?? 0
            return v >= latest
        }
    }
}
