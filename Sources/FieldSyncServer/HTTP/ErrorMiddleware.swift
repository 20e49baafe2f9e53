import FieldSyncCore
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PostgresNIO

/// Turns every error into the protocol's error body: typed ``APIError``s as they are,
/// database outages as 503 `unavailable`, Hummingbird's own errors (404 route, 413 body)
/// with the matching code, anything else as a 500 whose details go to the log only.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let apiError = Self.translate(error, logger: context.logger)
            return try apiError.response(from: request, context: context)
        }
    }

    static func translate(_ error: any Error, logger: Logger) -> APIError {
        switch error {
        case let e as APIError:
            return e
        case let e as DatabaseUnavailable:
            logger.warning("database unavailable", metadata: ["error": "\(e.description)"])
            return .unavailable("the database is unavailable; retry later")
        case let e as PSQLError:
            if Self.isConnectionProblem(e) {
                logger.warning("database unavailable", metadata: ["error": "\(String(reflecting: e))"])
                return .unavailable("the database is unavailable; retry later")
            }
            logger.error("database error", metadata: ["error": "\(String(reflecting: e))"])
            return APIError(.internalServerError, code: ErrorCode.internalError, message: "internal error; it was logged")
        case is NIOTooManyBytesError:
            // A body collected without Content-Length (chunked) that outgrew its limit.
            return .tooLarge("the body is larger than the limit")
        case let e as HTTPError:
            switch e.status {
            case .notFound: return .notFound("no such endpoint")
            case .contentTooLarge: return .tooLarge("the body is larger than the limit")
            case .methodNotAllowed: return APIError(.methodNotAllowed, code: ErrorCode.methodNotAllowed, message: "method not allowed here")
            case .badRequest: return .badRequest(e.body ?? "bad request")
            default: return APIError(e.status, code: "http_\(e.status.code)", message: e.body ?? e.status.reasonPhrase)
            }
        case is CancellationError:
            return .unavailable("the request was cancelled")
        default:
            logger.error("unexpected error", metadata: ["error": "\(String(reflecting: error))"])
            return APIError(.internalServerError, code: ErrorCode.internalError, message: "internal error; it was logged")
        }
    }

    /// Errors that mean the database can't be reached (rather than a bad query).
    static func isConnectionProblem(_ e: PSQLError) -> Bool {
        switch e.code {
        case .server:
            guard let state = e.serverInfo?[.sqlState] else { return false }
            // 08: connection exception; 57P01-03: admin/crash shutdown, cannot connect now; 53300: too many connections.
            // 42P01 undefined table: the schema is not migrated yet (start-up still running).
            return state.hasPrefix("08") || state.hasPrefix("57P") || state == "53300" || state == "42P01"
        case .tooManyParameters, .invalidCommandTag, .messageDecodingFailure, .unexpectedBackendMessage:
            return false
        default:
            // Everything else on the client side (connect, TLS, authentication, closed or
            // cancelled connections) means the database is not usable now.
            return true
        }
    }
}
