import FieldSyncCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PostgresNIO

/// Org units: import (admins), change requests and their review, the merged tree,
/// and a unit's summary for supervisors.
struct OrgUnitController {
    let database: Database
    let config: ServerConfiguration
    let logger: Logger

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
        let account = try await AdminController(database: database, config: config, logger: logger).account(caller, request)
        let body = try await JSONBody.read(request, limit: config.maxPushBytes)
        let units: [OrgUnitImport.Unit]
        do { units = try OrgUnitImport.parse(body) } catch { throw APIError(error) }
        try await AdminController(database: database, config: config, logger: logger).requireAccountExists(account)
        let ids = try await OrgUnitImport.run(units, account: account, by: caller.userId, database: database, logger: context.logger)
        context.logger.info("org units imported", metadata: ["count": "\(ids.count)"])
        return JSONBody.response(.object(["imported": .number(Double(ids.count)), "ids": .array(ids.map { .string($0.lowercased) })]), status: .created)
    }

    func viewer(_ caller: Caller) throws -> ChangeRequests.Viewer {
        ChangeRequests.Viewer(account: try caller.requireAccount(), user: caller.userId, role: caller.role, orgUnits: caller.orgUnitIds)
    }

    // MARK: change requests

    /// `GET /v1/orgunits/changes?status=&orgUnitId=&limit=&cursor=`.
    @Sendable func listChanges(_ request: Request, context: AppRequestContext) async throws -> Response {
        let viewer = try viewer(try context.requireCaller())
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
        let logger = context.logger
        let (items, next) = try await database.withConnection { [after, status, unit, limit] c in
            try await ChangeRequests.list(viewer, status: status, orgUnit: unit, after: after, limit: limit, on: c, logger: logger)
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
        let viewer = try viewer(try context.requireCaller())
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
        let doc = try await ChangeRequests.review(id: id, approve: approve, fields: fields, comment: comment, reviewer: viewer,
                                                  database: database, logger: context.logger)
        context.logger.info("org-unit change reviewed", metadata: ["change": "\(id.lowercased)", "decision": "\(approve ? "approve" : "reject")"])
        return JSONBody.response(bytes: Array(doc.utf8))
    }

    // MARK: tree

    /// `GET /v1/orgunits/tree?root=&geometry=none|simplified|full&format=json|geojson&since=`,
    /// streamed, gzip when the client accepts it.
    @Sendable func tree(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let account = try caller.requireAccount()
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
        let admin = caller.role == .admin
        let mine = caller.orgUnitIds
        let logger = context.logger
        // Resolve the roots and the cursor before streaming: errors still get their status.
        let (roots, cursor): ([String]?, FeedCursor) = try await database.withConnection { [root] c in
            let store = OrgUnitStore(account: account, connection: c, logger: logger)
            let myPaths = admin ? [] : try await store.paths(of: mine)
            var roots: [String]?
            if let root {
                guard let row = try await store.load(root), row.status == "validated" else {
                    throw APIError.notFound("org unit \(root.lowercased) does not exist")
                }
                guard admin || OrgUnitStore.isWithin(row.path, myPaths) else {
                    throw APIError.forbidden("org unit \(root.lowercased) is outside your org units")
                }
                roots = [row.path]
            } else if !admin {
                roots = myPaths
            }
            return (roots, try await TreeQuery.boundary(on: c, logger: logger))
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
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            try await TreeQuery.stream(query, cursor: cursor, gzip: gzip, client: client, logger: logger, into: &writer)
        })
    }

    /// Whether an `Accept-Encoding` value allows gzip (`gzip`, `gzip;q=0.5`, `*`; not `q=0`).
    static func acceptsGzip(_ value: String) -> Bool {
        value.split(separator: ",").contains { part in
            let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard let coding = pieces.first, coding == "gzip" || coding == "x-gzip" || coding == "*" else { return false }
            return !pieces.dropFirst().contains { $0.replacingOccurrences(of: " ", with: "") == "q=0" || $0 == "q=0.0" || $0 == "q=0.00" || $0 == "q=0.000" }
        }
    }

    // MARK: summary

    /// `GET /v1/orgunits/{id}/summary`: for the unit's whole subtree, the instances, how
    /// many lie outside their unit's polygon, how many wait for attachments, how many
    /// records are in conflict, and the changes awaiting review. Supervisors and admins.
    @Sendable func summary(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let account = try caller.requireAccount()
        guard let id = context.parameters.get("id").flatMap(UUID.init(text:)) else { throw APIError.notFound("org unit does not exist") }
        let logger = context.logger
        let admin = caller.role == .admin
        let supervises = admin || caller.role == .supervisor
        let mine = caller.orgUnitIds
        let projects = caller.projectIds
        let doc = try await database.withConnection { c in
            let store = OrgUnitStore(account: account, connection: c, logger: logger)
            guard let row = try await store.load(id), row.status == "validated" else { throw APIError.notFound("org unit \(id.lowercased) does not exist") }
            let myPaths = admin ? [] : try await store.paths(of: mine)
            guard admin || OrgUnitStore.isWithin(row.path, myPaths) else {
                throw APIError.forbidden("org unit \(id.lowercased) is outside your org units")
            }
            guard supervises else { throw APIError.forbidden("only supervisors and admins see summaries") }
            return try await c.query(
                """
                WITH sub AS (SELECT id FROM org_units WHERE account_id = \(account) AND path <@ \(row.path)::ltree)
                SELECT json_build_object(
                    'orgUnitId', \(id),
                    'units', (SELECT count(*) FROM sub),
                    'instances', count(i.id),
                    'outsideOrgUnit', count(i.id) FILTER (WHERE i.outside_org_unit),
                    'incomplete', count(i.id) FILTER (WHERE NOT i.complete),
                    'instancesInConflict', count(i.id) FILTER (WHERE i.has_conflicts),
                    'entitiesInConflict', (SELECT count(*) FROM entities e WHERE e.account_id = \(account) AND e.has_conflicts
                                             AND e.org_unit_id IN (SELECT id FROM sub) AND (\(admin) OR e.project_id = ANY(\(projects)::uuid[]))),
                    'pendingChanges', (SELECT count(*) FROM orgunit_change_requests r WHERE r.account_id = \(account) AND r.status = 'pending'
                                         AND r.org_unit_id IN (SELECT id FROM sub)))::text
                FROM instances i
                WHERE i.account_id = \(account) AND i.org_unit_id IN (SELECT id FROM sub) AND (\(admin) OR i.project_id = ANY(\(projects)::uuid[]))
                """, logger: logger
            ).collect { try $0.decode(String.self) }.first ?? "{}"
        }
        return JSONBody.response(bytes: Array(doc.utf8))
    }
}
