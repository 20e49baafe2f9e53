import FieldSyncCore
import Foundation

extension FieldSyncClient {
    /// `POST /v1/forms/xform?projectId=` with an XForm's bytes: stored as a version of
    /// the form its id names (created on its first upload).
    public func uploadXForm(_ xml: [UInt8], project: UUID) async throws -> JSONValue {
        try await request(
            method: "POST", path: "/v1/forms/xform", query: [("projectId", project.lowercasedText)], bodyBytes: xml,
            idempotent: true
        ).json
    }

    /// `POST /v1/app-users` `{"projectId","orgUnitIds","name"?}`: an app user for ODK
    /// Collect, with its server URL and the text of its settings QR code.
    public func createAppUser(project: UUID, orgUnits: [UUID], name: String? = nil) async throws -> JSONValue {
        var body: [String: JSONValue] = [
            "projectId": .string(project.lowercasedText), "orgUnitIds": .array(orgUnits.map { .string($0.lowercasedText) }),
        ]
        if let name { body["name"] = .string(name) }
        return try await request(method: "POST", path: "/v1/app-users", body: .object(body)).json
    }
}
