import ArgumentParser
import FieldSyncClient
import FieldSyncCore
import FieldSyncDevice
import Foundation

/// `fieldsync demo`: sets up a demo account end to end and round-trips positions.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Set up a demo account, push positions and pull them back.",
        discussion: """
            Against a running server, as the superuser: creates (or reuses, by fixed
            ids, so it can be run again) the account "Demo", the project "Field
            survey" (appId demo.survey) and the agent demo-agent; creates the org-unit
            types and imports the tree of --sampledata (orgunit-types.json,
            orgunits.json) unless --skip-tree; then, as demo-agent, registers a
            device, pushes the positions, pulls everything back and checks that every
            pushed position came back. Exits 0 only then. It first waits up to
            --wait seconds for the server to be ready, so it can follow the
            server's start at once.

            The superuser's credentials are --admin-user/--admin-password, else env
            FIELDSYNC_ADMIN_USER/FIELDSYNC_ADMIN_PASSWORD (as given to the server;
            the user defaults to admin). demo-agent's password is env
            FIELDSYNC_DEMO_PASSWORD, else "\(Demo.defaultAgentPassword)". The fixed ids:
              account  \(DemoIds.account.lowercased)
              project  \(DemoIds.project.lowercased)
              user     \(DemoIds.agent.lowercased)
              device   \(DemoIds.device.lowercased)

            Example:
              export FIELDSYNC_ADMIN_USER=admin FIELDSYNC_ADMIN_PASSWORD=secret-pass
              fieldsync demo --server http://127.0.0.1:8080 --positions 300
            """)

    static let defaultAgentPassword = "demo-agent-pass"
    static let agentUsername = "demo-agent"

    @OptionGroup var global: GlobalOptions

    @Option(help: "How many positions to push.")
    var positions: Int = 300

    @Option(help: "The superuser's username (env FIELDSYNC_ADMIN_USER; default admin).")
    var adminUser: String?

    @Option(help: "The superuser's password (env FIELDSYNC_ADMIN_PASSWORD).")
    var adminPassword: String?

    @Option(help: ArgumentHelp("The sample tree's directory.", valueName: "dir"))
    var sampledata: String = "./sampledata/bangladesh"

    @Flag(help: "Do not create the org-unit types nor import the tree.")
    var skipTree = false

    @Option(help: "Positions per push request.")
    var batchSize: Int = 500

    @Option(help: ArgumentHelp("Wait up to this long for the server to be ready (e.g. just started).", valueName: "seconds"))
    var wait: Int = 30

    func validate() throws {
        guard positions >= 1, positions <= 1_000_000 else { throw ValidationError("--positions must be from 1 to 1000000") }
        guard batchSize >= 1, batchSize <= 50_000 else { throw ValidationError("--batch-size must be from 1 to 50000") }
        guard wait >= 0, wait <= 3600 else { throw ValidationError("--wait must be from 0 to 3600 seconds") }
    }

    func run() async throws {
        let context = try Context(global)
        let env = ProcessInfo.processInfo.environment
        let adminName = adminUser ?? env["FIELDSYNC_ADMIN_USER"].flatMap { $0.isEmpty ? nil : $0 } ?? "admin"
        guard let adminSecret = adminPassword ?? env["FIELDSYNC_ADMIN_PASSWORD"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            throw CommandFailure.usage(
                "give the superuser's password with --admin-password or FIELDSYNC_ADMIN_PASSWORD (as given to fieldsync-server)")
        }
        let agentSecret = env["FIELDSYNC_DEMO_PASSWORD"].flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultAgentPassword
        var units: TreeImporter.UnitFile? = nil
        if !skipTree {
            units = try TreeImporter.readUnits(sampledata + "/orgunits.json")
        }
        let report = try await context.withClient(authenticated: false) { client in
            try await DemoRun(
                context: context, client: client, positions: positions, batchSize: batchSize,
                sampledata: sampledata, units: units, wait: wait
            )
            .run(admin: (adminName, adminSecret), agentPassword: agentSecret)
        }
        if global.json {
            try Console.json(report)
        } else {
            print(report.text)
        }
        if !report.missing.isEmpty {
            throw CommandFailure.failed(
                "\(Format.plural(report.missing.count, "pushed position")) did not come back in the pull, e.g. \(report.missing.sorted()[0])")
        }
        if let notReady = report.notReady {
            throw CommandFailure.failed("the server is not ready: \(notReady)")
        }
    }
}

