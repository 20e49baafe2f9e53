import Crypto
import FieldSyncCore
import FieldSyncODK
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// What every OpenRosa answer carries, and what Collect checks: `X-OpenRosa-Version: 1.0`,
/// a `text/xml` content type, and on `HEAD /submission` the largest body it may send.
enum OpenRosa {
    static let versionHeader = HTTPField.Name("X-OpenRosa-Version")!
    static let acceptLengthHeader = HTTPField.Name("X-OpenRosa-Accept-Content-Length")!

    /// An XML answer with the OpenRosa headers.
    static func response(_ bytes: [UInt8], status: HTTPResponse.Status = .ok, contentType: String = "text/xml; charset=utf-8") -> Response {
        var headers: HTTPFields = [.contentType: contentType]
        headers[versionHeader] = "1.0"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// The headers of a file served as it was uploaded (form media, submission files): its
    /// content type, never sniffed, and a download named for the file (RFC 6266, UTF-8).
    static func fileHeaders(contentType: String, filename: String) -> HTTPFields {
        var headers: HTTPFields = [.contentType: contentType]
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        let encoded = filename.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? "file"
        headers[HTTPField.Name("Content-Disposition")!] = "attachment; filename*=UTF-8''\(encoded)"
        return headers
    }

    /// `<OpenRosaResponse><message nature=…>` with the headers.
    static func message(_ text: String, status: HTTPResponse.Status, nature: OpenRosaWriter.Nature) -> Response {
        response(OpenRosaWriter.response(text, nature: nature), status: status)
    }

    /// The base URL Collect was given (`…/odk/v1/key/{key}/projects/{n}`), from the
    /// request's own host, so the URLs in formList point back where Collect connected.
    static func baseURL(_ request: Request, key: String, project: Int64) -> String {
        "\(origin(request))/odk/v1/key/\(key)/projects/\(project)"
    }

    /// `scheme://host` as the caller reached the server (`X-Forwarded-Proto: https`
    /// behind a proxy that ends TLS).
    static func origin(_ request: Request) -> String {
        let host = request.head.authority ?? "localhost"
        let scheme = request.headers[forwardedProtoHeader] == "https" ? "https" : "http"
        return "\(scheme)://\(host)"
    }

    static let forwardedProtoHeader = HTTPField.Name("X-Forwarded-Proto")!

    static func md5Hex(_ bytes: some Sequence<UInt8>) -> String {
        Hex.string(Insecure.MD5.hash(data: Array(bytes)))
    }

    static func sha256(_ bytes: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: bytes)) }

    /// A UUID named by text (RFC 4122 version 5 layout over SHA-256 rather than SHA-1):
    /// the same phone or instanceID always maps to the same id in an account.
    static func namedUUID(_ namespace: String, _ account: UUID, _ name: String) -> UUID {
        var digest = Array(SHA256.hash(data: Array("fieldsync:\(namespace):\(account.lowercased):\(name)".utf8)).prefix(16))
        digest[6] = (digest[6] & 0x0F) | 0x50
        digest[8] = (digest[8] & 0x3F) | 0x80
        return UUID(
            uuid: (
                digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7],
                digest[8], digest[9], digest[10], digest[11], digest[12], digest[13], digest[14], digest[15]
            ))
    }

    /// The FieldSync instance of an instanceID: its UUID when it is `uuid:<uuid>` (as
    /// Collect makes them), else one named by it.
    static func recordId(instanceID: String, account: UUID) -> UUID {
        let bare = instanceID.hasPrefix("uuid:") ? String(instanceID.dropFirst(5)) : instanceID
        return UUID(text: bare) ?? namedUUID("instance", account, instanceID)
    }

    /// The FieldSync device of a phone, from Collect's `deviceID` (or the app user when
    /// the phone sends none).
    static func deviceId(_ deviceID: String?, account: UUID, user: UUID) -> UUID {
        namedUUID("device", account, deviceID ?? "user:\(user.lowercased)")
    }
}

/// Answers errors of the OpenRosa routes as Collect shows them: an `OpenRosaResponse`
/// with the message, the status of the JSON API's answer, and the OpenRosa headers.
struct OpenRosaErrorMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let e = ErrorMiddleware.translate(error, logger: context.logger)
            return OpenRosa.message(e.message, status: e.status, nature: .error)
        }
    }
}

/// Resolves the key of a Collect server URL (`/odk/v1/key/{key}/projects/{n}/…`) into
/// the caller, as a bearer token is (an app user's key is a long-lived token of an
/// agent), and the project number into a project of its account it belongs to.
struct ODKKeyMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let database: Database

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let key = context.parameters.get("key"), !key.isEmpty, key.utf8.count <= 512 else {
            throw APIError.unauthorized("the server URL must hold an app user's key: …/v1/key/{key}/projects/{n}")
        }
        let signedIn = try await AuthMiddleware.context(
            context, token: key, database: database,
            unknown: "this key is unknown or revoked; ask for a new server URL or QR code")
        return try await next(request, signedIn)
    }
}

extension APIError {
    /// An ODK parser's refusal with its status (400 unreadable, 413 too large, 422
    /// unacceptable) and its code.
    init(_ error: ODKError) {
        self.init(HTTPResponse.Status(code: error.httpStatus), code: error.code.rawValue, message: error.description)
    }
}
