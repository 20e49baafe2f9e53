import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Parses XML from untrusted clients into an `ODKXMLElement` tree, safely.
///
/// libxml2 (through Foundation's `XMLParser`) does the parsing. Before it sees a byte,
/// `prescan` refuses what makes XML dangerous or ambiguous: any `<!DOCTYPE`/`<!ENTITY`
/// (so no internal entity can be declared, hence none expanded: no billion laughs, no
/// external entity, no external DTD), a declared encoding other than UTF-8, a byte-order
/// mark of UTF-16/32, invalid UTF-8, and inputs over `maxXMLBytes`. The delegate also
/// aborts on any declaration libxml2 reports (defence in depth) and on depth, element or
/// attribute counts over the limits. Namespaces are resolved here, prefixes of attributes
/// included (Foundation leaves those unresolved).
public enum ODKXMLReader {
    /// The document's root element.
    public static func parse(_ bytes: [UInt8], limits: ODKLimits = .default) throws(ODKError) -> ODKXMLElement {
        try prescan(bytes, limits: limits)
        let delegate = TreeBuilder(limits: limits)
        let parser = XMLParser(data: Data(bytes))
        parser.shouldProcessNamespaces = false
        parser.shouldReportNamespacePrefixes = false
        parser.shouldResolveExternalEntities = false
        parser.delegate = delegate
        let ok = parser.parse()
        if let failure = delegate.failure { throw failure }
        // parse() answers true for a document with content after its root element, but sets
        // parserError (libxml2's "Extra content at the end of the document").
        guard ok, parser.parserError == nil, let root = delegate.root else {
            let line = parser.lineNumber
            let reason = parser.parserError.map { String(describing: $0) } ?? "not well-formed"
            throw ODKError(.malformedXML, "the XML is not well-formed (\(reason))", at: "line \(line)")
        }
        return root
    }

    /// The lexical checks run before the parser: size, encoding, and no markup declaration.
    static func prescan(_ b: [UInt8], limits: ODKLimits) throws(ODKError) {
        guard b.count <= limits.maxXMLBytes else {
            throw ODKError(.tooLarge, "the XML is \(b.count) bytes, more than the limit of \(limits.maxXMLBytes)")
        }
        guard !b.isEmpty else { throw ODKError(.malformedXML, "the XML is empty") }
        if b.count >= 2, (b[0] == 0xFE && b[1] == 0xFF) || (b[0] == 0xFF && b[1] == 0xFE) {
            throw ODKError(.malformedXML, "the XML must be UTF-8, this one starts with a UTF-16 byte-order mark")
        }
        guard String(validating: b, as: UTF8.self) != nil else {
            throw ODKError(.malformedXML, "the XML is not valid UTF-8")
        }
        var i = 0
        let n = b.count
        // A UTF-8 byte-order mark is allowed.
        if n >= 3, b[0] == 0xEF, b[1] == 0xBB, b[2] == 0xBF { i = 3 }
        func starts(_ s: StaticString, at k: Int) -> Bool {
            let len = s.utf8CodeUnitCount
            guard k >= 0, len <= n - k else { return false }
            return s.withUTF8Buffer { p in
                for j in 0..<len where b[k + j] != p[j] { return false }
                return true
            }
        }
        func find(_ s: StaticString, from k: Int) -> Int? {
            var j = k
            while j < n {
                if starts(s, at: j) { return j }
                j += 1
            }
            return nil
        }
        func line(_ k: Int) -> String { "line \(1 + b[..<min(k, n)].lazy.filter { $0 == 0x0A }.count)" }
        if starts("<?xml", at: i), i + 5 < n, [0x20, 0x09, 0x0A, 0x0D].contains(b[i + 5]) {
            guard let end = find("?>", from: i) else { throw ODKError(.malformedXML, "the XML declaration is not closed", at: "line 1") }
            let decl = String(decoding: b[i..<end], as: UTF8.self)
            if let encoding = declaredEncoding(decl), !["utf-8", "utf8", "us-ascii", "ascii"].contains(encoding.lowercased()) {
                throw ODKError(.malformedXML, "the XML declares encoding \"\(encoding)\"; only UTF-8 is accepted", at: "line 1")
            }
            i = end + 2
        }
        while i < n {
            guard b[i] == 0x3C else { i += 1; continue }  // <
            if starts("<!--", at: i) {
                guard let end = find("-->", from: i + 4) else { throw ODKError(.malformedXML, "a comment is not closed", at: line(i)) }
                i = end + 3
            } else if starts("<![CDATA[", at: i) {
                guard let end = find("]]>", from: i + 9) else { throw ODKError(.malformedXML, "a CDATA section is not closed", at: line(i)) }
                i = end + 3
            } else if starts("<!", at: i) {
                throw ODKError(.xmlDeclarationForbidden,
                               "DTDs and entity declarations (<!DOCTYPE, <!ENTITY) are refused: ODK documents never need them, and they allow XML bombs and external entities",
                               at: line(i))
            } else if starts("<?", at: i) {
                guard let end = find("?>", from: i + 2) else { throw ODKError(.malformedXML, "a processing instruction is not closed", at: line(i)) }
                i = end + 2
            } else {
                i += 1
            }
        }
    }

