import FieldSyncCore
import FieldSyncODK
import Foundation
import Hummingbird
import Logging

/// Central's form uploads, as pyodk's `forms.create` and `forms.update` call them: an
/// XForm is posted as a new form (`POST …/forms`, published at once with `publish=true`,
/// else kept as the form's draft) or as a new draft of a form (`POST …/forms/{id}/draft`);
/// files the XForm names are uploaded to the draft (`…/draft/attachments/{name}`);
/// `…/draft/publish` makes the draft a form version, as ``XFormPublisher`` publishes every
/// XForm. XLSForms are not converted here: convert them with pyxform first. Admins only.
extension CentralController {
    func addFormRoutes(to router: RouterGroup<AppRequestContext>) {
        router.post("projects/:projectId/forms", use: createForm)
        router.post("projects/:projectId/forms/:formId/draft", use: createDraft)
        router.post("projects/:projectId/forms/:formId/draft/attachments/:filename", use: uploadDraftAttachment)
        router.post("projects/:projectId/forms/:formId/draft/publish", use: publishDraft)
    }

    /// The URL's project, for an admin.
    func adminProject(_ context: AppRequestContext) async throws -> (CallerScope, CentralStore.Project) {
        let (scope, project) = try await self.project(context)
        guard scope.everything else { throw APIError.forbidden("uploading forms needs an admin") }
        return (scope, project)
    }

    /// The body as an XForm: XML only (pyodk sends XLSX as it is; Central converts it,
    /// FieldSync does not).
    static func xform(_ request: Request) async throws -> (XForm, [UInt8]) {
        guard let found = try await optionalXForm(request) else {
            throw APIError.badRequest("the body is the XForm (XML); it is empty", field: "body")
        }
        return found
    }

    /// The body as an XForm, nil when the body is empty.
    static func optionalXForm(_ request: Request) async throws -> (XForm, [UInt8])? {
        let type = request.headers[.contentType].map { $0.lowercased() } ?? ""
        if type.contains("spreadsheet") || type.contains("ms-excel") {
            throw APIError(
                .unsupportedMediaType, code: ErrorCode.invalidRequest,
                message: "FieldSync takes XForms (XML) only: convert the XLSForm with pyxform (xls2xform) and upload the XML")
        }
        let body = Array(buffer: try await JSONBody.collect(request, limit: ODKLimits.default.maxXMLBytes, setting: "the XForm limit"))
        guard !body.isEmpty else { return nil }
        do { return (try XFormParser.parse(body), body) } catch { throw APIError(error) }
    }

    /// `POST projects/{n}/forms[?publish=true]`, the XForm as the body: a new form of the
    /// project (409 when the project has a form with its id: update it through a draft).
    /// Answers Central's `Form`; a form kept as a draft has `publishedAt` null.
    @Sendable func createForm(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (scope, project) = try await adminProject(context)
        let publish = try Self.flag(request, "publish") ?? false
        let (form, body) = try await Self.xform(request)
        let version = try XFormPublisher.version(of: form)
        let logger = context.logger
        let title = form.title.isEmpty ? form.formID : form.title
        let created = try await database.transaction { c in
            let odk = ODKStore(account: scope.account, connection: c, logger: logger)
            let drafts = ODKFormStore(account: scope.account, connection: c, logger: logger)
            let published = try await odk.publishedForm(project: project.id, formId: form.formID, version: nil)
            let draft = try await drafts.draft(project: project.id, formId: form.formID)
            if published != nil || draft != nil {
                throw APIError.conflict(
                    ErrorCode.alreadyExists,
                    "project \(project.odkId) has a form \(form.formID.prefix(100)) already; post a new version to …/forms/\(form.formID.prefix(100))/draft",
                    field: "id")
            }
            if publish {
                _ = try await XFormPublisher(scope: scope, connection: c, logger: logger).publish(form, xml: body, project: project.id)
            } else {
                try await drafts.saveDraft(project: project.id, formId: form.formID, xml: String(decoding: body, as: UTF8.self))
            }
            return Date()
        }
        logger.info("odk form created", metadata: ["formId": "\(form.formID.prefix(100))", "published": "\(publish)"])
        return JSONBody.response(
            .object([
                "projectId": .number(Double(project.odkId)), "xmlFormId": .string(form.formID), "name": .string(title),
                "version": .string(version), "hash": .string(OpenRosa.md5Hex(body)), "state": .string("open"),
                "enketoId": .null, "keyId": .null, "createdAt": .string(created.rfc3339), "updatedAt": .null,
                "publishedAt": publish ? .string(created.rfc3339) : .null,
            ]))
    }

