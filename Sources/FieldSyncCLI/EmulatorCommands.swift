import ArgumentParser
import FieldSyncClient
import FieldSyncCore
import FieldSyncDevice
import Foundation

/// `fieldsync device login`: signs an emulated device in.
struct DeviceLogin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Sign an emulated device in (its own store, not the profile).",
        discussion: """
            Each emulated device keeps its id, session, records and outbox in its own
            SQLite store (--store PATH, or --device NAME for
            ~/.local/share/fieldsync/devices/NAME.sqlite). The password comes from
            --password, else env FIELDSYNC_PASSWORD, else a prompt.

            Example:
              fieldsync device login --device field-1 --server http://127.0.0.1:8080 --username amina
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var store: DeviceStoreOptions
    @Option(help: "The user to sign in as.") var username: String
    @Option(help: "The password (prefer env FIELDSYNC_PASSWORD).") var password: String?
    @Option(help: ArgumentHelp("The project to work in (default: the user's only project).", valueName: "uuid")) var projectId: String?
    @Option(help: ArgumentHelp("Use this device id (only before the device wrote anything).", valueName: "uuid")) var deviceId: String?

    func run() async throws {
        let context = try Context(global)
        let device = try store.open()
        if let id = try Context.uuid(deviceId, option: "--device-id") { try await device.store.setDeviceId(id) }
        let project = try Context.uuid(projectId, option: "--project-id")
        let secret = try Login.password(password, for: username)
        let session = try await context.withClient(authenticated: false) { client in
            try await device.login(client: client, username: username, password: secret, projectId: project)
        }
        if global.json {
            try Console.json(LoginOutput(store: device.store.path, device: session))
        } else if !global.quiet {
            print(
                "device \(session.replica) signed in as \(session.username ?? username) at \(context.server) (store \(device.store.path)); next: fieldsync device register\(deviceArgs)"
            )
        }
    }

    /// `device login --json`.
    struct LoginOutput: Encodable {
        var store: String
        var device: DeviceSession
    }

    var deviceArgs: String {
        store.store.map { " --store \($0)" } ?? store.device.map { " --device \($0)" } ?? ""
    }
}

/// `fieldsync device collect`.
struct DeviceCollect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collect",
        abstract: "Fill in form instances with generated answers, offline, and record a GPS track.",
        discussion: """
            Uses the forms downloaded when the device registered; answers match the
            form's questions. Nothing is sent until fieldsync device sync.

            Example:
              fieldsync device collect --device field-1 --count 20 --track 50
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var store: DeviceStoreOptions
    @Option(help: "How many instances.") var count = 1
    @Option(help: "The form's formId or id (default: the project's first form).") var form: String?
    @Option(help: ArgumentHelp("The org unit (default: your first assigned unit).", valueName: "uuid")) var orgUnit: String?
    @Option(help: ArgumentHelp("The entity the instances are about.", valueName: "uuid")) var entity: String?
    @Option(help: "GPS positions to record along with them.") var track = 0

    func validate() throws {
        guard (0...100_000).contains(count), (0...100_000).contains(track) else {
            throw ValidationError("--count and --track must be from 0 to 100000")
        }
    }

    func run() async throws {
        let device = try store.open()
        let ids = try await device.collect(
            count: count, form: form, orgUnit: try Context.uuid(orgUnit, option: "--org-unit"),
            entity: try Context.uuid(entity, option: "--entity"), track: track)
        if global.json {
            Console.json(.object(["instances": .array(ids.map { .string($0.lowercased) }), "positions": .number(Double(track))]))
        } else if !global.quiet {
            print(
                "collected \(Format.plural(ids.count, "instance")) and \(Format.plural(track, "position")) offline; send them with fieldsync device sync"
            )
        } else {
            ids.forEach { print($0.lowercased) }
        }
    }
}

