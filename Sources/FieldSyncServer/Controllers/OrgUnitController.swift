import FieldSyncCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Org units: import (admins), change requests and their review, the merged tree,
/// and a unit's summary for supervisors.
struct OrgUnitController {
    let database: Database
    let config: ServerConfiguration

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.post("orgunits/import", use: importUnits)
        router.get("orgunits/changes", use: listChanges)
        router.post("orgunits/changes/:id/review", use: review)
        router.get("orgunits/tree", use: tree)
        router.get("orgunits/:id/summary", use: summary)
    }

    @Sendable func importUnits(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        try caller.requireAdmin()
        let account = try await AdminRequest.account(caller, request, database: database, logger: context.logger)
        let body = try await JSONBody.read(request, limit: config.maxPushBytes)
        let parsed: [OrgUnitImport.Unit]
        do { parsed = try OrgUnitImport.parse(body) } catch { throw APIError(error) }
        let units = try await OrgUnitImport.normalizeGeometry(parsed)
        // A whole country in one transaction: an admin's bulk operation, not bound by the
        // per-request database deadline.
        let ids = try await database.transaction(timeout: .seconds(300)) { c in
            try await OrgUnitStore(account: account, connection: c, logger: context.logger).importUnits(units, by: caller.userId)
        }
        context.logger.info("org units imported", metadata: ["count": "\(ids.count)"])
        return JSONBody.response(
            .object(["imported": .number(Double(ids.count)), "ids": .array(ids.map { .string($0.lowercased) })]), status: .created)
    }

    // MARK: change requests

    /// `GET /v1/orgunits/changes?status=&orgUnitId=&limit=&cursor=`.
    @Sendable func listChanges(_ request: Request, context: AppRequestContext) async throws -> Response {
        let scope = try context.requireCaller().requireScope()
        let q = request.uri.queryParameters
        var status: String?
        if let s = try RequestChecks.nonEmptyQuery(request, "status") {
            guard ["pending", "approved", "rejected"].contains(s) else {
                throw APIError.badRequest("status must be pending, approved or rejected, got \"\(s.prefix(40))\"", field: "status")
            }
            status = s
        }
        var unit: UUID?
        if let raw = try RequestChecks.nonEmptyQuery(request, "orgUnitId") {
            guard let u = UUID(text: raw) else { throw APIError.badRequest("orgUnitId must be a UUID", field: "orgUnitId") }
            unit = u
        }
        let limit = try RequestChecks.limit(request)
        var after: (Date, UUID)?
        if let raw = q["cursor"].map(String.init), !raw.isEmpty {
            let parts = raw.split(separator: "_")
            guard parts.count == 2, let micros = Int64(parts[0]), let id = UUID(text: String(parts[1])) else {
                throw APIError.badRequest("cursor is not one this server issued", field: "cursor")
            }
            after = (Date(timeIntervalSince1970: Double(micros) / 1_000_000), id)
        }
        let (items, next) = try await database.withConnection { [after, status, unit, limit] c in
            try await ChangeRequests(scope: scope, connection: c, logger: context.logger).list(
                status: status, orgUnit: unit, after: after, limit: limit)
        }
        var w = JSONWriter()
        w.raw("{\"items\":[")
        w.raw(items.joined(separator: ","))
        w.raw("]")
        if let next {
            w.raw(",\"cursor\":")
            w.write(string: "\(Int64((next.0.timeIntervalSince1970 * 1_000_000).rounded()))_\(next.1.lowercased)")
        }
        w.raw("}")
        return JSONBody.response(bytes: w.bytes)
    }

    /// `POST /v1/orgunits/changes/{id}/review` `{"decision","fields"?,"comment"?}`.
    @Sendable func review(_ request: Request, context: AppRequestContext) async throws -> Response {
        let scope = try context.requireCaller().requireScope()
        guard let id = context.parameters.get("id").flatMap(UUID.init(text:)) else {
            throw APIError.notFound("org-unit change does not exist")
        }
        let body = try await JSONBody.read(request, limit: config.maxPushBytes)
        let approve: Bool
        var fields: [String]?
        let comment: String?
        do throws(ItemError) {
            let r = try ObjectReader(body, path: "")
            try RequestChecks.rejectNullMembers(r, of: ["decision", "fields", "comment"])
            switch try r.requiredString("decision") {
            case "approve": approve = true
            case "reject": approve = false
            case let other: throw ItemError.invalidField("decision", "decision must be approve or reject, got \"\(other.prefix(40))\"")
            }
            if let list = try r.array("fields") {
                fields = try list.enumerated().map { k, v throws(ItemError) in
                    guard let s = v.stringValue else { throw ItemError.invalidField("fields[\(k)]", "fields must be field names") }
                    return s
                }
                if !approve { throw ItemError.invalidField("fields", "fields go with approve only") }
            }
            comment = try r.string("comment")
        } catch { throw APIError(error, status: error.code == ErrorCode.invalidRequest ? .badRequest : .unprocessableContent) }
        let doc = try await database.transaction { [fields] c in
            try await ChangeRequests(scope: scope, connection: c, logger: context.logger).review(
                id: id, approve: approve, fields: fields, comment: comment)
        }
        context.logger.info("org-unit change reviewed", metadata: ["change": "\(id.lowercased)", "decision": "\(approve ? "approve" : "reject")"])
        return JSONBody.response(bytes: Array(doc.utf8))
    }

    // MARK: tree

    /// `GET /v1/orgunits/tree?root=&geometry=none|simplified|full&format=json|geojson&since=`,
    /// streamed, gzip when the client accepts it.
    @Sendable func tree(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let scope = try caller.requireScope()
        let account = scope.account
        // An `accountId` naming another account (or not a UUID) is refused, never ignored.
        if request.uri.queryParameters["accountId"] != nil { _ = try caller.requestedAccount(request) }
        let q = request.uri.queryParameters
        guard let geometry = TreeQuery.Geometry(rawValue: q["geometry"].map(String.init) ?? "simplified") else {
            throw APIError.badRequest("geometry must be none, simplified or full", field: "geometry")
        }
        guard let format = TreeQuery.Format(rawValue: q["format"].map(String.init) ?? "json") else {
            throw APIError.badRequest("format must be json or geojson", field: "format")
        }
        var since: FeedCursor?
        if let raw = q["since"].map(String.init), !raw.isEmpty { since = try FeedCursor(parsing: raw) }
        var root: UUID?
        if let raw = try RequestChecks.nonEmptyQuery(request, "root") {
            guard let r = UUID(text: raw) else { throw APIError.badRequest("root must be a UUID", field: "root") }
            root = r
        }
        let logger = context.logger
        // Resolve the roots and the cursor before streaming: errors still get their status.
        let (roots, cursor): ([String]?, FeedCursor) = try await database.withConnection { [root] c in
            var roots: [String]? = scope.everything ? nil : scope.subtrees
            if let root {
                guard let row = try await OrgUnitStore(account: account, connection: c, logger: logger).load(root), row.status == "validated" else {
                    throw APIError.notFound("org unit \(root.lowercased) does not exist")
                }
                guard scope.covers(path: row.path) else {
                    throw APIError.forbidden("org unit \(root.lowercased) is outside your org units")
                }
                roots = [row.path]
            }
            return (roots, try await TreeQuery(connection: c, logger: logger).boundary())
        }
        let gzip = request.headers[.acceptEncoding].map { Self.acceptsGzip($0) } ?? false
        var headers: HTTPFields = [
            .contentType: format == .geojson ? "application/geo+json" : "application/json; charset=utf-8",
            .vary: "Accept-Encoding",
        ]
        headers[HTTPField.Name("FieldSync-Cursor")!] = cursor.description
        if gzip { headers[.contentEncoding] = "gzip" }
        let query = TreeQuery.Request(account: account, roots: roots, geometry: geometry, format: format, since: since)
        let client = database.client
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                try await TreeQuery.stream(query, cursor: cursor, gzip: gzip, client: client, logger: logger, into: &writer)
            })
    }

    /// Whether an `Accept-Encoding` value allows gzip (`gzip`, `gzip;q=0.5`, `*`; not `q=0`).
    static func acceptsGzip(_ value: String) -> Bool {
        value.split(separator: ",").contains { part in
            let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard let coding = pieces.first, coding == "gzip" || coding == "x-gzip" || coding == "*" else { return false }
            return !pieces.dropFirst().contains {
                $0.replacingOccurrences(of: " ", with: "") == "q=0" || $0 == "q=0.0" || $0 == "q=0.00" || $0 == "q=0.000"
            }
        }
    }

    // MARK: summary

    /// `GET /v1/orgunits/{id}/summary`: for the unit's whole subtree, the instances, how
    /// many lie outside their unit's polygon, how many wait for attachments, how many
    /// records are in conflict, and the changes awaiting review. Supervisors and admins.
    @Sendable func summary(_ request: Request, context: AppRequestContext) async throws -> Response {
        let scope = try context.requireCaller().requireScope()
        guard let id = context.parameters.get("id").flatMap(UUID.init(text:)) else { throw APIError.notFound("org unit does not exist") }
        let doc = try await database.withConnection { c in
            let store = OrgUnitStore(account: scope.account, connection: c, logger: context.logger)
            guard let row = try await store.load(id), row.status == "validated" else {
                throw APIError.notFound("org unit \(id.lowercased) does not exist")
            }
            guard scope.covers(path: row.path) else {
                throw APIError.forbidden("org unit \(id.lowercased) is outside your org units")
            }
            guard scope.reviews else { throw APIError.forbidden("only supervisors and admins see summaries") }
            return try await store.summary(of: id, at: row.path, scope: scope) ?? "{}"
        }
        return JSONBody.response(bytes: Array(doc.utf8))
    }
}
