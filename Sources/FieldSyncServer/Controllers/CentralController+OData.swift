import FieldSyncCore
import FieldSyncODK
import Foundation
import Hummingbird
import Logging

/// Central's OData tables, as pyodk's `submissions.get_table` and `entities.get_table`
/// read them: `…/forms/{id}.svc/Submissions` and `…/datasets/{name}.svc/Entities`, paged
/// with `$top`, `$skip` and `$count` (``ODataTable``). Rows are what the caller may see,
/// as the JSON lists answer them.
extension CentralController {
    func addODataRoutes(to router: RouterGroup<AppRequestContext>) {
        // `{id}.svc` is one path segment: the parameter holds the `.svc`, taken off below.
        router.get("projects/:projectId/forms/:formId/Submissions", use: submissionsTable)
        router.get("projects/:projectId/datasets/:name/Entities", use: entitiesTable)
    }

    /// The name before `.svc` of a table URL's parameter (404 without it).
    static func serviceName(_ context: AppRequestContext, _ parameter: String) throws -> String {
        let raw = RequestChecks.pathParameter(context, parameter) ?? ""
        guard raw.hasSuffix(".svc"), raw.count > 4 else {
            throw APIError.notFound("no such table: OData URLs name the form or entity list followed by .svc")
        }
        return String(raw.dropLast(4))
    }

    static func odataQuery(_ request: Request) throws -> ODataTable.Query {
        var parameters: [String: String] = [:]
        // Clients send `$top` as `%24top`: Hummingbird decodes values, not names.
        for (key, value) in request.uri.queryParameters {
            let name = String(key).removingPercentEncoding ?? String(key)
            if parameters[name] == nil { parameters[name] = String(value) }
        }
        do { return try ODataTable.Query(parameters: parameters) } catch { throw APIError(error, status: .badRequest) }
    }

    /// The URL of `path` under Central's API on the host the caller used.
    static func centralURL(_ request: Request, _ path: String) -> String {
        "\(OpenRosa.origin(request))/odk/v1/\(path)"
    }

    static func nextLink(_ request: Request, _ path: String, query: ODataTable.Query) -> (Int) -> String {
        { skip in
            var parts = ["$skip=\(skip)"]
            if let top = query.top { parts.insert("$top=\(top)", at: 0) }
            if query.count { parts.append("$count=true") }
            if query.wkt { parts.append("$wkt=true") }
            if query.expand { parts.append("$expand=*") }
            return centralURL(request, path) + "?" + parts.joined(separator: "&")
        }
    }

    /// `GET …/forms/{id}.svc/Submissions` (supervisors and admins, as the list): one row
    /// per submission at its latest edit, read with the form version it was sent for.
    @Sendable func submissionsTable(_ request: Request, context: AppRequestContext) async throws -> Response {
        let formId = try Self.serviceName(context, "formId")
        let (scope, project, form) = try await self.form(context, formId: formId)
        guard scope.reviews else { throw APIError.forbidden("reading submissions needs a supervisor or an admin") }
        let query = try Self.odataQuery(request)
        let limits = ODKLimits.default
        let logger = context.logger
        // Only this page's submissions are read with their form (the count needs none).
        let (rows, range, total): ([[String: JSONValue]], Range<Int>, Int) = try await database.withConnection { c in
            let subs = try await CentralStore(scope: scope, connection: c, logger: logger)
                .submissions(form: form.form, project: project.id, withXML: true)
            let range = ODataTable.page(count: subs.count, query: query)
            let odk = ODKStore(account: scope.account, connection: c, logger: logger)
            var xforms: [String: XForm] = [:]
            var rows: [[String: JSONValue]] = []
            for s in subs[range] {
                let root = s.latestXML.flatMap { try? ODKSubmissionParser.document(Array($0.utf8), limits: limits) }
                let version = root.flatMap { try? ODKSubmissionParser.header($0).version } ?? form.version
                if xforms[version] == nil,
                    let stored = try await odk.publishedForm(project: project.id, formId: form.xmlFormId, version: version)
                {
                    xforms[version] = try? XFormParser.parse(Array(stored.xml.utf8), limits: limits)
                }
                // A submission its form no longer reads keeps its row, with no answers.
                var row: [String: JSONValue] = ["__id": .string(s.instanceId)]
                if let root, let xform = xforms[version] {
                    row = ODataTable.submissionRow(root, form: xform, id: s.instanceId, query: query)
                }
                row["__system"] = .object([
                    "submissionDate": .string(s.createdAt.rfc3339),
                    "updatedAt": s.updatedAt.map { .string($0.rfc3339) } ?? .null,
                    "submitterId": .string(String(s.submitterOdkId)), "submitterName": .string(s.submitterName),
                    "deviceId": .string(s.device.lowercased), "status": .null,
                    "reviewState": s.updatedAt == nil ? .null : .string("edited"),
                    "edits": .number(Double(s.versions - 1)), "formVersion": .string(version),
                ])
                rows.append(row)
            }
            return (rows, range, subs.count)
        }
        let path = "projects/\(project.odkId)/forms/\(OpenRosaController.pathSegment(form.xmlFormId)).svc"
        return JSONBody.response(
            ODataTable.document(
                context: Self.centralURL(request, path + "/$metadata#Submissions"), page: rows, range: range, total: total, query: query,
                nextLink: Self.nextLink(request, path + "/Submissions", query: query)))
    }

    /// `GET …/datasets/{name}.svc/Entities`: the entities the caller may see, deleted ones
    /// left out, each property's visible value as text (null when it has none).
    @Sendable func entitiesTable(_ request: Request, context: AppRequestContext) async throws -> Response {
        let name = try Self.serviceName(context, "name")
        let (scope, project, list) = try await entityList(context, name: name)
        let query = try Self.odataQuery(request)
        let logger = context.logger
        let (properties, entities) = try await database.withConnection { c in
            let store = CentralEntityStore(scope: scope, connection: c, logger: logger)
            return (try await store.properties(of: list.id).map(\.name), try await store.entities(list: list.id, project: project.id))
        }
        let rows: [[String: JSONValue]] = entities.filter { !$0.deleted }.map { e in
            let fields = e.fields
            var row: [String: JSONValue] = [
                "__id": .string(e.id.lowercased), "label": .string(fields["label"].map(EntityListCSV.text) ?? ""),
                "__system": .object([
                    "createdAt": .string(e.createdAt.rfc3339), "creatorId": .string(String(e.creatorOdkId)),
                    "updates": .number(Double(e.version - 1)), "updatedAt": e.version > 1 ? .string(e.versionAt.rfc3339) : .null,
                    "version": .number(Double(e.version)), "conflict": e.hasConflicts ? .string("hard") : .null,
                ]),
            ]
            for p in properties { row[p] = fields[p].map { .string(EntityListCSV.text($0)) } ?? .null }
            return row
        }
        let path = "projects/\(project.odkId)/datasets/\(OpenRosaController.pathSegment(list.name)).svc"
        return JSONBody.response(
            ODataTable.document(
                context: Self.centralURL(request, path + "/$metadata#Entities"), rows: rows, query: query,
                nextLink: Self.nextLink(request, path + "/Entities", query: query)))
    }
}
