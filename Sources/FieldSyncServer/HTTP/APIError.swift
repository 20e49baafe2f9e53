import FieldSyncCore
import Foundation
import HTTPTypes
import Hummingbird

/// An error answered with the protocol's body
/// `{"error":{"code","message","field"?}}` and its status.
public struct APIError: HTTPResponseError, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var field: String?
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, code: String, message: String, field: String? = nil, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        makeResponse()
    }

    /// The response with the protocol's error body.
    public func makeResponse() -> Response {
        var w = JSONWriter()
        w.write(.object(["error": ItemError(code: code, message: message, field: field).json]))
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: w.bytes)))
    }

    /// 422 (or the status that fits the code) from an item-level error.
    public init(_ error: ItemError, status: HTTPResponse.Status? = nil) {
        let s: HTTPResponse.Status
        switch error.code {
        case ErrorCode.invalidJSON, ErrorCode.invalidRequest: s = .badRequest
        case ErrorCode.unauthorized: s = .unauthorized
        case ErrorCode.forbidden: s = .forbidden
        case ErrorCode.notFound: s = .notFound
        case ErrorCode.alreadyExists: s = .conflict
        case ErrorCode.tooLarge: s = .contentTooLarge
        default: s = .unprocessableContent
        }
        self.init(status ?? s, code: error.code, message: error.message, field: error.field)
    }

    public static func badRequest(_ message: String, field: String? = nil) -> APIError {
        APIError(.badRequest, code: ErrorCode.invalidRequest, message: message, field: field)
    }
    public static func invalidJSON(_ message: String) -> APIError {
        APIError(.badRequest, code: ErrorCode.invalidJSON, message: message)
    }
    public static func unauthorized(_ message: String) -> APIError {
        APIError(.unauthorized, code: ErrorCode.unauthorized, message: message, headers: [.wwwAuthenticate: "Bearer"])
    }
    public static func forbidden(_ message: String) -> APIError {
        APIError(.forbidden, code: ErrorCode.forbidden, message: message)
    }
    public static func notFound(_ message: String) -> APIError {
        APIError(.notFound, code: ErrorCode.notFound, message: message)
    }
    public static func conflict(_ code: String, _ message: String, field: String? = nil) -> APIError {
        APIError(.conflict, code: code, message: message, field: field)
    }
    public static func invalid(_ message: String, field: String? = nil, code: String = ErrorCode.invalidField) -> APIError {
        APIError(.unprocessableContent, code: code, message: message, field: field)
    }
    public static func tooLarge(_ message: String) -> APIError {
        APIError(.contentTooLarge, code: ErrorCode.tooLarge, message: message)
    }
    public static func unavailable(_ message: String) -> APIError {
        APIError(.serviceUnavailable, code: ErrorCode.unavailable, message: message, headers: [.retryAfter: "5"])
    }
    public static func rateLimited(retryAfter seconds: Int) -> APIError {
        APIError(
            .tooManyRequests, code: ErrorCode.rateLimited, message: "too many attempts; retry after \(seconds) seconds",
            headers: [.retryAfter: String(seconds)])
    }
}
