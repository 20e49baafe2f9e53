import FieldSyncCore
import FieldSyncODK
import Foundation
import Hummingbird
import Logging
import NIOCore

/// The part of ODK Central's REST API that pyodk's read calls use, under `/odk/v1/`
/// (pyodk's `base_url` is the server URL with `/odk`; it appends `/v1/`):
/// `POST sessions` to sign in, `GET users/current` to check a cached token, then
/// projects, forms and submissions by Central's names (integer project ids, XForm ids,
/// instanceIDs). The same users, tokens and scope as `/v1`: a token from either works on
/// both. Errors are FieldSync's JSON errors (pyodk reads only the status).
struct CentralController {
    let database: Database
    let auth: AuthController

    /// `POST sessions`, open: the one route that needs no token.
    func addOpenRoutes(to router: RouterGroup<AppRequestContext>) {
        router.post("sessions", use: signIn)
    }

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.get("users/current", use: currentUser)
        router.get("projects", use: listProjects)
        router.get("projects/:projectId", use: getProject)
        router.get("projects/:projectId/forms", use: listForms)
        router.get("projects/:projectId/datasets", use: listEntityLists)
        router.get("projects/:projectId/forms/:formId", use: getForm)
        router.get("projects/:projectId/forms/:formId/submissions", use: listSubmissions)
        router.post("projects/:projectId/forms/:formId/submissions", use: createSubmission)
        router.get("projects/:projectId/forms/:formId/submissions/:instanceId", use: getSubmission)
        router.get("projects/:projectId/forms/:formId/submissions/:instanceId/attachments", use: listAttachments)
        router.get("projects/:projectId/forms/:formId/submissions/:instanceId/attachments/:filename", use: downloadAttachment)
        router.post("projects/:projectId/forms/:formId/submissions/:instanceId/attachments/:filename", use: uploadAttachment)
        addEntityRoutes(to: router)
        addFormRoutes(to: router)
        addODataRoutes(to: router)
    }

    // MARK: sessions and users

    /// `POST sessions` `{"email","password"}`: Central signs in by email; FieldSync's
    /// users have usernames, which `email` carries. Answers `{token, expiresAt, createdAt}`
    /// with the same rate limit and refusals as `POST /v1/auth/token`.
    @Sendable func signIn(_ request: Request, context: AppRequestContext) async throws -> Response {
        let body = try await JSONBody.read(request, limit: auth.config.maxPushBytes)
        let username: String, password: String
        do {
            let r = try ObjectReader(body, path: "")
            try RequestChecks.rejectNullMembers(r, of: ["email", "password"])
            username = try r.requiredString("email")
            password = try r.requiredString("password")
        } catch {
            throw APIError(error, status: .badRequest)
        }
        let signedIn = try await auth.authenticate(username: username, password: password, deviceId: nil, context: context)
        return JSONBody.response(
            .object([
                "token": .string(signedIn.token),
                "expiresAt": .string(signedIn.expires.rfc3339),
                "createdAt": .string(Date().rfc3339),
            ]))
    }

    /// `GET users/current`: the caller as Central's `User` (pyodk checks a cached token
    /// with it).
    @Sendable func currentUser(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let user = try await database.withConnection { c in
            try await CentralStore.user(caller.userId, connection: c, logger: context.logger)
        }
        guard let user else { throw APIError.unauthorized("the token's user no longer exists") }
        return JSONBody.response(
            .object([
                "id": .number(Double(user.odkId)), "type": .string("user"), "displayName": .string(user.username),
                "email": .string(user.username), "createdAt": .string(user.createdAt.rfc3339),
                "updatedAt": .null, "deletedAt": .null,
            ]))
    }

    // MARK: projects

    @Sendable func listProjects(_ request: Request, context: AppRequestContext) async throws -> Response {
        let scope = try context.requireCaller().requireScope()
        let projects = try await database.withConnection { c in
            try await CentralStore(scope: scope, connection: c, logger: context.logger).projects()
        }
        return JSONBody.response(.array(projects.map(Self.json)))
    }

    @Sendable func getProject(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (_, project) = try await self.project(context)
        return JSONBody.response(Self.json(project))
    }

    /// The project of the URL's integer id, which the caller must be in.
    func project(_ context: AppRequestContext) async throws -> (CallerScope, CentralStore.Project) {
        try await ODKProject.resolve(context, database: database)
    }

    static func json(_ p: CentralStore.Project) -> JSONValue {
        .object([
            "id": .number(Double(p.odkId)), "name": .string(p.name), "description": .null, "archived": .bool(false),
            "keyId": .null, "createdAt": .string(p.createdAt.rfc3339), "updatedAt": .null, "deletedAt": .null,
        ])
    }

    // MARK: entity lists

    /// `GET projects/{n}/datasets` (pyodk's `entity_lists.list`): the account's entity
    /// types, which every project of the account shares (Central's belong to one project).
    @Sendable func listEntityLists(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (scope, project) = try await self.project(context)
        let lists = try await database.withConnection { c in
            try await CentralStore(scope: scope, connection: c, logger: context.logger).entityLists()
        }
        return JSONBody.response(
            .array(
                lists.map { l in
                    .object([
                        "name": .string(l.name), "projectId": .number(Double(project.odkId)), "createdAt": .string(l.createdAt.rfc3339),
                        "approvalRequired": .bool(false),
                    ])
                }))
    }

    // MARK: forms

    @Sendable func listForms(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (scope, project) = try await self.project(context)
        let forms = try await database.withConnection { c in
            try await CentralStore(scope: scope, connection: c, logger: context.logger).forms(project: project.id)
        }
        return JSONBody.response(.array(forms.map { Self.json($0, project: project) }))
    }

    /// `GET …/forms/{id}`: Central's `Form`; `GET …/forms/{id}.xml` (pyodk's `get_xml`):
    /// its XForm as uploaded.
    @Sendable func getForm(_ request: Request, context: AppRequestContext) async throws -> Response {
        let raw = RequestChecks.pathParameter(context, "formId") ?? ""
        if raw.hasSuffix(".xml"), raw.count > 4 {
            let (scope, project, form) = try await self.form(context, formId: String(raw.dropLast(4)))
            let xml = try await database.withConnection { c in
                try await ODKStore(account: scope.account, connection: c, logger: context.logger)
                    .publishedForm(project: project.id, formId: form.xmlFormId, version: nil)?.xml
            }
            guard let xml else { throw APIError.notFound("form \(form.xmlFormId.prefix(100)) has no XForm") }
            return Response(
                status: .ok, headers: [.contentType: "application/xml; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: xml)))
        }
        let (_, project, form) = try await self.form(context)
        return JSONBody.response(Self.json(form, project: project))
    }

    /// The form of the URL's XForm id in the URL's project.
    func form(_ context: AppRequestContext, formId named: String? = nil) async throws -> (CallerScope, CentralStore.Project, CentralStore.Form) {
        let (scope, project) = try await self.project(context)
        let formId = named ?? RequestChecks.pathParameter(context, "formId") ?? ""
        let form = try await database.withConnection { c in
            try await CentralStore(scope: scope, connection: c, logger: context.logger).forms(project: project.id, formId: formId).first
        }
        guard let form else { throw APIError.notFound("form \(formId.prefix(100)) does not exist in project \(project.odkId)") }
        return (scope, project, form)
    }

    /// Central's `Form`: every key present (pyodk's model requires them), the hash being
    /// the XForm's MD5 as in formList.
    static func json(_ f: CentralStore.Form, project: CentralStore.Project) -> JSONValue {
        .object([
            "projectId": .number(Double(project.odkId)), "xmlFormId": .string(f.xmlFormId), "name": .string(f.name),
            "version": .string(f.version), "hash": .string(f.md5), "state": .string("open"),
            "enketoId": .null, "keyId": .null, "createdAt": .string(f.createdAt.rfc3339),
            "updatedAt": .null, "publishedAt": .string(f.publishedAt.rfc3339),
        ])
    }

    // MARK: submissions

    /// `GET …/submissions`: supervisors and admins (Central's data collectors cannot list
    /// submissions either); a supervisor sees those under its units.
    @Sendable func listSubmissions(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (scope, project, form) = try await self.form(context)
        guard scope.reviews else { throw APIError.forbidden("listing submissions needs a supervisor or an admin") }
        let subs = try await database.withConnection { c in
            try await CentralStore(scope: scope, connection: c, logger: context.logger).submissions(form: form.form, project: project.id)
        }
        return JSONBody.response(.array(subs.map(Self.json)))
    }

    @Sendable func getSubmission(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (scope, project, form) = try await self.form(context)
        guard scope.reviews else { throw APIError.forbidden("reading submissions needs a supervisor or an admin") }
        let iid = RequestChecks.pathParameter(context, "instanceId") ?? ""
        let sub = try await database.withConnection { c in
            try await CentralStore(scope: scope, connection: c, logger: context.logger)
                .submissions(form: form.form, project: project.id, instanceId: iid).first
        }
        guard let sub else { throw APIError.notFound("submission \(iid.prefix(100)) does not exist in form \(form.xmlFormId.prefix(100))") }
        return JSONBody.response(Self.json(sub))
    }

    /// `GET …/submissions/{instanceId}/attachments`: `[{name, exists}]`, the files the
    /// submission's answers name and those received (pyodk reads it after every create).
    /// Its sender may read it, and supervisors and admins who may see the submission.
    @Sendable func listAttachments(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (scope, project, form) = try await self.form(context)
        let iid = RequestChecks.pathParameter(context, "instanceId") ?? ""
        let limits = ODKLimits.default
        let logger = context.logger
        let files: [String: Bool]? = try await database.withConnection { c in
            let central = CentralStore(scope: scope, connection: c, logger: logger)
            guard let stored = try await central.submissionXML(form: form.form, instanceId: iid) else { return nil }
            if stored.user != scope.user {
                guard scope.reviews else { throw APIError.forbidden("you may read the files of your own submissions only") }
                guard try await !central.submissions(form: form.form, project: project.id, instanceId: iid).isEmpty else { return nil }
            }
            let odk = ODKStore(account: scope.account, connection: c, logger: logger)
            var files: [String: Bool] = [:]
            // The names its answers give, read with the form version it was sent for.
            if let root = try? ODKSubmissionParser.document(Array(stored.xml.utf8), limits: limits),
                let header = try? ODKSubmissionParser.header(root),
                let version = try await odk.publishedForm(project: project.id, formId: header.formID, version: header.version),
                let xform = try? XFormParser.parse(Array(version.xml.utf8), limits: limits),
                let parsed = try? ODKSubmissionParser.parse(document: root, form: xform)
            {
                for name in parsed.attachmentNames { files[name] = false }
            }
            for file in try await odk.files(iid) { files[file.name] = true }
            return files
        }
        guard let files else { throw APIError.notFound("submission \(iid.prefix(100)) does not exist in form \(form.xmlFormId.prefix(100))") }
        return JSONBody.response(.array(files.keys.sorted().map { .object(["name": .string($0), "exists": .bool(files[$0] ?? false)]) }))
    }

    /// `GET …/submissions/{instanceId}/attachments/{name}`: a file received, as it was
    /// sent (its sender, and supervisors and admins who see the submission, as the list).
    @Sendable func downloadAttachment(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (scope, project, form) = try await self.form(context)
        let iid = RequestChecks.pathParameter(context, "instanceId") ?? ""
        let name = RequestChecks.pathParameter(context, "filename") ?? ""
        let logger = context.logger
        let found: (VersionedItem.Attachment, [UInt8])? = try await database.withConnection { c in
            let central = CentralStore(scope: scope, connection: c, logger: logger)
            guard let stored = try await central.submissionXML(form: form.form, instanceId: iid) else { return nil }
            if stored.user != scope.user {
                guard scope.reviews else { throw APIError.forbidden("you may read the files of your own submissions only") }
                guard try await !central.submissions(form: form.form, project: project.id, instanceId: iid).isEmpty else { return nil }
            }
            guard let file = try await ODKStore(account: scope.account, connection: c, logger: logger).files(iid).first(where: { $0.name == name }),
                let digest = Hex.bytes(file.sha256),
                let bytes = try await AttachmentStore(connection: c, logger: logger).read(account: scope.account, sha256: digest)
            else { return nil }
            return (file, bytes)
        }
        guard let (file, bytes) = found else {
            throw APIError.notFound("submission \(iid.prefix(100)) of form \(form.xmlFormId.prefix(100)) has no file \(name.prefix(100))")
        }
        return Response(
            status: .ok, headers: OpenRosa.fileHeaders(contentType: file.contentType ?? "application/octet-stream", filename: file.name),
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// `POST …/submissions/{instanceId}/attachments/{name}`, the file as the body (pyodk's
    /// `submissions.create(attachments=)`, after the XML): ``ODKSubmissionWriter/addFile``.
    @Sendable func uploadAttachment(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (scope, project, form) = try await self.form(context)
        let iid = RequestChecks.pathParameter(context, "instanceId") ?? ""
        let name = RequestChecks.pathParameter(context, "filename") ?? ""
        let limits = ODKLimits.default
        let limit = min(auth.config.maxAttachmentBytes, limits.maxMultipartBytes)
        let bytes = Array(buffer: try await JSONBody.collect(request, limit: limit, setting: "FIELDSYNC_MAX_ATTACHMENT_BYTES"))
        let rewritten = try await ODKSubmissionWriter(
            scope: scope, project: project.id, projectName: "\(project.odkId)", limits: limits,
            database: database, logger: context.logger
        )
        .addFile(
            instanceID: iid, form: form.xmlFormId, name: name, bytes: bytes,
            contentType: request.headers[.contentType].map { String($0.prefix(200)) })
        context.logger.info("odk submission file", metadata: ["project": "\(project.odkId)", "size": "\(bytes.count)", "rewritten": "\(rewritten)"])
        return JSONBody.response(.object(["success": .bool(true)]))
    }

    /// `POST …/submissions[?deviceID=]` with the submission XML as the body (pyodk's
    /// `submissions.create`): written as Collect's are (``ODKSubmissionWriter``), filed
    /// under the caller's first org unit, at once (files the answers name and the body
    /// cannot carry are not waited for). Answers the submission as `GET` shows it.
    @Sendable func createSubmission(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (scope, project, form) = try await self.form(context)
        let limits = ODKLimits.default
        let body = Array(buffer: try await JSONBody.collect(request, limit: limits.maxXMLBytes, setting: "the XML limit"))
        let root: ODKXMLElement
        let header: ODKSubmissionParser.Header
        do throws(ODKError) {
            root = try ODKSubmissionParser.document(body, limits: limits)
            header = try ODKSubmissionParser.header(root)
        } catch { throw APIError(error) }
        guard header.formID == form.xmlFormId else {
            throw APIError.badRequest(
                "the submission is of form \(header.formID.prefix(100)), not \(form.xmlFormId.prefix(100)) of the URL", field: "id")
        }
        let incoming = ODKSubmissionWriter.Incoming(
            xml: body, root: root, header: header, files: [], complete: true,
            deviceID: request.uri.queryParameters["deviceID"].map(String.init),
            userAgent: request.headers[.userAgent].map { String($0.prefix(200)) })
        let written = try await ODKSubmissionWriter(
            scope: scope, project: project.id, projectName: "\(project.odkId)", limits: limits,
            database: database, logger: context.logger
        ).write(incoming)
        let sub = try await database.withConnection { c in
            try await CentralStore(scope: scope, connection: c, logger: context.logger)
                .submissions(form: written.form, project: project.id, instanceId: written.instanceID).first
        }
        guard let sub else { throw APIError.unavailable("the submission was written but could not be read back") }
        context.logger.info("odk submission", metadata: ["project": "\(project.odkId)", "outcome": "\(written.outcome)"])
        return JSONBody.response(Self.json(sub))
    }

    /// Central's `Submission`; `deviceId` is the FieldSync device the phone writes as.
    static func json(_ s: CentralStore.Submission) -> JSONValue {
        .object([
            "instanceId": .string(s.instanceId), "submitterId": .number(Double(s.submitterOdkId)),
            "deviceId": .string(s.device.lowercased), "createdAt": .string(s.createdAt.rfc3339),
            "updatedAt": s.updatedAt.map { .string($0.rfc3339) } ?? .null,
            "reviewState": s.updatedAt == nil ? .null : .string("edited"), "userAgent": .null, "instanceName": .null,
        ])
    }
}
