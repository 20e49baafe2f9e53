import FieldSyncCore
import FieldSyncODK
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// What the ODK routes keep besides FieldSync's own records: Central's integer project
/// ids, the XForms behind form versions, and the submissions Collect posted (whole, so
/// a resend is recognised and an edit finds the version it edits).
struct ODKStore {
    let account: UUID
    let connection: PostgresConnection
    let logger: Logger

    // MARK: projects

    /// Central's integer id of a project (what Collect's and pyodk's URLs carry).
    func odkId(of project: UUID) async throws -> Int64? {
        try await connection.query("SELECT odk_id FROM projects WHERE account_id = \(account) AND id = \(project)", logger: logger)
            .collect { try $0.decode(Int64.self) }.first
    }

    // MARK: forms

    /// One published XForm: the form, its latest version made from an XForm.
    struct PublishedForm: Sendable {
        var form: UUID
        var formId: String
        var name: String
        var version: String
        var md5: String
        var xml: String
    }

    /// Stores an uploaded XForm as a version of its form (the form is created on its first
    /// upload, with `project`; a later upload adds `project` to its projects). The same
    /// XForm again is answered as stored (`created` false); another XForm under a version
    /// the form has is 409 `already_exists`. Run it in a transaction.
    func storeXForm(
        formId: String, title: String, version: String, fields: JSONValue, xml: String, md5: String,
        project: UUID
    ) async throws -> (form: UUID, created: Bool) {
        let newId = UUID()
        let form = try await connection.query(
            """
            INSERT INTO forms (account_id, id, form_id, name, project_ids) VALUES (\(account), \(newId), \(formId), \(title), ARRAY[\(project)]::uuid[])
            ON CONFLICT (account_id, form_id) DO UPDATE
                SET project_ids = CASE WHEN \(project) = ANY(forms.project_ids) THEN forms.project_ids
                                       ELSE forms.project_ids || \(project) END
            RETURNING id
            """, logger: logger
        ).collect { try $0.decode(UUID.self) }.first
        guard let form else { throw APIError.unavailable("the form was not stored") }
        let existing = try await connection.query(
            "SELECT xform_md5 FROM form_versions WHERE account_id = \(account) AND form_uuid = \(form) AND version = \(version)", logger: logger
        ).collect { try $0.decode(String?.self) }.first
        if let existing {
            guard existing == md5 else {
                throw APIError.conflict(
                    ErrorCode.alreadyExists,
                    "form \(formId) already has version \(version) with other content; give the changed form a new version",
                    field: "version")
            }
            return (form, false)
        }
        try await connection.query(
            """
            INSERT INTO form_versions (account_id, form_uuid, version, fields, xform, xform_md5)
            VALUES (\(account), \(form), \(version), \(JSONWriter.string(fields))::jsonb, \(xml), \(md5))
            """, logger: logger)
        return (form, true)
    }

    /// The forms of `project` that have an XForm, each at its latest such version (`xml`
    /// left empty: formList needs the MD5, ``publishedForm(project:formId:version:)`` reads it).
    func publishedForms(project: UUID) async throws -> [PublishedForm] {
        try await connection.query(
            """
            SELECT DISTINCT ON (f.id) f.id, f.form_id, f.name, v.version, v.xform_md5, ''::text
            FROM forms f JOIN form_versions v ON v.account_id = f.account_id AND v.form_uuid = f.id
            WHERE f.account_id = \(account) AND \(project) = ANY(f.project_ids) AND v.xform IS NOT NULL
            ORDER BY f.id, v.created_at DESC, v.version DESC
            """, logger: logger
        ).collect { row in
            let (id, formId, name, version, md5, xml) = try row.decode((UUID, String, String, String, String, String).self)
            return PublishedForm(form: id, formId: formId, name: name, version: version, md5: md5, xml: xml)
        }.sorted { $0.formId < $1.formId }
    }

    /// A form of `project` by its XForm id, at `version` (its latest XForm when nil).
    func publishedForm(project: UUID, formId: String, version: String?) async throws -> PublishedForm? {
        try await connection.query(
            """
            SELECT f.id, f.form_id, f.name, v.version, v.xform_md5, v.xform
            FROM forms f JOIN form_versions v ON v.account_id = f.account_id AND v.form_uuid = f.id
            WHERE f.account_id = \(account) AND \(project) = ANY(f.project_ids) AND f.form_id = \(formId) AND v.xform IS NOT NULL
              AND (\(version == nil) OR v.version = \(version ?? ""))
            ORDER BY v.created_at DESC, v.version DESC LIMIT 1
            """, logger: logger
        ).collect { row in
            let (id, formId, name, version, md5, xml) = try row.decode((UUID, String, String, String, String, String).self)
            return PublishedForm(form: id, formId: formId, name: name, version: version, md5: md5, xml: xml)
        }.first
    }

    // MARK: submissions

    /// A submission as stored.
    struct Submission: Sendable {
        var recordId: UUID
        var xmlSHA256: [UInt8]
        /// The record's version after its write (JSON text); nil while files are missing.
        var version: String?
    }

