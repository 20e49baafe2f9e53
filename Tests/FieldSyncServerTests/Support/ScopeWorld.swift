import Crypto
import FieldSyncCore
import Foundation
import HTTPTypes
import Logging
import PostgresNIO

@testable import FieldSyncServer

/// Two accounts built the same way, for the scope matrix. In each:
///
///     R ─┬─ D1 ── V1      admin (whole account), supervisor and agent on [D1], agent2 on [D2]
///        └─ D2 ── V2      projects P (everyone) and Q (nobody but the admin)
///
/// plus an entity type, a form of P and one of Q, conflicted entities at V1 (`eIn`) and at
/// D2 (`eOut`), instances at V1 and D2, a position of the agent and one of agent2, and a
/// stored attachment. Every name holds the side's unique `mark`, so a body that holds the
/// mark of the other side leaks something of it.
struct ScopeWorld: Sendable {
    let api: API
    let databaseURL: String
    let root: String
    let a: Side
    let b: Side

    struct Member: Sendable {
        let id: UUID, username: String, token: String, device: UUID
    }

    struct Side: Sendable {
        let mark: String
        let account: UUID, project: UUID, projectQ: UUID
        let r: UUID, d1: UUID, v1: UUID, d2: UUID, v2: UUID
        let entityType: UUID, form: UUID, formQ: UUID
        let admin: Member, sup: Member, agent: Member, agent2: Member
        let eIn: UUID, eOut: UUID, iIn: UUID, iOut: UUID, pIn: UUID, pOut: UUID
        let sha: String, fileBytes: [UInt8]
        /// Central's integer ids of `project` and `projectQ` (set by ``make(_:databaseURL:)``).
        var odkProject: Int64 = 0, odkProjectQ: Int64 = 0
        var q: String { "?accountId=\(account.lowercased)" }
        var formKey: String { "form-\(mark)" }

        /// Everything of this side another account must never see.
        var secrets: [String] {
            [mark, sha]
                + [
                    account, project, projectQ, r, d1, v1, d2, v2, entityType, form, formQ, eIn, eOut, iIn, iOut, pIn, pOut,
                    admin.id, sup.id, agent.id, agent2.id, admin.device, sup.device, agent.device, agent2.device,
                ].map(\.lowercased)
        }

        /// What the supervisor and the agent (both on D1) must not see: D2's subtree and what is
        /// in it, agent2's things, project Q, and the names of the ancestor R (its id may show
        /// as the `parentId` of D1: the path).
        var outside: [String] {
            [
                "ouR-\(mark)", "ouD2-\(mark)", "ouV2-\(mark)", "vout-\(mark)", "vout2-\(mark)", "aout-\(mark)", "agent2-\(mark)", "projq-\(mark)",
                "formq-\(mark)",
            ]
                + [d2, v2, eOut, iOut, pOut, agent2.id, agent2.device, projectQ, formQ].map(\.lowercased)
        }
    }

    static func make(_ api: API, databaseURL: String) async throws -> ScopeWorld {
        let root = try await api.signIn("root", "root-password")
        var a = try await side(api, root: root, tag: "a")
        var b = try await side(api, root: root, tag: "b")
        // Central's integer project ids are the database's: read them there.
        func odkIds(_ side: Side) async throws -> (Int64, Int64) {
            let ids = try await sql(databaseURL, "SELECT id, odk_id FROM projects WHERE account_id = \(side.account)") {
                try $0.decode((UUID, Int64).self)
            }
            return (ids.first { $0.0 == side.project }?.1 ?? 0, ids.first { $0.0 == side.projectQ }?.1 ?? 0)
        }
        (a.odkProject, a.odkProjectQ) = try await odkIds(a)
        (b.odkProject, b.odkProjectQ) = try await odkIds(b)
        return ScopeWorld(api: api, databaseURL: databaseURL, root: root, a: a, b: b)
    }

    static func expectCreated(_ r: API.Reply, _ what: String, _ status: HTTPResponse.Status = .created) throws {
        guard r.status == status else { throw TestSetupError("\(what): \(r.status) \(r.text)") }
    }

