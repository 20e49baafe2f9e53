import Hummingbird

/// Resolves `Authorization: Bearer …` into ``AppRequestContext/caller``; 401 otherwise.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let database: Database

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            throw APIError.unauthorized("a bearer token is required (Authorization: Bearer …); get one from POST /v1/auth/token")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", !parts[1].isEmpty, parts[1].utf8.count <= 512 else {
            throw APIError.unauthorized("the Authorization header must be `Bearer <token>`")
        }
        let token = String(parts[1])
        let found = try await database.withConnection { c in
            try await AuthStore(connection: c, logger: context.logger).caller(forToken: token)
        }
        guard let caller = found else {
            throw APIError.unauthorized("the token is unknown, expired or revoked; sign in again")
        }
        var context = context
        context.caller = caller
        context.logger[metadataKey: "user"] = "\(caller.userId.lowercased)"
        return try await next(request, context)
    }
}
