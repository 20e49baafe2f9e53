import ArgumentParser
import FieldSyncClient
import FieldSyncCore
import FieldSyncDevice
import Foundation

/// `--store PATH` / `--device NAME`: which emulated device's SQLite store to use.
struct DeviceStoreOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The device's SQLite store (default: by --device name).", valueName: "path"))
    var store: String?

    @Option(
        help: ArgumentHelp(
            "The emulated device's name: its store is ~/.local/share/fieldsync/devices/NAME.sqlite (default: default).",
            valueName: "name"))
    var device: String?

    /// Whether either option was given.
    var given: Bool { store != nil || device != nil }

    func validate() throws {
        if let device, device.isEmpty || device.contains("/") {
            throw ValidationError("--device must be a plain name like field-1 (no slashes); use --store PATH for a path")
        }
    }

    /// The store's path.
    var path: String {
        if let store { return store }
        let env = ProcessInfo.processInfo.environment
        let data: String
        if let x = env["XDG_DATA_HOME"], !x.isEmpty {
            data = x
        } else {
            data = (env["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()) + "/.local/share"
        }
        return data + "/fieldsync/devices/\(device ?? "default").sqlite"
    }

    /// Opens the device (creating its store when missing).
    func open() throws -> EmulatedDevice {
        EmulatedDevice(store: try DeviceStore(path: path))
    }
}

/// Runs `body` with a client of the device's server (`--server`, else the one it
/// signed in to) carrying its token.
func withDeviceClient<T: Sendable>(
    _ device: EmulatedDevice, global: GlobalOptions, context: Context, _ body: (FieldSyncClient) async throws -> T
) async throws -> T {
    let session = try await device.store.session()
    guard let token = session.token else {
        throw CommandFailure.failed("the device \(device.store.path) is not signed in; run fieldsync device login --username NAME first")
    }
    let server = global.server ?? session.server ?? context.server
    return try await FieldSyncClient.withClient(
        baseURL: server, token: token, timeout: .milliseconds(Int64(global.timeout * 1000)), logger: context.logger, body)
}

/// `field=value` arguments: the value is read as JSON when it parses (numbers,
/// true/false, null, "quoted", objects), else taken as text.
func parseAssignments(_ pairs: [String]) throws -> [String: JSONValue] {
    var out: [String: JSONValue] = [:]
    for pair in pairs {
        guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else {
            throw CommandFailure.usage("\"\(pair)\" is not field=value; write e.g. village=Subil or age=42")
        }
        let name = String(pair[..<eq])
        let raw = String(pair[pair.index(after: eq)...])
        out[name] = (try? JSONParser.parse(raw)) ?? .string(raw)
    }
    return out
}
