import ArgumentParser
import FieldSyncClient
import FieldSyncCore
import Foundation
import Logging

/// What a command runs with: the global options resolved against the environment
/// and the profile.
struct Context {
    let options: GlobalOptions
    let store: ProfileStore
    var profile: Profile
    /// The server in use, without a trailing slash.
    let server: String
    let logger: Logger

    init(_ options: GlobalOptions) throws {
        self.options = options
        let env = ProcessInfo.processInfo.environment
        store = ProfileStore(path: options.profile ?? ProfileStore.defaultPath(environment: env))
        profile = try store.load()
        var server =
            options.server
            ?? env["FIELDSYNC_SERVER"].flatMap { $0.isEmpty ? nil : $0 }
            ?? profile.server
            ?? GlobalOptions.defaultServer
        while server.hasSuffix("/") { server.removeLast() }
        self.server = server
        let level: Logger.Level = options.verbose ? .debug : (options.quiet ? .error : .warning)
        var logger = Logger(label: "fieldsync") { label in StreamLogHandler.standardError(label: label) }
        logger.logLevel = level
        self.logger = logger
    }

    /// `true` when people-oriented progress lines should be printed.
    var showsProgress: Bool { !options.json && !options.quiet }

    /// `true` when the result should be printed for people (not `--json`).
    var showsText: Bool { !options.json }

    /// A progress line (not with `--json` or `--quiet`).
    func progress(_ text: String) {
        if showsProgress { print(text) }
    }

    /// The stored token, when it was issued by the server in use (a token is never
    /// sent to another server).
    var token: String? {
        guard let token = profile.token, let stored = profile.server else { return nil }
        return Self.sameServer(stored, server) ? token : nil
    }

    static func sameServer(_ a: String, _ b: String) -> Bool {
        func norm(_ s: String) -> String {
            var s = s.lowercased()
            while s.hasSuffix("/") { s.removeLast() }
            return s
        }
        return norm(a) == norm(b)
    }

    /// Runs `body` with a client of the server in use (with the stored token unless
    /// `authenticated` is false), shutting the client down afterwards.
    func withClient<T: Sendable>(authenticated: Bool = true, _ body: (FieldSyncClient) async throws -> T) async throws -> T {
        try await FieldSyncClient.withClient(
            baseURL: server, token: authenticated ? token : nil,
            timeout: .milliseconds(Int64(options.timeout * 1000)), logger: logger, body)
    }

    /// Like ``withClient(authenticated:_:)`` but first fails with advice when no
    /// one is signed in to this server.
    func withSignedInClient<T: Sendable>(_ body: (FieldSyncClient) async throws -> T) async throws -> T {
        guard token != nil else {
            if profile.token != nil, let stored = profile.server {
                throw CommandFailure.failed(
                    "the profile's token is for \(stored), not \(server); sign in there with fieldsync login --server \(server)")
            }
            throw CommandFailure.failed("not signed in to \(server); sign in first with fieldsync login --username NAME")
        }
        return try await withClient(body)
    }

    /// Saves the profile.
    func save() throws {
        try store.save(profile)
    }

    /// A UUID option, else the profile's value, else `nil`; names the option when malformed.
    static func uuid(_ text: String?, option: String) throws -> UUID? {
        guard let text else { return nil }
        guard let u = UUID(uuidString: text) else {
            throw CommandFailure.usage("\(option) must be a UUID like 0d000000-0000-4000-8000-000000000001, got \"\(text)\"")
        }
        return u
    }

    /// The account to act in: `--account-id`, else the signed-in user's account.
    /// (`nil` for the superuser without `--account-id`; the server then says what is missing.)
    func accountId(_ option: String?) throws -> UUID? {
        try Self.uuid(option ?? profile.accountId, option: "--account-id")
    }

    /// The project to push to: `--project-id`, else the profile's project.
    func projectId(_ option: String?) throws -> UUID? {
        try Self.uuid(option ?? profile.projectId, option: "--project-id")
    }
}

extension UUID {
    /// The lowercase form the protocol uses.
    var lowercased: String { lowercasedText }
}
