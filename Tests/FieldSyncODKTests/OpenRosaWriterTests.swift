import FieldSyncCore
import Testing

@testable import FieldSyncODK

/// The documents Collect reads, read back with the XML reader: element names in the
/// OpenRosa namespaces, texts escaped and restored.
@Suite struct OpenRosaWriterTests {
    @Test func formListShape() throws {
        let bytes = OpenRosaWriter.formList([
            .init(
                formID: "household_survey", name: "Household <survey> & \"more\"", version: "2026120301",
                md5Hex: "0cc175b9c0f1b6a831c399e269772661", downloadURL: "http://h/odk/v1/key/t/projects/1/forms/household_survey.xml",
                manifestURL: "http://h/odk/v1/key/t/projects/1/forms/household_survey/manifest"),
            .init(formID: "plain", name: "Plain", version: nil, md5Hex: "00", downloadURL: "http://h/x?a=1&b=2"),
        ])
        let root = try ODKXMLReader.parse(bytes)
        #expect(root.namespace == "http://openrosa.org/xforms/xformsList" && root.name == "xforms")
        let forms = root.children("xform", namespace: ODKNamespace.formList)
        #expect(forms.count == 2)
        func text(_ e: ODKXMLElement, _ n: String) -> String? { e.child(n, namespace: ODKNamespace.formList)?.text }
        #expect(text(forms[0], "formID") == "household_survey")
        #expect(text(forms[0], "name") == "Household <survey> & \"more\"")
        #expect(text(forms[0], "version") == "2026120301")
        #expect(text(forms[0], "hash") == "md5:0cc175b9c0f1b6a831c399e269772661")
        #expect(text(forms[0], "manifestUrl") == "http://h/odk/v1/key/t/projects/1/forms/household_survey/manifest")
        #expect(text(forms[1], "version") == "")
        #expect(text(forms[1], "downloadUrl") == "http://h/x?a=1&b=2")
        #expect(text(forms[1], "manifestUrl") == nil)
        #expect(
            String(decoding: bytes, as: UTF8.self).hasPrefix(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xforms xmlns=\"http://openrosa.org/xforms/xformsList\">"))
    }

    @Test func manifestShape() throws {
        let bytes = OpenRosaWriter.manifest([
            .init(filename: "tap.jpg", md5Hex: "aa", downloadURL: "http://h/a/tap.jpg"),
            .init(filename: "trees.csv", md5Hex: "bb", downloadURL: "http://h/a/trees.csv", isEntityList: true, integrityURL: "http://h/i"),
        ])
        let root = try ODKXMLReader.parse(bytes)
        #expect(root.namespace == ODKNamespace.manifest && root.name == "manifest")
        let files = root.children("mediaFile", namespace: ODKNamespace.manifest)
        #expect(files.map { $0.child("filename", namespace: ODKNamespace.manifest)?.text } == ["tap.jpg", "trees.csv"])
        #expect(files.map { $0.attribute("type") } == [nil, "entityList"])
        #expect(files[1].child("hash", namespace: ODKNamespace.manifest)?.text == "md5:bb")
        #expect(files[1].child("integrityUrl", namespace: ODKNamespace.manifest)?.text == "http://h/i")
    }

    @Test func responseShapeAndEscaping() throws {
        let bytes = OpenRosaWriter.response("Form <x> \u{1}received & kept", nature: .submitSuccess)
        let root = try ODKXMLReader.parse(bytes)
        #expect(root.namespace == "http://openrosa.org/http/response" && root.name == "OpenRosaResponse")
        let message = try #require(root.child("message", namespace: ODKNamespace.openRosaResponse))
        #expect(message.attribute("nature") == "submit_success")
        #expect(message.text == "Form <x> \u{FFFD}received & kept")
        #expect(OpenRosaWriter.escape("a'b\"c<d>e&f") == "a&apos;b&quot;c&lt;d&gt;e&amp;f")
    }

    @Test func entityListCSV() {
        let csv = EntityListCSV.write(
            properties: ["species", "circumference", "geometry"],
            rows: [
                .init(
                    name: "0f8e6c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5b", label: "Baobab, the \"big\" one", version: 3,
                    values: ["species": "baobab", "circumference": "410", "geometry": "12.1 -1.5 300 0"]),
                .init(name: "1f8e6c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5b", label: "two\nlines", version: 1, values: ["species": " neem"]),
            ])
        let expected =
            "name,label,__version,species,circumference,geometry\r\n"
            + "0f8e6c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5b,\"Baobab, the \"\"big\"\" one\",3,baobab,410,12.1 -1.5 300 0\r\n"
            + "1f8e6c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5b,\"two\nlines\",1,\" neem\",,\r\n"
        #expect(String(decoding: csv, as: UTF8.self) == expected)
    }

    @Test func valuesAsCollectText() {
        #expect(EntityListCSV.text(.number(410)) == "410")
        #expect(EntityListCSV.text(.number(12.25)) == "12.25")
        #expect(EntityListCSV.text(.null) == "")
        #expect(EntityListCSV.text(.array([.string("radio"), .string("phone")])) == "radio phone")
        let point = JSONValue.object(["type": .string("Point"), "coordinates": .array([.number(-1.5), .number(12.1), .number(300)])])
        #expect(EntityListCSV.text(point) == "12.1 -1.5 300 0")
        // Back through the submission parser's geopoint reading: the same point.
        #expect(ODKGeopoint("12.1 -1.5 300 0")?.geoPoint.geoJSON == point)
    }
}
