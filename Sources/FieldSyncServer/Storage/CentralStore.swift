import FieldSyncCore
import Foundation
import Logging
import PostgresNIO

/// The reads behind ODK Central's REST API (`/odk/v1/...`, what pyodk calls): projects,
/// forms and submissions named as Central names them (integer project and user ids, the
/// XForm id, the instanceID), each filtered by the caller's scope.
struct CentralStore {
    let scope: CallerScope
    let connection: PostgresConnection
    let logger: Logger

    /// A user as `GET users/current` shows it.
    struct User: Sendable {
        var odkId: Int64
        var username: String
        var createdAt: Date
    }

    /// The user behind a caller (the superuser too: it has a row, with no account).
    static func user(_ id: UUID, connection: PostgresConnection, logger: Logger) async throws -> User? {
        try await connection.query("SELECT odk_id, username, created_at FROM users WHERE id = \(id)", logger: logger)
            .collect { row in
                let (n, name, created) = try row.decode((Int64, String, Date).self)
                return User(odkId: n, username: name, createdAt: created)
            }.first
    }

    /// A project as Central lists it.
    struct Project: Sendable {
        var id: UUID
        var odkId: Int64
        var name: String
        var createdAt: Date
    }

    /// The caller's projects (an admin's: every project of the account), by integer id.
    func projects() async throws -> [Project] {
        try await connection.query(
            """
            SELECT id, odk_id, name, created_at FROM projects
            WHERE account_id = \(scope.account) AND id = ANY(\(scope.projects)::uuid[])
            ORDER BY odk_id
            """, logger: logger
        ).collect { row in
            let (id, n, name, created) = try row.decode((UUID, Int64, String, Date).self)
            return Project(id: id, odkId: n, name: name, createdAt: created)
        }
    }

    /// One project of the account by integer id, whether or not the caller is in it (the
    /// controller tells "no such project" from "not yours").
    func project(odkId: Int64) async throws -> Project? {
        try await connection.query(
            "SELECT id, odk_id, name, created_at FROM projects WHERE account_id = \(scope.account) AND odk_id = \(odkId)", logger: logger
        ).collect { row in
            let (id, n, name, created) = try row.decode((UUID, Int64, String, Date).self)
            return Project(id: id, odkId: n, name: name, createdAt: created)
        }.first
    }

    /// An entity type as Central's entity list ("dataset"): FieldSync's entity types are
    /// the account's, so every project of the account lists them all.
    struct EntityList: Sendable {
        var name: String
        var createdAt: Date
    }

    /// The account's entity types, by name.
    func entityLists() async throws -> [EntityList] {
        try await connection.query(
            "SELECT name, created_at FROM entity_types WHERE account_id = \(scope.account) ORDER BY name, id", logger: logger
        ).collect { row in
            let (name, created) = try row.decode((String, Date).self)
            return EntityList(name: name, createdAt: created)
        }
    }

    /// A form of a project as Central shows it: at its latest version made from an XForm.
    struct Form: Sendable {
        var form: UUID
        var xmlFormId: String
        var name: String
        var version: String
        var md5: String
        var createdAt: Date
        var publishedAt: Date
    }

    /// The forms of `project` that have an XForm (what Collect's formList offers too),
    /// by XForm id; `formId` narrows to one.
    func forms(project: UUID, formId: String? = nil) async throws -> [Form] {
        try await connection.query(
            """
            SELECT DISTINCT ON (f.id) f.id, f.form_id, f.name, v.version, v.xform_md5, f.created_at, v.created_at
            FROM forms f JOIN form_versions v ON v.account_id = f.account_id AND v.form_uuid = f.id
            WHERE f.account_id = \(scope.account) AND \(project) = ANY(f.project_ids) AND v.xform IS NOT NULL
              AND (\(formId == nil) OR f.form_id = \(formId ?? ""))
            ORDER BY f.id, v.created_at DESC, v.version DESC
            """, logger: logger
        ).collect { row in
            let (id, formId, name, version, md5, created, published) = try row.decode((UUID, String, String, String, String, Date, Date).self)
            return Form(form: id, xmlFormId: formId, name: name, version: version, md5: md5, createdAt: created, publishedAt: published)
        }.sorted { $0.xmlFormId < $1.xmlFormId }
    }

