import Foundation

/// Everything the server reads from its environment (flags of `fieldsync-server`
/// mirror these names).
public struct ServerConfiguration: Sendable {
    /// `FIELDSYNC_HOST`, default 127.0.0.1.
    public var host: String = "127.0.0.1"
    /// `FIELDSYNC_PORT`, default 8080 (0 picks a free port).
    public var port: Int = 8080
    /// `FIELDSYNC_DATABASE_URL`; `nil` runs the embedded cluster.
    public var databaseURL: String?
    /// `FIELDSYNC_DATA_DIR`, default `./.fieldsync` (embedded cluster only).
    public var dataDirectory: String = ".fieldsync"
    /// `FIELDSYNC_ADMIN_USER` / `FIELDSYNC_ADMIN_PASSWORD`: the superuser created on first start.
    public var adminUser: String?
    public var adminPassword: String?
    /// `FIELDSYNC_MAX_PUSH_BYTES`, default 32 MiB: every JSON body.
    public var maxPushBytes: Int = 32 * 1024 * 1024
    /// `FIELDSYNC_MAX_ATTACHMENT_BYTES`, default 100 MiB.
    public var maxAttachmentBytes: Int = 100 * 1024 * 1024
    /// `FIELDSYNC_TOKEN_TTL` in seconds, default 30 days.
    public var tokenTTL: Int = 30 * 24 * 3600
    /// `FIELDSYNC_DB_TIMEOUT_MS`: how long a request waits for the database before 503, default 5000.
    public var databaseTimeout: Duration = .seconds(5)
    /// `FIELDSYNC_DB_POOL_SIZE`: connections per server process, default 16.
    public var poolSize: Int = 16
    /// `FIELDSYNC_LOG_LEVEL`: trace, debug, info (default), notice, warning, error.
    public var logLevel: String = "info"
    /// `FIELDSYNC_LOGIN_LIMIT`: failed logins per username or address per 15 minutes before 429, default 10.
    public var loginFailureLimit: Int = 10

    public init() {}

    /// Reads the environment; throws a sentence naming the bad variable.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> ServerConfiguration {
        var c = ServerConfiguration()
        func int(_ name: String, min: Int, max: Int) throws -> Int? {
            guard let raw = env[name], !raw.isEmpty else { return nil }
            guard let v = Int(raw), v >= min, v <= max else {
                throw ConfigurationError("\(name) must be a whole number from \(min) to \(max), got \"\(raw)\"")
            }
            return v
        }
        if let h = env["FIELDSYNC_HOST"], !h.isEmpty { c.host = h }
        if let p = try int("FIELDSYNC_PORT", min: 0, max: 65535) { c.port = p }
        if let u = env["FIELDSYNC_DATABASE_URL"], !u.isEmpty { c.databaseURL = u }
        if let d = env["FIELDSYNC_DATA_DIR"], !d.isEmpty { c.dataDirectory = d }
        c.adminUser = env["FIELDSYNC_ADMIN_USER"].flatMap { $0.isEmpty ? nil : $0 }
        c.adminPassword = env["FIELDSYNC_ADMIN_PASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
        if let v = try int("FIELDSYNC_MAX_PUSH_BYTES", min: 1024, max: 1 << 40) { c.maxPushBytes = v }
        if let v = try int("FIELDSYNC_MAX_ATTACHMENT_BYTES", min: 1, max: 1 << 50) { c.maxAttachmentBytes = v }
        if let v = try int("FIELDSYNC_TOKEN_TTL", min: 1, max: 10 * 365 * 24 * 3600) { c.tokenTTL = v }
        if let v = try int("FIELDSYNC_DB_TIMEOUT_MS", min: 100, max: 600_000) { c.databaseTimeout = .milliseconds(v) }
        if let v = try int("FIELDSYNC_DB_POOL_SIZE", min: 1, max: 1000) { c.poolSize = v }
        if let v = try int("FIELDSYNC_LOGIN_LIMIT", min: 1, max: 1_000_000) { c.loginFailureLimit = v }
        if let l = env["FIELDSYNC_LOG_LEVEL"], !l.isEmpty { c.logLevel = l }
        return c
    }
}

/// A setting that can't be used, said in one sentence.
public struct ConfigurationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