    /// `POST …/forms/{id}/draft`: the body's XForm (of the same id) as the form's new
    /// draft; with no body, the published XForm again (to give it new media).
    @Sendable func createDraft(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (scope, project) = try await adminProject(context)
        let formId = RequestChecks.pathParameter(context, "formId") ?? ""
        let logger = context.logger
        var uploaded: String?
        if let (form, body) = try await Self.optionalXForm(request) {
            guard form.formID == formId else {
                throw APIError.badRequest("the XForm's id is \(form.formID.prefix(100)), not \(formId.prefix(100)) of the URL", field: "id")
            }
            uploaded = String(decoding: body, as: UTF8.self)
        }
        let xml = uploaded
        try await database.transaction { c in
            let odk = ODKStore(account: scope.account, connection: c, logger: logger)
            let drafts = ODKFormStore(account: scope.account, connection: c, logger: logger)
            let published = try await odk.publishedForm(project: project.id, formId: formId, version: nil)
            guard let text = xml ?? published?.xml else {
                throw APIError.notFound("form \(formId.prefix(100)) does not exist in project \(project.odkId)")
            }
            try await drafts.saveDraft(project: project.id, formId: formId, xml: text)
        }
        return JSONBody.response(.object(["success": .bool(true)]))
    }

    /// `POST …/forms/{id}/draft/attachments/{name}`, the file as the body: a media file of
    /// the draft; the name must be one its XForm uses (404 otherwise, as Central).
    @Sendable func uploadDraftAttachment(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (scope, project) = try await adminProject(context)
        let formId = RequestChecks.pathParameter(context, "formId") ?? ""
        let filename = RequestChecks.pathParameter(context, "filename") ?? ""
        let logger = context.logger
        let draft = try await database.withConnection { c in
            try await ODKFormStore(account: scope.account, connection: c, logger: logger).draft(project: project.id, formId: formId)
        }
        guard let draft else { throw APIError.notFound("form \(formId.prefix(100)) has no draft in project \(project.odkId)") }
        let names = Set(((try? XFormParser.parse(Array(draft.xml.utf8)))?.mediaFiles ?? []).map(\.filename))
        guard names.contains(filename) else {
            throw APIError.notFound("the draft of \(formId.prefix(100)) uses no file named \(filename.prefix(100))")
        }
        let limit = min(auth.config.maxAttachmentBytes, ODKLimits.default.maxMultipartBytes)
        let bytes = Array(buffer: try await JSONBody.collect(request, limit: limit, setting: "the form media limit"))
        let sha = OpenRosa.sha256(bytes)
        let media = ODKFormStore.Media(
            filename: filename, sha256: sha, md5: OpenRosa.md5Hex(bytes), size: Int64(bytes.count),
            contentType: request.headers[.contentType].map { String($0.prefix(200)) } ?? "application/octet-stream")
        try await database.transaction { c in
            try await AttachmentStore(connection: c, logger: logger)
                .storeWhole(account: scope.account, sha256: sha, bytes: bytes, chunkSize: AttachmentController.chunkSize)
            try await ODKFormStore(account: scope.account, connection: c, logger: logger).putDraftMedia(project: project.id, formId: formId, media)
        }
        logger.info("odk form media uploaded", metadata: ["formId": "\(formId.prefix(100))", "size": "\(bytes.count)"])
        return JSONBody.response(.object(["success": .bool(true)]))
    }

    /// `POST …/forms/{id}/draft/publish[?version=]`: the draft becomes a version of the
    /// form. FieldSync does not rewrite XForms, so `version` must be the draft's own (a new
    /// version comes with a new XForm).
    @Sendable func publishDraft(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (scope, project) = try await adminProject(context)
        let formId = RequestChecks.pathParameter(context, "formId") ?? ""
        let wanted = try RequestChecks.nonEmptyQuery(request, "version")
        let logger = context.logger
        let published = try await database.transaction { c in
            let drafts = ODKFormStore(account: scope.account, connection: c, logger: logger)
            guard let draft = try await drafts.draft(project: project.id, formId: formId) else {
                throw APIError.notFound("form \(formId.prefix(100)) has no draft in project \(project.odkId)")
            }
            let body = Array(draft.xml.utf8)
            let form: XForm
            do throws(ODKError) { form = try XFormParser.parse(body) } catch { throw APIError(error) }
            if let wanted, wanted != form.version {
                throw APIError.badRequest(
                    "the draft's XForm has version \((form.version ?? "").prefix(100)); FieldSync does not rewrite XForms: upload a draft whose XForm has version \(wanted.prefix(100))",
                    field: "version")
            }
            let published = try await XFormPublisher(scope: scope, connection: c, logger: logger).publish(form, xml: body, project: project.id)
            guard published.created else {
                throw APIError.conflict(
                    ErrorCode.alreadyExists,
                    "form \(formId.prefix(100)) has version \(published.version.prefix(100)) published already; give the draft a new version",
                    field: "version")
            }
            try await drafts.deleteDraft(project: project.id, formId: formId)
            return published
        }
        logger.info("odk form published", metadata: ["formId": "\(formId.prefix(100))", "version": "\(published.version.prefix(100))"])
        return JSONBody.response(.object(["success": .bool(true)]))
    }

    /// A `true`/`false` query parameter (any case: pyodk sends Python's `True`).
    static func flag(_ request: Request, _ name: String) throws -> Bool? {
        guard let raw = request.uri.queryParameters[Substring(name)].map({ String($0).lowercased() }) else { return nil }
        guard raw == "true" || raw == "false" else { throw APIError.badRequest("\(name) must be true or false", field: name) }
        return raw == "true"
    }
}