    /// A submission's XML and who sent it, by the instanceID it was sent with.
    func submissionXML(form: UUID, instanceId: String) async throws -> (user: UUID, xml: String)? {
        try await connection.query(
            """
            SELECT user_id, xml FROM odk_submissions
            WHERE account_id = \(scope.account) AND form_uuid = \(form) AND instance_id = \(instanceId)
            """, logger: logger
        ).collect { try $0.decode((UUID, String).self) }.first.map { (user: $0.0, xml: $0.1) }
    }

    /// A submission as Central lists it: one per instance, named by the instanceID it was
    /// first sent with; its edits (later instanceIDs with `deprecatedID`) show as
    /// `updatedAt`.
    struct Submission: Sendable {
        var instanceId: String
        var submitterOdkId: Int64
        var device: UUID
        var createdAt: Date
        var updatedAt: Date?
        var submitterName: String = ""
        /// How many times it was sent: 1, and one more for each edit.
        var versions: Int = 1
        /// The XML of its latest edit (only when asked for: the OData table needs it).
        var latestXML: String?
    }

    /// The submissions of `form` the caller may see: an admin all of them, a supervisor
    /// those written under its units (a submission still waiting for its files has no
    /// instance yet, so only admins see it). `instanceId` narrows to the submission it
    /// was sent as: the first one, or an edit of it.
    func submissions(form: UUID, project: UUID, instanceId: String? = nil, withXML: Bool = false) async throws -> [Submission] {
        try await connection.query(
            """
            WITH subs AS (
                SELECT s.*, min(s.created_at) OVER w AS first_at, max(s.created_at) OVER w AS last_at,
                       row_number() OVER (PARTITION BY s.record_id ORDER BY s.created_at, s.instance_id) AS n,
                       row_number() OVER (PARTITION BY s.record_id ORDER BY s.created_at DESC, s.instance_id DESC) AS latest_n,
                       count(*) OVER w AS versions
                FROM odk_submissions s
                WHERE s.account_id = \(scope.account) AND s.form_uuid = \(form)
                WINDOW w AS (PARTITION BY s.record_id))
            SELECT s.instance_id, u.odk_id, s.device_id, s.first_at, CASE WHEN s.last_at > s.first_at THEN s.last_at END,
                   u.username, s.versions, CASE WHEN \(withXML) THEN l.xml END
            FROM subs s JOIN users u ON u.id = s.user_id
            JOIN subs l ON l.record_id = s.record_id AND l.latest_n = 1
            LEFT JOIN instances i ON i.account_id = s.account_id AND i.id = s.record_id
            WHERE s.n = 1 AND (\(instanceId == nil) OR s.record_id = (
                   SELECT record_id FROM odk_submissions WHERE account_id = \(scope.account) AND instance_id = \(instanceId ?? "")))
              AND (i.id IS NULL OR i.project_id = \(project))
              AND (\(scope.everything) OR EXISTS (
                   SELECT 1 FROM org_units o WHERE o.account_id = \(scope.account) AND o.id = i.org_unit_id
                     AND o.path <@ \(scope.subtrees)::ltree[]))
            ORDER BY s.first_at DESC, s.instance_id
            """, logger: logger
        ).collect { row in
            let (iid, submitter, device, created, updated, name, versions, xml) =
                try row.decode((String, Int64, UUID, Date, Date?, String, Int64, String?).self)
            return Submission(
                instanceId: iid, submitterOdkId: submitter, device: device, createdAt: created, updatedAt: updated,
                submitterName: name, versions: Int(versions), latestXML: xml)
        }
    }
}
