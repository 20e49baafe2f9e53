import FieldSyncCore
import Foundation
import Logging
import PostgresNIO

/// Accounts, their projects and their users: the statements of the administration
/// routes. Like every storage type, built on the connection (or transaction) the
/// controller opened, with the request's logger.
struct AccountStore {
    let connection: PostgresConnection
    let logger: Logger

    /// A user as the API shows it (`User`): never its password hash.
    struct User: Sendable {
        var id: UUID
        var username: String
        var role: Role
        var accountId: UUID?
        var projectIds: [UUID]
        var orgUnitIds: [UUID]

        var json: JSONValue {
            .object([
                "id": .string(id.lowercased),
                "username": .string(username),
                "role": .string(role.rawValue),
                "accountId": accountId.map { .string($0.lowercased) } ?? .null,
                "projectIds": .array(projectIds.map { .string($0.lowercased) }),
                "orgUnitIds": .array(orgUnitIds.map { .string($0.lowercased) }),
            ])
        }
    }

    /// A project as the API shows it (`Project`).
    static func projectJSON(id: UUID, name: String, appId: String, account: UUID) -> JSONValue {
        .object(["id": .string(id.lowercased), "name": .string(name), "appId": .string(appId), "accountId": .string(account.lowercased)])
    }

    // MARK: accounts

    func createAccount(id: UUID, name: String) async throws {
        do {
            try await connection.query("INSERT INTO accounts (id, name) VALUES (\(id), \(name))", logger: logger)
        } catch { throw UniqueViolation.map(error, field: "id", what: "an account with this id") }
    }

    /// Every account for the superuser (`only` nil), else the one named.
    func accounts(only: UUID?) async throws -> [JSONValue] {
        try await connection.query("SELECT id, name FROM accounts WHERE \(only == nil) OR id = \(only) ORDER BY name, id", logger: logger)
            .collect { row -> JSONValue in
                let (id, name) = try row.decode((UUID, String).self)
                return .object(["id": .string(id.lowercased), "name": .string(name)])
            }
    }

    func accountExists(_ id: UUID) async throws -> Bool {
        try await connection.query("SELECT 1 FROM accounts WHERE id = \(id)", logger: logger).collect { _ in true }.first ?? false
    }

    // MARK: projects

    func createProject(account: UUID, id: UUID, name: String, appId: String) async throws {
        do {
            try await connection.query(
                "INSERT INTO projects (account_id, id, name, app_id) VALUES (\(account), \(id), \(name), \(appId))", logger: logger)
        } catch { throw UniqueViolation.map(error, field: "appId", what: "a project with this id or appId") }
    }

    /// The projects of the account the caller sees: all (`all`), or those in `mine`.
    func projects(account: UUID, all: Bool, mine: [UUID]) async throws -> [JSONValue] {
        try await connection.query(
            "SELECT id, name, app_id FROM projects WHERE account_id = \(account) AND (\(all) OR id = ANY(\(mine))) ORDER BY name, id",
            logger: logger
        ).collect { row -> JSONValue in
            let (id, name, appId) = try row.decode((UUID, String, String).self)
            return Self.projectJSON(id: id, name: name, appId: appId, account: account)
        }
    }

    func projectExists(account: UUID, _ id: UUID) async throws -> Bool {
        try await connection.query("SELECT 1 FROM projects WHERE account_id = \(account) AND id = \(id)", logger: logger)
            .collect { _ in true }.first ?? false
    }

    /// 422 `unknown_reference` naming the first of `projects` or `units` that is not in
    /// the account: an id of another account answers as one that exists nowhere.
    func requireReferences(account: UUID, projects: [UUID], units: [UUID]) async throws {
        let missing = try await missingReferences(account: account, projects: projects, units: units)
        if let n = missing.project, projects.indices.contains(n) {
            throw APIError.invalid(
                "project \(projects[n].lowercased) does not exist in this account", field: "projectIds[\(n)]",
                code: ErrorCode.unknownReference)
        }
        if let n = missing.unit, units.indices.contains(n) {
            throw APIError.invalid(
                "org unit \(units[n].lowercased) does not exist in this account", field: "orgUnitIds[\(n)]",
                code: ErrorCode.unknownReference)
        }
    }

