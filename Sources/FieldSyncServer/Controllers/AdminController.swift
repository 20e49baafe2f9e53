import FieldSyncCore
import Foundation
import Hummingbird
import Logging
import PostgresNIO

/// Accounts (superuser), projects and users (admins of an account).
struct AdminController {
    let database: Database
    let config: ServerConfiguration
    let logger: Logger

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.post("accounts", use: createAccount)
        router.get("accounts", use: listAccounts)
        router.post("projects", use: createProject)
        router.get("projects", use: listProjects)
        router.post("users", use: createUser)
        router.get("users", use: listUsers)
        router.patch("users/:id", use: updateUser)
    }

    /// Every member of the administration bodies (accounts, projects, users, types,
    /// forms, versions): none may be `null` (``RequestChecks/rejectNullMembers(_:of:)``).
    static let bodyMembers: Set<String> = ["id", "name", "appId", "username", "password", "role", "projectIds", "orgUnitIds",
                                           "depth", "formId", "version", "fields"]

    func readBody(_ request: Request) async throws -> ObjectReader {
        let body = try await JSONBody.read(request, limit: config.maxPushBytes)
        let r: ObjectReader
        do { r = try ObjectReader(body, path: "") } catch { throw APIError(error, status: .badRequest) }
        do { try RequestChecks.rejectNullMembers(r, of: Self.bodyMembers) } catch { throw APIError(error) }
        return r
    }

    /// The account the request acts in (``Caller/requestedAccount(_:)``); for the
    /// superuser, 404 when that account does not exist.
    func account(_ caller: Caller, _ request: Request) async throws -> UUID {
        let id = try caller.requestedAccount(request)
        if caller.accountId == nil { try await requireAccountExists(id) }
        return id
    }

    /// Runs a validation block, answering its ``ItemError`` as 400/422.
    func validate<T>(_ body: () throws(ItemError) -> T) throws -> T {
        do { return try body() } catch { throw APIError(error, status: error.code == ErrorCode.invalidRequest ? .badRequest : .unprocessableContent) }
    }

    static func name(_ r: ObjectReader, _ key: String = "name") throws(ItemError) -> String {
        let n = try r.requiredString(key).trimmingCharacters(in: .whitespacesAndNewlines)
        // Besides white space at the ends, at least one character that is neither white
        // space nor a control character (the schema's `Name`).
        guard !n.isEmpty, n.utf8.count <= 200, n.unicodeScalars.contains(where: { !isSpaceOrControl($0) }) else {
            throw ItemError.invalidField(r.field(key), "\(key) must be 1 to 200 bytes of text with at least one visible character")
        }
        return n
    }

    /// 409 `already_exists` for a unique violation, else rethrow.
    static func mapUnique(_ error: any Error, field: String, what: String) -> any Error {
        if let e = error as? PSQLError, e.serverInfo?[.sqlState] == "23505" {
            return APIError.conflict(ErrorCode.alreadyExists, "\(what) already exists", field: field)
        }
        return error
    }

    @Sendable func createAccount(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        guard caller.role == .superuser else { throw APIError.forbidden("only the superuser creates accounts") }
        let r = try await readBody(request)
        let (id, name) = try validate { () throws(ItemError) in (try r.uuid("id") ?? UUID(), try Self.name(r)) }
        do {
            try await database.withConnection { [logger] c in
                try await c.query("INSERT INTO accounts (id, name) VALUES (\(id), \(name))", logger: logger)
            }
        } catch { throw Self.mapUnique(error, field: "id", what: "an account with this id") }
        context.logger.info("account created", metadata: ["account": "\(id.lowercased)"])
        return JSONBody.response(.object(["id": .string(id.lowercased), "name": .string(name)]), status: .created)
    }

    @Sendable func listAccounts(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let items = try await database.withConnection { [logger] c in
            try await c.query("SELECT id, name FROM accounts WHERE \(caller.accountId == nil) OR id = \(caller.accountId) ORDER BY name, id", logger: logger)
                .collect { row -> JSONValue in
                    let (id, name) = try row.decode((UUID, String).self)
                    return .object(["id": .string(id.lowercased), "name": .string(name)])
                }
        }
        return JSONBody.response(.object(["items": .array(items)]))
    }

    @Sendable func createProject(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        try caller.requireAdmin()
        let account = try await self.account(caller, request)
        let r = try await readBody(request)
        let (id, name, appId) = try validate { () throws(ItemError) in
            (try r.uuid("id") ?? UUID(), try Self.name(r), try Self.name(r, "appId"))
        }
        try await requireAccountExists(account)
        do {
            try await database.withConnection { [logger] c in
                try await c.query("INSERT INTO projects (account_id, id, name, app_id) VALUES (\(account), \(id), \(name), \(appId))", logger: logger)
            }
        } catch { throw Self.mapUnique(error, field: "appId", what: "a project with this id or appId") }
        return JSONBody.response(Self.projectJSON(id: id, name: name, appId: appId, account: account), status: .created)
    }

    static func projectJSON(id: UUID, name: String, appId: String, account: UUID) -> JSONValue {
        .object(["id": .string(id.lowercased), "name": .string(name), "appId": .string(appId), "accountId": .string(account.lowercased)])
    }

    func requireAccountExists(_ account: UUID) async throws {
        let exists = try await database.withConnection { [logger] c in
            try await c.query("SELECT 1 FROM accounts WHERE id = \(account)", logger: logger).collect { _ in true }.first ?? false
        }
        if !exists { throw APIError.notFound("no such account") }
    }

    @Sendable func listProjects(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let account = try await self.account(caller, request)
        let all = caller.role == .admin || caller.role == .superuser
        let mine = caller.projectIds
        let items = try await database.withConnection { [logger] c in
            try await c.query(
                "SELECT id, name, app_id FROM projects WHERE account_id = \(account) AND (\(all) OR id = ANY(\(mine))) ORDER BY name, id",
                logger: logger
            ).collect { row -> JSONValue in
                let (id, name, appId) = try row.decode((UUID, String, String).self)
                return Self.projectJSON(id: id, name: name, appId: appId, account: account)
            }
        }
        return JSONBody.response(.object(["items": .array(items)]))
    }

    @Sendable func createUser(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        try caller.requireAdmin()
        let account = try await self.account(caller, request)
        let r = try await readBody(request)
        struct NewUser { var id: UUID; var username: String; var password: String; var role: Role; var projects: [UUID]; var units: [UUID] }
        let u = try validate { () throws(ItemError) -> NewUser in
            let username = try r.requiredString("username")
            guard username.utf8.count >= 1, username.utf8.count <= 100, !username.unicodeScalars.contains(where: Self.isSpaceOrControl) else {
                throw ItemError.invalidField("username", "username must be 1 to 100 bytes without spaces or control characters")
            }
            let password = try r.requiredString("password")
            guard password.utf8.count >= 8, password.utf8.count <= 72 else {
                throw ItemError.invalidField("password", "password must be 8 to 72 bytes long")
            }
            let role = try Self.role(r.requiredString("role"))
            return NewUser(id: try r.uuid("id") ?? UUID(), username: username, password: password, role: role,
                           projects: try Self.uuids(r, "projectIds") ?? [], units: try Self.uuids(r, "orgUnitIds") ?? [])
        }
        try await requireAccountExists(account)
        try await requireReferences(account: account, projects: u.projects, units: u.units)
        let hash = try await AuthStore.hashPassword(u.password)
        do {
            try await database.withConnection { [logger] c in
                try await c.query(
                    """
                    INSERT INTO users (id, account_id, username, password_hash, role, project_ids, org_unit_ids)
                    VALUES (\(u.id), \(account), \(u.username), \(hash), \(u.role.rawValue), \(u.projects), \(u.units))
                    """, logger: logger)
            }
        } catch { throw Self.mapUnique(error, field: "username", what: "a user with this username or id") }
        return JSONBody.response(Caller(userId: u.id, username: u.username, role: u.role, accountId: account,
                                        projectIds: u.projects, orgUnitIds: u.units, tokenHash: []).userJSON, status: .created)
    }

    /// White space (Unicode's White_Space, and the separators U+001C to U+001F that
    /// many regex engines count as space) or a control character: never in a username.
    static func isSpaceOrControl(_ u: Unicode.Scalar) -> Bool {
        u.properties.isWhitespace || u.properties.generalCategory == .control
    }

    /// A role an admin may give.
    static func role(_ name: String) throws(ItemError) -> Role {
        guard let role = Role(rawValue: name), Role.assignable.contains(role) else {
            throw ItemError.invalidField("role", "role must be one of admin, supervisor, agent; got \"\(name)\"")
        }
        return role
    }

    /// An optional array of UUIDs (`nil` when absent).
    static func uuids(_ r: ObjectReader, _ key: String) throws(ItemError) -> [UUID]? {
        guard let list = try r.array(key) else { return nil }
        var out: [UUID] = []
        for (k, v) in list.enumerated() {
            guard let s = v.stringValue, let u = UUID(text: s) else {
                throw ItemError.invalidField("\(key)[\(k)]", "\(key) must hold UUIDs")
            }
            out.append(u)
        }
        return out
    }

    /// 422 `unknown_reference` for a project or org unit not in the account.
    func requireReferences(account: UUID, projects: [UUID], units: [UUID]) async throws {
        let (missingProject, missingUnit) = try await database.withConnection { [logger] c in
            try await c.query(
                """
                SELECT (SELECT p.n FROM unnest(\(projects)::uuid[]) WITH ORDINALITY AS p(id, n)
                        WHERE NOT EXISTS (SELECT 1 FROM projects WHERE account_id = \(account) AND id = p.id) ORDER BY p.n LIMIT 1),
                       (SELECT o.n FROM unnest(\(units)::uuid[]) WITH ORDINALITY AS o(id, n)
                        WHERE NOT EXISTS (SELECT 1 FROM org_units WHERE account_id = \(account) AND id = o.id)
                        ORDER BY o.n LIMIT 1)
                """, logger: logger
            ).collect { try $0.decode((Int64?, Int64?).self) }.first ?? (nil, nil)
        }
        // The same answer for an id of another account as for an id that exists nowhere.
        if let n = missingProject.map({ Int($0) - 1 }) {
            throw APIError.invalid("project \(projects[n].lowercased) does not exist in this account", field: "projectIds[\(n)]", code: ErrorCode.unknownReference)
        }
        if let n = missingUnit.map({ Int($0) - 1 }) {
            throw APIError.invalid("org unit \(units[n].lowercased) does not exist in this account", field: "orgUnitIds[\(n)]", code: ErrorCode.unknownReference)
        }
    }

    @Sendable func listUsers(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        try caller.requireAdmin()
        let account = try await self.account(caller, request)
        let items = try await database.withConnection { [logger] c in
            try await c.query(
                "SELECT id, username, role, project_ids, org_unit_ids FROM users WHERE account_id = \(account) ORDER BY username",
                logger: logger
            ).collect { row -> JSONValue in
                let (id, username, role, projects, units) = try row.decode((UUID, String, String, [UUID], [UUID]).self)
                return Caller(userId: id, username: username, role: Role(rawValue: role) ?? .agent, accountId: account,
                              projectIds: projects, orgUnitIds: units, tokenHash: []).userJSON
            }
        }
        return JSONBody.response(.object(["items": .array(items)]))
    }

    /// `PATCH /v1/users/{id}` `{"orgUnitIds"?,"projectIds"?,"role"?}` (admins of the account):
    /// the fields given replace the stored ones; the change holds from the user's next
    /// request (every request reads the caller afresh). 404 for a user of another account.
    @Sendable func updateUser(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        try caller.requireAdmin()
        let account = try await self.account(caller, request)
        guard let id = context.parameters.get("id").flatMap(UUID.init(text:)) else { throw APIError.notFound("no such user") }
        let r = try await readBody(request)
        let (role, projects, units) = try validate { () throws(ItemError) -> (Role?, [UUID]?, [UUID]?) in
            (try r.string("role").map { name throws(ItemError) in try Self.role(name) }, try Self.uuids(r, "projectIds"), try Self.uuids(r, "orgUnitIds"))
        }
        let exists = try await database.withConnection { [logger] c in
            try await c.query("SELECT 1 FROM users WHERE account_id = \(account) AND id = \(id)", logger: logger).collect { _ in true }.first ?? false
        }
        guard exists else { throw APIError.notFound("no such user") }
        // An admin can't change its own role: the account would be left without the admin
        // that could undo it. Another admin does it.
        if id == caller.userId, let role, role != caller.role {
            throw APIError.forbidden("you can't change your own role; another admin of the account can")
        }
        try await requireReferences(account: account, projects: projects ?? [], units: units ?? [])
        let row = try await database.withConnection { [logger] c in
            try await c.query(
                """
                UPDATE users SET role = coalesce(\(role?.rawValue), role),
                    project_ids = CASE WHEN \(projects != nil) THEN \(projects ?? [])::uuid[] ELSE project_ids END,
                    org_unit_ids = CASE WHEN \(units != nil) THEN \(units ?? [])::uuid[] ELSE org_unit_ids END
                WHERE account_id = \(account) AND id = \(id)
                RETURNING username, role, project_ids, org_unit_ids
                """, logger: logger
            ).collect { try $0.decode((String, String, [UUID], [UUID]).self) }.first
        }
        guard let (username, roleName, p, u) = row else { throw APIError.notFound("no such user") }
        context.logger.info("user updated", metadata: ["target": "\(id.lowercased)"])
        return JSONBody.response(Caller(userId: id, username: username, role: Role(rawValue: roleName) ?? .agent, accountId: account,
                                        projectIds: p, orgUnitIds: u, tokenHash: []).userJSON)
    }
}
