import FieldSyncCore
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// Central's form drafts and the media files of forms (migration 0013): what pyodk's
/// `forms.create` and `forms.update` upload before `draft/publish`, and what Collect's
/// manifest lists. A form's media belong to one version (`""` while in the draft); the
/// bytes are attachments, by digest.
struct ODKFormStore {
    let account: UUID
    let connection: PostgresConnection
    let logger: Logger

    /// The version key of a draft's media (a published version is never empty).
    static let draftVersion = ""

    /// A draft: the XForm as uploaded.
    struct Draft: Sendable {
        var xml: String
        var createdAt: Date
    }

    func draft(project: UUID, formId: String) async throws -> Draft? {
        try await connection.query(
            "SELECT xml, created_at FROM odk_form_drafts WHERE account_id = \(account) AND project_id = \(project) AND form_id = \(formId)",
            logger: logger
        ).collect { row in
            let (xml, created) = try row.decode((String, Date).self)
            return Draft(xml: xml, createdAt: created)
        }.first
    }

    /// Makes `xml` the form's draft in `project`, replacing an earlier draft and the media
    /// uploaded to it (a new draft starts empty; publishing carries the published
    /// version's media over for the files the new XForm still names).
    func saveDraft(project: UUID, formId: String, xml: String) async throws {
        try await deleteDraft(project: project, formId: formId)
        try await connection.query(
            "INSERT INTO odk_form_drafts (account_id, project_id, form_id, xml) VALUES (\(account), \(project), \(formId), \(xml))",
            logger: logger)
    }

    func deleteDraft(project: UUID, formId: String) async throws {
        try await connection.query(
            "DELETE FROM odk_form_drafts WHERE account_id = \(account) AND project_id = \(project) AND form_id = \(formId)", logger: logger)
        try await connection.query(
            """
            DELETE FROM odk_form_media
            WHERE account_id = \(account) AND project_id = \(project) AND form_id = \(formId) AND version = \(Self.draftVersion)
            """, logger: logger)
    }

    /// One media file of a form version.
    struct Media: Sendable {
        var filename: String
        var sha256: [UInt8]
        var md5: String
        var size: Int64
        var contentType: String
    }

    /// Stores (or replaces) a media file of the form's draft; the bytes are stored already.
    func putDraftMedia(project: UUID, formId: String, _ m: Media) async throws {
        try await connection.query(
            """
            INSERT INTO odk_form_media (account_id, project_id, form_id, version, filename, sha256, md5, size, content_type)
            VALUES (\(account), \(project), \(formId), \(Self.draftVersion), \(m.filename), \(ByteBuffer(bytes: m.sha256)), \(m.md5), \(m.size), \(m.contentType))
            ON CONFLICT (account_id, project_id, form_id, version, filename) DO UPDATE
                SET sha256 = excluded.sha256, md5 = excluded.md5, size = excluded.size,
                    content_type = excluded.content_type, uploaded_at = now()
            """, logger: logger)
    }

    /// The media of a form version (`draftVersion` for the draft's), by file name.
    func media(project: UUID, formId: String, version: String) async throws -> [Media] {
        try await connection.query(
            """
            SELECT filename, sha256, md5, size, content_type FROM odk_form_media
            WHERE account_id = \(account) AND project_id = \(project) AND form_id = \(formId) AND version = \(version)
            ORDER BY filename
            """, logger: logger
        ).collect { row in
            let (name, sha, md5, size, type) = try row.decode((String, ByteBuffer, String, Int64, String).self)
            return Media(filename: name, sha256: Array(sha.readableBytesView), md5: md5, size: size, contentType: type)
        }
    }

    /// Gives a newly published `version` its media: the draft's, and for every file the
    /// XForm names that the draft has not, the file of the version published before
    /// (`previous`), as Central carries attachments over. Run it in the publishing
    /// transaction.
    func publishMedia(project: UUID, formId: String, version: String, previous: String?, names: [String]) async throws {
        try await connection.query(
            """
            UPDATE odk_form_media SET version = \(version)
            WHERE account_id = \(account) AND project_id = \(project) AND form_id = \(formId) AND version = \(Self.draftVersion)
              AND filename = ANY(\(names)::text[])
            """, logger: logger)
        if let previous, previous != version {
            try await connection.query(
                """
                INSERT INTO odk_form_media (account_id, project_id, form_id, version, filename, sha256, md5, size, content_type)
                SELECT account_id, project_id, form_id, \(version), filename, sha256, md5, size, content_type FROM odk_form_media
                WHERE account_id = \(account) AND project_id = \(project) AND form_id = \(formId) AND version = \(previous)
                  AND filename = ANY(\(names)::text[])
                ON CONFLICT DO NOTHING
                """, logger: logger)
        }
    }
}
