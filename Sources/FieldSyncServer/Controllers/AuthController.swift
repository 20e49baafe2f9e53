import FieldSyncCore
import Foundation
import Hummingbird
import NIOCore

/// `POST /v1/auth/token` (sign in) and `DELETE /v1/auth/token` (sign out).
struct AuthController {
    let database: Database
    let config: ServerConfiguration

    func addOpenRoutes(to router: RouterGroup<AppRequestContext>) {
        router.post("auth/token", use: signIn)
    }

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.delete("auth/token", use: signOut)
        router.get("users/me") { _, context in
            JSONBody.response(try context.requireCaller().userJSON)
        }
    }

    @Sendable func signIn(_ request: Request, context: AppRequestContext) async throws -> Response {
        let body = try await JSONBody.read(request, limit: config.maxPushBytes)
        let r: ObjectReader
        let username: String, password: String, deviceId: UUID?
        do {
            r = try ObjectReader(body, path: "")
            // `deviceId` is a UUID or absent (the schema's words): `null` is refused, not
            // read as "not given", as on every other body.
            try RequestChecks.rejectNullMembers(r, of: ["deviceId", "username", "password"])
            username = try r.requiredString("username")
            password = try r.requiredString("password")
            deviceId = try r.uuid("deviceId")
        } catch {
            throw APIError(error, status: .badRequest)
        }
        let signedIn = try await authenticate(username: username, password: password, deviceId: deviceId, context: context)
        return JSONBody.response(
            .object([
                "token": .string(signedIn.token),
                "expiresAt": .string(signedIn.expires.rfc3339),
                "user": signedIn.caller.userJSON,
            ]))
    }

    /// Checks a username and password and issues a token: the one sign-in both
    /// `POST /v1/auth/token` and Central's `POST /odk/v1/sessions` use, with its rate
    /// limit per username and per address, and one answer for an unknown user and a
    /// wrong password.
    func authenticate(
        username: String, password: String, deviceId: UUID?,
        context: AppRequestContext
    ) async throws -> (token: String, expires: Date, caller: Caller) {
        let address = context.remoteAddress?.ipAddress ?? "unknown"
        let keys = ["user:\(username.lowercased())", "addr:\(address)"]
        let logger = context.logger
        let (failures, user) = try await database.withConnection { c in
            let auth = AuthStore(connection: c, logger: logger)
            return (try await auth.recentFailures(keys: keys), try await auth.user(named: username))
        }
        if failures.count >= config.loginFailureLimit {
            throw APIError.rateLimited(retryAfter: failures.retryAfter)
        }
        let ok = try await AuthStore.verifyPassword(password, hash: user?.passwordHash ?? AuthStore.dummyHash)
        guard let user, ok else {
            try await database.withConnection { c in try await AuthStore(connection: c, logger: logger).recordFailure(keys: keys) }
            context.logger.notice("sign-in refused", metadata: ["address": "\(address)"])
            throw APIError.unauthorized("wrong username or password")
        }
        let (token, expires, signedIn) = try await database.withConnection { c in
            let auth = AuthStore(connection: c, logger: logger)
            try await auth.clearFailures(key: keys[0])
            let (token, expires) = try await auth.issueToken(userId: user.id, deviceId: deviceId, ttlSeconds: config.tokenTTL)
            return (token, expires, try await auth.caller(forToken: token))
        }
        guard let caller = signedIn else {
            throw APIError.unauthorized("the new token could not be read back")
        }
        return (token, expires, caller)
    }

    @Sendable func signOut(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        try await database.withConnection { c in
            try await AuthStore(connection: c, logger: context.logger).revoke(tokenHash: caller.tokenHash)
        }
        return Response(status: .noContent)
    }
}
