import FieldSyncCore
import Foundation
import Hummingbird
import Logging

/// Reading the requests of the administration routes (accounts, projects, users, types,
/// forms and their versions): the account they act in, the members their bodies share,
/// and how a bad one is answered.
enum AdminRequest {
    /// The account the request acts in (``Caller/requestedAccount(_:)``); for the
    /// superuser, 404 when that account does not exist.
    static func account(_ caller: Caller, _ request: Request, database: Database, logger: Logger) async throws -> UUID {
        let id = try caller.requestedAccount(request)
        if caller.accountId == nil {
            let exists = try await database.withConnection { c in try await AccountStore(connection: c, logger: logger).accountExists(id) }
            if !exists { throw APIError.notFound("no such account") }
        }
        return id
    }

    /// Every member of the administration bodies: none may be `null`
    /// (``RequestChecks/rejectNullMembers(_:of:)``).
    static let members: Set<String> = [
        "id", "name", "appId", "username", "password", "role", "projectIds", "orgUnitIds",
        "depth", "formId", "version", "fields",
    ]

    /// The body as an object: 400 when it is not JSON or not an object, 422 for a
    /// documented member sent as `null`.
    static func read(_ request: Request, limit: Int) async throws -> ObjectReader {
        let body = try await JSONBody.read(request, limit: limit)
        let r: ObjectReader
        do { r = try ObjectReader(body, path: "") } catch { throw APIError(error, status: .badRequest) }
        do { try RequestChecks.rejectNullMembers(r, of: members) } catch { throw APIError(error) }
        return r
    }

    /// Runs a validation block, answering its ``ItemError`` as 400 (`invalid_request`) or
    /// 422 (any other code).
    static func validate<T>(_ body: () throws(ItemError) -> T) throws -> T {
        do { return try body() } catch { throw APIError(error, status: error.code == ErrorCode.invalidRequest ? .badRequest : .unprocessableContent) }
    }

    /// The id of a new object: the one the client chose (so a retried create is a
    /// conflict, not a duplicate), or a new one when it chose none.
    static func newId(_ r: ObjectReader) throws(ItemError) -> UUID {
        try r.uuid("id") ?? UUID()
    }

    /// A display name (the schema's `Name`): trimmed, 1 to 200 bytes, with at least one
    /// character that is neither white space nor a control character.
    static func name(_ r: ObjectReader, _ key: String = "name") throws(ItemError) -> String {
        let n = try r.requiredString(key).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !n.isEmpty, n.utf8.count <= 200, n.unicodeScalars.contains(where: { !isSpaceOrControl($0) }) else {
            throw ItemError.invalidField(r.field(key), "\(key) must be 1 to 200 bytes of text with at least one visible character")
        }
        return n
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
}
