import FieldSyncCore
import Foundation

/// What devices download before they collect: entity types and forms (with their
/// questions), and the calls admins use to create them.
extension FieldSyncClient {
    /// `POST /v1/entity-types` `{"id"?, "name"}`.
    public func createEntityType(name: String, id: UUID? = nil, accountId: UUID? = nil) async throws -> JSONValue {
        try await create("/v1/entity-types", body: NewEntityType(id: id?.lowercasedText, name: name), accountId: accountId, idempotent: id != nil)
    }

    /// `GET /v1/entity-types`.
    public func listEntityTypes(accountId: UUID? = nil) async throws -> [JSONValue] {
        try await list("/v1/entity-types", accountId: accountId)
    }

    /// `POST /v1/forms` `{"id"?, "formId", "name", "version", "projectIds", "fields"?}`;
    /// `fields` is `[{"name","type","required"?,"choices"?}]`.
    public func createForm(
        formId: String, name: String, version: String, projectIds: [UUID], fields: JSONValue? = nil,
        id: UUID? = nil, accountId: UUID? = nil
    ) async throws -> JSONValue {
        let body = NewForm(
            id: id?.lowercasedText, formId: formId, name: name, version: version,
            projectIds: projectIds.map(\.lowercasedText), fields: fields)
        return try await create("/v1/forms", body: body, accountId: accountId, idempotent: id != nil)
    }

    /// `GET /v1/forms`: each form with its latest `version` and `fields`.
    public func listForms(accountId: UUID? = nil) async throws -> [JSONValue] {
        try await list("/v1/forms", accountId: accountId)
    }

    /// `POST /v1/forms/{id}/versions` `{"version", "fields"?}` (`id` as returned when
    /// the form was created).
    public func addFormVersion(form: UUID, version: String, fields: JSONValue? = nil, accountId: UUID? = nil) async throws -> JSONValue {
        try await create(
            "/v1/forms/\(form.lowercasedText)/versions", body: NewFormVersion(version: version, fields: fields),
            accountId: accountId, idempotent: true)
    }
}

/// `POST /v1/entity-types`.
struct NewEntityType: Encodable {
    var id: String?
    var name: String
}

/// `POST /v1/forms`; `fields` as given (the form's questions).
struct NewForm: Encodable {
    var id: String?
    var formId: String
    var name: String
    var version: String
    var projectIds: [String]
    var fields: JSONValue?
}

/// `POST /v1/forms/{id}/versions`.
struct NewFormVersion: Encodable {
    var version: String
    var fields: JSONValue?
}