/// The demo's fixed ids, so that it can be run again.
enum DemoIds {
    static let account = UUID(uuidString: "0de30000-0000-4000-8000-000000000001")!
    static let project = UUID(uuidString: "0de30000-0000-4000-8000-000000000002")!
    static let agent = UUID(uuidString: "0de30000-0000-4000-8000-000000000003")!
    static let device = UUID(uuidString: "0de30000-0000-4000-8000-000000000004")!
}

/// What the demo did.
struct DemoReport: Sendable, Encodable {
    /// Org units imported; `nil` when the tree was skipped or the server has no import.
    var treeImported: Int?
    var treeNote: String
    var push = PositionPusher.Summary()
    var pulledPositions = 0
    var pulledChanges = 0
    var missing: Set<String> = []
    var notReady: String?

    var text: String {
        let tree = treeImported.map { "tree \(Format.plural($0, "org unit")) imported" } ?? treeNote
        let server = notReady == nil ? "server ok" : "server not ready"
        return "demo: \(tree); pushed \(Format.plural(push.pushed, "position")) (\(Format.count(push.created)) created) "
            + "in \(Format.seconds(push.seconds)) s; pulled \(Format.plural(pulledPositions, "position")) back"
            + (pulledPositions > push.pushed && missing.isEmpty ? " (earlier runs' included)" : "")
            + (missing.isEmpty ? "" : " (\(Format.count(missing.count)) missing)") + "; \(server)"
    }

    private enum CodingKeys: String, CodingKey {
        case accountId, projectId, username, deviceId, tree, push, pull, serverReady, ok
    }

    private struct Tree: Encodable {
        var imported: Int?
        var skipped: String?
    }

    private struct Pull: Encodable {
        var positions: Int
        var changes: Int
        var missing: [String]
    }

    /// `demo --json`: the ids made, the tree imported (or why it was skipped), the push and the pull.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(DemoIds.account.lowercased, forKey: .accountId)
        try c.encode(DemoIds.project.lowercased, forKey: .projectId)
        try c.encode(Demo.agentUsername, forKey: .username)
        try c.encode(DemoIds.device.lowercased, forKey: .deviceId)
        try c.encode(treeImported.map { Tree(imported: $0) } ?? Tree(skipped: treeNote), forKey: .tree)
        try c.encode(push, forKey: .push)
        try c.encode(Pull(positions: pulledPositions, changes: pulledChanges, missing: missing.sorted()), forKey: .pull)
        try c.encode(notReady == nil, forKey: .serverReady)
        try c.encode(missing.isEmpty && notReady == nil, forKey: .ok)
    }
}

/// The demo's steps, with one client whose token changes from the superuser's to the agent's.
struct DemoRun {
    let context: Context
    let client: FieldSyncClient
    let positions: Int
    let batchSize: Int
    let sampledata: String
    let units: TreeImporter.UnitFile?
    let wait: Int

    func step(_ text: String) { context.progress("demo: \(text)") }

    /// Runs `create`, reporting "created" or, on 409 `already_exists`, "already there".
    func ensure(_ what: String, _ create: () async throws -> Void) async throws {
        do {
            try await create()
            step("\(what): created")
        } catch let error as ClientError where error.isAlreadyExists {
            step("\(what): already there")
        }
    }

