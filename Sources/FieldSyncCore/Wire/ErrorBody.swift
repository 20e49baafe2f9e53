/// A problem with one item or one request, in the protocol's error shape:
/// `{"code": "snake_case_code", "message": "human sentence", "field": "items[3].location"}`.
public struct ItemError: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    public var code: String
    public var message: String
    public var field: String?

    public init(code: String, message: String, field: String? = nil) {
        self.code = code
        self.message = message
        self.field = field
    }

    public var description: String {
        field.map { "\(code) (\($0)): \(message)" } ?? "\(code): \(message)"
    }

    /// As a JSON object.
    public var json: JSONValue {
        var o: [String: JSONValue] = ["code": .string(code), "message": .string(message)]
        if let field { o["field"] = .string(field) }
        return .object(o)
    }

    /// Reads the protocol's error object.
    public init?(json: JSONValue) {
        guard let code = json["code"]?.stringValue, let message = json["message"]?.stringValue else { return nil }
        self.init(code: code, message: message, field: json["field"]?.stringValue)
    }

    /// `invalid_field`: a value of the wrong type or out of range.
    public static func invalidField(_ field: String, _ message: String) -> ItemError {
        ItemError(code: ErrorCode.invalidField, message: message, field: field)
    }

    /// `invalid_request`: a required member is missing or the envelope is malformed.
    public static func invalidRequest(_ message: String, field: String? = nil) -> ItemError {
        ItemError(code: ErrorCode.invalidRequest, message: message, field: field)
    }
}

/// The error codes the protocol names, plus the ones this project added (see openapi.yaml).
public enum ErrorCode {
    public static let invalidJSON = "invalid_json"
    public static let invalidRequest = "invalid_request"
    public static let invalidField = "invalid_field"
    public static let invalidGeometry = "invalid_geometry"
    public static let unknownReference = "unknown_reference"
    public static let forbiddenReference = "forbidden_reference"
    public static let immutableField = "immutable_field"
    public static let outOfOrder = "out_of_order"
    public static let invalidVersion = "invalid_version"
    public static let digestMismatch = "digest_mismatch"
    public static let tooLarge = "too_large"
    public static let unauthorized = "unauthorized"
    public static let forbidden = "forbidden"
    public static let notFound = "not_found"
    public static let rateLimited = "rate_limited"
    public static let unavailable = "unavailable"
    public static let alreadyExists = "already_exists"
    public static let invalidParent = "invalid_parent"
    public static let batchIdTaken = "batch_id_taken"
    public static let batchInProgress = "batch_in_progress"
    public static let alreadyReviewed = "already_reviewed"
    public static let methodNotAllowed = "method_not_allowed"
    public static let internalError = "internal_error"
}
