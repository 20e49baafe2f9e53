import ArgumentParser
import FieldSyncClient
import FieldSyncDevice
import Foundation

/// The documented exit codes, and the mapping of errors onto them.
enum Exit {
    static let ok: Int32 = 0
    static let failed: Int32 = 1
    static let usage: Int32 = 2
    static let unreachable: Int32 = 3
    static let partial: Int32 = 4

    /// Advice for the CLI's options where the server names a query parameter.
    static func hint(_ e: ClientError) -> String {
        if case .server(_, let body?, _, _) = e, body.field == "accountId" {
            return "; pass --account-id ID"
        }
        return ""
    }

    /// The exit code and the message to print for an error that ended the command.
    static func classify(_ error: any Error, root: FieldSync.Type) -> (Int32, String?) {
        switch error {
        case let e as ClientError:
            return (e.isUnreachable ? unreachable : failed, "error: \(e)\(hint(e))")
        case let e as CommandFailure:
            return (e.code, e.message.isEmpty ? nil : "error: \(e.message)")
        case let e as ProfileError:
            return (failed, "error: \(e)")
        case let e as DeviceError:
            return (failed, "error: \(e)")
        case let e as InjectedFault:
            return (failed, "error: \(e); run the same command again to resume")
        case let e as ExitCode:
            return (e.rawValue, nil)
        default:
            let code = root.exitCode(for: error)
            let text = root.fullMessage(for: error)
            if code == .success { return (ok, text) }
            if code == .validationFailure { return (usage, text) }
            return (code.rawValue == 0 ? failed : code.rawValue, text.isEmpty ? "error: \(error)" : text)
        }
    }
}

/// A command's own failure: a sentence for standard error and an exit code.
struct CommandFailure: Error {
    var code: Int32
    var message: String

    /// Exit 1 with a message.
    static func failed(_ message: String) -> CommandFailure { CommandFailure(code: Exit.failed, message: message) }

    /// Exit 4: some items were rejected, the rest stored.
    static func partial(_ message: String) -> CommandFailure { CommandFailure(code: Exit.partial, message: message) }

    /// Exit 2: a usage problem found after parsing (e.g. a missing password).
    static func usage(_ message: String) -> CommandFailure { CommandFailure(code: Exit.usage, message: message) }
}
