import FieldSyncCore
import Foundation
import Hummingbird

/// A user's role. The superuser belongs to no account and alone creates accounts.
public enum Role: String, Sendable, Codable, CaseIterable {
    case superuser, admin, supervisor, agent

    /// Roles an admin may give to users of its account.
    static let assignable: [Role] = [.admin, .supervisor, .agent]
}

/// Who is calling: resolved from the bearer token on every request (so a change to
/// the user's units or projects takes effect on the next request).
public struct Caller: Sendable {
    public let userId: UUID
    public let username: String
    public let role: Role
    /// `nil` for the superuser.
    public let accountId: UUID?
    public let projectIds: [UUID]
    public let orgUnitIds: [UUID]
    /// SHA-256 of the bearer token used (to revoke it); never logged.
    let tokenHash: [UInt8]
    /// What the caller may see and write; `nil` for the superuser, who has no account.
    let scope: CallerScope?

    /// The user object of the token answer and of `GET /v1/users/me`.
    public var userJSON: JSONValue {
        AccountStore.User(id: userId, username: username, role: role, accountId: accountId, projectIds: projectIds, orgUnitIds: orgUnitIds).json
    }

    /// The account the caller acts in: its own, or for the superuser the
    /// `accountId` query parameter.
    func actingAccount(_ query: String?) throws -> UUID {
        if let accountId { return accountId }
        guard let query, let id = UUID(text: query) else {
            throw APIError.badRequest("the superuser must name the account with the accountId query parameter", field: "accountId")
        }
        return id
    }

    /// The account named by a request: the caller's own, or for the superuser the
    /// request's `accountId` query parameter.
    func actingAccount(_ request: Request) throws -> UUID {
        try actingAccount(request.uri.queryParameters["accountId"].map(String.init))
    }

    /// Admins of the account (and the superuser).
    func requireAdmin() throws {
        guard role == .admin || role == .superuser else {
            throw APIError.forbidden("only an admin of the account may do this")
        }
    }

    /// The account of a caller that must belong to one (not the superuser).
    func requireAccount() throws -> UUID {
        try requireScope().account
    }

    /// The scope of a caller that must belong to an account (not the superuser).
    func requireScope() throws -> CallerScope {
        guard let scope else {
            throw APIError.forbidden("the superuser has no account; sign in as a user of an account to do this")
        }
        return scope
    }
}
