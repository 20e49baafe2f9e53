import FieldSyncCore
import HTTPTypes
import Hummingbird
import Logging

/// Every route of the server, with the middleware that wraps them. Kept apart from
/// ``buildApplication(configuration:logger:)`` (which owns the database and the
/// services) so the route table can be built and listed on its own, as the tests do.
func buildRouter(
    database: Database,
    migrator: Migrator,
    config: ServerConfiguration
) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: ErrorMiddleware())
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: LogRequestsMiddleware(.debug))
    HealthController(database: database, migrator: migrator, registry: FieldSyncMetrics.registry).addRoutes(to: router)

    let v1 = router.group("v1")
    let authController = AuthController(database: database, config: config)
    authController.addOpenRoutes(to: v1)
    // Every route below knows its caller (and its scope) from here.
    let secured = v1.group().add(middleware: AuthMiddleware(database: database))
    authController.addRoutes(to: secured)
    AdminController(database: database, config: config).addRoutes(to: secured)
    DeviceController(database: database, config: config).addRoutes(to: secured)
    SyncController(database: database, config: config).addRoutes(to: secured)
    ConflictController(database: database, config: config).addRoutes(to: secured)
    AttachmentController(database: database, config: config).addRoutes(to: secured)
    CatalogController(database: database, config: config).addRoutes(to: secured)
    OrgUnitController(database: database, config: config).addRoutes(to: secured)
    ODKAdminController(database: database, config: config).addRoutes(to: secured)
    // ODK Central's REST API (pyodk): the same bearer tokens as /v1, JSON errors.
    let central = router.group("odk/v1")
    let centralController = CentralController(database: database, auth: authController)
    centralController.addOpenRoutes(to: central)
    centralController.addRoutes(to: central.group().add(middleware: AuthMiddleware(database: database)))
    // ODK Collect: the app user's key is in the server URL; errors answer as OpenRosa XML.
    let collect = router.group("odk/v1/key/:key/projects/:projectId")
        .add(middleware: OpenRosaErrorMiddleware())
        .add(middleware: ODKKeyMiddleware(database: database))
    OpenRosaController(database: database, config: config).addRoutes(to: collect)
    // Added after every route, so it wraps only the "no route" responder: a path that
    // exists with other methods answers 405 with `Allow` instead of 404.
    router.add(middleware: MethodNotAllowedMiddleware(routes: router.routes.map { ($0.path.description, $0.method) }))
    return router
}

/// Answers a request whose path is routed but not with its method: 405
/// `method_not_allowed` with `Allow` listing that path's methods (RFC 9110 §15.5.6).
/// Runs only for requests no route took (see where ``buildApplication`` adds it), before
/// authentication: the methods of a path are no secret.
struct MethodNotAllowedMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    /// Each routed path as segments (`nil` for a `{capture}`) with its methods.
    let paths: [(segments: [Substring?], methods: [HTTPRequest.Method])]

    init(routes: [(path: String, method: HTTPRequest.Method)]) {
        var byPath: [String: [HTTPRequest.Method]] = [:]
        var order: [String] = []
        for (path, method) in routes {
            if byPath[path] == nil { order.append(path) }
            byPath[path, default: []].append(method)
        }
        paths = order.map { path in
            let segments = path.split(separator: "/").map { $0.hasPrefix("{") || $0.hasPrefix(":") ? nil : $0 }
            return (segments, byPath[path] ?? [])
        }
    }

    /// The methods routed for `path`, sorted; empty when no route has this path. Like the
    /// router, a constant segment wins over a capture (`/v1/users/me` is not
    /// `/v1/users/{id}`), so the most specific matching path alone counts.
    func methods(for path: String) -> [HTTPRequest.Method] {
        let parts = path.split(separator: "/")
        var best: (rank: [Bool], methods: [HTTPRequest.Method])?
        for (segments, methods) in paths where segments.count == parts.count {
            guard zip(segments, parts).allSatisfy({ $0 == nil || $0 == $1 }) else { continue }
            let rank = segments.map { $0 != nil }
            guard let b = best else { best = (rank, methods); continue }
            if rank == b.rank {
                best = (rank, b.methods + methods)
            } else if let (mine, theirs) = zip(rank, b.rank).first(where: { $0 != $1 }), mine && !theirs {
                // At the first segment where they differ, this path has the constant.
                best = (rank, methods)
            }
        }
        return Set((best?.methods ?? []).map(\.rawValue)).sorted().compactMap { HTTPRequest.Method($0) }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let allowed = methods(for: request.uri.path)
        guard !allowed.isEmpty, !allowed.contains(request.method) else { return try await next(request, context) }
        let list = allowed.map(\.rawValue).joined(separator: ", ")
        throw APIError(
            .methodNotAllowed, code: ErrorCode.methodNotAllowed, message: "\(request.uri.path) answers \(list), not \(request.method.rawValue)",
            headers: [.allow: list])
    }
}