    /// Takes the lock of one instanceID, so resends of one submission serialise.
    func lockSubmission(_ instanceID: String) async throws {
        let key = "odk:\(account.lowercased):\(instanceID)"
        try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended(\(key), 0))", logger: logger).drain()
    }

    func submission(_ instanceID: String) async throws -> Submission? {
        try await connection.query(
            "SELECT record_id, xml_sha256, version::text FROM odk_submissions WHERE account_id = \(account) AND instance_id = \(instanceID)",
            logger: logger
        ).collect { row in
            let (record, sha, version) = try row.decode((UUID, ByteBuffer, String?).self)
            return Submission(recordId: record, xmlSHA256: Array(buffer: sha), version: version)
        }.first
    }

    /// A stored submission's XML and who sent it from which phone.
    func sent(_ instanceID: String) async throws -> (xml: String, user: UUID, device: UUID)? {
        try await connection.query(
            "SELECT xml, user_id, device_id FROM odk_submissions WHERE account_id = \(account) AND instance_id = \(instanceID)", logger: logger
        ).collect { row in
            let (xml, user, device) = try row.decode((String, UUID, UUID).self)
            return (xml: xml, user: user, device: device)
        }.first
    }

    /// The instanceID of the latest submission written whole to a record (its latest edit).
    func latestSubmission(of record: UUID) async throws -> String? {
        try await connection.query(
            """
            SELECT instance_id FROM odk_submissions WHERE account_id = \(account) AND record_id = \(record) AND version IS NOT NULL
            ORDER BY created_at DESC, instance_id DESC LIMIT 1
            """, logger: logger
        ).collect { try $0.decode(String.self) }.first
    }

    /// The answers of a stored submission, read again with `form` (empty when it no
    /// longer reads with it).
    func answers(of instanceID: String, form: XForm, limits: ODKLimits) async throws -> [String: JSONValue] {
        let xml = try await connection.query(
            "SELECT xml FROM odk_submissions WHERE account_id = \(account) AND instance_id = \(instanceID)", logger: logger
        ).collect { try $0.decode(String.self) }.first
        guard let xml, let parsed = try? ODKSubmissionParser.parse(Array(xml.utf8), form: form, limits: limits) else { return [:] }
        return parsed.answers
    }

    func insertSubmission(_ instanceID: String, record: UUID, form: UUID, xml: String, sha256: [UInt8], user: UUID, device: UUID) async throws {
        try await connection.query(
            """
            INSERT INTO odk_submissions (account_id, instance_id, record_id, form_uuid, xml_sha256, xml, user_id, device_id)
            VALUES (\(account), \(instanceID), \(record), \(form), \(ByteBuffer(bytes: sha256)), \(xml), \(user), \(device))
            """, logger: logger)
    }

    /// Records a file of a submission (its bytes already stored by digest); a file sent
    /// again under the same name replaces the earlier one.
    func addFile(_ instanceID: String, name: String, sha256: [UInt8], size: Int64, contentType: String?) async throws {
        try await connection.query(
            """
            INSERT INTO odk_submission_files (account_id, instance_id, name, sha256, size, content_type)
            VALUES (\(account), \(instanceID), \(name), \(ByteBuffer(bytes: sha256)), \(size), \(contentType))
            ON CONFLICT (account_id, instance_id, name) DO UPDATE SET sha256 = EXCLUDED.sha256, size = EXCLUDED.size,
                content_type = EXCLUDED.content_type
            """, logger: logger)
    }

    /// The files received for a submission, by name.
    func files(_ instanceID: String) async throws -> [VersionedItem.Attachment] {
        try await connection.query(
            """
            SELECT name, encode(sha256, 'hex'), size, content_type FROM odk_submission_files
            WHERE account_id = \(account) AND instance_id = \(instanceID) ORDER BY name
            """, logger: logger
        ).collect { row in
            let (name, sha, size, type) = try row.decode((String, String, Int64, String?).self)
            return VersionedItem.Attachment(name: name, sha256: sha, size: size, contentType: type)
        }
    }

    func setVersion(_ instanceID: String, _ version: JSONValue) async throws {
        try await connection.query(
            "UPDATE odk_submissions SET version = \(JSONWriter.string(version))::jsonb WHERE account_id = \(account) AND instance_id = \(instanceID)",
            logger: logger)
    }

    /// The next counter of a phone the server writes for (Collect keeps none): the row
    /// lock serialises concurrent submissions of one phone.
    func nextCounter(device: UUID) async throws -> Int64 {
        let next = try await connection.query(
            """
            INSERT INTO odk_device_counters (account_id, device_id, counter) VALUES (\(account), \(device), 1)
            ON CONFLICT (account_id, device_id) DO UPDATE SET counter = odk_device_counters.counter + 1
            RETURNING counter
            """, logger: logger
        ).collect { try $0.decode(Int64.self) }.first
        guard let next else { throw APIError.unavailable("the phone's counter was not stored") }
        return next
    }
}
