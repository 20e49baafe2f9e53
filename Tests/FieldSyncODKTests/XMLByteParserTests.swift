import Foundation
import Testing

@testable import FieldSyncODK

#if canImport(Glibc)
    import Glibc
#endif

/// The XML 1.0 parser of the XML reader: what it refuses (with which error and line), the
/// exact trees it builds, and that refusing costs no memory.
@Suite struct XMLByteParserTests {
    static func parse(_ xml: String, limits: ODKLimits = .default) throws(ODKError) -> ODKXMLElement {
        try XMLByteParser.parse(Array(xml.utf8), limits: limits)
    }

    static func el(
        _ namespace: String, _ name: String, _ attributes: [(String, String, String)] = [], text: String = "",
        line: Int = 1, _ children: [ODKXMLElement] = []
    ) -> ODKXMLElement {
        ODKXMLElement(
            namespace: namespace, name: name,
            attributes: attributes.map { .init(namespace: $0.0, name: $0.1, value: $0.2) },
            children: children, text: text, line: line)
    }

    struct Bad: Sendable, CustomTestStringConvertible {
        var what: String
        var bytes: [UInt8]
        var code: ODKError.Code
        var limits: ODKLimits = .default
        var testDescription: String { what }

        init(_ what: String, _ xml: String, _ code: ODKError.Code = .malformedXML, limits: ODKLimits = .default) {
            self.what = what
            bytes = Array(xml.utf8)
            self.code = code
            self.limits = limits
        }

        init(_ what: String, bytes: [UInt8], _ code: ODKError.Code = .malformedXML) {
            self.what = what
            self.bytes = bytes
            self.code = code
        }
    }

