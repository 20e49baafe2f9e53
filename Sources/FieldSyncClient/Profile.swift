import FieldSyncCore
import Foundation

/// What the CLI remembers between runs: the server, the signed-in user's token and
/// the device and project to use. Stored as JSON, readable only by its owner.
public struct Profile: Sendable, Equatable {
    /// The server's base URL the token belongs to.
    public var server: String?
    /// The bearer token. Secret: never print it.
    public var token: String?
    public var username: String?
    public var userId: String?
    public var role: String?
    public var accountId: String?
    public var projectId: String?
    public var deviceId: String?

    public init() {}

    static let keys = ["server", "token", "username", "userId", "role", "accountId", "projectId", "deviceId"]

    /// Reads a profile document; unknown members are ignored.
    public init(json: JSONValue) {
        server = json["server"]?.stringValue
        token = json["token"]?.stringValue
        username = json["username"]?.stringValue
        userId = json["userId"]?.stringValue
        role = json["role"]?.stringValue
        accountId = json["accountId"]?.stringValue
        projectId = json["projectId"]?.stringValue
        deviceId = json["deviceId"]?.stringValue
    }

    /// As stored (token included).
    public var json: JSONValue {
        var o: [String: JSONValue] = [:]
        let values = [server, token, username, userId, role, accountId, projectId, deviceId]
        for (key, value) in zip(Self.keys, values) {
            if let value { o[key] = .string(value) }
        }
        return .object(o)
    }

    /// As shown to people: the token replaced by whether there is one.
    public var redacted: JSONValue {
        var o = json.objectValue ?? [:]
        o["token"] = nil
        o["signedIn"] = .bool(token != nil)
        return .object(o)
    }

    /// Forgets the user (token and who it belongs to), keeping server and device.
    public mutating func signOut() {
        token = nil
        username = nil
        userId = nil
        role = nil
        accountId = nil
        projectId = nil
    }
}

/// Loads and saves a ``Profile`` at one path, written atomically with mode 0600.
public struct ProfileStore: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// `FIELDSYNC_PROFILE`, else `$XDG_CONFIG_HOME/fieldsync/profile.json`, else
    /// `~/.config/fieldsync/profile.json`.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let p = environment["FIELDSYNC_PROFILE"], !p.isEmpty { return p }
        let config: String
        if let x = environment["XDG_CONFIG_HOME"], !x.isEmpty {
            config = x
        } else {
            let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
            config = home + "/.config"
        }
        return config + "/fieldsync/profile.json"
    }

    /// The stored profile; an empty one when the file does not exist.
    public func load() throws -> Profile {
        guard FileManager.default.fileExists(atPath: path) else { return Profile() }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ProfileError("cannot read the profile \(path): check its permissions")
        }
        do {
            return Profile(json: try JSONParser.parse(Array(data)))
        } catch {
            throw ProfileError("the profile \(path) is not valid JSON (\(error)): fix or delete it")
        }
    }

    /// Writes the profile: a temporary file created with mode 0600, then renamed
    /// over the old one (its directory is created with mode 0700 when missing).
    public func save(_ profile: Profile) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.createDirectory(
                    atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw ProfileError("cannot create the directory \(directory) for the profile: \(error.localizedDescription)")
            }
        }
        var bytes = JSONWriter.encode(profile.json)
        bytes.append(0x0A)
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw ProfileError("cannot write the profile \(path): \(String(cString: strerror(errno)))") }
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                close(fd)
                unlink(temporary)
                throw ProfileError("cannot write the profile \(path): \(reason)")
            }
            written += n
        }
        fchmod(fd, 0o600)
        fsync(fd)
        close(fd)
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw ProfileError("cannot replace the profile \(path): \(reason)")
        }
    }
}

/// A profile that cannot be read or written; the description says which file and why.
public struct ProfileError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
