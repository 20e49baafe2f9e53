import ArgumentParser
import FieldSyncClient
import FieldSyncCore
import FieldSyncDevice
import Foundation
import Logging

/// `fieldsync simulate`: a fleet of emulated devices in one process.
struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a fleet of emulated devices with faults, then check nothing was lost and all converged.",
        discussion: """
            Sets itself up, so runs never disturb each other or real data: signs in as
            --admin-user (the superuser gets a new account "Fleet <run>"; an admin works
            in their own account) and creates a project, an entity type, a form with
            typed questions, an org-unit tree with one unit per agent, and one agent
            per --devices-per-user devices. Each device is its own SQLite store in
            --store-dir (a temporary folder, removed afterwards unless --keep-stores).

            Phases: prepare (stores, registration); seed (one device per agent creates
            --shared-entities entities, every device pulls them); offline work (each
            device writes --records: new form instances, and edits of the shared
            entities at --shared-edit-rate, so devices of one agent conflict; plus a
            GPS track of --track positions); sync (rounds, at most --concurrency
            devices at once, with --faults at --fault-rate, --offline-rate of the
            devices offline in the first round, clocks skewed by up to ±--clock-skew
            seconds; repeated until every outbox is empty); final pull; check.

            Faults: drop (the batch reaches the server, the answer is lost), duplicate
            (the batch is sent twice at once), reorder (a device's batches are sent in
            reverse order; only a device with two batches or more, so pair it with a
            --batch-size below its writes), timeout (the request is cancelled after 1-30 ms),
            forge (before the batch, a batch of forged copies of its writes: fresh dots with
            bases naming a dot never written, a dot of another record, the write's own dot,
            or a previous own write that never existed; each must be rejected).
            Devices sync in random order.

            The report gives writes, acknowledged, rejected, lost, conflicts,
            throughput (writes per second of the sync phase), push latency
            p50/p95/p99, where the devices' sync time went (waiting for pushes, for
            pulls, in their stores) and the convergence check (each device's records,
            after its final pull, equal the server's). Exits 1 when anything was lost, did
            not converge, or a forged write was accepted.

            Example:
              export FIELDSYNC_ADMIN_USER=admin FIELDSYNC_ADMIN_PASSWORD=secret-pass
              fieldsync simulate --server http://127.0.0.1:8080 --devices 200 --records 50 \\
                --faults drop,duplicate,reorder,timeout,forge --fault-rate 0.1 --offline-rate 0.2 --clock-skew 120
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "Emulated devices.") var devices = 100
    @Option(help: "Offline writes per device.") var records = 50
    @Option(help: "Devices syncing at once.") var concurrency = 32
    @Option(help: ArgumentHelp("Faults to inject: drop,duplicate,reorder,timeout,forge (comma-separated).", valueName: "list")) var faults: String?
    @Option(help: "Probability of a fault per push (per sync for reorder), 0 to 1 (default 0.1 with --faults).") var faultRate: Double?
    @Option(help: "Share of devices offline during the first sync round, 0 to 1.") var offlineRate = 0.0
    @Option(help: ArgumentHelp("Skew each device's clock by up to ± this many seconds.", valueName: "seconds")) var clockSkew = 0.0
    @Option(help: "Devices per agent (agents own one org unit each).") var devicesPerUser = 10
    @Option(help: "Shared entities per agent, edited by its devices.") var sharedEntities = 5
    @Option(help: "Share of writes that edit a shared entity, 0 to 1.") var sharedEditRate = 0.2
    @Option(help: "GPS positions per device.") var track = 10
    @Option(help: "Items per push (the protocol allows large batches; a device of the default fleet pushes its 60 writes at once).") var batchSize =
        200
    @Option(help: ArgumentHelp("Keep the device stores here (default: a temporary folder).", valueName: "dir")) var storeDir: String?
    @Flag(help: "Do not delete the device stores afterwards.") var keepStores = false
    @Option(help: "The superuser's or an admin's username (env FIELDSYNC_ADMIN_USER; default admin).") var adminUser: String?
    @Option(help: "Their password (env FIELDSYNC_ADMIN_PASSWORD).") var adminPassword: String?

    func validate() throws {
        guard (1...100_000).contains(devices) else { throw ValidationError("--devices must be from 1 to 100000") }
        guard (0...100_000).contains(records) else { throw ValidationError("--records must be from 0 to 100000") }
        guard (1...1024).contains(concurrency) else { throw ValidationError("--concurrency must be from 1 to 1024") }
        guard (1...10_000).contains(devicesPerUser) else { throw ValidationError("--devices-per-user must be from 1 to 10000") }
        guard (1...10_000).contains(batchSize) else { throw ValidationError("--batch-size must be from 1 to 10000") }
        guard (0...1000).contains(sharedEntities), (0...100_000).contains(track) else {
            throw ValidationError("--shared-entities must be 0 to 1000 and --track 0 to 100000")
        }
        for (name, v) in [("--fault-rate", faultRate ?? 0), ("--offline-rate", offlineRate), ("--shared-edit-rate", sharedEditRate)] {
            guard (0...1).contains(v) else { throw ValidationError("\(name) must be between 0 and 1") }
        }
        guard clockSkew >= 0, clockSkew <= 86_400 * 365 else { throw ValidationError("--clock-skew must be from 0 to 31536000 seconds") }
        _ = try faultKinds()
    }

    func faultKinds() throws -> Set<FaultKind> {
        guard let faults, !faults.isEmpty else { return [] }
        var out = Set<FaultKind>()
        for name in faults.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let k = FaultKind(rawValue: name) else {
                throw ValidationError("unknown fault \"\(name)\"; choose among drop, duplicate, reorder, timeout")
            }
            out.insert(k)
        }
        return out
    }

    func run() async throws {
        let context = try Context(global)
        let env = ProcessInfo.processInfo.environment
        let adminName = adminUser ?? env["FIELDSYNC_ADMIN_USER"].flatMap { $0.isEmpty ? nil : $0 } ?? "admin"
        guard let secret = adminPassword ?? env["FIELDSYNC_ADMIN_PASSWORD"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            throw CommandFailure.usage("give the superuser's or an admin's password with --admin-password or FIELDSYNC_ADMIN_PASSWORD")
        }
        let kinds = try faultKinds()
        let directory = storeDir ?? (NSTemporaryDirectory() + "fieldsync-fleet-\(UUID().uuidString.prefix(8).lowercased())")
        var options = FleetOptions(devices: devices, records: records, storeDirectory: directory)
        options.concurrency = concurrency
        options.devicesPerUser = devicesPerUser
        options.sharedEntities = sharedEntities
        options.sharedEditRate = sharedEditRate
        options.track = track
        options.batchSize = batchSize
        options.faults = FaultPlan(kinds: kinds, rate: kinds.isEmpty ? 0 : (faultRate ?? 0.1))
        options.offlineRate = offlineRate
        options.clockSkewSeconds = clockSkew
        let bar = ProgressBar(enabled: context.showsProgress)
        let showsProgress = context.showsProgress
        let log: @Sendable (String) -> Void = { line in if showsProgress { Console.error(line) } }
        // Retries of a fleet are expected (faults, 429/503): log only errors.
        var logger = context.logger
        logger.logLevel = global.verbose ? .debug : .error
        let report = try await FieldSyncClient.withClient(
            baseURL: context.server, timeout: .milliseconds(Int64(global.timeout * 1000)),
            retry: RetryPolicy(maxAttempts: 8, maxTotal: .seconds(60)), logger: logger,
            maxConnections: concurrency + 8  // every device syncing has its own connection (duplicate faults use two)
        ) { client in
            try await Self.ensureReady(client)
            let setup = try await FleetSetup.create(base: client, adminUser: adminName, adminPassword: secret, options: options, log: log)
            log("setup: \(setup.agents.count) agents, form \(setup.formId), stores in \(directory)")
            return try await FleetSimulator(base: client, options: options, log: log, progress: { bar.update($0, $1, $2) }).run(setup: setup)
        }
        if !keepStores && storeDir == nil { try? FileManager.default.removeItem(atPath: directory) }
        if global.json {
            try Console.json(report)
        } else {
            print(report.text)
        }
        if !report.ok {
            throw CommandFailure.failed(
                report.lost > 0
                    ? "\(report.lost) writes were lost; the first problem: \(report.problem ?? "?")"
                    : "the fleet did not converge: \(report.problem ?? "?"); rerun with --keep-stores --store-dir DIR to inspect the devices")
        }
    }

    static func ensureReady(_ client: FieldSyncClient) async throws {
        if let why = try await client.waitUntilReady(within: .seconds(10)) {
            throw CommandFailure.failed("the server is not ready (\(why)); wait for it, then run again")
        }
    }
}
