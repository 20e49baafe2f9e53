import CZlib
import FieldSyncCore
import FieldSyncODK
import Foundation
import Hummingbird
import Logging

/// The administration side of ODK: XForms uploaded as form versions, and app users (the
/// credential a phone running ODK Collect carries in its server URL).
struct ODKAdminController {
    let database: Database
    let config: ServerConfiguration

    /// How long an app user's key holds: as long as a phone stays in the field.
    static let appUserKeySeconds = 10 * 365 * 24 * 3600

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.post("forms/xform", use: uploadXForm)
        router.post("app-users", use: createAppUser)
    }

    /// `POST /v1/forms/xform?projectId=` with the XForm as the body (`application/xml`):
    /// parsed for real (form id and version from the primary instance, questions from
    /// binds and body), stored as a version of the form whose `formId` is the XForm's id
    /// (the form is created on its first upload), with the questions as its `fields`.
    @Sendable func uploadXForm(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        try caller.requireAdmin()
        let scope = try caller.requireScope()
        guard let raw = try RequestChecks.nonEmptyQuery(request, "projectId") else {
            throw APIError.badRequest("projectId is required: the project the form is published in", field: "projectId")
        }
        guard let project = UUID(text: raw) else { throw APIError.badRequest("projectId must be a UUID", field: "projectId") }
        let body = Array(buffer: try await JSONBody.collect(request, limit: ODKLimits.default.maxXMLBytes, setting: "the XForm limit"))
        let form: XForm
        do { form = try XFormParser.parse(body) } catch { throw APIError(error) }
        let stored = try await database.transaction { c in
            try await XFormPublisher(scope: scope, connection: c, logger: context.logger).publish(form, xml: body, project: project)
        }
        let version = stored.version
        context.logger.info("xform stored", metadata: ["formId": "\(form.formID.prefix(100))", "version": "\(version.prefix(100))"])
        return JSONBody.response(
            .object([
                "id": .string(stored.form.lowercased), "formId": .string(form.formID), "name": .string(stored.title), "version": .string(version),
                "md5": .string(stored.md5), "fields": form.fieldsJSON, "created": .bool(stored.created),
            ]), status: stored.created ? .created : .ok)
    }

    /// `POST /v1/app-users` `{"projectId","orgUnitIds","name"?}` (admins): an agent of
    /// the project and units with a long-lived key, and what Collect needs to use it: the
    /// server URL and the settings its QR code holds (JSON, zlib, base64).
    @Sendable func createAppUser(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        try caller.requireAdmin()
        let scope = try caller.requireScope()
        let r = try await AdminRequest.read(request, limit: config.maxPushBytes)
        let (project, units, label) = try AdminRequest.validate { () throws(ItemError) -> (UUID, [UUID], String?) in
            let project = try r.requiredUUID("projectId")
            let units = try AdminRequest.uuids(r, "orgUnitIds") ?? []
            guard !units.isEmpty else {
                throw ItemError.invalidField("orgUnitIds", "an app user needs at least one org unit to file submissions under")
            }
            let label = try r.value("name") == nil ? nil : try AdminRequest.name(r)
            return (project, units, label)
        }
        let id = UUID()
        let username = "app-" + id.lowercased.prefix(8)
        // No one signs in with it: the password is random and never shown.
        let hash = try await AuthStore.hashPassword(AuthStore.newToken())
        let user = AccountStore.User(id: id, username: username, role: .agent, accountId: scope.account, projectIds: [project], orgUnitIds: units)
        let (key, odkId, projectName) = try await database.transaction { c in
            let accounts = AccountStore(connection: c, logger: context.logger)
            try await accounts.requireReferences(account: scope.account, projects: [project], units: units)
            try await accounts.createUser(user, passwordHash: hash)
            let odk = ODKStore(account: scope.account, connection: c, logger: context.logger)
            guard let odkId = try await odk.odkId(of: project),
                let p = try await CentralStore(scope: scope, connection: c, logger: context.logger).project(odkId: odkId)
            else {
                throw APIError.notFound("project \(project.lowercased) does not exist")
            }
            let (key, _) = try await AuthStore(connection: c, logger: context.logger)
                .issueToken(userId: id, deviceId: nil, ttlSeconds: Self.appUserKeySeconds)
            return (key, odkId, p.name)
        }
        let serverURL = OpenRosa.baseURL(request, key: key, project: odkId)
        let settings: JSONValue = .object([
            "general": .object([
                "server_url": .string(serverURL), "form_update_mode": .string("match_exactly"),
                "autosend": .string("wifi_and_cellular"), "username": .string(label ?? username),
            ]),
            "admin": .object([:]),
            "project": .object(["name": .string(projectName)]),
        ])
        let settingsText = JSONWriter.string(settings)
        context.logger.info("app user created", metadata: ["target": "\(id.lowercased)"])
        return JSONBody.response(
            .object([
                "user": user.json, "key": .string(key), "odkProjectId": .number(Double(odkId)), "serverUrl": .string(serverURL),
                "settings": settings, "settingsQR": .string(try Self.zlibBase64(Array(settingsText.utf8))),
            ]), status: .created)
    }

    /// What Collect's QR code holds: the settings JSON, zlib-compressed, base64.
    static func zlibBase64(_ bytes: [UInt8]) throws -> String {
        var size = compressBound(uLong(bytes.count))
        var out = [UInt8](repeating: 0, count: Int(size))
        let status = out.withUnsafeMutableBufferPointer { o in
            bytes.withUnsafeBufferPointer { i in compress2(o.baseAddress, &size, i.baseAddress, uLong(i.count), Z_BEST_COMPRESSION) }
        }
        guard status == Z_OK else { throw APIError.unavailable("zlib could not compress the settings (status \(status))") }
        return Data(out.prefix(Int(size))).base64EncodedString()
    }
}