    static func side(_ api: API, root: String, tag: String) async throws -> Side {
        let mark = "\(tag)\(UUID().uuidString.prefix(8).lowercased())"
        let account = UUID(), p = UUID(), pq = UUID()
        let q = "?accountId=\(account.lowercased)"
        func post(_ path: String, _ body: String, token: String = root) async throws -> API.Reply {
            try await api.call(.post, path, token: token, raw: Array(body.utf8))
        }
        try expectCreated(try await post("/v1/accounts", #"{"id":"\#(account.lowercased)","name":"acct-\#(mark)"}"#), "account")
        try expectCreated(try await post("/v1/projects" + q, #"{"id":"\#(p.lowercased)","name":"proj-\#(mark)","appId":"app.\#(mark)"}"#), "project")
        try expectCreated(
            try await post("/v1/projects" + q, #"{"id":"\#(pq.lowercased)","name":"projq-\#(mark)","appId":"appq.\#(mark)"}"#), "project Q")
        let (r, d1, v1, d2, v2) = (UUID(), UUID(), UUID(), UUID(), UUID())
        func unit(_ id: UUID, _ name: String, _ parent: UUID?) -> String {
            #"{"id":"\#(id.lowercased)","name":"ou\#(name)-\#(mark)","parentId":\#(parent.map { "\"\($0.lowercased)\"" } ?? "null")}"#
        }
        let units = [unit(r, "R", nil), unit(d1, "D1", r), unit(v1, "V1", d1), unit(d2, "D2", r), unit(v2, "V2", d2)]
        try expectCreated(try await post("/v1/orgunits/import" + q, "[" + units.joined(separator: ",") + "]"), "import")
        let type = UUID(), form = UUID(), formQ = UUID()
        try expectCreated(try await post("/v1/entity-types" + q, #"{"id":"\#(type.lowercased)","name":"etype-\#(mark)"}"#), "entity type")
        try expectCreated(
            try await post(
                "/v1/forms" + q,
                #"{"id":"\#(form.lowercased)","formId":"form-\#(mark)","name":"fname-\#(mark)","version":"1","projectIds":["\#(p.lowercased)"]}"#),
            "form")
        try expectCreated(
            try await post(
                "/v1/forms" + q,
                #"{"id":"\#(formQ.lowercased)","formId":"formq-\#(mark)","name":"fnameq-\#(mark)","version":"1","projectIds":["\#(pq.lowercased)"]}"#),
            "form Q")

        func member(_ role: String, _ name: String, _ units: [UUID]) async throws -> Member {
            let username = "\(name)-\(mark)"
            let list = units.map { "\"\($0.lowercased)\"" }.joined(separator: ",")
            let r = try await post(
                "/v1/users" + q,
                #"{"username":"\#(username)","password":"password-\#(mark)","role":"\#(role)","projectIds":["\#(p.lowercased)"],"orgUnitIds":[\#(list)]}"#
            )
            try expectCreated(r, "user \(username)")
            let id = UUID(uuidString: r.json["id"]?.stringValue ?? "")!
            let token = try await api.signIn(username, "password-\(mark)")
            let device = UUID()
            try expectCreated(try await post("/v1/devices", #"{"deviceId":"\#(device.lowercased)"}"#, token: token), "device", .ok)
            return Member(id: id, username: username, token: token, device: device)
        }
        let admin = try await member("admin", "admin", [])
        let sup = try await member("supervisor", "sup", [d1])
        let agent = try await member("agent", "agent", [d1])
        let agent2 = try await member("agent", "agent2", [d2])

        // Records: conflicted entities (two devices of the admin write `name` concurrently) and instances.
        let dev2 = UUID()
        try expectCreated(try await post("/v1/devices", #"{"deviceId":"\#(dev2.lowercased)"}"#, token: admin.token), "device 2", .ok)
        let (eIn, eOut, iIn, iOut) = (UUID(), UUID(), UUID(), UUID())
        func push(_ device: UUID, _ items: [String], token: String) async throws {
            let r = try await api.call(.post, "/v1/sync/push", token: token, raw: Array(pushJSON(device: device, items).utf8))
            let statuses = r.json["results"]?.arrayValue?.compactMap { $0["status"]?.stringValue } ?? []
            guard r.status == .ok, statuses.allSatisfy({ $0 != "rejected" }) else { throw TestSetupError("push: \(r.text)") }
        }
        try await push(
            admin.device,
            [
                entityJSON(eIn, device: admin.device, unit: v1, type: type, changes: #"{"name":"vin-\#(mark)"}"#),
                entityJSON(eOut, device: admin.device, unit: d2, type: type, changes: #"{"name":"vout-\#(mark)"}"#),
                instanceJSON(iIn, device: admin.device, form: "form-\(mark)", unit: v1, answers: #"{"q":"ain-\#(mark)"}"#),
                instanceJSON(iOut, device: admin.device, form: "form-\(mark)", unit: d2, answers: #"{"q":"aout-\#(mark)"}"#),
            ], token: admin.token)
        try await push(
            dev2,
            [
                entityJSON(eIn, device: dev2, changes: #"{"name":"vin2-\#(mark)"}"#),
                entityJSON(eOut, device: dev2, changes: #"{"name":"vout2-\#(mark)"}"#),
            ], token: admin.token)
        let (pIn, pOut) = (UUID(), UUID())
        try await push(agent.device, [JSONWriter.string(positionItem(id: pIn))], token: agent.token)
        try await push(agent2.device, [JSONWriter.string(positionItem(id: pOut))], token: agent2.token)
        let bytes = Array("file-\(mark)".utf8)
        let sha = SHA256.hash(data: Data(bytes)).map { String(format: "%02x", $0) }.joined()
        try expectCreated(try await api.call(.put, "/v1/attachments/\(sha)", token: admin.token, raw: bytes), "attachment")
        return Side(
            mark: mark, account: account, project: p, projectQ: pq, r: r, d1: d1, v1: v1, d2: d2, v2: v2,
            entityType: type, form: form, formQ: formQ, admin: admin, sup: sup, agent: agent, agent2: agent2,
            eIn: eIn, eOut: eOut, iIn: iIn, iOut: iOut, pIn: pIn, pOut: pOut, sha: sha, fileBytes: bytes)
    }

    /// Runs `body` on a connection to the test's database (to look at what the API does not show).
    func sql<T: Sendable>(_ query: PostgresQuery, _ decode: @Sendable (PostgresRow) throws -> T) async throws -> [T] {
        try await Self.sql(databaseURL, query, decode)
    }

    static func sql<T: Sendable>(_ url: String, _ query: PostgresQuery, _ decode: @Sendable (PostgresRow) throws -> T) async throws -> [T] {
        let c = URLComponents(string: url)!
        let config = PostgresConnection.Configuration(
            host: c.host ?? "127.0.0.1", port: c.port ?? 5432, username: c.user ?? "postgres",
            password: c.password, database: String(c.path.dropFirst()), tls: .disable)
        let connection = try await PostgresConnection.connect(configuration: config, id: 2, logger: Logger(label: "test"))
        do {
            let rows = try await connection.query(query, logger: Logger(label: "test")).collect()
            let out = try rows.map(decode)
            try await connection.close()
            return out
        } catch {
            try? await connection.close()
            throw error
        }
    }
}

// MARK: JSON text builders (bodies are written as JSON text so the matrix reads like requests)

func pushJSON(batch: UUID = UUID(), device: UUID, project: UUID? = nil, _ items: [String]) -> String {
    let p = project.map { #","projectId":"\#($0.lowercased)""# } ?? ""
    return #"{"batchId":"\#(batch.lowercased)","deviceId":"\#(device.lowercased)"\#(p),"items":[\#(items.joined(separator: ","))]}"#
}

func entityJSON(_ id: UUID, device: UUID, counter: Int = 1, unit: UUID? = nil, type: UUID? = nil, changes: String = "{}") -> String {
    var extra = ""
    if let unit { extra += #","orgUnitId":"\#(unit.lowercased)""# }
    if let type { extra += #","entityTypeId":"\#(type.lowercased)""# }
    return
        #"{"kind":"entity","id":"\#(id.lowercased)","replica":"\#(device.lowercased)","counter":\#(counter),"base":{},"editedAt":"2026-11-20T08:15:30.123Z","changes":\#(changes)\#(extra)}"#
}

func instanceJSON(_ id: UUID, device: UUID, form: String, unit: UUID, entity: UUID? = nil, answers: String = "{}") -> String {
    let e = entity.map { #","entityId":"\#($0.lowercased)""# } ?? ""
    return
        #"{"kind":"instance","id":"\#(id.lowercased)","replica":"\#(device.lowercased)","counter":1,"base":{},"editedAt":"2026-11-20T08:15:30.123Z","changes":\#(answers),"formId":"\#(form)","formVersion":"1","orgUnitId":"\#(unit.lowercased)"\#(e)}"#
}
