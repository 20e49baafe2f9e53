/// Parses XML from untrusted clients into an `ODKXMLElement` tree, safely.
///
/// `XMLByteParser` does the parsing, in Swift over the bytes (no Foundation, no libxml2:
/// FoundationXML's XMLParser leaked memory on every malformed document). It refuses what
/// makes XML dangerous or ambiguous: any `<!DOCTYPE`/`<!ENTITY` (so no entity can be
/// declared, hence none expanded: no billion laughs, no external entity, no external DTD),
/// a declared encoding other than UTF-8, a UTF-16 byte-order mark, invalid UTF-8, and
/// inputs over `maxXMLBytes`, depths over `maxDepth`, more elements than `maxElements`
/// and more attributes on one element than `maxAttributes`. Namespaces are resolved,
/// prefixes of attributes included.
public enum ODKXMLReader {
    /// The document's root element.
    public static func parse(_ bytes: [UInt8], limits: ODKLimits = .default) throws(ODKError) -> ODKXMLElement {
        try XMLByteParser.parse(bytes, limits: limits)
    }
}
