import FieldSyncCore
import Foundation

/// What the CLI remembers between runs: the server, the signed-in user's token and
/// the device and project to use. Stored as JSON (absent members are `nil`, unknown
/// ones ignored), readable only by its owner.
public struct Profile: Sendable, Equatable, Codable {
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

    /// As shown to people: the token replaced by whether there is one.
    public var redacted: Redacted {
        var copy = self
        copy.token = nil
        return Redacted(profile: copy, signedIn: token != nil)
    }

    /// A profile without its token, and whether it has one (`"signedIn"`).
    public struct Redacted: Sendable, Encodable {
        public var profile: Profile
        public var signedIn: Bool

        public func encode(to encoder: any Encoder) throws {
            try profile.encode(to: encoder)
            var c = encoder.container(keyedBy: SignedInKey.self)
            try c.encode(signedIn, forKey: .signedIn)
        }

        private enum SignedInKey: String, CodingKey { case signedIn }
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
            return try JSONCoding.decode(Profile.self, from: data)
        } catch {
            throw ProfileError("the profile \(path) is not a profile (\(JSONCoding.describe(error))): fix or delete it")
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
        var bytes: [UInt8]
        do {
            bytes = try JSONCoding.encode(profile)
        } catch {
            throw ProfileError("cannot write the profile \(path): \(error)")
        }
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
