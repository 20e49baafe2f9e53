import FieldSyncClient
import FieldSyncCore
import Foundation
import Synchronization

/// What a fleet runs against: created fresh by ``FleetSetup/create(base:adminUser:adminPassword:options:)``.
public struct FleetSetup: Sendable {
    /// One agent: its org unit, and its session (signed in once, shared by its devices).
    public struct Agent: Sendable {
        public var username: String
        public var orgUnit: UUID
        public var session: SignInAnswer
    }

    public var accountId: UUID?
    public var projectId: UUID
    public var formId: String
    public var entityTypeId: UUID
    public var rootUnit: UUID
    public var agents: [Agent]
    /// The forms and entity types devices download.
    public var forms: [JSONValue]
    public var entityTypes: [JSONValue]
    /// A token of an admin of the account (created when signed in as the superuser), for the final check.
    public var adminToken: String

    /// The questions of the fleet's form.
    public static let formFields: JSONValue = .array([
        .object(["name": .string("name"), "type": .string("text"), "required": .bool(true)]),
        .object(["name": .string("members"), "type": .string("integer")]),
        .object(["name": .string("visited"), "type": .string("date")]),
        .object(["name": .string("water"), "type": .string("select_one"), "choices": .array(["tap", "well", "river"].map(JSONValue.string))]),
        .object(["name": .string("notes"), "type": .string("text")]),
    ])

    /// Signs in as `adminUser` (the superuser, who gets a new account, or an admin,
    /// who works in their own account) and creates a project, an entity type, a form,
    /// an org-unit tree (a root and one unit per agent) and the agents, each signed in.
    public static func create(
        base: FieldSyncClient, adminUser: String, adminPassword: String, options: FleetOptions,
        log: @Sendable (String) -> Void = { _ in }
    ) async throws -> FleetSetup {
        let signIn = try await base.signIn(username: adminUser, password: adminPassword)
        let admin = base.sharing(token: signIn.token)
        let stamp = String(UUID().uuidString.prefix(8)).lowercased()
        var account: UUID? = nil
        switch signIn.user.role {
        case "superuser":
            let created = try await admin.createAccount(name: "Fleet \(stamp)")
            account = created["id"]?.stringValue.flatMap(UUID.init(uuidString:))
        case "admin":
            account = nil
        default:
            throw DeviceError("\(adminUser) is a \(signIn.user.role); fieldsync simulate needs the superuser or an admin (--admin-user)")
        }
        log("setup: account \(account?.lowercasedText ?? signIn.user.accountId ?? "?"), run \(stamp)")
        func uuid(_ v: JSONValue, _ what: String) throws -> UUID {
            guard let id = v["id"]?.stringValue.flatMap(UUID.init(uuidString:)) else {
                throw DeviceError("the server's answer creating the \(what) has no id")
            }
            return id
        }
        let project = try uuid(try await admin.createProject(name: "Fleet \(stamp)", appId: "fleet.\(stamp)", accountId: account), "project")
        let type = try uuid(try await admin.createEntityType(name: "Household \(stamp)", accountId: account), "entity type")
        let formId = "fleet-survey-\(stamp)"
        _ = try await admin.createForm(
            formId: formId, name: "Household survey", version: "1", projectIds: [project], fields: formFields, accountId: account)
        let root = UUID()
        let units = (0..<options.users).map { _ in UUID() }
        var tree: [JSONValue] = [.object(["id": .string(root.lowercasedText), "name": .string("Fleet \(stamp)"), "parentId": .null])]
        for (k, u) in units.enumerated() {
            tree.append(.object(["id": .string(u.lowercasedText), "name": .string("Area \(k + 1)"), "parentId": .string(root.lowercasedText)]))
        }
        _ = try await admin.importOrgUnits(json: .array(tree), accountId: account)
        log("setup: project \(project.lowercasedText), \(units.count) org units; creating \(units.count) agents")
        let password = "fleet-\(UUID().lowercasedText)"
        let agents = AgentList(count: units.count)
        let accountId = account
        let failures = await forEachConcurrently(units.count, width: 4) { k in
            let username = "fleet-\(stamp)-\(k + 1)"
            _ = try await admin.createUser(
                username: username, password: password, role: "agent", projectIds: [project],
                orgUnitIds: [units[k]], accountId: accountId)
            let session = try await base.sharing(token: nil).signIn(username: username, password: password)
            agents.set(k, Agent(username: username, orgUnit: units[k], session: session))
        }
        if let (_, error) = failures.first { throw error }
        // The check pulls the whole project as an admin of the account.
        var adminToken = signIn.token
        if signIn.user.role == "superuser" {
            let name = "fleet-\(stamp)-admin"
            _ = try await admin.createUser(
                username: name, password: password, role: "admin", projectIds: [project], orgUnitIds: [root], accountId: account)
            adminToken = try await base.sharing(token: nil).signIn(username: name, password: password).token
        }
        let agentSession = agents.all.first!.session
        let agentClient = base.sharing(token: agentSession.token)
        return FleetSetup(
            accountId: account, projectId: project, formId: formId, entityTypeId: type, rootUnit: root, agents: agents.all,
            forms: try await agentClient.listForms(), entityTypes: try await agentClient.listEntityTypes(), adminToken: adminToken)
    }
}

/// Agents filled in concurrently.
final class AgentList: Sendable {
    private let slots: Mutex<[FleetSetup.Agent?]>
    init(count: Int) { slots = Mutex(Array(repeating: nil, count: count)) }
    func set(_ k: Int, _ a: FleetSetup.Agent) { slots.withLock { $0[k] = a } }
    var all: [FleetSetup.Agent] { slots.withLock { $0.compactMap { $0 } } }
}
