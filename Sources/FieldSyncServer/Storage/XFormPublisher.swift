import FieldSyncCore
import FieldSyncODK
import Foundation
import Logging
import PostgresNIO

/// Publishing an XForm, the one way every upload takes (FieldSync's `POST /v1/forms/xform`,
/// Central's `POST …/forms?publish=true` and `…/draft/publish`): a version of the form
/// with the questions as its fields, the entity list and properties it declares, and the
/// media the draft uploaded or the previous version had. Run it in a transaction.
struct XFormPublisher {
    let scope: CallerScope
    let connection: PostgresConnection
    let logger: Logger

    struct Published: Sendable {
        var form: UUID
        /// False when this very XForm was published already (the same version and MD5).
        var created: Bool
        var version: String
        var title: String
        var md5: String
    }

    /// The XForm's version, which every stored XForm has (422 without one).
    static func version(of form: XForm) throws -> String {
        guard let version = form.version, !version.isEmpty else {
            throw APIError.invalid("the XForm has no version (the `version` column of the XLSForm's settings sheet)", field: "version")
        }
        return version
    }

    func publish(_ form: XForm, xml body: [UInt8], project: UUID) async throws -> Published {
        let version = try Self.version(of: form)
        guard try await AccountStore(connection: connection, logger: logger).projectExists(account: scope.account, project) else {
            throw APIError.notFound("project \(project.lowercased) does not exist")
        }
        let md5 = OpenRosa.md5Hex(body)
        let title = form.title.isEmpty ? form.formID : form.title
        let odk = ODKStore(account: scope.account, connection: connection, logger: logger)
        let previous = try await odk.publishedForm(project: project, formId: form.formID, version: nil)?.version
        let stored = try await odk.storeXForm(
            formId: form.formID, title: title, version: version, fields: form.fieldsJSON,
            xml: String(decoding: body, as: UTF8.self), md5: md5, project: project)
        if stored.created {
            try await ODKFormStore(account: scope.account, connection: connection, logger: logger).publishMedia(
                project: project, formId: form.formID, version: version, previous: previous, names: form.mediaFiles.map(\.filename))
        }
        if let entity = form.entity {
            try await CentralEntityStore(scope: scope, connection: connection, logger: logger)
                .declare(entity, formId: form.formID, catalog: CatalogStore(connection: connection, logger: logger))
        }
        return Published(form: stored.form, created: stored.created, version: version, title: title, md5: md5)
    }
}
