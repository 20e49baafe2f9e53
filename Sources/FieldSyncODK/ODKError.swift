/// Why an ODK document (XForm, submission, multipart body) was refused, and where.
///
/// Every parser of this module throws only this type, so a route can answer a clear 4xx
/// (`httpStatus`) with `code` and `location` without inspecting messages.
public struct ODKError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Stable, snake_case: routes put it in the error body's `code`.
    public enum Code: String, Sendable, Hashable {
        /// Not well-formed XML (what is wrong in `message`, the line in `location`).
        case malformedXML = "malformed_xml"
        /// A DTD, entity or notation declaration: refused before any expansion (XML bombs, external entities).
        case xmlDeclarationForbidden = "xml_dtd_forbidden"
        /// Larger than the limit (bytes, elements, parts).
        case tooLarge = "too_large"
        /// Nested deeper than the limit.
        case tooDeep = "xml_too_deep"
        /// An XForm that breaks the XForms/ODK spec (no instance id, a bind to no node, ...).
        case invalidXForm = "invalid_xform"
        /// A valid XForm using something FieldSync does not support (question type, feature).
        case unsupportedXForm = "unsupported_xform"
        /// An encrypted form (`<submission base64RsaPublicKey>`): FieldSync must read answers.
        case encryptedForm = "encrypted_form"
        /// A submission that is not an instance of the form (root, id, version, instanceID).
        case invalidSubmission = "invalid_submission"
        /// An answer that fails its question's type, choices or `required`.
        case invalidField = "invalid_field"
        /// A `multipart/form-data` body that does not follow RFC 7578.
        case invalidMultipart = "invalid_multipart"
    }

    public var code: Code
    public var message: String
    /// Where: a path in the document (`/data/dwelling/rooms`, `meta/entity@baseVersion`),
    /// a line (`line 12`) or a part (`part 2`); nil when the whole input is at fault.
    public var location: String?

    public init(_ code: Code, _ message: String, at location: String? = nil) {
        self.code = code
        self.message = message
        self.location = location
    }

    /// The HTTP status a route answers: 413 for size, else 422 for a well-formed but
    /// unacceptable document, 400 for one that does not parse.
    public var httpStatus: Int {
        switch code {
        case .tooLarge: return 413
        case .malformedXML, .xmlDeclarationForbidden, .tooDeep, .invalidMultipart: return 400
        case .invalidXForm, .unsupportedXForm, .encryptedForm, .invalidSubmission, .invalidField: return 422
        }
    }

    public var description: String {
        if let location { return "\(code.rawValue) at \(location): \(message)" }
        return "\(code.rawValue): \(message)"
    }
}
