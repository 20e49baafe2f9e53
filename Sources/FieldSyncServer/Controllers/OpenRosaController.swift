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
    /// Which XForms name media, by MD5 (formList's manifest URLs), shared by every request.
    let mediaIndex = XFormMediaIndex()

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.get("formList", use: formList)
        router.get("forms/:formId", use: download)
        router.get("forms/:formId/manifest", use: manifest)
        router.get("forms/:formId/attachments/:filename", use: mediaFile)
        router.get("datasets/:name/integrity", use: integrity)
        router.head("submission", use: submissionHead)
        router.post("submission", use: submit)
    }

    /// The project of the URL (Central's integer id), which the caller must be in.
    func project(_ context: AppRequestContext) async throws -> (scope: CallerScope, odkId: Int64, id: UUID, key: String) {
        let (scope, found) = try await ODKProject.resolve(context, database: database)
        return (scope, found.odkId, found.id, context.parameters.get("key") ?? "")
    }

    // MARK: forms

    /// `GET formList`: the project's forms that have an XForm, each at its latest version
    /// (its XML read and parsed once per MD5, to know whether it has a manifest).
    @Sendable func formList(_ request: Request, context: AppRequestContext) async throws -> Response {
        let p = try await project(context)
        let forms = try await database.withConnection { c in
            try await ODKStore(account: p.scope.account, connection: c, logger: context.logger).publishedForms(project: p.id)
        }
        let base = OpenRosa.baseURL(request, key: p.key, project: p.odkId)
        var entries: [OpenRosaWriter.FormListEntry] = []
        for f in forms {
            let hasMedia = try await mediaIndex.namesMedia(md5: f.md5, limits: limits) {
                try await database.withConnection { c in
                    try await ODKStore(account: p.scope.account, connection: c, logger: context.logger)
                        .publishedForm(project: p.id, formId: f.formId, version: f.version)?.xml
                }
            }
            entries.append(
                OpenRosaWriter.FormListEntry(
                    formID: f.formId, name: f.name, version: f.version, md5Hex: f.md5,
                    downloadURL: "\(base)/forms/\(Self.pathSegment(f.formId)).xml",
                    manifestURL: hasMedia ? "\(base)/forms/\(Self.pathSegment(f.formId))/manifest" : nil))
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
            try await ODKStore(account: p.scope.account, connection: c, logger: context.logger).publishedForm(
                project: p.id, formId: formId, version: nil)
        }
        guard let form else { throw APIError.notFound("form \(formId.prefix(100)) does not exist in this project") }
        return OpenRosa.response(Array(form.xml.utf8))
    }

    /// `GET forms/{formId}/manifest`: the form's media files (``ODKFormMediaFiles``): the
    /// entity lists it reads, as CSV (`type="entityList"`), and the files uploaded with it.
    @Sendable func manifest(_ request: Request, context: AppRequestContext) async throws -> Response {
        let p = try await project(context)
        let formId = RequestChecks.pathParameter(context, "formId") ?? ""
        let files = try await database.withConnection { c in
            try await ODKFormMediaFiles(scope: p.scope, connection: c, logger: context.logger).files(project: p.id, formId: formId, limits: limits)
        }
        guard let files else { throw APIError.notFound("form \(formId.prefix(100)) does not exist in this project") }
        let base = OpenRosa.baseURL(request, key: p.key, project: p.odkId)
        return OpenRosa.response(
            OpenRosaWriter.manifest(
                files.map { f in
                    OpenRosaWriter.MediaFileEntry(
                        filename: f.filename, md5Hex: f.md5,
                        downloadURL: "\(base)/forms/\(Self.pathSegment(formId))/attachments/\(Self.pathSegment(f.filename))",
                        isEntityList: f.entityList != nil,
                        integrityURL: f.entityList.map { "\(base)/datasets/\(Self.pathSegment($0))/integrity" })
                }))
    }

    /// `GET forms/{formId}/attachments/{filename}`: one file of the manifest, its bytes
    /// as the manifest's hash names them (an entity list is made again for this request).
    @Sendable func mediaFile(_ request: Request, context: AppRequestContext) async throws -> Response {
        let p = try await project(context)
        let formId = RequestChecks.pathParameter(context, "formId") ?? ""
        let filename = RequestChecks.pathParameter(context, "filename") ?? ""
        let found: (ODKFormMediaFiles.File, [UInt8])? = try await database.withConnection { c in
            let media = ODKFormMediaFiles(scope: p.scope, connection: c, logger: context.logger)
            guard let files = try await media.files(project: p.id, formId: formId, limits: limits, only: filename) else {
                throw APIError.notFound("form \(formId.prefix(100)) does not exist in this project")
            }
            guard let file = files.first(where: { $0.filename == filename }), let bytes = try await media.bytes(of: file) else { return nil }
            return (file, bytes)
        }
        guard let (file, bytes) = found else {
            throw APIError.notFound("form \(formId.prefix(100)) has no file \(filename.prefix(100))")
        }
        var headers = OpenRosa.fileHeaders(contentType: file.contentType, filename: file.filename)
        headers[OpenRosa.versionHeader] = "1.0"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// `GET datasets/{name}/integrity?id=a,b,…` (OpenRosa's integrity API): for each entity
    /// asked about that the app user may see, whether it was deleted; Collect removes the
    /// deleted ones it keeps offline. Entities it does not know (made offline, not sent
    /// yet) are left out, so the phone keeps them. Without `id`, every entity it may see.
    @Sendable func integrity(_ request: Request, context: AppRequestContext) async throws -> Response {
        let p = try await project(context)
        let name = RequestChecks.pathParameter(context, "name") ?? ""
        let asked: Set<UUID>? = request.uri.queryParameters["id"].map { raw in
            Set(raw.split(separator: ",").prefix(100_000).compactMap { UUID(text: $0.trimmingCharacters(in: .whitespaces)) })
        }
        let entities = try await database.withConnection { c in
            let store = CentralEntityStore(scope: p.scope, connection: c, logger: context.logger)
            guard let list = try await store.entityList(named: name) else {
                throw APIError.notFound("entity list \(name.prefix(100)) does not exist")
            }
            return try await store.entities(list: list.id, project: p.id)
        }
        let known = entities.filter { asked?.contains($0.id) ?? true }
        return OpenRosa.response(OpenRosaWriter.integrity(known.map { (id: $0.id.lowercased, deleted: $0.deleted) }))
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
        let body = try await JSONBody.collect(
            request, limit: limits.maxMultipartBytes, setting: "the OpenRosa limit X-OpenRosa-Accept-Content-Length")
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
        let submission = ODKSubmissionWriter.Incoming(
            xml: upload.xml, root: root, header: header, files: upload.attachments, complete: upload.isIncomplete == false,
            deviceID: request.uri.queryParameters["deviceID"].map(String.init),
            userAgent: request.headers[.userAgent].map { String($0.prefix(200)) })
        let logger = context.logger
        let written = try await ODKSubmissionWriter(
            scope: scope, project: p.id, projectName: "\(p.odkId)", limits: limits, database: database, logger: logger
        )
        .write(submission)
        let outcome = written.outcome
        logger.info("odk submission", metadata: ["project": "\(p.odkId)", "outcome": "\(outcome)"])
        return OpenRosa.message(outcome, status: .created, nature: .submitSuccess)
    }
}