    func run(admin: (String, String), agentPassword: String) async throws -> DemoReport {
        var report = DemoReport(treeNote: "tree skipped")
        if let notReady = try await client.waitUntilReady(within: .seconds(wait)) {
            throw CommandFailure.failed("the server at \(client.baseURL) is not ready after \(Format.count(wait)) s: \(notReady)")
        }
        do {
            let me = try await client.signIn(username: admin.0, password: admin.1)
            guard me.user.role == "superuser" else {
                throw CommandFailure.failed(
                    "\(admin.0) is \(me.user.role == "admin" ? "an admin" : "a " + me.user.role), not the superuser; give the superuser's credentials (FIELDSYNC_ADMIN_USER/FIELDSYNC_ADMIN_PASSWORD)"
                )
            }
        } catch let error as ClientError where error.status == 401 {
            throw CommandFailure.failed(
                "the superuser \(admin.0) cannot sign in (\(error)); give the credentials the server was started with (--admin-user/--admin-password or FIELDSYNC_ADMIN_USER/FIELDSYNC_ADMIN_PASSWORD)"
            )
        }
        step("signed in as the superuser \(admin.0)")
        let account = DemoIds.account
        try await ensure("account Demo \(account.lowercased)") { _ = try await client.createAccount(name: "Demo", id: account) }
        try await ensure("project Field survey \(DemoIds.project.lowercased)") {
            _ = try await client.createProject(name: "Field survey", appId: "demo.survey", id: DemoIds.project, accountId: account)
        }
        var agentUnits: [UUID] = []
        if let units {
            let importer = TreeImporter(client: client, accountId: account)
            do {
                let types = try await importer.createTypes(fromFile: sampledata + "/orgunit-types.json")
                step("org-unit types: \(types.created) created, \(types.existing) already there")
                let started = ContinuousClock.now
                report.treeImported = try await importer.importUnits(units)
                step(
                    "tree: \(Format.plural(report.treeImported ?? 0, "org unit")) imported in \(Format.seconds((ContinuousClock.now - started).seconds)) s"
                )
                agentUnits = units.rootIds.compactMap(UUID.init(uuidString:))
            } catch let error as ClientError where error.status == 404 {
                report.treeNote = "no tree (this server has no org-unit import yet)"
                if !context.options.json { print("demo: the server has no org-unit types or import yet (\(error)); continuing without the tree") }
            }
        }
        try await ensure("agent \(Demo.agentUsername)") {
            _ = try await client.createUser(
                username: Demo.agentUsername, password: agentPassword, role: "agent", projectIds: [DemoIds.project],
                orgUnitIds: agentUnits, id: DemoIds.agent, accountId: account)
        }
        try? await client.signOut()

        do {
            try await client.signIn(username: Demo.agentUsername, password: agentPassword, deviceId: DemoIds.device)
        } catch let error as ClientError where error.status == 401 {
            throw CommandFailure.failed(
                "\(Demo.agentUsername) cannot sign in (\(error)); it exists with another password: set FIELDSYNC_DEMO_PASSWORD to it")
        }
        let registration = try await client.registerDevice(deviceId: DemoIds.device, model: "fieldsync demo", appVersion: "fieldsync-cli")
        step("signed in as \(Demo.agentUsername); device \(registration.deviceId) registered")

        var generator = TrackGenerator(seed: UInt64.random(in: .min ... .max))
        let track = generator.positions(count: positions)
        report.push = try await PositionPusher(client: client, deviceId: DemoIds.device, projectId: DemoIds.project, batchSize: batchSize)
            .push(track)
        step(report.push.text)

        var missing = Set(track.map(\.id.lowercased))
        var pulledPositions = 0, pulledChanges = 0
        try await client.pullAll(projectId: DemoIds.project) { page in
            pulledChanges += page.changes.count
            for change in page.changes where change["kind"]?.stringValue == "position" {
                pulledPositions += 1
                if let id = change["id"]?.stringValue { missing.remove(id.lowercased()) }
            }
        }
        report.pulledPositions = pulledPositions
        report.pulledChanges = pulledChanges
        report.missing = missing
        report.notReady = try await client.readiness()
        try? await client.signOut()
        return report
    }
}
