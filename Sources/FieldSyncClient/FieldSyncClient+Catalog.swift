import FieldSyncCore
import Foundation

/// What devices download before they collect: entity types and forms (with their
/// questions), and the calls admins use to create them.
extension FieldSyncClient {
    /// `POST /v1/entity-types` `{"id"?, "name"}`.
    public func createEntityType(name: String, id: UUID? = nil, accountId: UUID? = nil) async throws -> JSONValue {
        var body: [String: JSONValue] = ["name": .string(name)]
        if let id { body["id"] = .string(id.lowercasedText) }
        return try await create("/v1/entity-types", body: body, accountId: accountId, idempotent: id != nil)
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
        var body: [String: JSONValue] = [
            "formId": .string(formId), "name": .string(name), "version": .string(version),
            "projectIds": .array(projectIds.map { .string($0.lowercasedText) }),
        ]
        if let fields { body["fields"] = fields }
        if let id { body["id"] = .string(id.lowercasedText) }
        return try await create("/v1/forms", body: body, accountId: accountId, idempotent: id != nil)
    }

    /// `GET /v1/forms`: each form with its latest `version` and `fields`.
    public func listForms(accountId: UUID? = nil) async throws -> [JSONValue] {
        try await list("/v1/forms", accountId: accountId)
    }

    /// `POST /v1/forms/{id}/versions` `{"version", "fields"?}` (`id` as returned when
    /// the form was created).
    public func addFormVersion(form: UUID, version: String, fields: JSONValue? = nil, accountId: UUID? = nil) async throws -> JSONValue {
        var body: [String: JSONValue] = ["version": .string(version)]
        if let fields { body["fields"] = fields }
        return try await create("/v1/forms/\(form.lowercasedText)/versions", body: body, accountId: accountId, idempotent: true)
    }
}
