import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import FieldSyncServer

/// The services of one start (issue 13): the embedded cluster and the bootstrap run in the
/// application's group, the signal between them ends on open or on cancellation.
@Suite("Lifecycle: services of the application's group")
struct LifecycleTests {
    static let quietLogger = {
        var l = Logger(label: "test"); l.logLevel = .critical; return l
    }()

    @Test("a signal lets every waiter go once opened, before or after they wait", .timeLimit(.minutes(1)))
    func signalOpens() async {
        let signal = StartupSignal()
        #expect(!signal.isOpen)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 { group.addTask { await signal.wait() } }
            try? await Task.sleep(for: .milliseconds(50))
            signal.open()
            await group.waitForAll()
        }
        #expect(signal.isOpen)
        await signal.wait()
        signal.open()
    }

    @Test("a wait ends when its task is cancelled, while the signal stays closed", .timeLimit(.minutes(1)))
    func signalCancelled() async {
        let signal = StartupSignal()
        let waiting = Task { await signal.wait() }
        try? await Task.sleep(for: .milliseconds(50))
        waiting.cancel()
        await waiting.value
        let cancelledFirst = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            await signal.wait()
        }
        await cancelledFirst.value
        #expect(!signal.isOpen)
    }

    @Test("without a URL the application starts its own cluster, migrates it, serves, and stops it at shutdown")
    func embeddedStartedByTheApplication() async throws {
        let dir = URL(fileURLWithPath: "/tmp").appendingPathComponent("fs-lifecycle-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: dir) }
        var config = ServerConfiguration()
        config.dataDirectory = dir.path
        config.adminUser = "root"
        config.adminPassword = "root-password"
        let app = try await buildApplication(configuration: config, logger: Self.quietLogger)
        // Building starts nothing.
        let probe = try EmbeddedPostgres(dataDirectory: dir.path, logger: Self.quietLogger)
        #expect(!FileManager.default.fileExists(atPath: probe.layout.cluster.path))
        try await app.test(.router) { client in
            let api = API(client: client)
            // The listener opens after the first round of the bootstrap: ready at once.
            #expect(try await api.call(.get, "/readyz").status == .ok)
            _ = try await api.signIn("root", "root-password")
            #expect(try await probe.isRunning())
        }
        #expect(try await probe.isRunning() == false)
    }

    @Test(
        "a cluster that cannot start ends the application with its sentence",
        .enabled(if: geteuid() == 0, "needs root: the cluster then runs as postgres, who cannot enter a private folder"))
    func embeddedFailsToStart() async throws {
        let parent = URL(fileURLWithPath: "/tmp").appendingPathComponent("fs-private-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: parent) }
        var config = ServerConfiguration()
        config.dataDirectory = parent.appendingPathComponent("data").path
        config.port = 0
        let app = try await buildApplication(configuration: config, logger: Self.quietLogger)
        // The real run (the router test framework drops the errors of services); a minute at most.
        let outcome = try await withThrowingTaskGroup(of: String?.self) { group in
            group.addTask {
                do {
                    try await app.run()
                    return "the application returned"
                } catch {
                    return "\(error)"
                }
            }
            group.addTask {
                try await Task.sleep(for: .seconds(60))
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
        #expect(outcome?.contains("The postgres user cannot reach") == true, "\(outcome ?? "still running after 60 s")")
    }
}