    static let bad: [Bad] = [
        Bad("empty", ""),
        Bad("only white space", " \n\t "),
        Bad("text only", "text only"),
        Bad("unclosed start tag", "<data"),
        Bad("unclosed start tag with attribute", "<data x='1'"),
        Bad("unclosed element", "<data>"),
        Bad("unclosed nested element", "<data><a><b/></a>"),
        Bad("mismatched end tag", "<data></datum>"),
        Bad("crossed end tags", "<a><b></a></b>"),
        Bad("end tag with attribute", "<a></a x='1'>"),
        Bad("end tag outside the root", "</a>"),
        Bad("two roots", "<data/><second/>"),
        Bad("two roots with content", "<a>x</a>\n<b>y</b>"),
        Bad("text after root", "<data/>x"),
        Bad("text before root", "x<data/>"),
        Bad("reference after root", "<data/>&amp;"),
        Bad("CDATA outside root", "<![CDATA[x]]><a/>"),
        Bad("char ref NUL", "<a>&#0;</a>"),
        Bad("char ref NUL in hex", "<a>&#x0000;</a>"),
        Bad("char ref surrogate", "<a>&#xD800;</a>"),
        Bad("char ref low surrogate", "<a>&#57343;</a>"),
        Bad("char ref with 20 digits", "<a>&#99999999999999999999;</a>"),
        Bad("char ref with 200 hex digits", "<a>&#x" + String(repeating: "F", count: 200) + ";</a>"),
        Bad("char ref past U+10FFFF", "<a>&#x110000;</a>"),
        Bad("char ref U+FFFE", "<a>&#xFFFE;</a>"),
        Bad("char ref control character", "<a>&#1;</a>"),
        Bad("char ref without digits", "<a>&#;</a>"),
        Bad("hex char ref without digits", "<a>&#x;</a>"),
        Bad("char ref not closed", "<a>&#65</a>"),
        Bad("char ref with a bad digit", "<a>&#x41g;</a>"),
        Bad("char ref upper-case X", "<a>&#X41;</a>"),
        Bad("bad char ref in attribute", "<a x='&#0;'/>"),
        Bad("undefined entity", "<data>&lol;</data>"),
        Bad("undefined HTML entity", "<data>&nbsp;</data>"),
        Bad("undefined entity in attribute", "<data x='&lol;'/>"),
        Bad("entity reference not closed", "<data>&amp</data>"),
        Bad("bare ampersand", "<data>a & b</data>"),
        Bad("bare ampersand in attribute", "<data x='a&b'/>"),
        Bad("duplicate attribute", "<data x='1' x='2'/>"),
        Bad("duplicate attribute by namespace", "<data xmlns:p='urn:u' xmlns:q='urn:u' p:x='1' q:x='2'/>"),
        Bad("duplicate namespace declaration", "<data xmlns:p='urn:u' xmlns:p='urn:v'/>"),
        Bad("unquoted attribute", "<data x=1/>"),
        Bad("attribute without value", "<data x/>"),
        Bad("attributes without space between", "<data x='1'y='2'/>"),
        Bad("< in attribute", "<data x='a<b'/>"),
        Bad("attribute value not closed", "<data x='1/>"),
        Bad("undeclared element prefix", "<p:data xmlns:q='urn:q'/>"),
        Bad("undeclared attribute prefix", "<data p:x='1'/>"),
        Bad("prefix bound to nothing", "<p:data xmlns:p=''/>"),
        Bad("xmlns prefix bound", "<data xmlns:xmlns='urn:x'/>"),
        Bad("xml prefix rebound", "<data xmlns:xml='urn:x'/>"),
        Bad("name starting with a digit", "<1data/>"),
        Bad("name starting with a dash", "<-data/>"),
        Bad("name with two colons", "<a:b:c xmlns:a='urn:a'/>"),
        Bad("name ending with a colon", "<a: xmlns:a='urn:a'/>"),
        Bad("name starting with a colon", "<:a/>"),
        Bad("space after <", "< data/>"),
        Bad("NUL byte", "<data>\u{0}</data>"),
        Bad("NUL byte in a comment", "<data><!-- \u{0} --></data>"),
        Bad("control character", "<data>\u{1}</data>"),
        Bad("control character in attribute", "<data x='\u{1B}'/>"),
        Bad("U+FFFF", "<data>\u{FFFF}</data>"),
        Bad("invalid UTF-8", bytes: [0x3C, 0x61, 0xFF, 0x2F, 0x3E]),
        Bad("truncated UTF-8", bytes: Array("<a>".utf8) + [0xC3]),
        Bad("broken UTF-8 sequence", bytes: Array("<a>".utf8) + [0xE2, 0x28, 0xA1] + Array("</a>".utf8)),
        Bad("overlong UTF-8", bytes: Array("<a>".utf8) + [0xC0, 0xAF] + Array("</a>".utf8)),
        Bad("UTF-8 encoded surrogate", bytes: Array("<a>".utf8) + [0xED, 0xA0, 0x80] + Array("</a>".utf8)),
        Bad("UTF-8 past U+10FFFF", bytes: Array("<a>".utf8) + [0xF4, 0x90, 0x80, 0x80] + Array("</a>".utf8)),
        Bad("UTF-16 little-endian BOM", bytes: [0xFF, 0xFE, 0x3C, 0x00, 0x61, 0x00, 0x2F, 0x00, 0x3E, 0x00]),
        Bad("UTF-16 big-endian BOM", bytes: [0xFE, 0xFF, 0x00, 0x3C, 0x00, 0x61, 0x00, 0x2F, 0x00, 0x3E]),
        Bad("UTF-16 without BOM", bytes: [0x3C, 0x00, 0x61, 0x00, 0x2F, 0x00, 0x3E, 0x00]),
        Bad("declared Latin-1", #"<?xml version="1.0" encoding="ISO-8859-1"?><a/>"#),
        Bad("declared UTF-16", #"<?xml version="1.0" encoding="UTF-16"?><a/>"#),
        Bad("XML declaration without version", #"<?xml encoding="UTF-8"?><a/>"#),
        Bad("XML declaration of version 2.0", #"<?xml version="2.0"?><a/>"#),
        Bad("XML declaration out of order", #"<?xml encoding="UTF-8" version="1.0"?><a/>"#),
        Bad("XML declaration with a bad standalone", #"<?xml version="1.0" standalone="maybe"?><a/>"#),
        Bad("XML declaration not closed", #"<?xml version="1.0"<a/>"#),
        Bad("XML declaration not first", #" <?xml version="1.0"?><a/>"#),
        Bad("XML declaration inside", #"<a><?xml version="1.0"?></a>"#),
        Bad("processing instruction named XML", "<a><?XmL x?></a>"),
        Bad("processing instruction not closed", "<a><?pi x</a>"),
        Bad("processing instruction without a target", "<a><? x?></a>"),
        Bad("-- in a comment", "<a><!-- a -- b --></a>"),
        Bad("comment ending with --->", "<a><!-- a ---></a>"),
        Bad("comment not closed", "<a><!-- a </a>"),
        Bad("CDATA not closed", "<a><![CDATA[ x </a>"),
        Bad("]]> in text", "<a>x]]>y</a>"),
        Bad("DOCTYPE", #"<!DOCTYPE data SYSTEM "http://127.0.0.1:9/evil.dtd"><data/>"#, .xmlDeclarationForbidden),
        Bad("DOCTYPE after a comment", #"<?xml version="1.0"?><!-- fine --><!DOCTYPE data><data/>"#, .xmlDeclarationForbidden),
        Bad("ENTITY", #"<!ENTITY x "y"><data/>"#, .xmlDeclarationForbidden),
        Bad("ELEMENT inside the root", "<data><!ELEMENT x ANY></data>", .xmlDeclarationForbidden),
        Bad("DOCTYPE after the root", "<data/><!DOCTYPE data>", .xmlDeclarationForbidden),
        Bad("lower-case doctype", "<!doctype data><data/>", .xmlDeclarationForbidden),
        Bad("billion laughs", HostileXMLTests.billionLaughs, .xmlDeclarationForbidden),
        Bad("external entity", HostileXMLTests.externalEntity, .xmlDeclarationForbidden),
        Bad("deep nesting over the limit", String(repeating: "<a>", count: 65) + String(repeating: "</a>", count: 65), .tooDeep),
        Bad("deep nesting, never closed", String(repeating: "<a>", count: 100_000), .tooDeep),
        Bad("deep nesting over a lower limit", "<a><b><c/></b></a>", .tooDeep, limits: ODKLimits(maxDepth: 2)),
        Bad("too many attributes", "<r " + (0..<65).map { "a\($0)='1'" }.joined(separator: " ") + "/>", .tooLarge),
        Bad(
            "too many attributes, namespace declarations included",
            "<r " + (0..<3).map { "xmlns:p\($0)='urn:\($0)'" }.joined(separator: " ") + " a='1'/>", .tooLarge,
            limits: ODKLimits(maxAttributes: 3)),
        Bad("too many elements", "<r>" + String(repeating: "<a/>", count: 100) + "</r>", .tooLarge, limits: ODKLimits(maxElements: 100)),
        Bad("too many bytes", "<r>" + String(repeating: "x", count: 4096) + "</r>", .tooLarge, limits: ODKLimits(maxXMLBytes: 4096)),
    ]

    @Test(arguments: bad)
    func malformedDocumentIsRefused(_ doc: Bad) {
        do {
            let root = try XMLByteParser.parse(doc.bytes, limits: doc.limits)
            Issue.record("\(doc.what): parsed as <\(root.name)>")
        } catch {
            #expect(error.code == doc.code, "\(doc.what): \(error)")
            #expect(error.message.isEmpty == false)
            // Where, except for what concerns the whole input.
            if doc.bytes.isEmpty == false, doc.what != "too many bytes" {
                #expect(error.location?.hasPrefix("line ") == true, "\(doc.what): \(error)")
            }
        }
    }

    @Test func errorsNameTheLineAndTheProblem() {
        func refusal(_ xml: String) -> ODKError? { odkError { _ = try Self.parse(xml) } }
        let mismatch = refusal("<a>\n\n<b>\n</c></a>")
        #expect(mismatch?.location == "line 4")
        #expect(mismatch?.message.contains("</c>") == true && mismatch?.message.contains("<b>") == true)
        let unclosed = refusal("<a>\r\n<b>\r\n</b>\r\n")
        #expect(unclosed?.location == "line 4")
        #expect(unclosed?.message.contains("<a>") == true)
        let entity = refusal("<a>\n<b>&lol;</b></a>")
        #expect(entity?.location == "line 2")
        #expect(entity?.message.contains("&lol;") == true)
        let charRef = refusal("<a>\r<b>\r&#99999999999999999999;</b></a>")
        #expect(charRef?.location == "line 3")
        #expect(charRef?.message.contains("U+10FFFF") == true)
        let surrogate = refusal("<a>&#xD800;</a>")
        #expect(surrogate?.message.contains("surrogate") == true)
        let nul = refusal("<a>\n\n\u{0}</a>")
        #expect(nul?.location == "line 3")
        #expect(nul?.message.contains("NUL") == true)
        let utf8 = odkError { _ = try XMLByteParser.parse(Array("<a>\nx\n".utf8) + [0xFF] + Array("</a>".utf8), limits: .default) }
        #expect(utf8?.location == "line 3")
        #expect(utf8?.message.contains("UTF-8") == true)
        let latin = refusal(#"<?xml version="1.0" encoding="ISO-8859-1"?><a/>"#)
        #expect(latin?.message.contains("ISO-8859-1") == true)
        let doctype = refusal("<?xml version=\"1.0\"?>\n<!DOCTYPE a>\n<a/>")
        #expect(doctype?.code == .xmlDeclarationForbidden)
        #expect(doctype?.location == "line 2")
        let duplicate = refusal("<a\n x='1'\n x='2'/>")
        #expect(duplicate?.location == "line 3")
        #expect(duplicate?.message.contains("twice") == true)
        let second = refusal("<a/>\n<b/>")
        #expect(second?.message.contains("<b>") == true)
        #expect(second?.location == "line 2")
    }

    @Test func namespacesDefaultAndPrefixed() throws {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <h:html xmlns="urn:d" xmlns:h="urn:h" xmlns:jr='urn:jr'>
              <h:head jr:b="1" a="2" xml:lang="en"><model/></h:head>
              <body xmlns=""><x/><h:y xmlns:h="urn:h2" h:z="3"/></body>
            </h:html>
            """
        let expected = Self.el(
            "urn:h", "html", text: "\n  \n  \n", line: 2,
            [
                Self.el(
                    "urn:h", "head", [("", "a", "2"), ("urn:jr", "b", "1"), (ODKNamespace.xml, "lang", "en")], line: 3,
                    [
                        Self.el("urn:d", "model", line: 3)
                    ]),
                Self.el(
                    "", "body", line: 4,
                    [
                        Self.el("", "x", line: 4),
                        Self.el("urn:h2", "y", [("urn:h2", "z", "3")], line: 4),
                    ]),
            ])
        #expect(try Self.parse(xml) == expected)
    }

    @Test func textCDATAEntitiesAndCharacterReferences() throws {
        let xml = #"<r>a&amp;b&lt;&gt;&quot;&apos;<![CDATA[<x>&amp;]]]]>&#65;&#x42;&#x1f600;&#233;&#x9;&#0000000000000000000066;] ]]&gt;></r>"#
        #expect(try Self.parse(xml) == Self.el("", "r", text: "a&b<>\"'<x>&amp;]]AB\u{1F600}\u{E9}\tB] ]]>>"))
        // Text around children is the element's own, concatenated; children keep theirs.
        let mixed = try Self.parse("<r>one<c>two</c>three<![CDATA[]]><c/>four</r>")
        #expect(mixed == Self.el("", "r", text: "onethreefour", [Self.el("", "c", text: "two"), Self.el("", "c")]))
    }

    @Test func commentsAndProcessingInstructionsAreSkipped() throws {
        let xml =
            "<?xml version='1.0' standalone='yes'?>\n<!-- before --><?pi data?><?x?>\n<r><!-- in --><?y z?>t<!---->u<?z?></r>\n<!-- after - -->\n<?after?>\n"
        #expect(try Self.parse(xml) == Self.el("", "r", text: "tu", line: 3))
        // Foundation's XMLParser crashed (a NULL strlen) on a processing instruction without data.
        #expect(try Self.parse("<?x?><r/>") == Self.el("", "r"))
    }

    @Test func whiteSpaceTextAndLineEnds() throws {
        #expect(try Self.parse("<r>\r\n a\rb\n\t</r>") == Self.el("", "r", text: "\n a\nb\n\t"))
        #expect(try Self.parse("<r>  </r>") == Self.el("", "r", text: "  "))
        // Line ends given as references stay as they are.
        #expect(try Self.parse("<r>&#13;&#10;<![CDATA[\r\n]]></r>") == Self.el("", "r", text: "\r\n\n"))
        let lines = try Self.parse("<r>\n<a/>\r\n\r<b\n x='1'/></r>")
        #expect(lines.children.map(\.line) == [2, 4])
    }

    @Test func attributeValuesAreNormalised() throws {
        let xml = "<r d='\"' c=\"&lt;&quot;'\" b='&#9;&#10;&#13;' a=\"x\ty\nz\r\nw\rv\" e='' />"
        let expected = Self.el("", "r", [("", "a", "x y z w v"), ("", "b", "\t\n\r"), ("", "c", "<\"'"), ("", "d", "\""), ("", "e", "")])
        #expect(try Self.parse(xml) == expected)
    }

    @Test func byteOrderMarkNamesAndTagSpacing() throws {
        #expect(try XMLByteParser.parse([0xEF, 0xBB, 0xBF] + Array("<r/>".utf8), limits: .default) == Self.el("", "r"))
        #expect(
            try Self.parse("<données élément='é' _x.y-z·1='2'>ü</données>")
                == Self.el("", "données", [("", "_x.y-z·1", "2"), ("", "élément", "é")], text: "ü"))
        #expect(try Self.parse("<a\n x = '1'\t/>") == Self.el("", "a", [("", "x", "1")]))
        #expect(try Self.parse("<a ></a \n>") == Self.el("", "a"))
        #expect(try Self.parse("<?xml version=\"1.1\"?><a/>") == Self.el("", "a"))
        #expect(try Self.parse("<?xml version='1.0' encoding='utf8'?><a/>") == Self.el("", "a"))
        // The limits themselves are allowed.
        let deep = String(repeating: "<a>", count: 64) + String(repeating: "</a>", count: 64)
        #expect((try? Self.parse(deep)) != nil)
        let attributes = "<r " + (0..<64).map { "a\($0)='1'" }.joined(separator: " ") + "/>"
        #expect(try Self.parse(attributes).attributes.count == 64)
        #expect((try? Self.parse("<r>" + String(repeating: "<a/>", count: 99) + "</r>", limits: ODKLimits(maxElements: 100))) != nil)
    }

    /// Well-formed documents the XMLParser-based reader refused because libxml2 warned (and
    /// one it altered): namespace names are compared as strings, not checked as URIs.
    @Test func whatLibxml2OnlyWarnedAboutIsAccepted() throws {
        #expect(try Self.parse("<r xmlns='d'/>") == Self.el("d", "r"))
        #expect(try Self.parse("<p:r xmlns:p='a b'/>") == Self.el("a b", "r"))
        #expect(try Self.parse("<?xmlfoo x?><?xml-stylesheet href='s'?><r/>") == Self.el("", "r"))
        // A BOM character inside is text (Foundation dropped it at the start of a CDATA section).
        #expect(try Self.parse("<r><![CDATA[\u{FEFF}c]]></r>") == Self.el("", "r", text: "\u{FEFF}c"))
    }

    @Test func theReaderUsesThisParser() throws {
        let xml = #"<h:html xmlns:h="urn:h" xmlns:e="urn:e" xmlns="urn:d"><h:head e:saveto="x" plain="y"><inner/></h:head></h:html>"#
        #expect(try ODKXMLReader.parse(Array(xml.utf8)) == Self.parse(xml))
    }

    /// Refusing 100,000 malformed documents keeps resident memory flat (FoundationXML's
    /// XMLParser leaked on each one).
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/proc/self/statm")))
    func malformedDocumentsDoNotLeak() throws {
        func residentBytes() throws -> Int {
            let statm = try String(contentsOfFile: "/proc/self/statm", encoding: .utf8)
            let fields = statm.split(separator: " ")
            let pages = try #require(fields.count > 1 ? Int(fields[1]) : nil)
            #if canImport(Glibc)
                return pages * Int(getpagesize())
            #else
                return pages * 4096
            #endif
        }
        let docs =
            Self.bad.filter { $0.bytes.count < 2000 && $0.limits == .default }.map(\.bytes)
            + [
                "<a><b><c x='1'>text</c></b>", "<a x='1' y='&#0;'><b/></a>", "<h:a xmlns:h='urn:h'><h:b>x</h:c></h:a>",
                "<a><b>\(String(repeating: "t", count: 500))</b>&lol;</a>",
            ].map { Array($0.utf8) }
        var refused = 0
        func run(_ count: Int) {
            for k in 0..<count {
                do { _ = try XMLByteParser.parse(docs[k % docs.count], limits: .default) } catch { refused += 1 }
            }
        }
        run(5_000)  // warm up the allocator
        let before = try residentBytes()
        refused = 0
        run(100_000)
        let after = try residentBytes()
        #expect(refused == 100_000)
        let growth = after - before
        print(
            "XMLByteParserTests: resident memory \(before / 1024) KiB before, \(after / 1024) KiB after 100,000 malformed documents (growth \(growth / 1024) KiB)"
        )
        #expect(growth < 20 << 20, "resident memory grew by \(growth / 1024) KiB")
    }
}
