import FieldSyncCore
import Foundation
import HTTPTypes
import Testing

/// Text PostgreSQL refuses (NUL, `\u0000`) on every route that takes text, missing and
/// mistyped members of pushed items, and a corpus of hostile bodies: the server answers
/// a clear 4xx naming the field (or 200 with only the bad items rejected) and never 5xx.
@Suite("Hostile input: NUL in text, item members, hostile bodies")
struct HostileInputTests {
    static let nul = "a\u{0}b"

    /// One request whose body carries a NUL somewhere, and the field the answer must name.
    struct Case: Sendable, CustomStringConvertible {
        let name: String
        let method: HTTPRequest.Method
        let uri: String
        let token: String?
        let body: JSONValue
        let field: String
        /// The status the route's contract gives (400 or 422), when the test pins it.
        var status: Int? = nil
        var description: String { name }
    }

    @Test("NUL in any text of an administration, sign-in, device or import body is invalid_field naming it, never 5xx")
    func nulOnEveryRoute() async throws {
        try await withTestApp { api in
            let w = try await VersionedSyncTests.World.make(api)
            let f = w.f
            let q = "?accountId=\(f.account.lowercased)"
            let root = f.rootToken
            let bad = JSONValue.string(Self.nul)
            let formUUID = try #require(try await api.call(.get, "/v1/forms" + q, token: root).json["items"]?[0]?["id"]?.stringValue)
            func user(_ changes: [String: JSONValue]) -> JSONValue {
                var o: [String: JSONValue] = [
                    "username": .string("u-\(UUID().uuidString.prefix(6))"), "password": .string("long-enough-1"),
                    "role": .string("agent"), "projectIds": .array([]), "orgUnitIds": .array([]),
                ]
                for (k, v) in changes { o[k] = v }
                return .object(o)
            }
            func form(_ changes: [String: JSONValue]) -> JSONValue {
                var o: [String: JSONValue] = [
                    "formId": .string("f-\(UUID().uuidString.prefix(6))"), "name": .string("F"), "version": .string("1"),
                    "projectIds": .array([.string(f.project.lowercased)]),
                ]
                for (k, v) in changes { o[k] = v }
                return .object(o)
            }
            let textField: JSONValue = .object(["name": .string("q"), "type": .string("text")])
            // Central's side: the project's integer id, the entity list of the world's entity
            // type with one property, and one real entity to update.
            let odkProject = try #require(try await api.call(.get, "/odk/v1/projects", token: f.admin.token).json[0]?["id"]?.numberValue)
            let list = "/odk/v1/projects/\(Int(odkProject))/datasets/Household"
            let property = try await api.call(.post, list + "/properties", token: f.admin.token, json: .object(["name": .string("village")]))
            #expect(property.status == .ok, "\(property.text)")
            let made = try await api.call(
                .post, list + "/entities", token: f.admin.token,
                json: .object(["label": .string("Amina"), "data": .object(["village": .string("Subil")])]))
            #expect(made.status == .ok, "\(made.text)")
            let entityUUID = try #require(made.json["uuid"]?.stringValue)
            let patch = list + "/entities/\(entityUUID)?baseVersion=1"
            func entity(label: JSONValue = .string("Karim"), data: [String: JSONValue] = [:]) -> JSONValue {
                .object(["label": label, "data": .object(data)])
            }
            let units = "/v1/orgunits/changes/\(UUID().lowercased)/review"
            let unit: (JSONValue) -> JSONValue = { name in .array([.object(["id": .string(UUID().lowercased), "name": name, "parentId": .null])]) }
            let cases: [Case] = [
                Case(name: "account name", method: .post, uri: "/v1/accounts", token: root, body: .object(["name": bad]), field: "name"),
                Case(
                    name: "project name", method: .post, uri: "/v1/projects" + q, token: root,
                    body: .object(["name": bad, "appId": .string("x.y")]), field: "name"),
                Case(
                    name: "project appId", method: .post, uri: "/v1/projects" + q, token: root,
                    body: .object(["name": .string("P"), "appId": bad]), field: "appId"),
                Case(name: "username", method: .post, uri: "/v1/users" + q, token: root, body: user(["username": bad]), field: "username"),
                Case(
                    name: "password", method: .post, uri: "/v1/users" + q, token: root, body: user(["password": .string("long-enough\u{0}")]),
                    field: "password"),
                Case(
                    name: "user role", method: .patch, uri: "/v1/users/\(f.agent.userId.lowercased)" + q, token: root,
                    body: .object(["role": .string("agent\u{0}")]), field: "role"),
                Case(
                    name: "sign-in username, no token", method: .post, uri: "/v1/auth/token", token: nil,
                    body: .object(["username": bad, "password": .string("whatever-1")]), field: "username"),
                Case(
                    name: "sign-in password, no token", method: .post, uri: "/v1/auth/token", token: nil,
                    body: .object(["username": .string("root"), "password": bad]), field: "password"),
                Case(
                    name: "org-unit type name", method: .post, uri: "/v1/orgunit-types" + q, token: root,
                    body: .object(["name": bad, "depth": .number(1)]), field: "name"),
                Case(name: "entity type name", method: .post, uri: "/v1/entity-types" + q, token: root, body: .object(["name": bad]), field: "name"),
                Case(name: "form id", method: .post, uri: "/v1/forms" + q, token: root, body: form(["formId": bad]), field: "formId"),
                Case(name: "form name", method: .post, uri: "/v1/forms" + q, token: root, body: form(["name": bad]), field: "name"),
                Case(name: "form version", method: .post, uri: "/v1/forms" + q, token: root, body: form(["version": bad]), field: "version"),
                Case(
                    name: "form field name", method: .post, uri: "/v1/forms" + q, token: root,
                    body: form(["fields": .array([textField, .object(["name": bad, "type": .string("text")])])]), field: "fields[1].name"),
                Case(
                    name: "form field choice", method: .post, uri: "/v1/forms" + q, token: root,
                    body: form([
                        "fields": .array([.object(["name": .string("w"), "type": .string("select_one"), "choices": .array([.string("ok"), bad])])])
                    ]),
                    field: "fields[0].choices[1]"),
                Case(
                    name: "form field member name", method: .post, uri: "/v1/forms" + q, token: root,
                    body: form(["fields": .array([.object(["name": .string("w"), "type": .string("text"), "hint\u{0}": .string("x")])])]),
                    field: "fields[0].hint\\u0000"),
                Case(
                    name: "form version's version", method: .post, uri: "/v1/forms/\(formUUID)/versions" + q, token: root,
                    body: .object(["version": bad]), field: "version"),
                Case(
                    name: "form version's field name", method: .post, uri: "/v1/forms/\(formUUID)/versions" + q, token: root,
                    body: .object(["version": .string("9"), "fields": .array([.object(["name": bad, "type": .string("text")])])]),
                    field: "fields[0].name"),
                Case(
                    name: "device appVersion", method: .post, uri: "/v1/devices", token: f.agent.token,
                    body: .object(["deviceId": .string(UUID().lowercased), "appVersion": bad]), field: "appVersion"),
                Case(
                    name: "device model", method: .post, uri: "/v1/devices", token: f.agent.token,
                    body: .object(["deviceId": .string(UUID().lowercased), "model": bad]), field: "model"),
                Case(
                    name: "imported unit name (array)", method: .post, uri: "/v1/orgunits/import" + q, token: root, body: unit(bad),
                    field: "items[0].name"),
                Case(
                    name: "imported unit alias (array)", method: .post, uri: "/v1/orgunits/import" + q, token: root,
                    body: .array([.object(["id": .string(UUID().lowercased), "name": .string("U"), "aliases": .array([.string("ok"), bad])])]),
                    field: "items[0].aliases[1]"),
                Case(
                    name: "imported unit name (FeatureCollection)", method: .post, uri: "/v1/orgunits/import" + q, token: root,
                    body: .object([
                        "type": .string("FeatureCollection"),
                        "features": .array([
                            .object([
                                "type": .string("Feature"), "id": .string(UUID().lowercased), "properties": .object(["name": bad]),
                                "geometry": .object(["type": .string("Point"), "coordinates": .array([.number(1), .number(2)])]),
                            ])
                        ]),
                    ]),
                    field: "features[0].properties.name"),
                Case(
                    name: "conflict resolution value", method: .post, uri: "/v1/conflicts/entity/\(UUID().lowercased)/resolve", token: f.admin.token,
                    body: .object(["changes": .object(["name": bad])]), field: "changes.name"),
                Case(
                    name: "instance conflict resolution value", method: .post, uri: "/v1/conflicts/instance/\(UUID().lowercased)/resolve",
                    token: f.admin.token, body: .object(["changes": .object(["water": bad])]), field: "changes.water", status: 422),
                Case(
                    name: "org-unit conflict resolution value", method: .post, uri: "/v1/conflicts/orgUnit/\(UUID().lowercased)/resolve",
                    token: f.admin.token, body: .object(["changes": .object(["name": bad])]), field: "changes.name", status: 422),
                // Central's entities (pyodk): label, data values and data keys, one and many, created and updated.
                Case(
                    name: "Central entity label", method: .post, uri: list + "/entities", token: f.admin.token, body: entity(label: bad),
                    field: "label", status: 400),
                Case(
                    name: "Central entity data value", method: .post, uri: list + "/entities", token: f.admin.token,
                    body: entity(data: ["village": bad]), field: "data.village", status: 400),
                Case(
                    name: "Central entity data key", method: .post, uri: list + "/entities", token: f.admin.token,
                    body: entity(data: ["vil\u{0}lage": .string("x")]), field: "data.vil\\u0000lage", status: 400),
                Case(
                    name: "Central entities (many) label", method: .post, uri: list + "/entities", token: f.admin.token,
                    body: .object(["entities": .array([entity(), entity(label: bad)]), "source": .object(["name": .string("s")])]),
                    field: "entities[1].label", status: 400),
                Case(
                    name: "Central entity update label", method: .patch, uri: patch, token: f.admin.token, body: .object(["label": bad]),
                    field: "label", status: 400),
                Case(
                    name: "Central entity update data value", method: .patch, uri: patch, token: f.admin.token,
                    body: .object(["data": .object(["village": bad])]), field: "data.village", status: 400),
                Case(
                    name: "Central entity update data key", method: .patch, uri: patch, token: f.admin.token,
                    body: .object(["data": .object(["village\u{0}": .string("x")])]), field: "data.village\\u0000", status: 400),
                Case(
                    name: "Central entity list property", method: .post, uri: list + "/properties", token: f.admin.token,
                    body: .object(["name": bad]), field: "name", status: 400),
                Case(
                    name: "Central sign-in email, no token", method: .post, uri: "/odk/v1/sessions", token: nil,
                    body: .object(["email": bad, "password": .string("whatever-1")]), field: "email", status: 400),
                Case(
                    name: "Central sign-in password, no token", method: .post, uri: "/odk/v1/sessions", token: nil,
                    body: .object(["email": .string("root"), "password": bad]), field: "password", status: 400),
                Case(
                    name: "app user name", method: .post, uri: "/v1/app-users", token: f.admin.token,
                    body: .object([
                        "projectId": .string(f.project.lowercased), "orgUnitIds": .array([.string(w.districtA.lowercased)]), "name": bad,
                    ]),
                    field: "name", status: 422),
                Case(
                    name: "review field name", method: .post, uri: units, token: f.admin.token,
                    body: .object(["decision": .string("approve"), "fields": .array([bad])]), field: "fields[0]", status: 422),
                Case(
                    name: "review comment", method: .post, uri: units, token: f.admin.token,
                    body: .object(["decision": .string("reject"), "comment": bad]), field: "comment", status: 422),
                Case(
                    name: "user update projectIds", method: .patch, uri: "/v1/users/\(f.agent.userId.lowercased)" + q, token: root,
                    body: .object(["projectIds": .array([bad])]), field: "projectIds[0]", status: 422),
            ]
            for c in cases {
                let r = try await api.call(c.method, c.uri, token: c.token, json: c.body)
                #expect((400...499).contains(r.status.code), "\(c): \(r.status) \(r.text)")
                #expect(r.errorCode == "invalid_field", "\(c): \(r.text)")
                #expect(r.errorField == c.field, "\(c): \(r.text)")
                if let status = c.status { #expect(r.status.code == status, "\(c): \(r.status) \(r.text)") }
            }
            // `password` is no member of a user update (UserUpdate): a NUL in it is never a 5xx, the
            // member is ignored, and the user keeps its password.
            let agentName = try #require(
                try await api.call(.get, "/v1/users" + q, token: root).json["items"]?.arrayValue?
                    .first { $0["id"] == .string(f.agent.userId.lowercased) }?["username"]?.stringValue)
            let ignored = try await api.call(
                .patch, "/v1/users/\(f.agent.userId.lowercased)" + q, token: root, json: .object(["password": .string("long-enough\u{0}")]))
            #expect(ignored.status.code < 500, "\(ignored.status) \(ignored.text)")
            #expect(ignored.status == .ok, "\(ignored.text)")
            _ = try await api.signIn(agentName, "password-agent")
            // The Central entity kept its first version; the many-entity body wrote none.
            let entities = try await api.call(.get, list + "/entities", token: f.admin.token)
            #expect(entities.json.arrayValue?.count == 1, "\(entities.text)")
            #expect(entities.json[0]?["currentVersion"]?["version"] == .number(1), "\(entities.text)")
            #expect(entities.json[0]?["currentVersion"]?["label"] == .string("Amina"), "\(entities.text)")
            // Nothing was half-written, and the server still works.
            let types = try await api.call(.get, "/v1/entity-types" + q, token: root)
            #expect(types.status == .ok)
            #expect(types.json["items"]?.arrayValue?.count == 1)
            #expect(try await api.call(.get, "/v1/accounts", token: root).json["items"]?.arrayValue?.count == 1)
        }
    }

