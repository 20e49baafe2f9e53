import FieldSyncCore
import Foundation
import Hummingbird

/// Checks shared by the administration routes, so that every route answers the same way
/// for the same mistake (and as `Schemas/openapi.yaml` says).
extension Caller {
    /// The account a request acts in, from the caller and the `accountId` query parameter:
    /// - absent: the caller's own account (the superuser, which has none: 400);
    /// - not a UUID (or empty): 400 `invalid_request`, field `accountId`, for everyone;
    /// - a user's own account: that account; any other: 404, as for anything of another
    ///   account (never silently the caller's own);
    /// - for the superuser, any account (routes check it exists: 404 otherwise).
    func requestedAccount(_ request: Request) throws -> UUID {
        guard let raw = request.uri.queryParameters["accountId"].map(String.init) else {
            return try actingAccount(nil)
        }
        guard let id = UUID(text: raw) else {
            throw APIError.badRequest("accountId must be a UUID, got \"\(raw.prefix(60))\"", field: "accountId")
        }
        if let own = accountId, own != id {
            throw APIError.notFound("no such account")
        }
        return id
    }
}

enum RequestChecks {
    /// Rejects a documented member sent as `null`: these bodies have no nullable member,
    /// and `null` would otherwise silently mean "absent" (for a PATCH, "keep") where a
    /// client may have meant "clear". 422 `invalid_field` naming the member. Members the
    /// schema does not name are ignored, whatever their value, as everywhere else.
    static func rejectNullMembers(_ r: ObjectReader, of members: Set<String>) throws(ItemError) {
        if let key = members.sorted().first(where: { r.object[$0]?.isNull == true }) {
            throw ItemError.invalidField(r.field(key), "\(key) must not be null; leave it out to mean \"not given\"")
        }
    }

    /// A path parameter, percent-decoded as clients encode it (pyodk sends `uuid:…` as
    /// `uuid%3A…`; Collect gets download URLs whose form ids are encoded). `nil` when
    /// absent, not percent-encoded UTF-8 (`%ZZ`, `%FF`), or holding NUL, which no id has
    /// and PostgreSQL's text cannot hold: the route answers 404 for those.
    static func pathParameter(_ context: AppRequestContext, _ name: String) -> String? {
        guard let raw = context.parameters.get(name), let decoded = raw.removingPercentEncoding,
            !decoded.unicodeScalars.contains("\u{0}")
        else { return nil }
        return decoded
    }

    /// An optional query parameter: `nil` when absent; 400 `invalid_request` naming it when
    /// present but empty (`root=`), which a client sends by mistake, never on purpose.
    static func nonEmptyQuery(_ request: Request, _ name: String) throws -> String? {
        guard let raw = request.uri.queryParameters[Substring(name)] else { return nil }
        guard !raw.isEmpty else { throw APIError.badRequest("\(name) may not be empty: leave it out instead", field: name) }
        return String(raw)
    }

    /// `limit` of a paged list: 1 to 1000, default 500; else 400 `invalid_request`
    /// (as the pull feed answers).
    static func limit(_ request: Request) throws -> Int {
        guard let raw = request.uri.queryParameters["limit"] else { return 500 }
        guard let l = Int(raw), (1...1000).contains(l) else {
            throw APIError.badRequest("limit must be a whole number from 1 to 1000, got \"\(raw.prefix(20))\"", field: "limit")
        }
        return l
    }
}
