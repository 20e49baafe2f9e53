import Foundation
import Testing

@testable import FieldSyncODK

/// Input meant to hurt: every parser refuses it with a typed error, fast, never traps.
@Suite struct HostileXMLTests {
    static let billionLaughs = """
        <?xml version="1.0"?>
        <!DOCTYPE lolz [
         <!ENTITY lol "lol">
         <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
         <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
         <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
         <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
         <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
         <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
         <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
         <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
         <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
        ]>
        <data id="household_survey" version="2026120301"><head_name>&lol9;</head_name><meta><instanceID>uuid:x</instanceID></meta></data>
        """

    static let externalEntity = """
        <?xml version="1.0"?>
        <!DOCTYPE data [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
        <data id="household_survey" version="2026120301"><head_name>&xxe;</head_name><meta><instanceID>uuid:x</instanceID></meta></data>
        """

    @Test func billionLaughsIsRefusedBeforeExpansion() throws {
        let form = try Fixture.form("household_survey")
        let clock = ContinuousClock()
        let start = clock.now
        let error = odkError { _ = try ODKSubmissionParser.parse(Array(Self.billionLaughs.utf8), form: form) }
        #expect(error?.code == .xmlDeclarationForbidden)
        #expect(error?.location == "line 2")
        #expect(error?.httpStatus == 400)
        #expect(clock.now - start < .seconds(1))
        // The same as an XForm.
        #expect(odkError { _ = try XFormParser.parse(Array(Self.billionLaughs.utf8)) }?.code == .xmlDeclarationForbidden)
    }

    @Test func externalEntitiesAndDTDsAreRefused() {
        for xml in [
            Self.externalEntity,
            #"<!DOCTYPE data SYSTEM "http://127.0.0.1:9/evil.dtd"><data id="a"/>"#,
            #"<?xml version="1.0"?><!-- fine --><!DOCTYPE data><data id="a"/>"#,
            #"<data id="a"><!ELEMENT x ANY></data>"#,
            "<?xml version=\"1.0\"?>\n<!DOCTYPE data [<!ENTITY % p SYSTEM \"file:///etc/passwd\"> %p;]><data/>",
        ] {
            let error = odkError { _ = try ODKXMLReader.parse(Array(xml.utf8)) }
            #expect(error?.code == .xmlDeclarationForbidden, "\(xml)")
        }
    }

    @Test func markupInCommentsAndCDATAIsText() throws {
        let xml = #"<?xml version="1.0"?><!-- <!DOCTYPE x> --><data id="a"><n><![CDATA[<!ENTITY y "z"> & <b>]]></n></data>"#
        let root = try ODKXMLReader.parse(Array(xml.utf8))
        #expect(root.children.first?.text == #"<!ENTITY y "z"> & <b>"#)
    }

    @Test func undeclaredEntityReferenceIsMalformed() {
        let error = odkError { _ = try ODKXMLReader.parse(Array("<data>&lol;</data>".utf8)) }
        #expect(error?.code == .malformedXML)
    }

    @Test func malformedXML() {
        for xml in [
            "", "<data", "<data></datum>", "<a><b></a></b>", "text only", "<data x='1' x='2'/>",
            "<p:data xmlns:q='urn:q'/>", "<data p:x='1'/>", "<data/><second/>", "<data>\u{1}</data>",
        ] {
            let error = odkError { _ = try ODKXMLReader.parse(Array(xml.utf8)) }
            #expect(error?.code == .malformedXML, "\(xml)")
        }
        // Invalid UTF-8, UTF-16, a declared encoding other than UTF-8.
        #expect(odkError { _ = try ODKXMLReader.parse([0x3C, 0x61, 0xFF, 0x2F, 0x3E]) }?.code == .malformedXML)
        #expect(odkError { _ = try ODKXMLReader.parse([0xFF, 0xFE, 0x3C, 0x00, 0x61, 0x00, 0x2F, 0x00, 0x3E, 0x00]) }?.code == .malformedXML)
        let latin = odkError { _ = try ODKXMLReader.parse(Array(#"<?xml version="1.0" encoding="ISO-8859-1"?><a/>"#.utf8)) }
        #expect(latin?.code == .malformedXML)
        #expect(latin?.message.contains("ISO-8859-1") == true)
    }

    @Test func depthAndSizeLimits() {
        let deep = String(repeating: "<a>", count: 200) + String(repeating: "</a>", count: 200)
        let e1 = odkError { _ = try ODKXMLReader.parse(Array(deep.utf8)) }
        #expect(e1?.code == .tooDeep)
        let ok = String(repeating: "<a>", count: 64) + String(repeating: "</a>", count: 64)
        #expect((try? ODKXMLReader.parse(Array(ok.utf8))) != nil)
        let wide = "<r>" + String(repeating: "<a/>", count: 300) + "</r>"
        #expect(odkError { _ = try ODKXMLReader.parse(Array(wide.utf8), limits: ODKLimits(maxElements: 100)) }?.code == .tooLarge)
        let attrs = "<r " + (0..<100).map { "a\($0)='1'" }.joined(separator: " ") + "/>"
        #expect(odkError { _ = try ODKXMLReader.parse(Array(attrs.utf8)) }?.code == .tooLarge)
        let big = Array(("<r>" + String(repeating: "x", count: 4096) + "</r>").utf8)
        #expect(odkError { _ = try ODKXMLReader.parse(big, limits: ODKLimits(maxXMLBytes: 4096)) }?.code == .tooLarge)
    }

    @Test func namespacesAreResolvedOnAttributesToo() throws {
        let xml = #"<h:html xmlns:h="urn:h" xmlns:e="urn:e" xmlns="urn:d"><h:head e:saveto="x" plain="y"><inner/></h:head></h:html>"#
        let root = try ODKXMLReader.parse(Array(xml.utf8))
        #expect(root.namespace == "urn:h" && root.name == "html")
        let head = try #require(root.child("head", namespace: "urn:h"))
        #expect(head.attribute("saveto", namespace: "urn:e") == "x")
        #expect(head.attribute("plain") == "y")
        #expect(head.children.first?.namespace == "urn:d")
    }
}