    /// The `encoding="…"` pseudo-attribute of an XML declaration.
    static func declaredEncoding(_ decl: String) -> String? {
        guard let r = decl.range(of: "encoding") else { return nil }
        var rest = decl[r.upperBound...].drop { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard rest.first == "=" else { return nil }
        rest = rest.dropFirst().drop { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let quote = rest.first, quote == "\"" || quote == "'" else { return nil }
        return String(rest.dropFirst().prefix { $0 != quote })
    }
}

/// The `XMLParser` delegate that builds the tree, resolving namespaces and holding limits.
private final class TreeBuilder: NSObject, XMLParserDelegate {
    struct Open {
        var element: ODKXMLElement
        var qualifiedName: String
        var namespaces: [String: String]
    }

    let limits: ODKLimits
    var stack: [Open] = []
    var root: ODKXMLElement?
    var failure: ODKError?
    var elements = 0

    init(limits: ODKLimits) { self.limits = limits }

    func fail(_ parser: XMLParser, _ error: ODKError) {
        if failure == nil { failure = error }
        parser.abortParsing()
    }

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]) {
        guard failure == nil else { return }
        let line = parser.lineNumber
        guard stack.isEmpty == false || root == nil else {
            return fail(parser, ODKError(.malformedXML, "a second root element <\(elementName)>: a document has one", at: "line \(line)"))
        }
        elements += 1
        guard elements <= limits.maxElements else {
            return fail(parser, ODKError(.tooLarge, "more than \(limits.maxElements) elements", at: "line \(line)"))
        }
        guard stack.count < limits.maxDepth else {
            return fail(parser, ODKError(.tooDeep, "elements nested deeper than \(limits.maxDepth)", at: "line \(line)"))
        }
        guard attributeDict.count <= limits.maxAttributes else {
            return fail(parser, ODKError(.tooLarge, "<\(elementName)> has more than \(limits.maxAttributes) attributes", at: "line \(line)"))
        }
        var namespaces = stack.last?.namespaces ?? ["xml": ODKNamespace.xml]
        for (key, value) in attributeDict {
            if key == "xmlns" {
                namespaces[""] = value
            } else if key.hasPrefix("xmlns:") {
                let prefix = String(key.dropFirst(6))
                guard !value.isEmpty else {
                    return fail(parser, ODKError(.malformedXML, "the prefix \"\(prefix)\" is bound to an empty namespace", at: "line \(line)"))
                }
                namespaces[prefix] = value
            }
        }
        let (prefix, local) = Self.split(elementName)
        let ns: String
        if let prefix {
            guard let resolved = namespaces[prefix] else {
                return fail(parser, ODKError(.malformedXML, "the prefix \"\(prefix)\" of <\(elementName)> is not declared", at: "line \(line)"))
            }
            ns = resolved
        } else {
            ns = namespaces[""] ?? ""
        }
        var attributes: [ODKXMLElement.Attribute] = []
        for key in attributeDict.keys.sorted() where key != "xmlns" && !key.hasPrefix("xmlns:") {
            let (p, name) = Self.split(key)
            var attributeNamespace = ""
            if let p {
                guard let resolved = namespaces[p] else {
                    return fail(parser, ODKError(.malformedXML, "the prefix \"\(p)\" of attribute \(key) is not declared", at: "line \(line)"))
                }
                attributeNamespace = resolved
            }
            attributes.append(.init(namespace: attributeNamespace, name: name, value: attributeDict[key] ?? ""))
        }
        let element = ODKXMLElement(namespace: ns, name: local, attributes: attributes, children: [], text: "", line: line)
        stack.append(Open(element: element, qualifiedName: elementName, namespaces: namespaces))
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?) {
        guard failure == nil, let done = stack.popLast() else { return }
        if stack.isEmpty {
            root = done.element
        } else {
            stack[stack.count - 1].element.children.append(done.element)
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard failure == nil, !stack.isEmpty else { return }
        stack[stack.count - 1].element.text += string
    }

    func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
        guard failure == nil, !stack.isEmpty else { return }
        guard let s = String(data: CDATABlock, encoding: .utf8) else {
            return fail(parser, ODKError(.malformedXML, "a CDATA section is not UTF-8", at: "line \(parser.lineNumber)"))
        }
        stack[stack.count - 1].element.text += s
    }

    // Any declaration at all is refused (prescan already refuses `<!`; this is a second wall).
    func declaration(_ parser: XMLParser, _ what: String) {
        fail(parser, ODKError(.xmlDeclarationForbidden, "\(what) declarations are refused", at: "line \(parser.lineNumber)"))
    }

    func parser(_ parser: XMLParser, foundNotationDeclarationWithName name: String, publicID: String?, systemID: String?) { declaration(parser, "notation") }
    func parser(_ parser: XMLParser, foundUnparsedEntityDeclarationWithName name: String, publicID: String?, systemID: String?, notationName: String?) { declaration(parser, "entity") }
    func parser(_ parser: XMLParser, foundAttributeDeclarationWithName attributeName: String, forElement elementName: String, type: String?, defaultValue: String?) { declaration(parser, "attribute list") }
    func parser(_ parser: XMLParser, foundElementDeclarationWithName elementName: String, model: String) { declaration(parser, "element") }
    func parser(_ parser: XMLParser, foundInternalEntityDeclarationWithName name: String, value: String?) { declaration(parser, "entity") }
    func parser(_ parser: XMLParser, foundExternalEntityDeclarationWithName name: String, publicID: String?, systemID: String?) { declaration(parser, "external entity") }
    func parser(_ parser: XMLParser, resolveExternalEntityName name: String, systemID: String?) -> Data? {
        // Reached for a reference to an entity nobody declared (declarations never get here).
        fail(parser, ODKError(.malformedXML, "the entity reference &\(name.prefix(40)); is not declared: only &amp; &lt; &gt; &quot; &apos; and character references are allowed",
                              at: "line \(parser.lineNumber)"))
        return nil
    }

    static func split(_ qualified: String) -> (String?, String) {
        guard let colon = qualified.firstIndex(of: ":") else { return (nil, qualified) }
        return (String(qualified[..<colon]), String(qualified[qualified.index(after: colon)...]))
    }
}
