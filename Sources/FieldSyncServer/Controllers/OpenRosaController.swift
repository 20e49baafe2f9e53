import FieldSyncCore
import FieldSyncODK
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// ODK Collect's server, to the OpenRosa spec and what Collect checks, under a server URL
/// that carries an app user's key as Central's does: `/odk/v1/key/{key}/projects/{n}`
/// then `formList`, `forms/{formId}.xml`, `forms/{formId}/manifest`, `HEAD`/`POST
/// submission`.
///
/// A submission is an instance written as a versioned write of the phone that sent it:
/// its replica is the phone's device (named by Collect's `deviceID`), its counter the
/// server's count of that phone's writes, its answers checked against the form version's
/// fields as every push is. An edit (`meta/deprecatedID`) is a later write to the same
/// instance, based on the version the edited submission made. The same instanceID with
/// the same XML is answered again as stored; with other XML, 409.
struct OpenRosaController {
    let database: Database
    let config: ServerConfiguration
    let limits = ODKLimits.default

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.get("formList", use: formList)
        router.get("forms/:formId", use: download)
        router.get("forms/:formId/manifest", use: manifest)
        router.head("submission", use: submissionHead)
        router.post("submission", use: submit)
    }

    /// The project of the URL (Central's integer id), which the caller must be in.
    func project(_ context: AppRequestContext) async throws -> (scope: CallerScope, odkId: Int64, id: UUID, key: String) {
        let scope = try context.requireCaller().requireScope()
        guard let raw = context.parameters.get("projectId"), let n = Int64(raw), n > 0 else {
            throw APIError.notFound("no such project: the URL ends in /projects/{n} with n a whole number")
        }
        let found = try await database.withConnection { c in
            try await ODKStore(account: scope.account, connection: c, logger: context.logger).project(odkId: n)
        }
        guard let found else { throw APIError.notFound("project \(n) does not exist") }
        guard scope.projects.contains(found.id) else { throw APIError.forbidden("you are not a member of project \(n)") }
        return (scope, n, found.id, context.parameters.get("key") ?? "")
    }

    // MARK: forms

    /// `GET formList`: the project's forms that have an XForm, each at its latest version.
    @Sendable func formList(_ request: Request, context: AppRequestContext) async throws -> Response {
        let p = try await project(context)
        let forms = try await database.withConnection { c in
            try await ODKStore(account: p.scope.account, connection: c, logger: context.logger).publishedForms(project: p.id)
        }
        let base = OpenRosa.baseURL(request, key: p.key, project: p.odkId)
        let entries = forms.map { f in
            let parsed = try? XFormParser.parse(Array(f.xml.utf8), limits: limits)
            let hasMedia = !(parsed?.mediaFiles.isEmpty ?? true)
            return OpenRosaWriter.FormListEntry(
                formID: f.formId, name: f.name, version: f.version, md5Hex: f.md5,
                downloadURL: "\(base)/forms/\(Self.pathSegment(f.formId)).xml",
                manifestURL: hasMedia ? "\(base)/forms/\(Self.pathSegment(f.formId))/manifest" : nil)
        }
        return OpenRosa.response(OpenRosaWriter.formList(entries))
    }

    /// `GET forms/{formId}.xml`: the XForm as uploaded.
    @Sendable func download(_ request: Request, context: AppRequestContext) async throws -> Response {
        let p = try await project(context)
        guard let file = RequestChecks.pathParameter(context, "formId"), file.hasSuffix(".xml"), file.count > 4 else {
            throw APIError.notFound("no such form: the download URL ends in {formId}.xml")
        }
        let formId = String(file.dropLast(4))
        let form = try await database.withConnection { c in
            try await ODKStore(account: p.scope.account, connection: c, logger: context.logger).publishedForm(project: p.id, formId: formId, version: nil)
        }
        guard let form else { throw APIError.notFound("form \(formId.prefix(100)) does not exist in this project") }
        return OpenRosa.response(Array(form.xml.utf8))
    }

    /// `GET forms/{formId}/manifest`: the form's media files. FieldSync stores no form
    /// media yet, so the manifest lists none (Collect then uses the form without them).
    @Sendable func manifest(_ request: Request, context: AppRequestContext) async throws -> Response {
        let p = try await project(context)
        let formId = RequestChecks.pathParameter(context, "formId") ?? ""
        let form = try await database.withConnection { c in
            try await ODKStore(account: p.scope.account, connection: c, logger: context.logger).publishedForm(project: p.id, formId: formId, version: nil)
        }
        guard form != nil else { throw APIError.notFound("form \(formId.prefix(100)) does not exist in this project") }
        return OpenRosa.response(OpenRosaWriter.manifest([]))
    }

    /// A form id as a path segment: percent-encoded beyond the unreserved characters.
    static func pathSegment(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? s
    }

    // MARK: submissions

    /// `HEAD submission`: 204 with the largest body Collect may post.
    @Sendable func submissionHead(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try await project(context)
        var headers: HTTPFields = [:]
        headers[OpenRosa.versionHeader] = "1.0"
        headers[OpenRosa.acceptLengthHeader] = String(limits.maxMultipartBytes)
        return Response(status: .noContent, headers: headers)
    }

    /// `POST submission`: `multipart/form-data` with `xml_submission_file` and the
    /// attachments, maybe split over several POSTs (`*isIncomplete*`). The instance is
    /// written once every file its answers name has arrived, or with the last POST.
    @Sendable func submit(_ request: Request, context: AppRequestContext) async throws -> Response {
        let p = try await project(context)
        let scope = p.scope
        let body = try await JSONBody.collect(request, limit: limits.maxMultipartBytes, setting: "the OpenRosa limit X-OpenRosa-Accept-Content-Length")
        guard let contentType = request.headers[.contentType] else {
            throw APIError.badRequest("a submission is multipart/form-data with an xml_submission_file part")
        }
        let upload: ODKSubmissionUpload
        let header: ODKSubmissionParser.Header
        let root: ODKXMLElement
        do throws(ODKError) {
            upload = try ODKSubmissionUpload(body: Array(buffer: body), contentType: contentType, limits: limits)
            root = try ODKSubmissionParser.document(upload.xml, limits: limits)
            header = try ODKSubmissionParser.header(root)
        } catch { throw APIError(error) }
        let logger = context.logger
        let deviceID = request.uri.queryParameters["deviceID"].map(String.init)
        let device = OpenRosa.deviceId(deviceID, account: scope.account, user: scope.user)
        guard let unit = scope.orgUnits.first else {
            throw APIError.forbidden("this app user has no org unit to file submissions under; an admin gives it one (PATCH /v1/users/{id})")
        }
        let xmlText = String(decoding: upload.xml, as: UTF8.self)
        let xmlSHA = OpenRosa.sha256(upload.xml)
        let files = upload.attachments.map { (part: $0, sha: OpenRosa.sha256($0.body)) }
        let chunk = AttachmentController.chunkSize
        let complete = upload.isIncomplete == false

        let outcome: String = try await database.transaction { c in
            let odk = ODKStore(account: scope.account, connection: c, logger: logger)
            guard let form = try await odk.publishedForm(project: p.id, formId: header.formID, version: header.version) else {
                throw APIError.invalid("form \(header.formID.prefix(100)) version \(header.version ?? "(none)") is not published in project \(p.odkId)",
                                       field: "xml_submission_file", code: ErrorCode.unknownReference)
            }
            let xform: XForm
            let submission: ODKSubmission
            do throws(ODKError) {
                xform = try XFormParser.parse(Array(form.xml.utf8), limits: limits)
                submission = try ODKSubmissionParser.parse(document: root, form: xform)
            } catch { throw APIError(error) }
            try await odk.lockSubmission(submission.instanceID)
            let attachments = AttachmentStore(connection: c, logger: logger)
            let stored = try await odk.submission(submission.instanceID)
            if let stored, stored.xmlSHA256 != xmlSHA {
                throw APIError.conflict(ErrorCode.alreadyExists,
                                        "instance \(submission.instanceID.prefix(100)) was already submitted with other content; an edit needs a new instanceID and deprecatedID")
            }
            // The edited submission, for an edit: its record and the version it made.
            var base: JSONValue = .object([:])
            var previousAnswers: [String: JSONValue] = [:]
            var record = OpenRosa.recordId(instanceID: submission.instanceID, account: scope.account)
            if let deprecated = submission.deprecatedID, stored == nil {
                guard let edited = try await odk.submission(deprecated), let version = edited.version else {
                    throw APIError.invalid("the edited submission \(deprecated.prefix(100)) has not arrived whole; send it first",
                                           field: "meta/deprecatedID", code: ErrorCode.unknownReference)
                }
                record = edited.recordId
                base = (try? JSONParser.parse(version)) ?? .object([:])
                previousAnswers = try await odk.answers(of: deprecated, form: xform, limits: limits)
            } else if let stored {
                record = stored.recordId
            }
            if stored == nil {
                try await odk.insertSubmission(submission.instanceID, record: record, form: form.form, xml: xmlText, sha256: xmlSHA,
                                               user: scope.user, device: device)
            }
            for (part, sha) in files {
                try await attachments.storeWhole(account: scope.account, sha256: sha, bytes: part.body, chunkSize: chunk)
                try await odk.addFile(submission.instanceID, name: part.filename ?? part.name, sha256: sha, size: Int64(part.body.count),
                                      contentType: part.contentType)
            }
            if stored?.version != nil { return "this submission was already received whole" }
            let received = try await odk.files(submission.instanceID)
            let names = Set(received.map(\.name))
            let missing = submission.attachmentNames.filter { !names.contains($0) }
            guard missing.isEmpty || complete else {
                return "received; waiting for \(missing.count) more file\(missing.count == 1 ? "" : "s")"
            }
            // The write: what Collect sent, as the phone's next write to the instance.
            _ = try await DeviceRegistry(connection: c, logger: logger).register(
                account: scope.account, device: device, model: deviceID.map { "ODK Collect \($0.prefix(100))" } ?? "ODK Collect",
                appVersion: request.headers[.userAgent].map { String($0.prefix(200)) }, user: scope.user)
            var changes = submission.answers
            for name in previousAnswers.keys where changes[name] == nil { changes[name] = .null }
            var item: [String: JSONValue] = [
                "kind": .string("instance"), "id": .string(record.lowercased),
                "replica": .string(device.lowercased), "counter": .number(Double(try await odk.nextCounter(device: device))),
                "editedAt": .string(Timestamp.now().description), "base": base, "changes": .object(changes),
                "attachments": .array(received.filter { submission.attachmentNames.contains($0.name) }.map(\.json)),
            ]
            if submission.deprecatedID == nil {
                item["formId"] = .string(form.formId)
                item["formVersion"] = .string(form.version)
                item["orgUnitId"] = .string(unit.lowercased)
            }
            let versioned: VersionedItem
            do throws(ItemError) { versioned = try VersionedItem(json: .object(item), kind: .instance, path: "submission", device: device) } catch {
                throw APIError(error)
            }
            let results = try await RecordWriter(scope: scope, connection: c, logger: logger)
                .process([(0, versioned)], project: p.id, device: device, batchId: OpenRosa.namedUUID("batch", scope.account, submission.instanceID))
            guard let result = results[0] else { throw APIError.unavailable("the submission was not processed") }
            if result.status == .rejected {
                let e = result.error ?? ItemError.invalidField("submission", "the submission was refused")
                throw APIError(e)
            }
            try await odk.setVersion(submission.instanceID, result.version ?? .object([:]))
            return "full submission received"
        }
        logger.info("odk submission", metadata: ["project": "\(p.odkId)", "outcome": "\(outcome)"])
        return OpenRosa.message(outcome, status: .created, nature: .submitSuccess)
    }
}
