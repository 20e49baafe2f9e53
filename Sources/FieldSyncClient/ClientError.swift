import FieldSyncCore

/// Why a request to the FieldSync server failed.
///
/// Each `description` is one sentence that says what went wrong and what to do.
public enum ClientError: Error, Sendable, CustomStringConvertible {
    /// The server answered with a status other than 2xx; `error` is the protocol's
    /// error object when the body held one.
    case server(status: Int, error: ItemError?, method: String, path: String)
    /// No answer: the connection could not be made or was lost before an answer.
    case unreachable(url: String, detail: String)
    /// The server did not answer within the per-request timeout.
    case timedOut(url: String, seconds: Double)
    /// A 2xx answer that is not what the protocol promises.
    case invalidResponse(path: String, detail: String)
    /// The base URL or path cannot form a request URL.
    case invalidURL(String)

    /// The HTTP status, for ``server(status:error:method:path:)``.
    public var status: Int? {
        if case .server(let status, _, _, _) = self { return status }
        return nil
    }

    /// The protocol error code (`not_found`, `already_exists`, …), when the server sent one.
    public var code: String? {
        if case .server(_, let error, _, _) = self { return error?.code }
        return nil
    }

    /// `true` for 409 `already_exists`: the object with this id or name is already there.
    public var isAlreadyExists: Bool {
        status == 409 && code == ErrorCode.alreadyExists
    }

    /// `true` when the server could not be reached at all.
    public var isUnreachable: Bool {
        if case .unreachable = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .server(let status, let error, let method, let path):
            let what: String
            if let error {
                what = error.field.map { "\(error.code): \(error.message) (\($0))" } ?? "\(error.code): \(error.message)"
            } else {
                what = "the server answered \(status) to \(method) \(path)"
            }
            if status == 401 && path != "/v1/auth/token" {
                return what.hasSuffix("sign in again") ? "\(what) (fieldsync login)" : "\(what); sign in again (fieldsync login)"
            }
            return what
        case .unreachable(let url, _):
            return "cannot reach the server at \(url): is fieldsync-server running?"
        case .timedOut(let url, let seconds):
            return "the server at \(url) did not answer within \(Self.format(seconds)) s; try again or raise --timeout"
        case .invalidResponse(let path, let detail):
            return
                "the server's answer to \(path) is not what the protocol says (\(detail)); check that the server and the client are the same version"
        case .invalidURL(let url):
            return "\(url) is not a usable server URL; give one like http://127.0.0.1:8080"
        }
    }

    static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(format1: seconds)
    }
}

extension String {
    /// One decimal place, without Foundation's locale machinery.
    init(format1 value: Double) {
        let tenths = Int((value * 10).rounded())
        self = "\(tenths / 10).\(abs(tenths % 10))"
    }
}
