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
        let signedIn = try await Self.context(
            context, token: String(parts[1]), database: database,
            unknown: "the token is unknown, expired or revoked; sign in again")
        return try await next(request, signedIn)
    }

    /// `context` with the caller `token` stands for (and its id in the logger's
    /// metadata, never the token); 401 saying `unknown` when it stands for none. Bearer
    /// tokens and the keys in Collect's server URLs both resolve here.
    static func context(_ context: Context, token: String, database: Database, unknown: String) async throws -> Context {
        let found = try await database.withConnection { c in
            try await AuthStore(connection: c, logger: context.logger).caller(forToken: token)
        }
        guard let caller = found else { throw APIError.unauthorized(unknown) }
        var context = context
        context.caller = caller
        context.logger[metadataKey: "user"] = "\(caller.userId.lowercased)"
        return context
    }
}
