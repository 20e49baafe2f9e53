import FieldSyncCore
import FieldSyncODK
import Foundation
import Logging
import PostgresNIO

/// The files a published form's manifest lists, as the caller may download them: for each
/// file its XForm names, the entity list of that name (`households.csv` for the entity
/// list `households`: its entities under the caller's units, as CSV, made when asked), or
/// else the file uploaded to the form's draft before publishing. Files the form names but
/// that FieldSync has neither of are left out, as Central leaves out missing attachments.
struct ODKFormMediaFiles {
    let scope: CallerScope
    let connection: PostgresConnection
    let logger: Logger

    struct File: Sendable {
        var filename: String
        var md5: String
        var contentType: String
        /// An entity list's CSV (its bytes, made for the caller), and the list's name.
        var entityListCSV: [UInt8]?
        var entityList: String? = nil
        /// An uploaded file (its bytes are an attachment).
        var stored: ODKFormStore.Media?
    }

    /// The form's files, nil when the project has no such published form; `only` narrows
    /// to the file of that name (a download makes no other entity list's CSV).
    func files(project: UUID, formId: String, limits: ODKLimits, only: String? = nil) async throws -> [File]? {
        guard
            let form = try await ODKStore(account: scope.account, connection: connection, logger: logger)
                .publishedForm(project: project, formId: formId, version: nil)
        else { return nil }
        guard let xform = try? XFormParser.parse(Array(form.xml.utf8), limits: limits) else { return [] }
        let uploaded = try await ODKFormStore(account: scope.account, connection: connection, logger: logger)
            .media(project: project, formId: formId, version: form.version)
        let byName = Dictionary(uploaded.map { ($0.filename, $0) }, uniquingKeysWith: { first, _ in first })
        let entities = CentralEntityStore(scope: scope, connection: connection, logger: logger)
        var seen: Set<String> = []
        var out: [File] = []
        for media in xform.mediaFiles where (only == nil || media.filename == only) && seen.insert(media.filename).inserted {
            if media.kind == .csv, media.filename.hasSuffix(".csv"),
                let list = try await entities.entityList(named: String(media.filename.dropLast(4)))
            {
                let csv = try await entityCSV(list: list.id, project: project, entities: entities)
                out.append(
                    File(
                        filename: media.filename, md5: OpenRosa.md5Hex(csv), contentType: "text/csv; charset=utf-8",
                        entityListCSV: csv, entityList: list.name, stored: nil))
            } else if let stored = byName[media.filename] {
                out.append(File(filename: stored.filename, md5: stored.md5, contentType: stored.contentType, entityListCSV: nil, stored: stored))
            }
        }
        return out
    }

    /// The entity list as Collect reads it: `name,label,__version` and the list's
    /// properties, one row per entity the caller may see that is not deleted, each
    /// property's visible value.
    func entityCSV(list: UUID, project: UUID, entities: CentralEntityStore) async throws -> [UInt8] {
        let properties = try await entities.properties(of: list).map(\.name)
        let rows = try await entities.entities(list: list, project: project).filter { !$0.deleted }.map { e in
            let fields = e.fields
            var values: [String: String] = [:]
            for p in properties { if let v = fields[p] { values[p] = EntityListCSV.text(v) } }
            return EntityListCSV.Row(
                name: e.id.lowercased, label: fields["label"].map(EntityListCSV.text) ?? "",
                version: e.version, values: values)
        }
        return EntityListCSV.write(properties: properties, rows: rows)
    }

    /// A file's bytes.
    func bytes(of file: File) async throws -> [UInt8]? {
        if let csv = file.entityListCSV { return csv }
        guard let stored = file.stored else { return nil }
        return try await AttachmentStore(connection: connection, logger: logger).read(account: scope.account, sha256: stored.sha256)
    }
}