    @Test("NUL in query parameters and path segments never reaches SQL (never 5xx)")
    func nulInQueriesAndPaths() async throws {
        try await withTestApp { api in
            let w = try await VersionedSyncTests.World.make(api)
            let f = w.f
            let t = f.admin.token
            let uris =
                [
                    "/v1/sync/pull?cursor=%00", "/v1/sync/pull?projectId=%00", "/v1/sync/pull?limit=1%00",
                    "/v1/orgunits/tree?root=%00", "/v1/orgunits/tree?since=c1.%00", "/v1/orgunits/tree?geometry=full%00",
                    "/v1/orgunits/changes?status=%00", "/v1/orgunits/changes?orgUnitId=%00", "/v1/orgunits/changes?cursor=%00",
                    "/v1/conflicts?kind=%00", "/v1/conflicts?status=%00", "/v1/conflicts?cursor=%00",
                    "/v1/orgunits/a%00b/summary", "/v1/forms/a%00b/versions",
                    // Central's routes percent-decode their path (pyodk encodes `uuid:`): NUL and bad escapes are 404.
                    "/odk/v1/projects/1/forms/a%00b", "/odk/v1/projects/1/forms/a%ZZ/submissions",
                    "/odk/v1/projects/1/forms/f/submissions/uuid%3A%00", "/odk/v1/projects/1/forms/f/submissions/%FF%FE",
                    "/odk/v1/projects/%00", "/odk/v1/projects/1%00/forms",
                ].map { (HTTPRequest.Method.get, $0, t) } + [
                    (.get, "/v1/projects?accountId=%00", f.rootToken), (.get, "/v1/users?accountId=a%00b", f.rootToken),
                    (.put, "/v1/attachments/a%00b", t), (.patch, "/v1/users/a%00b", t),
                ]
            for (method, uri, token) in uris {
                let r = try await api.call(method, uri, token: token, raw: method == .get ? nil : Array("{}".utf8))
                // A parameter a route ignores may answer 200; one it reads answers 4xx. Never 5xx.
                #expect(r.status.code < 500, "\(uri): \(r.status) \(r.text)")
                if r.status.code >= 400 { #expect(r.errorCode != nil, "\(uri): \(r.text)") }
            }
            let resolve = try await api.call(
                .post, "/v1/conflicts/ent%00ity/\(UUID().lowercased)/resolve", token: t,
                json: .object(["changes": .object(["a": .number(1)])]))
            #expect((400...499).contains(resolve.status.code), "\(resolve.status) \(resolve.text)")
            #expect(try await api.call(.get, "/v1/sync/pull", token: t).status == .ok)
        }
    }

    @Test("NUL inside one pushed item (answers, attributes, keys, org units, positions) rejects that item alone; the others are stored")
    func nulInPushedItems() async throws {
        try await withTestApp { api in
            let w = try await VersionedSyncTests.World.make(api)
            let f = w.f
            let dev = f.admin.device
            let bad = JSONValue.string(Self.nul)
            let goodEntity = UUID(), goodInstance = UUID(), goodUnit = UUID()
            func unitItem(_ id: UUID, counter: Int64, _ changes: [String: JSONValue]) -> JSONValue {
                .object([
                    "kind": .string("orgUnit"), "id": .string(id.lowercased), "replica": .string(dev.lowercased), "counter": .number(Double(counter)),
                    "editedAt": .string("2026-11-20T08:15:30.123Z"), "changes": .object(changes),
                ])
            }
            var badFormId = w.instance(UUID(), device: dev, counter: 6, answers: ["members": .number(2)]).objectValue ?? [:]
            badFormId["formId"] = bad
            var badAttachment = w.instance(UUID(), device: dev, counter: 7, answers: ["members": .number(2)]).objectValue ?? [:]
            badAttachment["attachments"] = .array([.object(["name": bad, "sha256": .string(String(repeating: "a", count: 64)), "size": .number(1)])])
            var badReplica = w.newEntity(UUID(), device: dev, counter: 8, changes: ["name": .string("x")]).objectValue ?? [:]
            badReplica["replica"] = bad
            let items: [JSONValue] = [
                w.newEntity(goodEntity, device: dev, counter: 1, changes: ["name": .string("Amina"), "village": .string("Subil")]),
                w.newEntity(UUID(), device: dev, counter: 2, changes: ["name": .string("Bad"), "village": bad]),
                w.instance(UUID(), device: dev, counter: 3, answers: ["members": .number(2), "water": bad]),
                unitItem(UUID(), counter: 4, ["name": bad, "parentId": .string(w.country.lowercased)]),
                w.newEntity(UUID(), device: dev, counter: 5, changes: ["vil\u{0}lage": .string("x")]),
                .object(badFormId),
                .object(badAttachment),
                .object(badReplica),
                positionItem(transport: Self.nul),
                w.newEntity(UUID(), device: dev, counter: 9, changes: ["tags": .array([.string("ok"), .object(["deep": bad])])]),
                unitItem(UUID(), counter: 10, ["name": .string("Fine"), "parentId": .string(w.country.lowercased), "aliases": .array([bad])]),
                w.instance(goodInstance, device: dev, counter: 11, answers: ["members": .number(3)]),
                unitItem(goodUnit, counter: 12, ["name": .string("Good unit"), "parentId": .string(w.country.lowercased)]),
            ]
            let expected: [Int: String] = [
                1: "items[1].changes.village", 2: "items[2].changes.water", 3: "items[3].changes.name",
                4: "items[4].changes.vil\\u0000lage", 5: "items[5].formId", 6: "items[6].attachments[0].name", 7: "items[7].replica",
                8: "items[8].transport", 9: "items[9].changes.tags[1].deep", 10: "items[10].changes.aliases[0]",
            ]
            let r = try await api.call(.post, "/v1/sync/push", token: f.admin.token, json: pushBody(device: dev, items: items))
            #expect(r.status == .ok, "\(r.text)")
            let results = try #require(r.json["results"]?.arrayValue)
            #expect(results.count == items.count)
            for (k, result) in results.enumerated() {
                if let field = expected[k] {
                    #expect(result["status"] == .string("rejected"), "item \(k): \(result)")
                    #expect(result["error"]?["code"] == .string("invalid_field"), "item \(k): \(result)")
                    #expect(result["error"]?["field"] == .string(field), "item \(k): \(result)")
                } else {
                    #expect(result["status"] == .string("created"), "item \(k): \(result)")
                }
            }
            // The good items are stored: the pull has them and nothing else of this batch.
            let pulled = try await api.call(.get, "/v1/sync/pull", token: f.admin.token)
            let ids = Set(pulled.json["changes"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? [])
            #expect(ids.isSuperset(of: [goodEntity.lowercased, goodInstance.lowercased, goodUnit.lowercased]), "\(ids)")
            let rejected = Set(expected.keys.compactMap { items[$0]["id"]?.stringValue })
            #expect(ids.isDisjoint(with: rejected), "\(ids)")
            // The batch's answer was stored and is replayed as sent.
            let replay = try await api.call(
                .post, "/v1/sync/push", token: f.admin.token,
                json: pushBody(batch: UUID(uuidString: r.json["batchId"]?.stringValue ?? "") ?? UUID(), device: dev, items: items))
            #expect(replay.json["results"] == r.json["results"])
        }
    }

    @Test("times with 1 to 9 fraction digits and any offset are accepted and pulled as UTC milliseconds; 10 digits reject that item alone")
    func timestampsEndToEnd() async throws {
        try await withTestApp { api in
            let w = try await VersionedSyncTests.World.make(api)
            let f = w.f
            let devA = f.admin.device
            let devB = try await VersionedSyncTests.secondDevice(api, f)
            func stamped(_ item: JSONValue, _ key: String, _ time: String) -> JSONValue {
                var o = item.objectValue ?? [:]
                o[key] = .string(time)
                return .object(o)
            }
            let position = UUID(), entity = UUID(), tooFine = UUID(), tooFinePosition = UUID(), after = UUID()
            let items: [JSONValue] = [
                stamped(positionItem(id: position), "capturedAt", "2026-11-20T08:14:02.1234Z"),
                stamped(
                    w.newEntity(entity, device: devA, counter: 1, changes: ["name": .string("Amina")]), "editedAt",
                    "2026-11-20T08:14:02.123456789+05:45"),
                stamped(
                    w.newEntity(tooFine, device: devA, counter: 2, changes: ["name": .string("Karim")]), "editedAt", "2026-11-20T08:14:02.1234567891Z"
                ),
                stamped(positionItem(id: tooFinePosition), "capturedAt", "2026-11-20T08:14:02.1234567891Z"),
                w.newEntity(after, device: devA, counter: 3, changes: ["name": .string("Rahima")]),
            ]
            let r = try await VersionedSyncTests.push(api, f.admin.token, devA, items)
            #expect(r.count == items.count)
            for k in [0, 1, 4] { #expect(r[k]["status"] == .string("created"), "item \(k): \(r[k])") }
            for (k, member) in [(2, "editedAt"), (3, "capturedAt")] {
                #expect(r[k]["status"] == .string("rejected"), "item \(k): \(r[k])")
                #expect(r[k]["error"]?["code"] == .string("invalid_field"), "item \(k): \(r[k])")
                #expect(r[k]["error"]?["field"] == .string("items[\(k)].\(member)"), "item \(k): \(r[k])")
            }
            // An entity's editedAt shows in the pull where its values do: as a conflict entry.
            // A second device writes the same field concurrently (its base has not seen A's).
            let b = try await VersionedSyncTests.push(
                api, f.admin.token, devB, [w.entity(entity, device: devB, counter: 1, at: 1_763_626_540_000, changes: ["name": .string("Amina B.")])])
            #expect(b.first?["status"] == .string("conflict"), "\(b)")

            let pulledPosition = try #require(try await VersionedSyncTests.pulledRecord(api, f.admin.token, id: position.lowercased))
            #expect(pulledPosition["capturedAt"] == .string("2026-11-20T08:14:02.123Z"), "\(pulledPosition)")
            let pulledEntity = try #require(try await VersionedSyncTests.pulledRecord(api, f.admin.token, id: entity.lowercased))
            let values = pulledEntity["conflicts"]?["name"]?.arrayValue ?? []
            let fromA = try #require(values.first { $0["replica"] == .string(devA.lowercased) }, "\(pulledEntity)")
            // 08:14:02.123456789 at +05:45 is 02:29:02.123 UTC: milliseconds kept, the rest truncated.
            #expect(fromA["editedAt"] == .string("2026-11-20T02:29:02.123Z"), "\(pulledEntity)")
            #expect(fromA["value"] == .string("Amina"))
            // The other items of the batch are stored; the rejected ones are not.
            #expect(try await VersionedSyncTests.pulledRecord(api, f.admin.token, id: after.lowercased) != nil)
            let ids = Set(try await VersionedSyncTests.pullAll(api, f.admin.token).compactMap { $0["id"]?.stringValue })
            #expect(ids.isDisjoint(with: [tooFine.lowercased, tooFinePosition.lowercased]), "\(ids)")
        }
    }

    @Test("a missing or mistyped member of a pushed item is invalid_field naming it; invalid_request is for the envelope")
    func itemMembers() async throws {
        try await withTestApp { api in
            let w = try await VersionedSyncTests.World.make(api)
            let f = w.f
            let dev = f.admin.device
            func without(_ item: JSONValue, _ key: String) -> JSONValue {
                var o = item.objectValue ?? [:]
                o[key] = nil
                return .object(o)
            }
            func with(_ item: JSONValue, _ key: String, _ value: JSONValue) -> JSONValue {
                var o = item.objectValue ?? [:]
                o[key] = value
                return .object(o)
            }
            let entity = w.newEntity(UUID(), device: dev, counter: 1, changes: ["name": .string("x")])
            let instance = w.instance(UUID(), device: dev, counter: 1, answers: ["members": .number(1)])
            let unit: JSONValue = .object([
                "kind": .string("orgUnit"), "id": .string(UUID().lowercased), "replica": .string(dev.lowercased), "counter": .number(1),
                "editedAt": .string("2026-11-20T08:15:30.123Z"),
                "changes": .object(["name": .string("U"), "parentId": .string(w.country.lowercased)]),
            ])
            let attachment: JSONValue = .array([
                .object(["name": .string("a.jpg"), "sha256": .string(String(repeating: "a", count: 64)), "size": .string("1")])
            ])
            let cases: [(JSONValue, String)] = [
                (without(entity, "editedAt"), "editedAt"), (without(entity, "counter"), "counter"), (without(entity, "changes"), "changes"),
                (without(entity, "replica"), "replica"), (without(entity, "id"), "id"),
                (with(entity, "editedAt", .number(5)), "editedAt"), (with(entity, "counter", .string("1")), "counter"),
                (with(entity, "changes", .array([])), "changes"), (with(entity, "base", .string("x")), "base"),
                (with(entity, "replica", .bool(true)), "replica"),
                (without(instance, "editedAt"), "editedAt"), (with(instance, "attachments", .object([:])), "attachments"),
                (without(positionItem(), "capturedAt"), "capturedAt"), (without(positionItem(), "location"), "location"),
                (with(positionItem(), "capturedAt", .number(1)), "capturedAt"), (with(positionItem(), "accuracy", .string("5")), "accuracy"),
                (without(unit, "editedAt"), "editedAt"), (with(unit, "counter", .string("1")), "counter"),
                (without(entity, "kind"), "kind"), (without(positionItem(), "id"), "id"),
                (with(instance, "formId", .number(5)), "formId"), (with(instance, "orgUnitId", .string("x")), "orgUnitId"),
                (with(entity, "orgUnitId", .string("x")), "orgUnitId"), (with(instance, "attachments", attachment), "attachments[0].size"),
            ]
            var items = cases.map(\.0)
            items.append(.array([]))
            items.append(w.instance(UUID(), device: dev, counter: 2, answers: ["members": .number(1)]))
            let r = try await api.call(.post, "/v1/sync/push", token: f.admin.token, json: pushBody(device: dev, items: items))
            #expect(r.status == .ok, "\(r.text)")
            let results = try #require(r.json["results"]?.arrayValue)
            #expect(results.count == items.count)
            for (k, (_, member)) in cases.enumerated() {
                #expect(results[k]["status"] == .string("rejected"), "item \(k) \(member): \(results[k])")
                #expect(results[k]["error"]?["code"] == .string("invalid_field"), "item \(k) \(member): \(results[k])")
                #expect(results[k]["error"]?["field"] == .string("items[\(k)].\(member)"), "item \(k): \(results[k])")
            }
            let notObject = results[cases.count]
            #expect(notObject["status"] == .string("rejected"))
            #expect(notObject["error"]?["code"] == .string("invalid_field"), "\(notObject)")
            // An item that is not an object has no kind: that member is the one named.
            #expect(notObject["error"]?["field"] == .string("items[\(cases.count)].kind"), "\(notObject)")
            #expect(results[cases.count + 1]["status"] == .string("created"), "\(results[cases.count + 1])")
            // The envelope's own problems stay invalid_request (400).
            let noBatch = try await api.call(
                .post, "/v1/sync/push", token: f.admin.token,
                json: .object(["deviceId": .string(dev.lowercased), "items": .array([])]))
            #expect(noBatch.status == .badRequest)
            #expect(noBatch.errorCode == "invalid_request")
            #expect(noBatch.errorField == "batchId")
        }
    }

    /// The hostile bodies: each is sent as the whole body of a route.
    static func hostileBodies(device: UUID) -> [(name: String, bytes: [UInt8])] {
        let batch = "\"batchId\":\"\(UUID().lowercased)\",\"deviceId\":\"\(device.lowercased)\""
        func push(_ items: String) -> [UInt8] { Array("{\(batch),\"items\":[\(items)]}".utf8) }
        func position(_ member: String) -> String {
            "{\"kind\":\"position\",\"id\":\"\(UUID().lowercased)\",\"capturedAt\":\"2026-11-20T08:14:02.123Z\",\"location\":{\"type\":\"Point\",\"coordinates\":[90.4,23.8]}\(member)}"
        }
        let digits400 = "1" + String(repeating: "7", count: 399)
        let longFraction = "0." + String(repeating: "3", count: 200_000)
        let tenMB = String(repeating: "x", count: 10 << 20)
        var out: [(String, [UInt8])] = [
            ("nesting 65", Array((String(repeating: "[", count: 65) + String(repeating: "]", count: 65)).utf8)),
            ("nesting 100,000", Array((String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)).utf8)),
            ("nesting 100,000 objects", Array((String(repeating: "{\"a\":", count: 100_000) + "1" + String(repeating: "}", count: 100_000)).utf8)),
            ("nesting 100,000 unterminated", Array(String(repeating: "[", count: 100_000).utf8)),
            ("nesting 65 inside an item", push(position(",\"x\":" + String(repeating: "[", count: 62) + String(repeating: "]", count: 62)))),
            ("1e400", push(position(",\"accuracy\":1e400"))),
            ("-1e400", Array("{\"a\":-1e400}".utf8)),
            ("400-digit integer", push(position(",\"accuracy\":\(digits400)"))),
            ("400-digit counter", push("{\"kind\":\"entity\",\"id\":\"\(UUID().lowercased)\",\"counter\":\(digits400)}")),
            ("300-digit counter", push("{\"kind\":\"entity\",\"id\":\"\(UUID().lowercased)\",\"counter\":1\(String(repeating: "0", count: 299))}")),
            ("-0", push(position(",\"accuracy\":-0,\"altitude\":-0.0e0"))),
            ("-0 counter", push("{\"kind\":\"entity\",\"id\":\"\(UUID().lowercased)\",\"counter\":-0}")),
            ("long fraction", push(position(",\"accuracy\":\(longFraction)"))),
            ("tiny exponent", push(position(",\"accuracy\":1e-400"))),
            ("10 MB string id", push("{\"kind\":\"position\",\"id\":\"\(tenMB)\"}")),
            ("10 MB string value", push(position(",\"transport\":\"\(tenMB)\""))),
            ("10 MB key", push("{\"\(tenMB)\":1}")),
            ("invalid UTF-8", push(position("") + ",{\"kind\":\"position\",\"id\":\"\u{FFFD}\"}").map { $0 == 0xBD ? 0xFF : $0 }),
            ("overlong UTF-8", Array("{\"a\":\"".utf8) + [0xC0, 0xAF] + Array("\"}".utf8)),
            ("UTF-8 surrogate", Array("{\"a\":\"".utf8) + [0xED, 0xA0, 0x80] + Array("\"}".utf8)),
            ("truncated UTF-8", Array("{\"a\":\"".utf8) + [0xE2, 0x82] + Array("\"}".utf8)),
            ("lone high surrogate escape", Array("{\"a\":\"\\ud800\"}".utf8)),
            ("lone low surrogate escape", Array("{\"a\":\"\\udc00x\"}".utf8)),
            ("raw NUL in a string", Array("{\"a\":\"".utf8) + [0] + Array("\"}".utf8)),
            ("raw NUL outside strings", Array("{\"a\":1".utf8) + [0] + Array("}".utf8)),
            ("escaped NUL in an item", push(position(",\"transport\":\"a\\u0000b\""))),
            ("escaped NUL in an envelope key", Array("{\"batchId\\u0000\":1,\(batch),\"items\":[]}".utf8)),
            ("escaped NUL in the batchId", Array("{\"batchId\":\"\\u0000\",\"deviceId\":\"\(device.lowercased)\",\"items\":[]}".utf8)),
            ("duplicate keys", Array("{\(batch),\(batch),\"items\":[],\"items\":[\(position(""))]}".utf8)),
            ("duplicate keys in an item", push(position(",\"id\":\"not-a-uuid\",\"id\":\"\(UUID().lowercased)\""))),
            ("unterminated object", Array("{\(batch),\"items\":[".utf8)),
            ("unterminated string", Array("{\"batchId\":\"abc".utf8)),
            ("unterminated escape", Array("{\"a\":\"\\u12".utf8)),
            ("empty body", []),
            ("only spaces", Array("   \n ".utf8)),
            ("trailing garbage", Array("{}}".utf8)),
            ("NaN", Array("{\"a\":NaN}".utf8)),
            ("BOM", [0xEF, 0xBB, 0xBF] + Array("{}".utf8)),
        ]
        // 10^6 items within the size limit (2 MB): each is rejected alone.
        out.append(("10^6 items", push(Array(repeating: "0", count: 1_000_000).joined(separator: ","))))
        out.append(
            ("10^6-element array in an item", push(position(",\"x\":[" + Array(repeating: "0", count: 1_000_000).joined(separator: ",") + "]"))))
        return out
    }

    @Test("the server answers every hostile body with a clear 4xx (or 200 with items rejected) and keeps serving")
    func hostileBodies() async throws {
        try await withTestApp { api in
            let w = try await VersionedSyncTests.World.make(api)
            let f = w.f
            let q = "?accountId=\(f.account.lowercased)"
            let routes: [(String, String)] = [
                ("/v1/sync/push", f.agent.token), ("/v1/entity-types" + q, f.rootToken), ("/v1/orgunits/import" + q, f.rootToken),
            ]
            // Bodies that are not JSON (RFC 8259, UTF-8, depth ≤ 64) answer 400 invalid_json on every route.
            let notJSON: Set<String> = [
                "nesting 65", "nesting 100,000", "nesting 100,000 objects", "nesting 100,000 unterminated", "nesting 65 inside an item",
                "1e400", "-1e400", "400-digit integer", "400-digit counter", "invalid UTF-8", "overlong UTF-8", "UTF-8 surrogate",
                "truncated UTF-8", "lone high surrogate escape", "lone low surrogate escape", "raw NUL in a string", "raw NUL outside strings",
                "unterminated object", "unterminated string", "unterminated escape", "empty body", "only spaces", "trailing garbage", "NaN", "BOM",
            ]
            let bodies = Self.hostileBodies(device: f.agent.device)
            #expect(notJSON.isSubset(of: Set(bodies.map(\.name))))
            for (name, bytes) in bodies {
                for (uri, token) in routes {
                    let started = ContinuousClock.now
                    let r = try await api.call(.post, uri, token: token, raw: bytes)
                    let note: Comment = "\(name) on \(uri): \(r.status) \(r.text.prefix(300))"
                    #expect(r.status.code < 500, note)
                    if notJSON.contains(name) {
                        #expect(r.status == .badRequest, note)
                        #expect(r.errorCode == "invalid_json", note)
                    }
                    if r.status == .ok {
                        #expect(uri == "/v1/sync/push", note)
                        #expect(r.json["results"]?.arrayValue != nil, note)
                    } else if r.status.code >= 400 {
                        #expect(r.errorCode?.isEmpty == false, note)
                        #expect(r.json["error"]?["message"]?.stringValue?.isEmpty == false, note)
                    }
                    #expect(ContinuousClock.now - started < .seconds(60), note)
                    // The server still answers a normal request.
                    let ok = try await api.call(
                        .post, "/v1/sync/push", token: f.agent.token, json: pushBody(device: f.agent.device, items: [positionItem()]))
                    #expect(ok.status == .ok, "after \(name) on \(uri): \(ok.text.prefix(300))")
                    #expect(ok.json["results"]?[0]?["status"] == .string("created"), "after \(name) on \(uri)")
                }
            }
        }
    }
}
