/// Bounds every parser of this module holds its input to, so hostile input costs at most
/// this much memory and time. Defaults fit real XForms and Collect submissions with room.
public struct ODKLimits: Sendable, Hashable {
    /// Largest XML document, in bytes.
    public var maxXMLBytes: Int
    /// Deepest element nesting (the root is depth 1).
    public var maxDepth: Int
    /// Most elements in one document.
    public var maxElements: Int
    /// Most attributes on one element.
    public var maxAttributes: Int
    /// Largest `multipart/form-data` body, in bytes.
    public var maxMultipartBytes: Int
    /// Most parts in one body.
    public var maxParts: Int
    /// Largest header block of one part, in bytes.
    public var maxPartHeaderBytes: Int

    public init(
        maxXMLBytes: Int = 10 << 20, maxDepth: Int = 64, maxElements: Int = 200_000,
        maxAttributes: Int = 64, maxMultipartBytes: Int = 100 << 20, maxParts: Int = 1000,
        maxPartHeaderBytes: Int = 8192
    ) {
        self.maxXMLBytes = maxXMLBytes
        self.maxDepth = maxDepth
        self.maxElements = maxElements
        self.maxAttributes = maxAttributes
        self.maxMultipartBytes = maxMultipartBytes
        self.maxParts = maxParts
        self.maxPartHeaderBytes = maxPartHeaderBytes
    }

    public static let `default` = ODKLimits()
}
