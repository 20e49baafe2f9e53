import FieldSyncCore
import Foundation
import Hummingbird
import Logging

/// Accounts (superuser), projects and users (admins of an account).
struct AdminController {
    let database: Database
    let config: ServerConfiguration

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.post("accounts", use: createAccount)
        router.get("accounts", use: listAccounts)
        router.post("projects", use: createProject)
        router.get("projects", use: listProjects)
        router.post("users", use: createUser)
        router.get("users", use: listUsers)
        router.patch("users/:id", use: updateUser)
    }

    @Sendable func createAccount(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        guard caller.role == .superuser else { throw APIError.forbidden("only the superuser creates accounts") }
        let r = try await AdminRequest.read(request, limit: config.maxPushBytes)
        let (id, name) = try AdminRequest.validate { () throws(ItemError) in (try AdminRequest.newId(r), try AdminRequest.name(r)) }
        try await database.withConnection { c in
            try await AccountStore(connection: c, logger: context.logger).createAccount(id: id, name: name)
        }
        context.logger.info("account created", metadata: ["account": "\(id.lowercased)"])
        return JSONBody.response(.object(["id": .string(id.lowercased), "name": .string(name)]), status: .created)
    }

    @Sendable func listAccounts(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let items = try await database.withConnection { c in
            try await AccountStore(connection: c, logger: context.logger).accounts(only: caller.accountId)
        }
        return JSONBody.response(.object(["items": .array(items)]))
    }

    @Sendable func createProject(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        try caller.requireAdmin()
        let account = try await AdminRequest.account(caller, request, database: database, logger: context.logger)
        let r = try await AdminRequest.read(request, limit: config.maxPushBytes)
        let (id, name, appId) = try AdminRequest.validate { () throws(ItemError) in
            (try AdminRequest.newId(r), try AdminRequest.name(r), try AdminRequest.name(r, "appId"))
        }
        try await database.withConnection { c in
            try await AccountStore(connection: c, logger: context.logger).createProject(account: account, id: id, name: name, appId: appId)
        }
        return JSONBody.response(AccountStore.projectJSON(id: id, name: name, appId: appId, account: account), status: .created)
    }

    @Sendable func listProjects(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let account = try await AdminRequest.account(caller, request, database: database, logger: context.logger)
        let all = caller.role == .admin || caller.role == .superuser
        let items = try await database.withConnection { c in
            try await AccountStore(connection: c, logger: context.logger).projects(account: account, all: all, mine: caller.projectIds)
        }
        return JSONBody.response(.object(["items": .array(items)]))
    }

    @Sendable func createUser(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        try caller.requireAdmin()
        let account = try await AdminRequest.account(caller, request, database: database, logger: context.logger)
        let r = try await AdminRequest.read(request, limit: config.maxPushBytes)
        let (user, password) = try AdminRequest.validate { () throws(ItemError) -> (AccountStore.User, String) in
            let username = try r.requiredString("username")
            guard username.utf8.count >= 1, username.utf8.count <= 100, !username.unicodeScalars.contains(where: AdminRequest.isSpaceOrControl) else {
                throw ItemError.invalidField("username", "username must be 1 to 100 bytes without spaces or control characters")
            }
            let password = try r.requiredString("password")
            guard password.utf8.count >= 8, password.utf8.count <= 72 else {
                throw ItemError.invalidField("password", "password must be 8 to 72 bytes long")
            }
            let role = try AdminRequest.role(r.requiredString("role"))
            let user = AccountStore.User(
                id: try AdminRequest.newId(r), username: username, role: role, accountId: account,
                projectIds: try AdminRequest.uuids(r, "projectIds") ?? [],
                orgUnitIds: try AdminRequest.uuids(r, "orgUnitIds") ?? [])
            return (user, password)
        }
        try await database.withConnection { c in
            try await AccountStore(connection: c, logger: context.logger)
                .requireReferences(account: account, projects: user.projectIds, units: user.orgUnitIds)
        }
        let hash = try await AuthStore.hashPassword(password)
        try await database.withConnection { c in
            try await AccountStore(connection: c, logger: context.logger).createUser(user, passwordHash: hash)
        }
        return JSONBody.response(user.json, status: .created)
    }

    @Sendable func listUsers(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        try caller.requireAdmin()
        let account = try await AdminRequest.account(caller, request, database: database, logger: context.logger)
        let users = try await database.withConnection { c in
            try await AccountStore(connection: c, logger: context.logger).users(account: account)
        }
        return JSONBody.response(.object(["items": .array(users.map(\.json))]))
    }

    /// `PATCH /v1/users/{id}` `{"orgUnitIds"?,"projectIds"?,"role"?}` (admins of the account):
    /// the fields given replace the stored ones; the change holds from the user's next
    /// request (every request reads the caller afresh). 404 for a user of another account.
    @Sendable func updateUser(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        try caller.requireAdmin()
        let account = try await AdminRequest.account(caller, request, database: database, logger: context.logger)
        guard let id = context.parameters.get("id").flatMap(UUID.init(text:)) else { throw APIError.notFound("no such user") }
        let r = try await AdminRequest.read(request, limit: config.maxPushBytes)
        let (role, projects, units) = try AdminRequest.validate { () throws(ItemError) -> (Role?, [UUID]?, [UUID]?) in
            (
                try r.string("role").map { name throws(ItemError) in try AdminRequest.role(name) },
                try AdminRequest.uuids(r, "projectIds"), try AdminRequest.uuids(r, "orgUnitIds")
            )
        }
        let user = try await database.withConnection { c in
            let store = AccountStore(connection: c, logger: context.logger)
            guard try await store.userExists(account: account, id) else { throw APIError.notFound("no such user") }
            // An admin can't change its own role: the account would be left without the admin
            // that could undo it. Another admin does it.
            if id == caller.userId, let role, role != caller.role {
                throw APIError.forbidden("you can't change your own role; another admin of the account can")
            }
            try await store.requireReferences(account: account, projects: projects ?? [], units: units ?? [])
            return try await store.updateUser(account: account, id, role: role, projects: projects, units: units)
        }
        guard let user else { throw APIError.notFound("no such user") }
        context.logger.info("user updated", metadata: ["target": "\(id.lowercased)"])
        return JSONBody.response(user.json)
    }
}
