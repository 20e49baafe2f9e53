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
            Console.json(.object([
                "server": .string(context.server), "username": .string(answer.user.username),
                "role": .string(answer.user.role), "accountId": answer.user.accountId.map(JSONValue.string) ?? .null,
                "projectIds": .array(answer.user.projectIds.map(JSONValue.string)),
                "expiresAt": .string(answer.expiresAt), "profile": .string(context.store.path),
            ]))
        } else if !global.quiet {
            print("signed in as \(answer.user.username) (\(answer.user.role)) at \(context.server); token stored in \(context.store.path) until \(answer.expiresAt)")
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
            var o = context.profile.redacted.objectValue ?? [:]
            o["server"] = .string(context.server)
            o["ready"] = .bool(notReady == nil)
            o["profile"] = .string(context.store.path)
            if let me { o["role"] = .string(me.role); o["username"] = .string(me.username) }
            Console.json(.object(o))
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
