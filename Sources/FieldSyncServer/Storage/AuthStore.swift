import Crypto
import FieldSyncCore
import Foundation
import HummingbirdBcrypt
import Logging
import NIOPosix
import PostgresNIO

/// Users, passwords and bearer tokens.
///
/// Passwords are bcrypt hashes; tokens are 256 random bits handed out once and stored
/// only as their SHA-256, with an expiry and a revocation time.
struct AuthStore {
    let connection: PostgresConnection
    let logger: Logger
    /// bcrypt cost: 2^10 rounds, ~60 ms on this hardware.
    static let bcryptCost: UInt8 = 10
    /// A hash to verify against when the username is unknown, so both paths cost the same.
    static let dummyHash = Bcrypt.hash("not-a-password", cost: bcryptCost)

    static func hashPassword(_ password: String) async throws -> String {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: bcryptCost) }
    }

    static func verifyPassword(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }

    static func tokenHash(_ token: String) -> [UInt8] {
        Array(SHA256.hash(data: Data(token.utf8)))
    }

    /// `fs_` + 43 base64url characters (32 random bytes).
    static func newToken() -> String {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let b64 = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return "fs_" + b64
    }

    /// The caller a token stands for, when it is valid now.
    func caller(forToken token: String) async throws -> Caller? {
        let hash = Self.tokenHash(token)
        let buffer = ByteBuffer(bytes: hash)
        // Every request runs this: a statement prepared once per connection.
        let rows = try await connection.execute(TokenLookup(hash: buffer), logger: logger).collectAll()
        guard let row = rows.first, let role = Role(rawValue: row.2) else { return nil }
        let scope = row.3.map {
            CallerScope(account: $0, user: row.0, role: role, projects: row.6, orgUnits: row.5, subtrees: row.7)
        }
        return Caller(
            userId: row.0, username: row.1, role: role, accountId: row.3, projectIds: row.4, orgUnitIds: row.5,
            tokenHash: hash, scope: scope)
    }

    /// The statement of ``caller(forToken:)``: the user, and its ``CallerScope`` (an
    /// admin's projects are all of the account's; the paths of the user's units).
    struct TokenLookup: PostgresPreparedStatement {
        static let sql = """
            SELECT u.id, u.username, u.role, u.account_id, u.project_ids, u.org_unit_ids,
                   CASE WHEN u.role = 'admin' THEN ARRAY(SELECT p.id FROM projects p WHERE p.account_id = u.account_id ORDER BY p.id)
                        ELSE u.project_ids END,
                   ARRAY(SELECT o.path::text FROM org_units o WHERE o.account_id = u.account_id AND o.id = ANY(u.org_unit_ids))
            FROM auth_tokens t JOIN users u ON u.id = t.user_id
            WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > now()
            """
        typealias Row = (UUID, String, String, UUID?, [UUID], [UUID], [UUID], [String])
        let hash: ByteBuffer

        func makeBindings() throws -> PostgresBindings {
            var b = PostgresBindings(capacity: 1)
            b.append(hash)
            return b
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// The scope a user has now, as its token would give it (``TokenLookup``'s reading),
    /// for work done later on its behalf (a held Collect entity update released by
    /// another caller's write). Nil for a user gone or without an account.
    func scope(ofUser user: UUID) async throws -> CallerScope? {
        try await connection.query(
            """
            SELECT u.role, u.account_id, u.org_unit_ids,
                   CASE WHEN u.role = 'admin' THEN ARRAY(SELECT p.id FROM projects p WHERE p.account_id = u.account_id ORDER BY p.id)
                        ELSE u.project_ids END,
                   ARRAY(SELECT o.path::text FROM org_units o WHERE o.account_id = u.account_id AND o.id = ANY(u.org_unit_ids))
            FROM users u WHERE u.id = \(user)
            """, logger: logger
        ).collect { row -> CallerScope? in
            let (roleText, account, units, projects, paths) = try row.decode((String, UUID?, [UUID], [UUID], [String]).self)
            guard let role = Role(rawValue: roleText), let account else { return nil }
            return CallerScope(account: account, user: user, role: role, projects: projects, orgUnits: units, subtrees: paths)
        }.first ?? nil
    }

    struct StoredUser: Sendable {
        let id: UUID
        let passwordHash: String
    }

    func user(named username: String) async throws -> StoredUser? {
        try await connection.query("SELECT id, password_hash FROM users WHERE username = \(username)", logger: logger)
            .collect { row in
                let (id, hash) = try row.decode((UUID, String).self)
                return StoredUser(id: id, passwordHash: hash)
            }.first
    }

    /// Issues a token for `userId`; returns the token and its expiry.
    func issueToken(userId: UUID, deviceId: UUID?, ttlSeconds: Int) async throws -> (String, Date) {
        let token = Self.newToken()
        let hash = ByteBuffer(bytes: Self.tokenHash(token))
        let expires = Date().addingTimeInterval(TimeInterval(ttlSeconds))
        let ttl = Int64(ttlSeconds)
        try await connection.query(
            """
            INSERT INTO auth_tokens (token_hash, user_id, device_id, expires_at)
            VALUES (\(hash), \(userId), \(deviceId), now() + make_interval(secs => \(ttl)))
            """, logger: logger)
        return (token, expires)
    }

    func revoke(tokenHash: [UInt8]) async throws {
        let hash = ByteBuffer(bytes: tokenHash)
        try await connection.query("UPDATE auth_tokens SET revoked_at = now() WHERE token_hash = \(hash) AND revoked_at IS NULL", logger: logger)
    }

    /// Failed logins for these keys in the last 15 minutes, and the seconds until the oldest expires.
    func recentFailures(keys: [String]) async throws -> (count: Int, retryAfter: Int) {
        let rows = try await connection.query(
            """
            SELECT key, count(*)::int8, ceil(extract(epoch FROM (min(at) + interval '15 minutes' - now())))::int8
            FROM login_failures WHERE key = ANY(\(keys)) AND at > now() - interval '15 minutes' GROUP BY key
            """, logger: logger)
        var worst = (count: 0, retryAfter: 1)
        for try await (_, count, retry) in rows.decode((String, Int64, Int64).self) where Int(count) > worst.count {
            worst = (Int(count), max(1, Int(retry)))
        }
        return worst
    }

    func recordFailure(keys: [String]) async throws {
        try await connection.query("INSERT INTO login_failures (key) SELECT unnest(\(keys)::text[])", logger: logger)
        try await connection.query("DELETE FROM login_failures WHERE at < now() - interval '1 day'", logger: logger)
    }

    func clearFailures(key: String) async throws {
        try await connection.query("DELETE FROM login_failures WHERE key = \(key)", logger: logger)
    }

    /// Creates the superuser if no user has that name yet; true when it did.
    func ensureSuperuser(username: String, passwordHash: String) async throws -> Bool {
        let rows = try await connection.query(
            """
            INSERT INTO users (id, account_id, username, password_hash, role)
            VALUES (\(UUID()), NULL, \(username), \(passwordHash), 'superuser')
            ON CONFLICT (username) DO NOTHING RETURNING id
            """, logger: logger)
        return try await rows.collect { _ in true }.first ?? false
    }
}
