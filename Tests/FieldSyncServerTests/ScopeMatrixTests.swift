import FieldSyncCore
import Foundation
import HTTPTypes
import PostgresNIO
import Testing

@testable import FieldSyncServer

/// Every endpoint × role × own/other account × in/out of the caller's subtree (issue #5).
///
/// Callers are of account A (see ``ScopeWorld``): the supervisor and the agent sit on D1, so
/// D2's subtree is "out"; account B is "other". Every answer is searched, as raw bytes, for
/// every id and name of B and (for the supervisor and the agent) of what lies outside D1:
/// none may appear unless the request itself named it. A row with `other:` names an id of B:
/// the same request with an id that exists nowhere must get the same answer, byte for byte
/// (ids aside).
@Suite("Scope matrix: endpoint × role × account × subtree", .serialized)
struct ScopeMatrixTests {
    enum Who: String, Sendable { case anon, root, admin, sup, agent, fresh }

    struct Row: Sendable {
        var who: Who
        var method: HTTPRequest.Method
        var path: String
        var body: String? = nil
        var expect: Int
        /// The protocol error code expected, when not the obvious one.
        var code: String? = nil
        /// An id of account B the request names: answered exactly as an unknown id.
        var other: String? = nil
        /// Strings the answer must hold, and must not hold (besides the leak search).
        var has: [String] = []
        var lacks: [String] = []
        init(
            _ who: Who, _ method: HTTPRequest.Method, _ path: String, _ body: String? = nil, _ expect: Int,
            code: String? = nil, other: String? = nil, has: [String] = [], lacks: [String] = []
        ) {
            (self.who, self.method, self.path, self.body, self.expect, self.code, self.other, self.has, self.lacks) = (
                who, method, path, body, expect, code, other, has, lacks
            )
        }
    }

    /// Every route of the server that needs a token (from the routers in Controllers/*.swift).
    static func securedEndpoints(_ a: ScopeWorld.Side) -> [(HTTPRequest.Method, String)] {
        [
            (.delete, "/v1/auth/token"), (.get, "/v1/users/me"), (.post, "/v1/accounts"), (.get, "/v1/accounts"),
            (.post, "/v1/projects"), (.get, "/v1/projects"), (.post, "/v1/users"), (.get, "/v1/users"),
            (.patch, "/v1/users/\(a.agent2.id.lowercased)"),
            (.post, "/v1/devices"), (.get, "/v1/devices"), (.post, "/v1/orgunit-types"), (.get, "/v1/orgunit-types"),
            (.post, "/v1/entity-types"), (.get, "/v1/entity-types"), (.post, "/v1/forms"), (.get, "/v1/forms"),
            (.post, "/v1/forms/\(a.form.lowercased)/versions"), (.get, "/v1/forms/\(a.form.lowercased)/versions"),
            (.post, "/v1/orgunits/import"), (.post, "/v1/sync/push"), (.get, "/v1/sync/pull"),
            (.get, "/v1/conflicts"), (.post, "/v1/conflicts/entity/\(a.eIn.lowercased)/resolve"),
            (.put, "/v1/attachments/\(a.sha)"), (.head, "/v1/attachments/\(a.sha)"),
            (.get, "/v1/orgunits/tree"), (.get, "/v1/orgunits/changes"), (.post, "/v1/orgunits/changes/\(UUID().lowercased)/review"),
            (.get, "/v1/orgunits/\(a.d1.lowercased)/summary"), (.post, "/v1/forms/xform?projectId=\(a.project.lowercased)"),
            (.post, "/v1/app-users"),
            (.get, "/odk/v1/users/current"), (.get, "/odk/v1/projects"), (.get, "/odk/v1/projects/1"), (.get, "/odk/v1/projects/1/forms"),
            (.get, "/odk/v1/projects/1/datasets"),
            (.get, "/odk/v1/projects/1/forms/f"), (.get, "/odk/v1/projects/1/forms/f/submissions"), (.post, "/odk/v1/projects/1/forms/f/submissions"),
            (.get, "/odk/v1/projects/1/forms/f/submissions/uuid:1"), (.get, "/odk/v1/projects/1/forms/f/submissions/uuid:1/attachments"),
            (.get, "/odk/v1/projects/1/datasets/d"), (.post, "/odk/v1/projects/1/datasets/d/properties"),
            (.get, "/odk/v1/projects/1/datasets/d/entities"), (.post, "/odk/v1/projects/1/datasets/d/entities"),
            (.get, "/odk/v1/projects/1/datasets/d/entities/\(UUID().lowercased)"),
            (.patch, "/odk/v1/projects/1/datasets/d/entities/\(UUID().lowercased)"),
            (.delete, "/odk/v1/projects/1/datasets/d/entities/\(UUID().lowercased)"),
            (.post, "/odk/v1/projects/1/forms"), (.post, "/odk/v1/projects/1/forms/f/draft"),
            (.post, "/odk/v1/projects/1/forms/f/draft/attachments/a.csv"),
            (.post, "/odk/v1/projects/1/forms/f/draft/publish"), (.get, "/odk/v1/projects/1/forms/f.svc/Submissions"),
            (.get, "/odk/v1/projects/1/datasets/d.svc/Entities"),
            (.get, "/odk/v1/projects/1/forms/f/submissions/uuid:1/attachments/a.jpg"),
            (.post, "/odk/v1/projects/1/forms/f/submissions/uuid:1/attachments/a.jpg"),
        ]
    }

    /// Org-unit proposals pushed before the rows run: the agent's under V1, agent2's under V2, one in B.
    struct Proposals: Sendable { let inside: String, outside: String, other: String, insideName: String, outsideName: String }

    static func propose(_ w: ScopeWorld, _ m: ScopeWorld.Member, under parent: UUID, name: String) async throws -> String {
        let item =
            #"{"kind":"orgUnit","id":"\#(UUID().lowercased)","replica":"\#(m.device.lowercased)","counter":1,"base":{},"editedAt":"2026-11-20T08:15:30.123Z","changes":{"name":"\#(name)","parentId":"\#(parent.lowercased)"}}"#
        let r = try await w.api.call(.post, "/v1/sync/push", token: m.token, raw: Array(pushJSON(device: m.device, [item]).utf8))
        guard let id = r.json["results"]?.arrayValue?.first?["changeId"]?.stringValue else { throw TestSetupError("proposal: \(r.text)") }
        return id
    }

