import Foundation
import Subprocess
import SystemPackage

/// One run of the built `fieldsync` executable: what it printed and how it exited.
struct CommandLineRun: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String

    /// The executable next to the test bundle (`swift build --build-tests` builds both
    /// into the same folder).
    static var executable: String {
        get throws {
            let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            for folder in [bundle, bundle.deletingLastPathComponent()] {
                let path = folder.appendingPathComponent("fieldsync").path
                if FileManager.default.isExecutableFile(atPath: path) { return path }
            }
            throw CLITestError("no fieldsync executable beside \(CommandLine.arguments[0]); run swift build --build-tests first")
        }
    }

    /// Runs `fieldsync arguments…` with `environment` (HOME, profile and XDG folders
    /// pointing into `home`) and no standard input, through swift-subprocess: it closes
    /// the descriptors this process holds, so the child keeps no socket of the live test
    /// servers running beside it (Foundation's `Process` leaks them, and those servers
    /// then stop answering).
    static func run(_ arguments: [String], home: String, environment: [String: String] = [:]) async throws -> CommandLineRun {
        var env = ["HOME": home, "XDG_CONFIG_HOME": home + "/config", "XDG_DATA_HOME": home + "/data", "PATH": "/usr/bin:/bin"]
        for (k, v) in environment { env[k] = v }
        var keys: [Environment.Key: String] = [:]
        for (k, v) in env {
            guard let key = Environment.Key(rawValue: k) else { throw CLITestError("\(k) cannot name an environment variable") }
            keys[key] = v
        }
        let result = try await Subprocess.run(
            .path(FilePath(try executable)), arguments: Arguments(arguments), environment: .custom(keys),
            output: .string(limit: 1 << 20), error: .string(limit: 1 << 20))
        let status: Int32
        switch result.terminationStatus {
        case .exited(let code): status = Int32(truncatingIfNeeded: code)
        case .signaled(let signal): status = 128 + Int32(truncatingIfNeeded: signal)
        }
        return CommandLineRun(status: status, stdout: result.standardOutput ?? "", stderr: result.standardError ?? "")
    }

    /// A new empty folder for a run's HOME.
    static func temporaryHome() throws -> String {
        let path = NSTemporaryDirectory() + "fieldsync-cli-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

struct CLITestError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
