import Hummingbird
import Logging
import NIOCore

/// The request context of every route: the caller (set by ``AuthMiddleware``) and the
/// peer address (for the login rate limit).
public struct AppRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The authenticated caller; `nil` before ``AuthMiddleware`` ran or on open routes.
    public var caller: Caller?
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    /// JSON bodies are read through ``JSONBody`` with the configured
    /// `FIELDSYNC_MAX_PUSH_BYTES`; this only bounds Hummingbird's own decoding.
    public var maxUploadSize: Int { 32 * 1024 * 1024 }

    /// The caller, or 401 when the route was reached without one.
    public func requireCaller() throws -> Caller {
        guard let caller else { throw APIError.unauthorized("a bearer token is required") }
        return caller
    }
}