/// `fieldsync device edit entity ID field=value …`.
struct DeviceEdit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edit",
        abstract: "Edit fields of a record the device holds, offline.",
        discussion: """
            The kind is entity (or instance). Values are JSON when they parse (42, true,
            null, "text"), else text. `new` as the id creates an entity. The write is
            made on the version the device holds; sync to send it.

            Example:
              fieldsync device edit entity 6f1c2a9e-0000-4000-8000-000000000001 village=Subil members=5 --device field-1
              fieldsync device edit entity new name=Amina --device field-1
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var store: DeviceStoreOptions
    @Argument(help: "entity or instance.") var kind: String
    @Argument(help: "The record's id, or new (entities).") var id: String
    @Argument(help: "field=value pairs.") var assignments: [String] = []
    @Option(help: ArgumentHelp("For a new entity: its type (default: the first known).", valueName: "uuid")) var type: String?
    @Option(help: ArgumentHelp("For a new entity: its org unit (default: your first).", valueName: "uuid")) var orgUnit: String?

    func run() async throws {
        guard let itemKind = ItemKind(rawValue: kind), itemKind == .entity || itemKind == .instance else {
            throw CommandFailure.usage("the kind must be entity or instance, got \"\(kind)\"")
        }
        let changes = try parseAssignments(assignments)
        let device = try store.open()
        let recordId: UUID
        if id == "new" {
            guard itemKind == .entity else {
                throw CommandFailure.usage("only entities are created with edit; use fieldsync device collect for instances")
            }
            recordId = try await device.createEntity(
                type: try Context.uuid(type, option: "--type"), orgUnit: try Context.uuid(orgUnit, option: "--org-unit"), attributes: changes)
        } else {
            guard let u = try Context.uuid(id, option: "ID") else { throw CommandFailure.usage("give the record's id") }
            try await device.edit(kind: itemKind, id: u, changes: changes)
            recordId = u
        }
        let record = try await device.store.record(kind: itemKind, id: recordId)
        if global.json {
            Console.json(record?.document ?? .null)
        } else if !global.quiet {
            print(
                "\(kind) \(recordId.lowercased) edited offline (\(changes.keys.sorted().joined(separator: ", "))); send it with fieldsync device sync"
            )
        } else {
            print(recordId.lowercased)
        }
    }
}

/// `fieldsync device propose orgunit …`.
struct DevicePropose: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "propose",
        abstract: "Propose a new org unit or a change to one, offline.",
        discussion: """
            From an agent it becomes a change request when synced (status pending,
            reviewed with fieldsync changes review); from a supervisor or admin it is
            applied. Fields: name, parentId, orgUnitTypeId, location, geometry, aliases.

            Example:
              fieldsync device propose orgunit --device field-1 name="Subil school" parentId=1b0e…  \\
                'location={"type":"Point","coordinates":[90.41,23.81]}'
              fieldsync device propose orgunit --id 1b0e… --device field-1 name="Subil Union"
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var store: DeviceStoreOptions
    @Argument(help: "orgunit.") var kind: String
    @Argument(help: "field=value pairs.") var assignments: [String] = []
    @Option(help: ArgumentHelp("The org unit to change (default: a new one).", valueName: "uuid")) var id: String?

    func run() async throws {
        guard kind == "orgunit" || kind == "orgUnit" else {
            throw CommandFailure.usage("only org units are proposed: fieldsync device propose orgunit name=…")
        }
        let device = try store.open()
        let unit = try await device.propose(orgUnit: try Context.uuid(id, option: "--id"), changes: try parseAssignments(assignments))
        if global.json {
            Console.json(.object(["orgUnitId": .string(unit.lowercased)]))
        } else if !global.quiet {
            print("org unit \(unit.lowercased) proposed offline; send it with fieldsync device sync")
        } else {
            print(unit.lowercased)
        }
    }
}

/// `fieldsync device status`.
struct DeviceStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show what the device has queued, in flight, in conflict, rejected and proposed.",
        discussion: """
            Example:
              fieldsync device status --device field-1 --json
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var store: DeviceStoreOptions

    func run() async throws {
        let status = try await store.open().status()
        if global.json { try Console.json(status); return }
        let s = status.session
        print("device     \(s.replica)  (\(store.path))")
        print("user       \(s.username ?? "not signed in")\(s.registered ? "" : " (not registered)") at \(s.server ?? "-")")
        print(
            "queued     \(status.queuedTotal)\(status.queued.isEmpty ? "" : " (" + status.queued.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")")"
        )
        print("in flight  \(status.inFlight) in \(Format.plural(status.batchIds.count, "batch", "batches"))")
        print("records    \(status.records.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))")
        print("written    \(status.written), acknowledged \(status.acknowledged), counter \(status.counter)")
        if !status.conflicts.isEmpty {
            print("conflicts  \(status.conflicts.count):")
            for c in status.conflicts {
                let values = (c.values.arrayValue ?? []).map { v in "\(JSONWriter.string(v["value"] ?? .null)) by \(v["replica"]?.stringValue ?? "?")"
                }
                print("  \(c.kind) \(c.id) \(c.field): \(values.joined(separator: " | "))")
            }
        }
        for r in status.rejections {
            print("rejected   \(r.kind) \(r.id): \(r.code): \(r.message)")
        }
        for (change, st) in status.proposals.sorted(by: { $0.key < $1.key }) {
            print("proposal   \(change) \(st)")
        }
    }
}

/// `fieldsync device sync`.
struct DeviceSync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Push the outbox in batches, then pull to the end.",
        discussion: """
            Resumable: a batch whose answer was lost (connection cut, server killed,
            5xx) is sent again with the same batchId on the next sync, so nothing is
            lost or written twice. 429 and 503 are retried with backoff and jitter.
            Exits 4 when some writes were rejected (see fieldsync device status).

            Example:
              fieldsync device sync --device field-1
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var store: DeviceStoreOptions
    @Option(help: "Items per push.") var batchSize = 100

    func validate() throws {
        guard (1...10_000).contains(batchSize) else { throw ValidationError("--batch-size must be from 1 to 10000") }
    }

    func run() async throws {
        let context = try Context(global)
        let device = try store.open()
        let report = try await withDeviceClient(device, global: global, context: context) { client in
            try await device.sync(transport: ClientTransport(client: client), batchSize: batchSize)
        }
        if global.json {
            try Console.json(report)
        } else if !global.quiet {
            print(
                "pushed \(Format.plural(report.acknowledged, "write")) in \(Format.plural(report.batches, "batch", "batches")) (\(report.conflicts) in conflict, \(report.rejected) rejected); pulled \(Format.plural(report.pulledRecords, "record")) and \(Format.plural(report.pulledPositions, "position"))\(report.outboxLeft > 0 ? "; \(report.outboxLeft) still queued" : "")"
            )
        }
        if report.rejected > 0 {
            throw CommandFailure.partial(
                "\(report.rejected) writes were rejected; see fieldsync device status\(store.device.map { " --device \($0)" } ?? "")")
        }
    }
}
