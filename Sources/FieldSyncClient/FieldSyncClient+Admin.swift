import FieldSyncCore
import Foundation

/// Administration: accounts (superuser), and within an account projects, users,
/// org-unit types and the org-unit import. `accountId` is needed only by the
/// superuser (it is sent as the `accountId` query parameter).
extension FieldSyncClient {
    /// `POST /v1/accounts` `{"id"?, "name"}` (superuser only).
    public func createAccount(name: String, id: UUID? = nil) async throws -> JSONValue {
        try await create("/v1/accounts", body: NewAccount(id: id?.lowercasedText, name: name), accountId: nil, idempotent: id != nil)
    }

    /// `GET /v1/accounts`.
    public func listAccounts() async throws -> [JSONValue] {
        try await list("/v1/accounts", accountId: nil)
    }

    /// `POST /v1/projects` `{"id"?, "name", "appId"}`.
    public func createProject(name: String, appId: String, id: UUID? = nil, accountId: UUID? = nil) async throws -> JSONValue {
        try await create(
            "/v1/projects", body: NewProject(id: id?.lowercasedText, name: name, appId: appId),
            accountId: accountId, idempotent: id != nil)
    }

    /// `GET /v1/projects`.
    public func listProjects(accountId: UUID? = nil) async throws -> [JSONValue] {
        try await list("/v1/projects", accountId: accountId)
    }

    /// `POST /v1/users` `{"id"?, "username", "password", "role", "projectIds", "orgUnitIds"}`.
    public func createUser(
        username: String, password: String, role: String, projectIds: [UUID] = [], orgUnitIds: [UUID] = [],
        id: UUID? = nil, accountId: UUID? = nil
    ) async throws -> JSONValue {
        let body = NewUser(
            id: id?.lowercasedText, username: username, password: password, role: role,
            projectIds: projectIds.map(\.lowercasedText), orgUnitIds: orgUnitIds.map(\.lowercasedText))
        // Usernames are unique: a replay answers 409, never a second user.
        return try await create("/v1/users", body: body, accountId: accountId, idempotent: true)
    }

    /// `GET /v1/users`.
    public func listUsers(accountId: UUID? = nil) async throws -> [JSONValue] {
        try await list("/v1/users", accountId: accountId)
    }

    /// `POST /v1/orgunit-types` `{"id"?, "name", "depth"}`.
    public func createOrgUnitType(name: String, depth: Int, id: UUID? = nil, accountId: UUID? = nil) async throws -> JSONValue {
        try await create(
            "/v1/orgunit-types", body: NewOrgUnitType(id: id?.lowercasedText, name: name, depth: depth),
            accountId: accountId, idempotent: id != nil)
    }

    /// `GET /v1/orgunit-types`.
    public func listOrgUnitTypes(accountId: UUID? = nil) async throws -> [JSONValue] {
        try await list("/v1/orgunit-types", accountId: accountId)
    }

    /// `POST /v1/orgunits/import` with a JSON array of org units or a GeoJSON
    /// FeatureCollection, sent as is. Answers `{"imported": n, "ids": […]}`.
    /// The import is an all-or-nothing upsert by id, so it is retried safely.
    /// `timeout` defaults to the longer of the client's and 5 minutes.
    public func importOrgUnits(body: [UInt8], accountId: UUID? = nil, timeout: Duration? = nil) async throws -> JSONValue {
        try await request(
            method: "POST", path: "/v1/orgunits/import", query: Self.accountQuery(accountId), bodyBytes: body,
            idempotent: true, timeout: timeout ?? max(self.timeout, .seconds(300))
        ).json
    }

    /// As ``importOrgUnits(body:accountId:timeout:)`` with a ``JSONValue``.
    public func importOrgUnits(json: JSONValue, accountId: UUID? = nil, timeout: Duration? = nil) async throws -> JSONValue {
        try await importOrgUnits(body: JSONWriter.encode(json), accountId: accountId, timeout: timeout)
    }

    static func accountQuery(_ accountId: UUID?) -> [(String, String)] {
        accountId.map { [("accountId", $0.lowercasedText)] } ?? []
    }

    func create(_ path: String, body: some Encodable, accountId: UUID?, idempotent: Bool) async throws -> JSONValue {
        try await request(method: "POST", path: path, query: Self.accountQuery(accountId), encoding: body, idempotent: idempotent).json
    }

    /// `GET path` answering `{"items": […]}`.
    func list(_ path: String, accountId: UUID?) async throws -> [JSONValue] {
        let json = try await request(method: "GET", path: path, query: Self.accountQuery(accountId)).json
        guard let items = json["items"]?.arrayValue else {
            throw ClientError.invalidResponse(path: path, detail: "no items array in the answer")
        }
        return items
    }
}

/// `POST /v1/accounts`.
struct NewAccount: Encodable {
    var id: String?
    var name: String
}

/// `POST /v1/projects`.
struct NewProject: Encodable {
    var id: String?
    var name: String
    var appId: String
}

/// `POST /v1/users`.
struct NewUser: Encodable {
    var id: String?
    var username: String
    var password: String
    var role: String
    var projectIds: [String]
    var orgUnitIds: [String]
}

/// `POST /v1/orgunit-types`.
struct NewOrgUnitType: Encodable {
    var id: String?
    var name: String
    var depth: Int
}