    /// The first of `projects` and of `units` (0-based positions) that is not in the account.
    func missingReferences(account: UUID, projects: [UUID], units: [UUID]) async throws -> (project: Int?, unit: Int?) {
        let row =
            try await connection.query(
                """
                SELECT (SELECT p.n FROM unnest(\(projects)::uuid[]) WITH ORDINALITY AS p(id, n)
                        WHERE NOT EXISTS (SELECT 1 FROM projects WHERE account_id = \(account) AND id = p.id) ORDER BY p.n LIMIT 1),
                       (SELECT o.n FROM unnest(\(units)::uuid[]) WITH ORDINALITY AS o(id, n)
                        WHERE NOT EXISTS (SELECT 1 FROM org_units WHERE account_id = \(account) AND id = o.id)
                        ORDER BY o.n LIMIT 1)
                """, logger: logger
            ).collect { try $0.decode((Int64?, Int64?).self) }.first ?? (nil, nil)
        return (row.0.map { Int($0) - 1 }, row.1.map { Int($0) - 1 })
    }

    // MARK: users

    func createUser(_ user: User, passwordHash: String) async throws {
        do {
            try await connection.query(
                """
                INSERT INTO users (id, account_id, username, password_hash, role, project_ids, org_unit_ids)
                VALUES (\(user.id), \(user.accountId), \(user.username), \(passwordHash), \(user.role.rawValue), \(user.projectIds), \(user.orgUnitIds))
                """, logger: logger)
        } catch { throw UniqueViolation.map(error, field: "username", what: "a user with this username or id") }
    }

    func users(account: UUID) async throws -> [User] {
        try await connection.query(
            "SELECT id, username, role, project_ids, org_unit_ids FROM users WHERE account_id = \(account) ORDER BY username",
            logger: logger
        ).collect { row in
            let (id, username, role, projects, units) = try row.decode((UUID, String, String, [UUID], [UUID]).self)
            return User(id: id, username: username, role: Role(rawValue: role) ?? .agent, accountId: account, projectIds: projects, orgUnitIds: units)
        }
    }

    func userExists(account: UUID, _ id: UUID) async throws -> Bool {
        try await connection.query("SELECT 1 FROM users WHERE account_id = \(account) AND id = \(id)", logger: logger)
            .collect { _ in true }.first ?? false
    }

    /// Replaces the members given (nil: kept); the user after the change, nil when it is
    /// not in the account.
    func updateUser(account: UUID, _ id: UUID, role: Role?, projects: [UUID]?, units: [UUID]?) async throws -> User? {
        try await connection.query(
            """
            UPDATE users SET role = coalesce(\(role?.rawValue), role),
                project_ids = CASE WHEN \(projects != nil) THEN \(projects ?? [])::uuid[] ELSE project_ids END,
                org_unit_ids = CASE WHEN \(units != nil) THEN \(units ?? [])::uuid[] ELSE org_unit_ids END
            WHERE account_id = \(account) AND id = \(id)
            RETURNING username, role, project_ids, org_unit_ids
            """, logger: logger
        ).collect { row in
            let (username, roleName, p, u) = try row.decode((String, String, [UUID], [UUID]).self)
            return User(id: id, username: username, role: Role(rawValue: roleName) ?? .agent, accountId: account, projectIds: p, orgUnitIds: u)
        }.first
    }
}

/// PostgreSQL's unique violation (SQLSTATE 23505) as the API's 409 `already_exists`.
enum UniqueViolation {
    static func map(_ error: any Error, field: String, what: String) -> any Error {
        if let e = error as? PSQLError, e.serverInfo?[.sqlState] == "23505" {
            return APIError.conflict(ErrorCode.alreadyExists, "\(what) already exists", field: field)
        }
        return error
    }
}