    /// Tree, change requests (listed to their author and the supervisors of the subtree), review, summary.
    static func orgUnitRows(_ w: ScopeWorld, _ p: Proposals) -> [Row] {
        let (a, b) = (w.a, w.b)
        func s(_ u: UUID) -> String { u.lowercased }
        let approve = #"{"decision":"approve"}"#
        return [
            Row(.agent, .get, "/v1/orgunits/tree", nil, 200, has: [s(a.d1), "ouV1-\(a.mark)"]),
            Row(.agent, .get, "/v1/orgunits/tree?root=\(s(a.v1))&format=geojson", nil, 200, has: ["ouV1-\(a.mark)"]),
            Row(.agent, .get, "/v1/orgunits/tree?root=\(s(a.d2))", nil, 403),
            Row(.agent, .get, "/v1/orgunits/tree?root=\(s(a.r))", nil, 403),
            Row(.agent, .get, "/v1/orgunits/tree?root=\(s(b.d1))", nil, 404, other: s(b.d1)),
            Row(.sup, .get, "/v1/orgunits/tree?root=\(s(a.d2))", nil, 403),
            Row(.admin, .get, "/v1/orgunits/tree", nil, 200, has: ["ouR-\(a.mark)", "ouV2-\(a.mark)"]),
            Row(.admin, .get, "/v1/orgunits/tree?root=\(s(b.r))", nil, 404, other: s(b.r)),
            Row(.root, .get, "/v1/orgunits/tree", nil, 403),
            Row(.agent, .get, "/v1/orgunits/changes", nil, 200, has: [p.inside], lacks: [p.outside, p.outsideName]),
            Row(.sup, .get, "/v1/orgunits/changes?status=pending", nil, 200, has: [p.inside], lacks: [p.outside, p.outsideName]),
            Row(.admin, .get, "/v1/orgunits/changes?status=pending", nil, 200, has: [p.inside, p.outside]),
            Row(.root, .get, "/v1/orgunits/changes", nil, 403),
            Row(.agent, .post, "/v1/orgunits/changes/\(p.inside)/review", approve, 403),
            Row(.sup, .post, "/v1/orgunits/changes/\(p.outside)/review", approve, 403),
            Row(.sup, .post, "/v1/orgunits/changes/\(p.other)/review", approve, 404, other: p.other),
            Row(.admin, .post, "/v1/orgunits/changes/\(p.other)/review", approve, 404, other: p.other),
            Row(.sup, .post, "/v1/orgunits/changes/\(p.inside)/review", approve, 200, has: ["approved"]),
            Row(.admin, .post, "/v1/orgunits/changes/\(p.outside)/review", #"{"decision":"reject"}"#, 200, has: ["rejected"]),
            Row(.sup, .get, "/v1/orgunits/\(s(a.d1))/summary", nil, 200),
            Row(.sup, .get, "/v1/orgunits/\(s(a.d2))/summary", nil, 403),
            Row(.sup, .get, "/v1/orgunits/\(s(b.d1))/summary", nil, 404, other: s(b.d1)),
            Row(.admin, .get, "/v1/orgunits/\(s(a.d2))/summary", nil, 200),
        ]
    }

    static func rows(_ w: ScopeWorld) -> [Row] {
        let (a, b) = (w.a, w.b)
        let q = a.q
        func s(_ u: UUID) -> String { u.lowercased }
        let newUser = { (units: String) in
            #"{"username":"u\#(UUID().uuidString.prefix(8))","password":"password-x","role":"agent","projectIds":[],"orgUnitIds":[\#(units)]}"#
        }
        let resolve = #"{"changes":{"name":"resolved"}}"#
        let position = { (device: UUID, project: UUID?) in pushJSON(device: device, project: project, [JSONWriter.string(positionItem())]) }
        var rows: [Row] = [
            // Open routes.
            Row(.anon, .get, "/healthz", nil, 200),
            Row(.anon, .get, "/readyz", nil, 200),
            Row(.anon, .get, "/metrics", nil, 200),
            Row(.anon, .post, "/v1/auth/token", #"{"username":"\#(b.admin.username)","password":"wrong-password"}"#, 401, other: b.admin.username),
        ]
        // No token: 401 everywhere.
        rows += securedEndpoints(a).map { Row(.anon, $0.0, $0.1, nil, 401, code: "unauthorized") }
        rows += [
            // Who am I.
            Row(.admin, .get, "/v1/users/me", nil, 200, has: [s(a.admin.id)]),
            Row(.sup, .get, "/v1/users/me", nil, 200, has: [s(a.d1)]),
            Row(.agent, .get, "/v1/users/me", nil, 200, has: [s(a.agent.id)]),
            Row(.root, .get, "/v1/users/me", nil, 200, has: ["superuser"]),
            // Accounts: the superuser alone creates them; others list their own.
            Row(.root, .post, "/v1/accounts", #"{"name":"another"}"#, 201),
            Row(.admin, .post, "/v1/accounts", #"{"name":"another"}"#, 403),
            Row(.sup, .post, "/v1/accounts", #"{"name":"another"}"#, 403),
            Row(.agent, .post, "/v1/accounts", #"{"name":"another"}"#, 403),
            Row(.admin, .get, "/v1/accounts", nil, 200, has: [s(a.account)]),
            Row(.agent, .get, "/v1/accounts", nil, 200, has: [s(a.account)]),
            // Projects.
            Row(.root, .post, "/v1/projects" + q, #"{"name":"p2","appId":"app.p2"}"#, 201),
            Row(.root, .post, "/v1/projects", #"{"name":"p3","appId":"app.p3"}"#, 400),
            Row(.admin, .post, "/v1/projects", #"{"name":"p4","appId":"app.p4"}"#, 201),
            Row(.sup, .post, "/v1/projects", #"{"name":"p5","appId":"app.p5"}"#, 403),
            Row(.agent, .post, "/v1/projects", #"{"name":"p6","appId":"app.p6"}"#, 403),
            Row(.root, .get, "/v1/projects" + q, nil, 200, has: [s(a.projectQ)]),
            Row(.admin, .get, "/v1/projects", nil, 200, has: [s(a.projectQ)]),
            Row(.sup, .get, "/v1/projects", nil, 200, has: [s(a.project)]),
            Row(.agent, .get, "/v1/projects", nil, 200, has: [s(a.project)]),
            // Users.
            Row(.admin, .post, "/v1/users", newUser("\"\(s(a.d1))\""), 201),
            Row(.root, .post, "/v1/users" + q, newUser(""), 201),
            Row(.sup, .post, "/v1/users", newUser(""), 403),
            Row(.agent, .post, "/v1/users", newUser(""), 403),
            Row(.admin, .post, "/v1/users", newUser("\"\(s(b.d1))\""), 422, code: "unknown_reference", other: s(b.d1)),
            Row(.admin, .get, "/v1/users", nil, 200, has: [a.agent2.username]),
            Row(.root, .get, "/v1/users" + q, nil, 200, has: [a.agent2.username]),
            Row(.sup, .get, "/v1/users", nil, 403),
            Row(.agent, .get, "/v1/users", nil, 403),
            Row(.admin, .patch, "/v1/users/\(s(a.agent2.id))", #"{"role":"agent"}"#, 200, has: [s(a.d2)]),
            Row(.root, .patch, "/v1/users/\(s(a.agent2.id))" + q, #"{"role":"agent"}"#, 200),
            Row(.sup, .patch, "/v1/users/\(s(a.agent2.id))", #"{"role":"agent"}"#, 403),
            Row(.agent, .patch, "/v1/users/\(s(a.agent.id))", #"{"role":"admin"}"#, 403),
            Row(.admin, .patch, "/v1/users/\(s(b.agent.id))", #"{"role":"agent"}"#, 404, other: s(b.agent.id)),
            Row(.admin, .patch, "/v1/users/\(s(a.agent2.id))", #"{"orgUnitIds":["\#(s(b.d2))"]}"#, 422, code: "unknown_reference", other: s(b.d2)),
            Row(.admin, .patch, "/v1/users/\(s(a.agent2.id))", #"{"role":"superuser"}"#, 422),
            // Devices: per account (B's device id is a new device in A).
            Row(.agent, .post, "/v1/devices", #"{"deviceId":"\#(UUID().lowercased)"}"#, 200, has: [s(a.agent.id)]),
            Row(.root, .post, "/v1/devices", #"{"deviceId":"\#(UUID().lowercased)"}"#, 403),
            Row(.admin, .get, "/v1/devices", nil, 200, has: [s(a.agent2.device)]),
            Row(.root, .get, "/v1/devices" + q, nil, 200, has: [s(a.agent2.device)]),
            Row(.sup, .get, "/v1/devices", nil, 200, has: [s(a.sup.device)]),
            Row(.agent, .get, "/v1/devices", nil, 200, has: [s(a.agent.device)]),
            // Device ids are per account: B's device id is a new device in A (after the listings above, which it would join).
            Row(.agent, .post, "/v1/devices", #"{"deviceId":"\#(s(b.sup.device))"}"#, 200, has: [s(a.agent.id)]),
            // Catalog: admins create; everyone lists (forms: of one's projects).
            Row(.admin, .post, "/v1/orgunit-types", #"{"name":"district","depth":1}"#, 201),
            Row(.sup, .post, "/v1/orgunit-types", #"{"name":"district","depth":1}"#, 403),
            Row(.agent, .post, "/v1/orgunit-types", #"{"name":"district","depth":1}"#, 403),
            Row(.agent, .get, "/v1/orgunit-types", nil, 200, has: ["district"]),
            Row(.admin, .post, "/v1/entity-types", #"{"name":"Well"}"#, 201),
            Row(.sup, .post, "/v1/entity-types", #"{"name":"Well"}"#, 403),
            Row(.agent, .post, "/v1/entity-types", #"{"name":"Well"}"#, 403),
            Row(.agent, .get, "/v1/entity-types", nil, 200, has: [s(a.entityType)]),
            Row(.admin, .post, "/v1/forms", #"{"formId":"f2","name":"F2","version":"1","projectIds":["\#(s(a.project))"]}"#, 201),
            Row(
                .admin, .post, "/v1/forms", #"{"formId":"f3","name":"F3","version":"1","projectIds":["\#(s(b.project))"]}"#, 422,
                code: "unknown_reference", other: s(b.project)),
            Row(.sup, .post, "/v1/forms", #"{"formId":"f4","name":"F4","version":"1"}"#, 403),
            Row(.agent, .post, "/v1/forms", #"{"formId":"f5","name":"F5","version":"1"}"#, 403),
            Row(.admin, .get, "/v1/forms", nil, 200, has: [s(a.formQ)]),
            Row(.sup, .get, "/v1/forms", nil, 200, has: [s(a.form)]),
            Row(.agent, .get, "/v1/forms", nil, 200, has: [s(a.form)]),
            Row(.admin, .post, "/v1/forms/\(s(a.form))/versions", #"{"version":"2"}"#, 201),
            Row(.admin, .post, "/v1/forms/\(s(b.form))/versions", #"{"version":"2"}"#, 404, other: s(b.form)),
            Row(.sup, .post, "/v1/forms/\(s(a.form))/versions", #"{"version":"3"}"#, 403),
            Row(.agent, .post, "/v1/forms/\(s(a.form))/versions", #"{"version":"3"}"#, 403),
            Row(.agent, .get, "/v1/forms/\(s(a.form))/versions", nil, 200, has: [#""version":"2""#]),
            Row(.agent, .get, "/v1/forms/\(s(a.formQ))/versions", nil, 403),
            Row(.agent, .get, "/v1/forms/\(s(b.form))/versions", nil, 404, other: s(b.form)),
            Row(.admin, .get, "/v1/forms/\(s(a.formQ))/versions", nil, 200),
            // Org-unit import: admins only; a parent of another account is unknown.
            Row(.admin, .post, "/v1/orgunits/import", #"[{"id":"\#(UUID().lowercased)","name":"hamlet","parentId":"\#(s(a.v1))"}]"#, 201),
            Row(
                .admin, .post, "/v1/orgunits/import", #"[{"id":"\#(UUID().lowercased)","name":"hamlet","parentId":"\#(s(b.v1))"}]"#, 422,
                code: "unknown_reference", other: s(b.v1)),
            Row(.sup, .post, "/v1/orgunits/import", #"[{"id":"\#(UUID().lowercased)","name":"hamlet","parentId":"\#(s(a.v1))"}]"#, 403),
            Row(.agent, .post, "/v1/orgunits/import", #"[{"id":"\#(UUID().lowercased)","name":"hamlet","parentId":"\#(s(a.v1))"}]"#, 403),
            // Push: one's own registered device, a project of one's own.
            Row(.agent, .post, "/v1/sync/push", position(a.agent.device, nil), 200, has: [#""created""#]),
            Row(.agent, .post, "/v1/sync/push", position(a.agent2.device, nil), 403),
            Row(.agent, .post, "/v1/sync/push", position(b.agent.device, nil), 403, other: s(b.agent.device)),
            Row(.agent, .post, "/v1/sync/push", position(a.agent.device, b.project), 404, other: s(b.project)),
            Row(.agent, .post, "/v1/sync/push", position(a.agent.device, a.projectQ), 403),
            Row(.root, .post, "/v1/sync/push", position(a.agent.device, nil), 403),
            // Pull: the subtree of one's units, without the ancestors (their ids may show as parentId only);
            // positions of oneself, and for supervisors of the users under their units.
            Row(.admin, .get, "/v1/sync/pull?limit=1000", nil, 200, has: [s(a.eOut), s(a.iOut), s(a.pOut), s(a.pIn), "ouR-\(a.mark)"]),
            Row(.sup, .get, "/v1/sync/pull?limit=1000", nil, 200, has: [s(a.eIn), s(a.iIn), s(a.pIn), s(a.v1), "ouD1-\(a.mark)"]),
            Row(.agent, .get, "/v1/sync/pull?limit=1000", nil, 200, has: [s(a.eIn), s(a.iIn), s(a.pIn), s(a.v1), "ouD1-\(a.mark)"]),
            Row(.agent, .get, "/v1/sync/pull?projectId=\(s(b.project))", nil, 404, other: s(b.project)),
            // Protocol: 403 for a project of the account one is not in.
            Row(.agent, .get, "/v1/sync/pull?projectId=\(s(a.projectQ))", nil, 403),
            Row(.root, .get, "/v1/sync/pull", nil, 403),
            // Conflicts: listed within scope; resolved by supervisors (of the subtree) and admins.
            Row(.admin, .get, "/v1/conflicts", nil, 200, has: [s(a.eIn), s(a.eOut)]),
            Row(.sup, .get, "/v1/conflicts?kind=entity", nil, 200, has: [s(a.eIn)]),
            Row(.agent, .get, "/v1/conflicts?status=open", nil, 200, has: [s(a.eIn)]),
            Row(.root, .get, "/v1/conflicts", nil, 403),
            Row(.agent, .post, "/v1/conflicts/entity/\(s(a.eIn))/resolve", resolve, 403),
            Row(.sup, .post, "/v1/conflicts/entity/\(s(a.eOut))/resolve", resolve, 403),
            Row(.sup, .post, "/v1/conflicts/entity/\(s(b.eIn))/resolve", resolve, 404, other: s(b.eIn)),
            Row(.admin, .post, "/v1/conflicts/entity/\(s(b.eOut))/resolve", resolve, 404, other: s(b.eOut)),
            Row(.sup, .post, "/v1/conflicts/entity/\(s(a.eIn))/resolve", resolve, 200, has: ["resolved"]),
            Row(.admin, .post, "/v1/conflicts/entity/\(s(a.eOut))/resolve", resolve, 200, has: ["resolved"]),
            // Attachments: per account (B's file is unknown to A, and stored anew for A).
            Row(.agent, .head, "/v1/attachments/\(a.sha)", nil, 200),
            Row(.agent, .head, "/v1/attachments/\(b.sha)", nil, 404, other: b.sha),
            Row(.root, .head, "/v1/attachments/\(a.sha)", nil, 403),
            Row(.agent, .put, "/v1/attachments/\(b.sha)", "file-\(b.mark)", 201),
            // Sign-out revokes the token used: the next request with it is 401.
            Row(.fresh, .delete, "/v1/auth/token", nil, 204),
            Row(.fresh, .get, "/v1/users/me", nil, 401),
        ]
        // ODK: XForm upload and app users (admins), and the OpenRosa routes, whose key is in the path.
        let appUser = #"{"projectId":"\#(s(a.project))","orgUnitIds":["\#(s(a.v1))"]}"#
        rows += [
            Row(.agent, .post, "/v1/forms/xform?projectId=\(s(a.project))", "<h:html/>", 403),
            Row(.sup, .post, "/v1/forms/xform?projectId=\(s(a.project))", "<h:html/>", 403),
            Row(.admin, .post, "/v1/forms/xform?projectId=\(s(a.project))", "<not xml", 400, code: "malformed_xml"),
            Row(.admin, .post, "/v1/forms/xform", "<h:html/>", 400, code: "invalid_request"),
            Row(.agent, .post, "/v1/app-users", appUser, 403),
            Row(.sup, .post, "/v1/app-users", appUser, 403),
            Row(.admin, .post, "/v1/app-users", appUser, 201, has: ["settingsQR", "/odk/v1/key/"]),
            Row(
                .admin, .post, "/v1/app-users", #"{"projectId":"\#(s(b.project))","orgUnitIds":["\#(s(a.v1))"]}"#, 422,
                code: "unknown_reference", other: s(b.project)),
            // ODK Central's REST API (pyodk): integer project ids, the caller's projects only.
            Row(.anon, .post, "/odk/v1/sessions", #"{"email":"nobody-\#(a.mark)","password":"x"}"#, 401, code: "unauthorized"),
            Row(.anon, .post, "/odk/v1/sessions", #"{"email":null,"password":"x"}"#, 400, code: "invalid_field"),
            Row(.agent, .get, "/odk/v1/users/current", nil, 200, has: [a.agent.username, #""type":"user""#]),
            Row(.root, .get, "/odk/v1/users/current", nil, 200, has: [#""email":"root""#]),
            Row(.admin, .get, "/odk/v1/projects", nil, 200, has: ["proj-\(a.mark)", "projq-\(a.mark)", #""id":\#(a.odkProject)"#]),
            Row(.agent, .get, "/odk/v1/projects", nil, 200, has: ["proj-\(a.mark)"]),
            Row(.root, .get, "/odk/v1/projects", nil, 403),
            Row(.agent, .get, "/odk/v1/projects/\(a.odkProject)", nil, 200, has: ["proj-\(a.mark)"]),
            Row(.agent, .get, "/odk/v1/projects/\(a.odkProjectQ)", nil, 403),
            Row(.admin, .get, "/odk/v1/projects/\(b.odkProject)", nil, 404),
            Row(.admin, .get, "/odk/v1/projects/0", nil, 404),
            Row(.admin, .get, "/odk/v1/projects/x", nil, 404),
            Row(.sup, .get, "/odk/v1/projects/\(a.odkProject)/forms", nil, 200),
            Row(.agent, .get, "/odk/v1/projects/\(a.odkProjectQ)/forms", nil, 403),
            Row(.admin, .get, "/odk/v1/projects/\(b.odkProject)/forms", nil, 404),
            Row(.agent, .get, "/odk/v1/projects/\(a.odkProject)/datasets", nil, 200, has: ["etype-\(a.mark)", #""approvalRequired":false"#]),
            Row(.agent, .get, "/odk/v1/projects/\(a.odkProjectQ)/datasets", nil, 403),
            Row(.admin, .get, "/odk/v1/projects/\(b.odkProject)/datasets", nil, 404),
            // Forms declared as JSON fields have no XForm: Central's API does not show them.
            Row(.admin, .get, "/odk/v1/projects/\(a.odkProject)/forms/\(a.formKey)", nil, 404),
            Row(.agent, .get, "/odk/v1/projects/\(a.odkProjectQ)/forms/\(a.formKey)/submissions", nil, 403),
            Row(.admin, .get, "/odk/v1/projects/\(a.odkProject)/forms/\(a.formKey)/submissions", nil, 404),
            Row(.sup, .get, "/odk/v1/projects/\(a.odkProject)/forms/\(a.formKey)/submissions/uuid:1", nil, 404),
            Row(.agent, .post, "/odk/v1/projects/\(a.odkProjectQ)/forms/\(a.formKey)/submissions", "<data/>", 403),
            Row(.agent, .post, "/odk/v1/projects/\(a.odkProject)/forms/\(a.formKey)/submissions", "<data/>", 404),
            Row(.agent, .get, "/odk/v1/projects/\(a.odkProjectQ)/forms/\(a.formKey)/submissions/uuid:1/attachments", nil, 403),
            Row(.admin, .get, "/odk/v1/projects/\(a.odkProject)/forms/\(a.formKey)/submissions/uuid:1/attachments", nil, 404),
            // Central's entity routes: entity lists are the account's entity types, by name.
            Row(.agent, .get, "/odk/v1/projects/\(a.odkProject)/datasets/etype-\(a.mark)", nil, 200, has: ["etype-\(a.mark)", #""properties":[]"#]),
            Row(.agent, .get, "/odk/v1/projects/\(a.odkProject)/datasets/nope-\(a.mark)", nil, 404),
            Row(.agent, .get, "/odk/v1/projects/\(a.odkProjectQ)/datasets/etype-\(a.mark)", nil, 403),
            Row(.admin, .get, "/odk/v1/projects/\(b.odkProject)/datasets/etype-\(a.mark)", nil, 404),
            Row(.agent, .post, "/odk/v1/projects/\(a.odkProject)/datasets/etype-\(a.mark)/properties", #"{"name":"phone"}"#, 403),
            Row(.admin, .post, "/odk/v1/projects/\(a.odkProject)/datasets/etype-\(a.mark)/properties", #"{"name":"has space"}"#, 400),
            Row(.sup, .get, "/odk/v1/projects/\(a.odkProject)/datasets/etype-\(a.mark)/entities", nil, 200),
            Row(.agent, .get, "/odk/v1/projects/\(a.odkProjectQ)/datasets/etype-\(a.mark)/entities", nil, 403),
            Row(.agent, .post, "/odk/v1/projects/\(a.odkProject)/datasets/etype-\(a.mark)/entities", #"{"label":"","data":{}}"#, 400),
            Row(.agent, .post, "/odk/v1/projects/\(a.odkProject)/datasets/etype-\(a.mark)/entities", #"{"label":"x","data":{"phone":"1"}}"#, 400),
            Row(.sup, .get, "/odk/v1/projects/\(a.odkProject)/datasets/etype-\(a.mark)/entities/\(UUID().lowercased)", nil, 404),
            Row(
                .admin, .patch, "/odk/v1/projects/\(a.odkProject)/datasets/etype-\(a.mark)/entities/\(UUID().lowercased)?baseVersion=1",
                #"{"label":"x"}"#, 404),
            Row(.admin, .patch, "/odk/v1/projects/\(a.odkProject)/datasets/etype-\(a.mark)/entities/\(UUID().lowercased)", #"{"label":"x"}"#, 400),
            Row(.admin, .delete, "/odk/v1/projects/\(a.odkProject)/datasets/etype-\(a.mark)/entities/\(UUID().lowercased)", nil, 404),
            // Central's form uploads (admins) and OData tables.
            Row(.agent, .post, "/odk/v1/projects/\(a.odkProject)/forms", "<data/>", 403),
            Row(.admin, .post, "/odk/v1/projects/\(a.odkProject)/forms", "<data", 400),
            Row(.admin, .post, "/odk/v1/projects/\(b.odkProject)/forms", "<data/>", 404),
            Row(.agent, .post, "/odk/v1/projects/\(a.odkProject)/forms/nope-\(a.mark)/draft", nil, 403),
            Row(.admin, .post, "/odk/v1/projects/\(a.odkProject)/forms/nope-\(a.mark)/draft", nil, 404),
            Row(.sup, .post, "/odk/v1/projects/\(a.odkProject)/forms/nope-\(a.mark)/draft/attachments/a.csv", "a", 403),
            Row(.admin, .post, "/odk/v1/projects/\(a.odkProject)/forms/nope-\(a.mark)/draft/attachments/a.csv", "a", 404),
            Row(.agent, .post, "/odk/v1/projects/\(a.odkProject)/forms/nope-\(a.mark)/draft/publish", nil, 403),
            Row(.admin, .post, "/odk/v1/projects/\(a.odkProject)/forms/nope-\(a.mark)/draft/publish", nil, 404),
            Row(.agent, .get, "/odk/v1/projects/\(a.odkProjectQ)/forms/\(a.formKey).svc/Submissions", nil, 403),
            Row(.admin, .get, "/odk/v1/projects/\(a.odkProject)/forms/\(a.formKey).svc/Submissions", nil, 404),
            Row(.admin, .get, "/odk/v1/projects/\(a.odkProject)/forms/\(a.formKey)/Submissions", nil, 404),
            Row(
                .sup, .get, "/odk/v1/projects/\(a.odkProject)/datasets/etype-\(a.mark).svc/Entities?$count=true", nil, 200,
                has: [#""@odata.count":1"#, "$metadata#Entities", #""version":3"#]),
            Row(.sup, .get, "/odk/v1/projects/\(a.odkProject)/datasets/etype-\(a.mark).svc/Entities?$top=-1", nil, 400),
            Row(.sup, .get, "/odk/v1/projects/\(a.odkProject)/datasets/etype-\(a.mark).svc/Entities?$filter=x", nil, 400),
            Row(.agent, .get, "/odk/v1/projects/\(a.odkProjectQ)/datasets/etype-\(a.mark).svc/Entities", nil, 403),
            Row(.agent, .get, "/odk/v1/projects/\(a.odkProjectQ)/forms/\(a.formKey)/submissions/uuid:1/attachments/a.jpg", nil, 403),
            Row(.admin, .get, "/odk/v1/projects/\(a.odkProject)/forms/\(a.formKey)/submissions/uuid:1/attachments/a.jpg", nil, 404),
            Row(.agent, .post, "/odk/v1/projects/\(a.odkProjectQ)/forms/\(a.formKey)/submissions/uuid:1/attachments/a.jpg", "x", 403),
            Row(.agent, .post, "/odk/v1/projects/\(a.odkProject)/forms/\(a.formKey)/submissions/uuid:1/attachments/a.jpg", "x", 404),
            Row(.anon, .get, "/odk/v1/key/not-a-key/projects/1/forms/f/attachments/a.csv", nil, 401),
            Row(.anon, .get, "/odk/v1/key/not-a-key/projects/1/datasets/d/integrity?id=\(UUID().lowercased)", nil, 401),
            Row(.anon, .get, "/odk/v1/key/not-a-key/projects/1/formList", nil, 401),
            Row(.anon, .get, "/odk/v1/key/not-a-key/projects/1/forms/f.xml", nil, 401),
            Row(.anon, .get, "/odk/v1/key/not-a-key/projects/1/forms/f/manifest", nil, 401),
            Row(.anon, .head, "/odk/v1/key/not-a-key/projects/1/submission", nil, 401),
            Row(.anon, .post, "/odk/v1/key/not-a-key/projects/1/submission", "x", 401),
        ]
        return rows
    }

    /// Every row of the matrix, in the order it runs; RouteListTests checks they reach every route.
    /// Org-unit endpoints (tree, changes, review, summary) run first: the other rows resolve conflicts and revoke a token.
    static func allRows(_ w: ScopeWorld, _ p: Proposals) -> [Row] {
        orgUnitRows(w, p) + rows(w)
    }

    @Test("every endpoint answers each role, account and subtree as the protocol says, and leaks nothing of the other side")
    func matrix() async throws {
        let url = try await TestDatabase.migrated()
        try await withTestApp(databaseURL: url) { api in
            let w = try await ScopeWorld.make(api, databaseURL: url)
            let fresh = try await api.signIn(w.a.agent.username, "password-\(w.a.mark)")
            let tokens: [Who: String] = [.root: w.root, .admin: w.a.admin.token, .sup: w.a.sup.token, .agent: w.a.agent.token, .fresh: fresh]
            let p = Proposals(
                inside: try await Self.propose(w, w.a.agent, under: w.a.v1, name: "propin-\(w.a.mark)"),
                outside: try await Self.propose(w, w.a.agent2, under: w.a.v2, name: "propout-\(w.a.mark)"),
                other: try await Self.propose(w, w.b.agent, under: w.b.v1, name: "prop-\(w.b.mark)"),
                insideName: "propin-\(w.a.mark)", outsideName: "propout-\(w.a.mark)")
            let rows = Self.allRows(w, p)
            for row in rows {
                try await Self.run(row, w: w, token: tokens[row.who])
            }
            print("scope matrix: \(rows.count) rows")
        }
    }

    /// Sends a row's request; checks status, code, `has`, the leak search and the twin with an unknown id.
    static func run(_ row: Row, w: ScopeWorld, token: String?) async throws {
        let label = "\(row.who.rawValue) \(row.method) \(row.path)"
        let r = try await w.api.call(row.method, row.path, token: token, raw: row.body.map { Array($0.utf8) })
        #expect(Int(r.status.code) == row.expect, "\(label): \(r.status.code) \(r.text)")
        // The OpenRosa routes answer errors as `<OpenRosaResponse>`, not as JSON.
        let openRosa = row.path.hasPrefix("/odk/v1/key/")
        if openRosa, row.method != .head, row.expect >= 400 { #expect(r.text.contains("<OpenRosaResponse"), "\(label): \(r.text)") }
        if row.method != .head, !openRosa, let code = row.code ?? Self.defaultCode(row.expect) { #expect(r.errorCode == code, "\(label): \(r.text)") }
        for h in row.has { #expect(r.text.contains(h), "\(label) lacks \(h): \(r.text)") }
        for h in row.lacks { #expect(!r.text.contains(h), "\(label) holds \(h): \(r.text)") }
        expectNoLeak(r.text, w: w, who: row.who, request: row.path + (row.body ?? ""), label: label)
        if let other = row.other {
            // An unknown id of the same shape (a UUID, or a SHA-256 in hex).
            let unknown = other.count == 64 ? (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined() : UUID().lowercased
            let twin = try await w.api.call(
                row.method, row.path.replacingOccurrences(of: other, with: unknown), token: token,
                raw: row.body.map { Array($0.replacingOccurrences(of: other, with: unknown).utf8) })
            #expect(twin.status == r.status, "\(label): another account's id \(r.status.code), an unknown one \(twin.status.code)")
            #expect(
                r.text.replacingOccurrences(of: other, with: "<id>") == twin.text.replacingOccurrences(of: unknown, with: "<id>"),
                "\(label): answers differ: \(r.text) vs \(twin.text)")
            #expect(r.headers[.contentLength] == nil || r.headers[.contentLength] == twin.headers[.contentLength] || row.method != .head, "\(label)")
        }
    }

    static func defaultCode(_ status: Int) -> String? {
        switch status {
        case 401: "unauthorized"
        case 403: "forbidden"
        default: nil
        }
    }

    /// No id or name of account B, nor (for callers scoped to D1) of what lies outside D1,
    /// unless the request itself named it.
    static func expectNoLeak(_ body: String, w: ScopeWorld, who: Who, request: String, label: String) {
        if who == .root && !request.contains(w.a.account.lowercased) { return }
        var forbidden = w.b.secrets
        if who == .sup || who == .agent || who == .fresh { forbidden += w.a.outside }
        for secret in forbidden where !request.contains(secret) && body.contains(secret) {
            Issue.record("\(label) leaks \(secret): \(body.prefix(2000))")
        }
    }
}

// MARK: push items

extension ScopeMatrixTests {
    struct ItemRow: Sendable {
        var who: Who
        var item: String
        var status: String
        var code: String? = nil
        var other: String? = nil
        /// false for a known leak, reported for a file this suite's author may not edit.
        var leakCheck = true
    }

    @Test("pushed items: references and records outside the caller's subtree are rejected alone, another account's are unknown")
    func pushItems() async throws {
        let url = try await TestDatabase.migrated()
        try await withTestApp(databaseURL: url) { api in
            let w = try await ScopeWorld.make(api, databaseURL: url)
            let (a, b) = (w.a, w.b)
            let devices: [Who: ScopeWorld.Member] = [.admin: a.admin, .sup: a.sup, .agent: a.agent]
            func s(_ u: UUID) -> String { u.lowercased }
            func entity(_ who: Who, _ unit: UUID, type: UUID? = nil) -> String {
                entityJSON(UUID(), device: devices[who]!.device, unit: unit, type: type ?? a.entityType, changes: #"{"name":"x"}"#)
            }
            func instance(_ who: Who, _ unit: UUID, entity: UUID? = nil) -> String {
                instanceJSON(UUID(), device: devices[who]!.device, form: a.formKey, unit: unit, entity: entity)
            }
            let rows: [ItemRow] = [
                ItemRow(who: .agent, item: entity(.agent, a.v1), status: "created"),
                ItemRow(who: .agent, item: entity(.agent, a.d1), status: "created"),
                ItemRow(who: .agent, item: entity(.agent, a.d2), status: "rejected", code: "forbidden_reference"),
                ItemRow(who: .agent, item: entity(.agent, a.v2), status: "rejected", code: "forbidden_reference"),
                ItemRow(who: .agent, item: entity(.agent, a.r), status: "rejected", code: "forbidden_reference"),
                ItemRow(who: .agent, item: entity(.agent, b.v1), status: "rejected", code: "unknown_reference", other: s(b.v1)),
                ItemRow(
                    who: .agent, item: entity(.agent, a.v1, type: b.entityType), status: "rejected", code: "unknown_reference", other: s(b.entityType)
                ),
                ItemRow(who: .agent, item: instance(.agent, a.v1), status: "created"),
                ItemRow(who: .agent, item: instance(.agent, a.d2), status: "rejected", code: "forbidden_reference"),
                ItemRow(who: .agent, item: instance(.agent, b.v1), status: "rejected", code: "unknown_reference", other: s(b.v1)),
                ItemRow(who: .agent, item: instance(.agent, a.v1, entity: a.eIn), status: "created"),
                ItemRow(who: .agent, item: instance(.agent, a.v1, entity: a.eOut), status: "rejected", code: "forbidden_reference"),
                ItemRow(who: .agent, item: instance(.agent, a.v1, entity: b.eIn), status: "rejected", code: "unknown_reference", other: s(b.eIn)),
                // A write to an existing record outside the subtree: `forbidden`, checked before the
                // version, so neither its version nor its org unit shows in the answer.
                ItemRow(
                    who: .agent, item: entityJSON(a.eOut, device: a.agent.device, changes: #"{"name":"x"}"#), status: "rejected", code: "forbidden"),
                ItemRow(who: .sup, item: entity(.sup, a.v1), status: "created"),
                ItemRow(who: .sup, item: entity(.sup, a.d2), status: "rejected", code: "forbidden_reference"),
                ItemRow(who: .sup, item: instance(.sup, a.v2), status: "rejected", code: "forbidden_reference"),
                ItemRow(who: .admin, item: entity(.admin, a.d2), status: "created"),
                ItemRow(who: .admin, item: entity(.admin, b.d2), status: "rejected", code: "unknown_reference", other: s(b.d2)),
            ]
            for row in rows {
                let m = devices[row.who]!
                let body = pushJSON(device: m.device, [row.item])
                let label = "\(row.who.rawValue) pushes \(row.item)"
                let r = try await api.call(.post, "/v1/sync/push", token: m.token, raw: Array(body.utf8))
                #expect(r.status == .ok, "\(label): \(r.text)")
                let result = r.json["results"]?.arrayValue?.first
                #expect(result?["status"]?.stringValue == row.status, "\(label): \(r.text)")
                if let code = row.code { #expect(result?["error"]?["code"]?.stringValue == code, "\(label): \(r.text)") }
                if row.status == "rejected" { #expect(result?["version"] == nil, "\(label): a rejected item shows a version: \(r.text)") }
                if row.leakCheck { Self.expectNoLeak(r.text, w: w, who: row.who, request: body, label: label) }
                if let other = row.other {
                    let unknown = UUID().lowercased
                    let twinBody = pushJSON(device: m.device, [row.item.replacingOccurrences(of: other, with: unknown)])
                    let twin = try await api.call(.post, "/v1/sync/push", token: m.token, raw: Array(twinBody.utf8))
                    let e1 = JSONWriter.string(result?["error"] ?? .null).replacingOccurrences(of: other, with: "<id>")
                    let e2 = JSONWriter.string(twin.json["results"]?.arrayValue?.first?["error"] ?? .null).replacingOccurrences(
                        of: unknown, with: "<id>")
                    #expect(e1 == e2, "\(label): another account's id and an unknown one answer differently: \(e1) vs \(e2)")
                }
            }
        }
    }
}

// MARK: reassignment, devices

extension ScopeMatrixTests {
    @Test("reassigning a user's units, projects or role takes effect on its next request, with the same token")
    func reassignment() async throws {
        let url = try await TestDatabase.migrated()
        try await withTestApp(databaseURL: url) { api in
            let w = try await ScopeWorld.make(api, databaseURL: url)
            let a = w.a
            func pull() async throws -> String { try await api.call(.get, "/v1/sync/pull?limit=1000", token: a.agent.token).text }
            func push(_ unit: UUID) async throws -> String? {
                let body = pushJSON(device: a.agent.device, [entityJSON(UUID(), device: a.agent.device, unit: unit, type: a.entityType)])
                return try await api.call(.post, "/v1/sync/push", token: a.agent.token, raw: Array(body.utf8)).json["results"]?.arrayValue?.first?[
                    "status"]?.stringValue
            }
            var before = try await pull()
            #expect(before.contains(a.eIn.lowercased) && !before.contains(a.eOut.lowercased))
            #expect(try await push(a.d2) == "rejected")

            let patch = try await api.call(
                .patch, "/v1/users/\(a.agent.id.lowercased)", token: a.admin.token,
                raw: Array(#"{"orgUnitIds":["\#(a.d2.lowercased)"]}"#.utf8))
            #expect(patch.status == .ok, "\(patch.text)")
            #expect(patch.json["orgUnitIds"] == .array([.string(a.d2.lowercased)]))
            #expect(patch.json["role"] == .string("agent"))
            let me = try await api.call(.get, "/v1/users/me", token: a.agent.token)
            #expect(me.json["orgUnitIds"] == .array([.string(a.d2.lowercased)]))
            let after = try await pull()
            #expect(after.contains(a.eOut.lowercased) && after.contains(a.iOut.lowercased) && after.contains("ouV2-\(a.mark)"))
            #expect(!after.contains(a.eIn.lowercased) && !after.contains(a.iIn.lowercased) && !after.contains("ouV1-\(a.mark)"))
            #expect(try await push(a.d2) == "created")
            #expect(try await push(a.v1) == "rejected")
            let conflicts = try await api.call(.get, "/v1/conflicts", token: a.agent.token).text
            #expect(conflicts.contains(a.eOut.lowercased) && !conflicts.contains(a.eIn.lowercased))

            // Role: an agent may not resolve; promoted to supervisor, it may (its subtree only).
            let resolve = Array(#"{"changes":{"name":"r"}}"#.utf8)
            #expect(
                try await api.call(.post, "/v1/conflicts/entity/\(a.eOut.lowercased)/resolve", token: a.agent.token, raw: resolve).status
                    == .forbidden)
            _ = try await api.call(.patch, "/v1/users/\(a.agent.id.lowercased)", token: a.admin.token, raw: Array(#"{"role":"supervisor"}"#.utf8))
            #expect(try await api.call(.post, "/v1/conflicts/entity/\(a.eOut.lowercased)/resolve", token: a.agent.token, raw: resolve).status == .ok)
            #expect(
                try await api.call(.post, "/v1/conflicts/entity/\(a.eIn.lowercased)/resolve", token: a.agent.token, raw: resolve).status == .forbidden
            )

            // Projects: taken out of every project, the feed holds no records of a project any more.
            _ = try await api.call(.patch, "/v1/users/\(a.agent.id.lowercased)", token: a.admin.token, raw: Array(#"{"projectIds":[]}"#.utf8))
            before = try await pull()
            #expect(!before.contains(a.eOut.lowercased) && !before.contains(a.pIn.lowercased), "\(before)")
        }
    }

    @Test("the same new device registered from many connections at once: one device, one open ownership")
    func concurrentRegistration() async throws {
        let url = try await TestDatabase.migrated()
        try await withTestApp(databaseURL: url) { api in
            let f = try await Fixture.make(api)
            let device = UUID()
            let body = Array(#"{"deviceId":"\#(device.lowercased)","model":"race"}"#.utf8)
            let answers = try await withThrowingTaskGroup(of: API.Reply.self) { group in
                for _ in 0..<24 { group.addTask { try await api.call(.post, "/v1/devices", token: f.agent.token, raw: body) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers.allSatisfy { $0.status == .ok }, "\(answers.map(\.text))")
            #expect(Set(answers.compactMap { $0.json["since"]?.stringValue }).count == 1)
            let counts = try await ScopeWorld.sql(
                url,
                """
                SELECT (SELECT count(*) FROM devices WHERE id = \(device)), (SELECT count(*) FROM device_ownerships WHERE device_id = \(device)),
                       (SELECT count(*) FROM device_ownerships WHERE device_id = \(device) AND ended_at IS NULL)
                """
            ) { try $0.decode((Int64, Int64, Int64).self) }
            #expect(counts.map { [$0.0, $0.1, $0.2] } == [[1, 1, 1]])

            // Two users racing for one new device: still one device and one open ownership.
            let contested = UUID()
            let body2 = Array(#"{"deviceId":"\#(contested.lowercased)"}"#.utf8)
            let raced = try await withThrowingTaskGroup(of: API.Reply.self) { group in
                for k in 0..<16 {
                    group.addTask { try await api.call(.post, "/v1/devices", token: k % 2 == 0 ? f.agent.token : f.admin.token, raw: body2) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(raced.allSatisfy { $0.status == .ok })
            let open = try await ScopeWorld.sql(
                url,
                """
                SELECT (SELECT count(*) FROM devices WHERE id = \(contested)),
                       (SELECT count(*) FROM device_ownerships WHERE device_id = \(contested) AND ended_at IS NULL)
                """
            ) { try $0.decode((Int64, Int64).self) }
            #expect(open.map { [$0.0, $0.1] } == [[1, 1]])
        }
    }

    @Test("a device that changes hands keeps its ownership history; every pushed item records device and user")
    func handover() async throws {
        let url = try await TestDatabase.migrated()
        try await withTestApp(databaseURL: url) { api in
            let w = try await ScopeWorld.make(api, databaseURL: url)
            let a = w.a
            let device = UUID()
            func register(_ m: ScopeWorld.Member) async throws -> API.Reply {
                try await api.call(.post, "/v1/devices", token: m.token, raw: Array(#"{"deviceId":"\#(device.lowercased)"}"#.utf8))
            }
            func push(_ m: ScopeWorld.Member, _ items: [String]) async throws -> API.Reply {
                try await api.call(.post, "/v1/sync/push", token: m.token, raw: Array(pushJSON(device: device, items).utf8))
            }
            #expect(try await register(a.agent).json["userId"] == .string(a.agent.id.lowercased))
            let (p1, p2, e1) = (UUID(), UUID(), UUID())
            var r = try await push(
                a.agent, [JSONWriter.string(positionItem(id: p1)), entityJSON(e1, device: device, unit: a.v1, type: a.entityType)])
            #expect(r.status == .ok && !r.text.contains("rejected"), "\(r.text)")
            // agent2 takes the device over: the agent's ownership ends, it may no longer push with it.
            #expect(try await register(a.agent2).json["userId"] == .string(a.agent2.id.lowercased))
            r = try await push(a.agent, [JSONWriter.string(positionItem())])
            #expect(r.status == .forbidden)
            r = try await push(a.agent2, [JSONWriter.string(positionItem(id: p2))])
            #expect(r.status == .ok)
            #expect(try await register(a.agent).status == .ok)
            let history = try await w.sql(
                """
                SELECT user_id, ended_at IS NOT NULL, coalesce(ended_at <= lead(started_at) OVER (ORDER BY started_at), true)
                FROM device_ownerships WHERE account_id = \(a.account) AND device_id = \(device) ORDER BY started_at
                """
            ) { try $0.decode((UUID, Bool, Bool).self) }
            #expect(history.map(\.0) == [a.agent.id, a.agent2.id, a.agent.id])
            #expect(history.map(\.1) == [true, true, false])
            #expect(history.allSatisfy { $0.2 })
            let devices = try await api.call(.get, "/v1/devices", token: a.admin.token).json["items"]?.arrayValue ?? []
            #expect(devices.first { $0["deviceId"] == .string(device.lowercased) }?["userId"] == .string(a.agent.id.lowercased))

            let positions = try await w.sql("SELECT id, device_id, user_id FROM positions WHERE account_id = \(a.account) AND id = ANY(\([p1, p2]))")
            {
                try $0.decode((UUID, UUID, UUID).self)
            }
            #expect(Set(positions.map { "\($0.0) \($0.1) \($0.2)" }) == ["\(p1) \(device) \(a.agent.id)", "\(p2) \(device) \(a.agent2.id)"])
            let writes = try await w.sql("SELECT device_id, user_id FROM record_writes WHERE account_id = \(a.account) AND record_id = \(e1)") {
                try $0.decode((UUID?, UUID?).self)
            }
            #expect(writes.count == 1 && writes.first?.0 == device && writes.first?.1 == a.agent.id)
        }
    }
}
