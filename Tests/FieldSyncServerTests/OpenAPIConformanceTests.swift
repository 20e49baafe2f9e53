import FieldSyncCore
import Foundation
import HTTPTypes
import Testing

/// Answers that broke `Schemas/openapi.yaml` (issue 12, finding 7). Each expectation is
/// written from the schema's text (the members it requires, the statuses and codes it
/// documents), not from what the server happened to answer.
@Suite("OpenAPI conformance: forms, conflicts, nulls, accountId, empty parameters, 405")
struct OpenAPIConformanceTests {
    static let schemaURL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Schemas/openapi.yaml")

    /// The lines of one component schema of the OpenAPI document (from `    Name:` to the
    /// next line at the same indentation).
    static func schemaBlock(_ name: String) throws -> String {
        let lines = try String(contentsOf: schemaURL, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(of: Substring("    \(name):")) else { throw TestSetupError("no schema \(name)") }
        var end = start + 1
        while end < lines.count, lines[end].hasPrefix("      ") || lines[end].isEmpty { end += 1 }
        return lines[start..<end].joined(separator: "\n")
    }

    func expectError(
        _ r: API.Reply, _ status: HTTPResponse.Status, _ code: String, field: String?, _ what: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(r.status == status, "\(what): \(r.status) \(r.text)", sourceLocation: sourceLocation)
        #expect(r.errorCode == code, "\(what): \(r.text)", sourceLocation: sourceLocation)
        if let field { #expect(r.errorField == field, "\(what): \(r.text)", sourceLocation: sourceLocation) }
    }

    @Test("a form answers its versions (each with the form's id and formId), fields null when none are declared")
    func formShape() async throws {
        try await withTestApp { api in
            let f = try await Fixture.make(api)
            let t = f.admin.token
            var r = try await api.call(
                .post, "/v1/forms", token: t,
                json: .object([
                    "formId": .string("visit"), "name": .string("Visit"), "version": .string("1"),
                    "projectIds": .array([.string(f.project.lowercased)]),
                ]))
            #expect(r.status == .created, "\(r.text)")
            let formUUID = try #require(r.json["id"]?.stringValue)
            // Form: required [id, formId, name, version, projectIds, fields, versions].
            #expect(r.json["fields"] == .null, "no declared fields: null (the schema's FormFields), never absent: \(r.text)")
            #expect(r.json.objectValue?.keys.contains("fields") == true)
            let created = try #require(r.json["versions"]?.arrayValue, "Form.versions is required: \(r.text)")
            #expect(created.count == 1)
            #expect(created.first?["id"] == .string(formUUID))
            #expect(created.first?["formId"] == .string("visit"))
            #expect(created.first?["version"] == .string("1"))
            #expect(created.first?["createdAt"]?.stringValue.flatMap { Timestamp(rfc3339: $0) } != nil)

            let fields: JSONValue = .array([.object(["name": .string("age"), "type": .string("integer"), "extra": .string("dropped")])])
            r = try await api.call(.post, "/v1/forms/\(formUUID)/versions", token: t, json: .object(["version": .string("2"), "fields": fields]))
            #expect(r.status == .created, "\(r.text)")
            #expect(r.json["id"] == .string(formUUID), "FormVersion.id is the form's id: \(r.text)")
            #expect(r.json["formId"] == .string("visit"), "FormVersion.formId is the form's formId: \(r.text)")
            #expect(
                r.json["fields"] == .array([.object(["name": .string("age"), "type": .string("integer")])]),
                "stored as the documented FormField only: \(r.text)")

            r = try await api.call(.get, "/v1/forms/\(formUUID)/versions", token: f.agent.token)
            #expect(r.status == .ok, "\(r.text)")
            let listed = r.json["items"]?.arrayValue ?? []
            #expect(listed.map { $0["version"] } == [.string("1"), .string("2")])
            #expect(listed.allSatisfy { $0["id"] == .string(formUUID) && $0["formId"] == .string("visit") && $0["createdAt"] != nil }, "\(r.text)")

            r = try await api.call(.get, "/v1/forms", token: f.agent.token)
            let form = try #require(r.json["items"]?.arrayValue?.first { $0["id"] == .string(formUUID) }, "\(r.text)")
            #expect(form["version"] == .string("2"))
            #expect(form["versions"]?.arrayValue?.map { $0["version"] } == [.string("1"), .string("2")], "\(r.text)")
            #expect(form["fields"]?.arrayValue?.count == 1)
        }
    }

    @Test("a choice that is not a string, or a select without choices, is refused naming it")
    func choices() async throws {
        try await withTestApp { api in
            let f = try await Fixture.make(api)
            func create(_ field: JSONValue) async throws -> API.Reply {
                try await api.call(
                    .post, "/v1/forms", token: f.admin.token,
                    json: .object([
                        "formId": .string("f-\(UUID().uuidString.prefix(6))"), "name": .string("F"), "version": .string("1"),
                        "projectIds": .array([]), "fields": .array([field]),
                    ]))
            }
            var r = try await create(.object(["name": .string("a"), "type": .string("text"), "choices": .array([.object([:])])]))
            expectError(r, .unprocessableContent, "invalid_field", field: "fields[0].choices[0]", "choices: [{}]")
            r = try await create(.object(["name": .string("a"), "type": .string("select_one")]))
            expectError(r, .unprocessableContent, "invalid_field", field: "fields[0].choices", "select_one without choices")
            r = try await create(.object(["name": .string("a"), "type": .string("text"), "required": .null]))
            expectError(r, .unprocessableContent, "invalid_field", field: "fields[0].required", "required: null")
        }
    }

    @Test("GET /v1/conflicts: limit outside 1…1000 is 400 invalid_request, as for the pull; kind and status may not be empty")
    func conflictsParameters() async throws {
        try await withTestApp { api in
            let f = try await Fixture.make(api)
            for bad in ["0", "-1", "1001", "abc", ""] {
                let r = try await api.call(.get, "/v1/conflicts?limit=\(bad)", token: f.admin.token)
                expectError(r, .badRequest, "invalid_request", field: "limit", "limit=\(bad)")
            }
            for good in ["1", "1000"] {
                let r = try await api.call(.get, "/v1/conflicts?limit=\(good)", token: f.admin.token)
                #expect(r.status == .ok, "limit=\(good): \(r.text)")
            }
            expectError(try await api.call(.get, "/v1/conflicts?kind=", token: f.admin.token), .badRequest, "invalid_request", field: "kind", "kind=")
            expectError(
                try await api.call(.get, "/v1/conflicts?cursor=nope", token: f.admin.token), .badRequest, "invalid_request", field: "cursor",
                "cursor=nope")
        }
    }

    @Test("org units in conflict are listed with kind=orgUnit and resolved through /v1/conflicts/orgUnit/{id}/resolve")
    func orgUnitConflicts() async throws {
        try await withTestApp { api in
            let f = try await Fixture.make(api)
            let unit = UUID()
            var r = try await api.call(
                .post, "/v1/orgunits/import?accountId=\(f.account.lowercased)", token: f.rootToken,
                json: .array([.object(["id": .string(unit.lowercased), "name": .string("Subil")])]))
            #expect(r.status == .created, "\(r.text)")
            // Made on nothing (base {}): concurrent with the import's name (dot server:1), so a conflict.
            let item =
                #"{"kind":"orgUnit","id":"\#(unit.lowercased)","replica":"\#(f.admin.device.lowercased)","counter":1,"base":{},"editedAt":"2026-11-20T08:15:30.123Z","changes":{"name":"Subil North"}}"#
            r = try await api.call(
                .post, "/v1/sync/push", token: f.admin.token, raw: Array(pushJSON(device: f.admin.device, project: f.project, [item]).utf8))
            #expect(r.json["results"]?[0]?["status"] == .string("conflict"), "\(r.text)")

            r = try await api.call(.get, "/v1/conflicts?kind=orgUnit", token: f.admin.token)
            #expect(r.status == .ok, "kind=orgUnit is in the schema's enum: \(r.text)")
            let listed = try #require(r.json["items"]?.arrayValue?.first, "\(r.text)")
            #expect(listed["kind"] == .string("orgUnit"))
            #expect(listed["id"] == .string(unit.lowercased))
            #expect(listed["conflicts"]?["name"]?.arrayValue?.count == 2, "\(r.text)")
            r = try await api.call(.get, "/v1/conflicts?kind=entity", token: f.admin.token)
            #expect(r.json["items"]?.arrayValue?.isEmpty == true, "\(r.text)")
            r = try await api.call(.get, "/v1/conflicts", token: f.admin.token)
            #expect(r.json["items"]?.arrayValue?.count == 1, "every kind when kind is absent: \(r.text)")

            r = try await api.call(
                .post, "/v1/conflicts/orgUnit/\(unit.lowercased)/resolve", token: f.agent.token,
                json: .object(["changes": .object(["name": .string("Subil")])]))
            #expect(r.status == .forbidden, "agents do not resolve: \(r.text)")
            r = try await api.call(
                .post, "/v1/conflicts/orgUnit/\(unit.lowercased)/resolve", token: f.admin.token,
                json: .object(["changes": .object(["name": .string("Subil Union")])]))
            #expect(r.status == .ok, "\(r.text)")
            #expect(r.json["kind"] == .string("orgUnit"))
            #expect(r.json["fields"]?["name"] == .string("Subil Union"))
            #expect(r.json["conflicts"] == nil, "resolved: \(r.text)")
            r = try await api.call(.get, "/v1/conflicts?kind=orgUnit", token: f.admin.token)
            #expect(r.json["items"]?.arrayValue?.isEmpty == true, "\(r.text)")
        }
    }

    @Test("conflicts page with limit and cursor")
    func conflictsPaging() async throws {
        try await withTestApp { api in
            let f = try await Fixture.make(api)
            let units = (0..<3).map { _ in UUID() }
            var r = try await api.call(
                .post, "/v1/orgunits/import?accountId=\(f.account.lowercased)", token: f.rootToken,
                json: .array(units.map { .object(["id": .string($0.lowercased), "name": .string("U")]) }))
            #expect(r.status == .created, "\(r.text)")
            let items = units.enumerated().map { k, u in
                #"{"kind":"orgUnit","id":"\#(u.lowercased)","replica":"\#(f.admin.device.lowercased)","counter":\#(k + 1),"base":{},"editedAt":"2026-11-20T08:15:30.123Z","changes":{"name":"V"}}"#
            }
            r = try await api.call(
                .post, "/v1/sync/push", token: f.admin.token, raw: Array(pushJSON(device: f.admin.device, project: f.project, items).utf8))
            #expect(r.status == .ok, "\(r.text)")
            var seen: [String] = []
            var cursor = ""
            for _ in 0..<5 {
                r = try await api.call(.get, "/v1/conflicts?limit=2&cursor=\(cursor)", token: f.admin.token)
                #expect(r.status == .ok, "\(r.text)")
                let page = r.json["items"]?.arrayValue ?? []
                #expect(page.count <= 2)
                seen += page.compactMap { $0["id"]?.stringValue }
                guard let next = r.json["cursor"]?.stringValue else { break }
                cursor = next
            }
            #expect(seen.sorted() == units.map(\.lowercased).sorted(), "each record once over the pages: \(seen)")
        }
    }

    @Test("null where the schema says string or array is 422 invalid_field naming the member")
    func nulls() async throws {
        try await withTestApp { api in
            let f = try await Fixture.make(api)
            let t = f.admin.token
            var r = try await api.call(
                .post, "/v1/projects", token: t,
                json: .object(["id": .null, "name": .string("P"), "appId": .string("p.\(UUID().uuidString.prefix(6))")]))
            expectError(r, .unprocessableContent, "invalid_field", field: "id", "project id: null")
            r = try await api.call(
                .post, "/v1/users", token: t,
                json: .object([
                    "username": .string("u-\(UUID().uuidString.prefix(6))"), "password": .string("long-enough"), "role": .string("agent"),
                    "orgUnitIds": .null,
                ]))
            expectError(r, .unprocessableContent, "invalid_field", field: "orgUnitIds", "orgUnitIds: null")
            r = try await api.call(.patch, "/v1/users/\(f.agent.userId.lowercased)", token: t, json: .object(["orgUnitIds": .null]))
            expectError(r, .unprocessableContent, "invalid_field", field: "orgUnitIds", "PATCH orgUnitIds: null")
            r = try await api.call(
                .post, "/v1/devices", token: f.agent.token, json: .object(["deviceId": .string(UUID().lowercased), "appVersion": .null]))
            expectError(r, .unprocessableContent, "invalid_field", field: "appVersion", "appVersion: null")
            r = try await api.call(.post, "/v1/entity-types", token: t, json: .object(["id": .null, "name": .string("E")]))
            expectError(r, .unprocessableContent, "invalid_field", field: "id", "entity type id: null")
            r = try await api.call(
                .post, "/v1/auth/token", json: .object(["username": .string("root"), "password": .string("root-password"), "deviceId": .null]))
            expectError(r, .badRequest, "invalid_field", field: "deviceId", "sign-in deviceId: null")
            // The push envelope: `projectId: null` is not "not given" (schemathesis found it answered 200).
            r = try await api.call(
                .post, "/v1/sync/push", token: f.agent.token,
                json: .object([
                    "batchId": .string(UUID().lowercased), "deviceId": .string(f.agent.device.lowercased), "projectId": .null, "items": .array([]),
                ]))
            expectError(r, .badRequest, "invalid_request", field: "projectId", "push projectId: null")
            r = try await api.call(.post, "/odk/v1/sessions", json: .object(["email": .null, "password": .string("x")]))
            expectError(r, .badRequest, "invalid_field", field: "email", "Central sign-in email: null")
        }
    }

    @Test("accountId: another account is 404, garbage or empty 400, one's own works; the superuser's unknown account 404")
    func accountParameter() async throws {
        try await withTestApp { api in
            let f = try await Fixture.make(api)
            let other = UUID()
            var r = try await api.call(
                .post, "/v1/accounts", token: f.rootToken, json: .object(["id": .string(other.lowercased), "name": .string("Other")]))
            #expect(r.status == .created)
            for path in ["/v1/projects", "/v1/users", "/v1/orgunit-types", "/v1/entity-types", "/v1/forms", "/v1/devices"] {
                r = try await api.call(.get, "\(path)?accountId=\(other.lowercased)", token: f.admin.token)
                expectError(r, .notFound, "not_found", field: nil, "\(path) with another account")
                r = try await api.call(.get, "\(path)?accountId=garbage", token: f.admin.token)
                expectError(r, .badRequest, "invalid_request", field: "accountId", "\(path) with garbage")
                r = try await api.call(.get, "\(path)?accountId=", token: f.admin.token)
                expectError(r, .badRequest, "invalid_request", field: "accountId", "\(path) with an empty accountId")
                r = try await api.call(.get, "\(path)?accountId=\(f.account.lowercased)", token: f.admin.token)
                #expect(r.status == .ok, "\(path) with its own account: \(r.text)")
                r = try await api.call(.get, "\(path)?accountId=\(UUID().lowercased)", token: f.rootToken)
                expectError(r, .notFound, "not_found", field: nil, "\(path): the superuser names an account that does not exist")
            }
            r = try await api.call(
                .post, "/v1/entity-types?accountId=\(other.lowercased)", token: f.admin.token, json: .object(["name": .string("E")]))
            expectError(r, .notFound, "not_found", field: nil, "creating in another account")
            r = try await api.call(.get, "/v1/entity-types?accountId=\(other.lowercased)", token: f.rootToken)
            #expect(r.json["items"]?.arrayValue?.isEmpty == true, "nothing was created in the other account: \(r.text)")
            r = try await api.call(.get, "/v1/orgunits/tree?accountId=\(other.lowercased)", token: f.admin.token)
            expectError(r, .notFound, "not_found", field: nil, "tree with another account")
        }
    }

    @Test("empty root= and orgUnitId= are 400 invalid_request naming the parameter")
    func emptyParameters() async throws {
        try await withTestApp { api in
            let f = try await Fixture.make(api)
            expectError(
                try await api.call(.get, "/v1/orgunits/tree?root=", token: f.admin.token), .badRequest, "invalid_request", field: "root", "root=")
            expectError(
                try await api.call(.get, "/v1/orgunits/changes?orgUnitId=", token: f.admin.token), .badRequest, "invalid_request",
                field: "orgUnitId", "orgUnitId=")
            expectError(
                try await api.call(.get, "/v1/orgunits/changes?status=", token: f.admin.token), .badRequest, "invalid_request",
                field: "status", "status=")
            #expect(try await api.call(.get, "/v1/orgunits/tree?since=", token: f.admin.token).status == .ok, "an empty since means everything")
        }
    }

    @Test("a wrong method on a routed path is 405 method_not_allowed with Allow; an unknown path stays 404")
    func methodNotAllowed() async throws {
        try await withTestApp { api in
            let f = try await Fixture.make(api)
            let cases: [(HTTPRequest.Method, String, String)] = [
                (.delete, "/v1/projects", "GET, POST"), (.put, "/v1/forms/\(UUID().lowercased)/versions", "GET, POST"),
                (.get, "/v1/sync/push", "POST"), (.post, "/v1/sync/pull", "GET"), (.post, "/healthz", "GET"),
                (.get, "/v1/conflicts/entity/\(UUID().lowercased)/resolve", "POST"), (.patch, "/v1/auth/token", "DELETE, POST"),
            ]
            for (method, path, allow) in cases {
                for token in [f.admin.token, nil] {
                    let r = try await api.call(method, path, token: token)
                    expectError(r, .methodNotAllowed, "method_not_allowed", field: nil, "\(method) \(path)")
                    #expect(r.headers[.allow] == allow, "\(method) \(path): Allow \(r.headers[.allow] ?? "absent")")
                }
            }
            let r = try await api.call(.get, "/v1/no-such-thing", token: f.admin.token)
            expectError(r, .notFound, "not_found", field: nil, "unknown path")
            #expect(r.headers[.allow] == nil)
        }
    }

    @Test("rules the server enforces are in the schema, and the server enforces them")
    func rulesInSchema() async throws {
        let user = try Self.schemaBlock("UserCreate")
        #expect(user.contains("minLength: 8") && user.contains("maxLength: 72"), "password length:\n\(user)")
        #expect(user.contains("maxLength: 100"), "username length:\n\(user)")
        #expect(try Self.schemaBlock("OrgUnitTypeCreate").contains("maximum: 100"), "depth ≤ 100")
        let field = try Self.schemaBlock("FormField")
        #expect(field.contains("then:") && field.contains("required: [choices]"), "select fields need choices:\n\(field)")
        #expect(try Self.schemaBlock("User").contains("const: superuser"), "the superuser's accountId is null")
        #expect(try Self.schemaBlock("Name").contains("maxLength: 200"), "names are 1 to 200 bytes")
        #expect(try Self.schemaBlock("Timestamp").contains("pattern:"), "times need a fraction of a second")
        #expect(try Self.schemaBlock("FormVersion").contains("required: [id, formId, version, fields, createdAt]"))

        try await withTestApp { api in
            let f = try await Fixture.make(api)
            var r = try await api.call(
                .post, "/v1/users", token: f.admin.token,
                json: .object([
                    "username": .string("short-pass"), "password": .string("1234567"), "role": .string("agent"),
                ]))
            expectError(r, .unprocessableContent, "invalid_field", field: "password", "7-byte password")
            r = try await api.call(.post, "/v1/orgunit-types", token: f.admin.token, json: .object(["name": .string("Deep"), "depth": .number(101)]))
            expectError(r, .unprocessableContent, "invalid_field", field: "depth", "depth 101")
            r = try await api.call(
                .post, "/v1/users", token: f.admin.token,
                json: .object([
                    "username": .string("tab\u{1C}name"), "password": .string("long-enough"), "role": .string("agent"),
                ]))
            expectError(r, .unprocessableContent, "invalid_field", field: "username", "a separator control character in a username")
            r = try await api.call(.post, "/v1/entity-types", token: f.admin.token, json: .object(["name": .string("\u{1C}")]))
            expectError(r, .unprocessableContent, "invalid_field", field: "name", "a name without a visible character")
        }
    }
}
