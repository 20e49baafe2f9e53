/// One element of a parsed XML document, namespaces resolved.
///
/// A small immutable tree (not Foundation's XMLDocument, which is not on every Linux
/// toolchain and expands entities): what the XForm and submission readers walk.
public struct ODKXMLElement: Sendable, Hashable {
    /// One attribute; `namespace` is "" for an unprefixed one (XML Namespaces §6.2).
    public struct Attribute: Sendable, Hashable {
        public var namespace: String
        public var name: String
        public var value: String
    }

    /// The namespace URI ("" for none).
    public var namespace: String
    /// The local name (without prefix).
    public var name: String
    public var attributes: [Attribute]
    public var children: [ODKXMLElement]
    /// The element's own character data (CDATA included), concatenated; not its children's.
    public var text: String
    /// The line the start tag is on (1-based), for error messages.
    public var line: Int

    /// The value of the attribute `name` in `namespace` ("" for an unprefixed one).
    public func attribute(_ name: String, namespace: String = "") -> String? {
        attributes.first { $0.name == name && $0.namespace == namespace }?.value
    }

    /// Child elements named `name` in `namespace`.
    public func children(_ name: String, namespace: String) -> [ODKXMLElement] {
        children.filter { $0.name == name && $0.namespace == namespace }
    }

    /// The first child element named `name` in `namespace`.
    public func child(_ name: String, namespace: String) -> ODKXMLElement? {
        children.first { $0.name == name && $0.namespace == namespace }
    }

    /// The text of this element and all its descendants, in document order.
    public var allText: String {
        children.isEmpty ? text : text + children.map(\.allText).joined()
    }
}

/// Namespace URIs of the documents ODK clients exchange.
public enum ODKNamespace {
    public static let xforms = "http://www.w3.org/2002/xforms"
    public static let xhtml = "http://www.w3.org/1999/xhtml"
    public static let javarosa = "http://openrosa.org/javarosa"
    public static let openrosaXForms = "http://openrosa.org/xforms"
    public static let odk = "http://www.opendatakit.org/xforms"
    public static let entities = "http://www.opendatakit.org/xforms/entities"
    public static let formList = "http://openrosa.org/xforms/xformsList"
    public static let manifest = "http://openrosa.org/xforms/xformsManifest"
    public static let openRosaResponse = "http://openrosa.org/http/response"
    static let xml = "http://www.w3.org/XML/1998/namespace"
}
