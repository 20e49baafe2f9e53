import ArgumentParser
import FieldSyncClient
import FieldSyncCore
import Foundation

/// `fieldsync login`.
struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sign in and keep the token in the profile.",
        discussion: """
            The password comes from --password, else env FIELDSYNC_PASSWORD, else a
            prompt when standard input is a terminal. The server used is remembered
            in the profile, so later commands need no --server.

            Example:
              export FIELDSYNC_PASSWORD=s3cret-pass
              fieldsync login --server http://127.0.0.1:8080 --username amina
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "Your username.")
    var username: String

    @Option(help: "Your password (prefer env FIELDSYNC_PASSWORD: options show in the process list).")
    var password: String?

    @Option(help: ArgumentHelp("The device to sign in from (stored in the profile).", valueName: "uuid"))
    var deviceId: String?

    func run() async throws {
        var context = try Context(global)
        let device = try Context.uuid(deviceId, option: "--device-id")
        let secret = try Self.password(password, for: username)
        let answer = try await context.withClient(authenticated: false) { client in
            try await client.signIn(username: username, password: secret, deviceId: device)
        }
        let previousUser = context.profile.username
        context.profile.server = context.server
        context.profile.token = answer.token
        context.profile.username = answer.user.username
        context.profile.userId = answer.user.id
        context.profile.role = answer.user.role
        context.profile.accountId = answer.user.accountId
        if let device { context.profile.deviceId = device.lowercased }
        if answer.user.projectIds.count == 1 {
            context.profile.projectId = answer.user.projectIds[0]
        } else if previousUser != answer.user.username || !answer.user.projectIds.contains(context.profile.projectId ?? "") {
            context.profile.projectId = nil
        }
        try context.save()
        if global.json {
            try Console.json(
                LoginOutput(
                    server: context.server, username: answer.user.username, role: answer.user.role,
                    accountId: answer.user.accountId, projectIds: answer.user.projectIds,
                    expiresAt: answer.expiresAt, profile: context.store.path))
        } else if !global.quiet {
            print(
                "signed in as \(answer.user.username) (\(answer.user.role)) at \(context.server); token stored in \(context.store.path) until \(answer.expiresAt)"
            )
        }
    }

    /// `login --json` (`accountId` is `null` for the superuser).
    struct LoginOutput: Encodable {
        var server: String
        var username: String
        var role: String
        var accountId: String?
        var projectIds: [String]
        var expiresAt: String
        var profile: String

        private enum CodingKeys: String, CodingKey { case server, username, role, accountId, projectIds, expiresAt, profile }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(server, forKey: .server)
            try c.encode(username, forKey: .username)
            try c.encode(role, forKey: .role)
            try c.encode(accountId, forKey: .accountId)
            try c.encode(projectIds, forKey: .projectIds)
            try c.encode(expiresAt, forKey: .expiresAt)
            try c.encode(profile, forKey: .profile)
        }
    }

    /// The password from the option, the environment, or a prompt.
    static func password(_ option: String?, for username: String) throws -> String {
        if let option { return option }
        if let env = ProcessInfo.processInfo.environment["FIELDSYNC_PASSWORD"], !env.isEmpty { return env }
        if isatty(STDIN_FILENO) != 0, let typed = getpass("password for \(username): ") {
            let text = String(cString: typed)
            if !text.isEmpty { return text }
        }
        throw CommandFailure.usage("give the password with --password or the environment variable FIELDSYNC_PASSWORD")
    }
}

/// `fieldsync logout`.
struct Logout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Revoke the token on the server and forget it.",
        discussion: """
            The server, device and profile file stay; only the token and the user are
            forgotten. A token the server no longer knows is forgotten all the same.

            Example:
              fieldsync logout
            """)

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        var context = try Context(global)
        guard context.profile.token != nil else {
            if context.showsText && !global.quiet { print("not signed in; nothing to do") }
            if global.json { Console.json(.object(["revoked": .bool(false), "signedIn": .bool(false)])) }
            return
        }
        var revoked = false
        var unreachable: ClientError? = nil
        if context.token != nil {
            do {
                try await context.withClient { client in try await client.signOut() }
                revoked = true
            } catch let error as ClientError where error.status == 401 {
                revoked = false  // already expired or revoked
            } catch let error as ClientError where error.isUnreachable {
                unreachable = error
            }
        }
        let user = context.profile.username ?? "you"
        context.profile.signOut()
        try context.save()
        if global.json {
            Console.json(.object(["revoked": .bool(revoked), "signedIn": .bool(false)]))
        } else if !global.quiet {
            print(revoked ? "signed out \(user); the token is revoked" : "signed out \(user); the token is forgotten")
        }
        if let unreachable {
            throw CommandFailure(code: Exit.unreachable, message: "the token is forgotten here but not revoked on the server: \(unreachable)")
        }
    }
}

/// `fieldsync status --json`: the profile in use without its token, the server's
/// readiness and the profile's path.
struct StatusOutput: Encodable {
    var profile: Profile.Redacted
    var ready: Bool
    var path: String

    private enum CodingKeys: String, CodingKey { case ready, profile }

    func encode(to encoder: any Encoder) throws {
        try profile.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(ready, forKey: .ready)
        try c.encode(path, forKey: .profile)
    }
}

/// `fieldsync status`.
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the server's readiness and who is signed in.",
        discussion: """
            Asks GET /readyz and, when signed in, GET /v1/users/me. Never prints the token.

            Example:
              fieldsync status --server http://127.0.0.1:8080
            """)

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let context = try Context(global)
        let (notReady, me) = try await context.withClient { client -> (String?, UserInfo?) in
            let notReady = try await client.readiness()
            var me: UserInfo? = nil
            if client.token != nil, notReady == nil { me = try await client.me() }
            return (notReady, me)
        }
        if global.json {
            var shown = context.profile
            shown.server = context.server
            if let me {
                shown.role = me.role
                shown.username = me.username
            }
            try Console.json(StatusOutput(profile: shown.redacted, ready: notReady == nil, path: context.store.path))
        } else {
            print("server   \(context.server) (\(notReady.map { "not ready: \($0)" } ?? "ready"))")
            if let me {
                print("user     \(me.username) (\(me.role))\(me.accountId.map { ", account \($0)" } ?? "")")
            } else {
                print("user     not signed in")
            }
            print("device   \(context.profile.deviceId ?? "none (fieldsync device register)")")
            print("project  \(context.profile.projectId ?? "none")")
            print("profile  \(context.store.path)")
        }
        if notReady != nil { throw ExitCode(Exit.failed) }
    }
}
