import FieldSyncCore
import Foundation
import Testing

@testable import FieldSyncODK

/// Submissions as Collect writes them (instance XML of the pyxform fixtures), checked
/// against the parsed form; answers compared with values written out by hand.
@Suite struct SubmissionParserTests {
    static let household = """
        <?xml version='1.0' ?><data id="household_survey" version="2026120301" xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms">\
        <start>2026-12-03T10:00:00.000+03:00</start><end>2026-12-03T10:20:00.000+03:00</end>\
        <head_name>Amina &amp; Co</head_name><members>4</members><income>1250.50</income><income_each>312.625</income_each>\
        <photo>1764745200000.jpg</photo><visit_date>2026-12-03</visit_date><water_source>well</water_source>\
        <assets>radio phone</assets><location>23.8103 90.4125 12.5 4.0</location><village>subil</village>\
        <dwelling><rooms>3</rooms><electricity/></dwelling>\
        <person><person_name>Amina</person_name><age>34</age></person><person><person_name>Karim</person_name><age/></person>\
        <thanks/><meta><instanceID>uuid:6b7b5a0e-2d5c-4a53-9e0c-6f1d2f3a4b5c</instanceID></meta></data>
        """

    @Test func householdAnswersAreTyped() throws {
        let form = try Fixture.form("household_survey")
        let s = try ODKSubmissionParser.parse(Array(Self.household.utf8), form: form)
        #expect(s.formID == "household_survey")
        #expect(s.version == "2026120301")
        #expect(s.instanceID == "uuid:6b7b5a0e-2d5c-4a53-9e0c-6f1d2f3a4b5c")
        #expect(s.deprecatedID == nil)
        let expected: [String: JSONValue] = [
            "start": .string("2026-12-03T10:00:00.000+03:00"), "end": .string("2026-12-03T10:20:00.000+03:00"),
            "head_name": .string("Amina & Co"), "members": .number(4), "income": .number(1250.5),
            "income_each": .string("312.625"), "photo": .string("1764745200000.jpg"),
            "visit_date": .string("2026-12-03"), "water_source": .string("well"),
            "assets": .array([.string("radio"), .string("phone")]),
            "location": .object(["type": .string("Point"), "coordinates": .array([.number(90.4125), .number(23.8103), .number(12.5)])]),
            "village": .string("subil"), "dwelling/rooms": .number(3),
            "person[1]/person_name": .string("Amina"), "person[1]/age": .number(34),
            "person[2]/person_name": .string("Karim"),
        ]
        #expect(s.answers == expected)
        #expect(s.attachmentNames == ["1764745200000.jpg"])
        #expect(s.entity == nil)
    }

    /// The protocol's own check (Core's FormSchema over the form version's fields) accepts
    /// the answers outside repeats, and rejects a value the XForm parser would refuse too.
    @Test func answersPassTheProtocolsFieldCheck() throws {
        let form = try Fixture.form("household_survey")
        let schema = try #require(FormSchema(fields: form.fieldsJSON))
        let s = try ODKSubmissionParser.parse(Array(Self.household.utf8), form: form)
        let flat = s.answers.filter { !$0.key.contains("[") }
        #expect(schema.check(flat, creating: true, path: "items[0]") == nil)
        var bad = flat
        bad["water_source"] = .string("lake")
        #expect(schema.check(bad, creating: true, path: "items[0]")?.field == "items[0].changes.water_source")
    }

    @Test func answersFailingTheFormsTypes() throws {
        let form = try Fixture.form("household_survey")
        let cases: [(String, String, String)] = [
            ("<members>4</members>", "<members>four</members>", "/data/members"),
            ("<members>4</members>", "<members>99999999999999999999</members>", "/data/members"),
            ("<income>1250.50</income>", "<income>0x1p3</income>", "/data/income"),
            ("<income>1250.50</income>", "<income>NaN</income>", "/data/income"),
            ("<visit_date>2026-12-03</visit_date>", "<visit_date>2026-02-30</visit_date>", "/data/visit_date"),
            ("<water_source>well</water_source>", "<water_source>lake</water_source>", "/data/water_source"),
            ("<assets>radio phone</assets>", "<assets>radio car</assets>", "/data/assets"),
            ("<location>23.8103 90.4125 12.5 4.0</location>", "<location>95 90</location>", "/data/location"),
            ("<location>23.8103 90.4125 12.5 4.0</location>", "<location>23.8 abc</location>", "/data/location"),
            ("<rooms>3</rooms>", "<rooms>3.5</rooms>", "/data/dwelling/rooms"),
            ("<age>34</age>", "<age>-x</age>", "/data/person[1]/age"),
            ("<thanks/>", "<thanks/><extra>1</extra>", "/data/extra"),
            ("<head_name>Amina &amp; Co</head_name>", "<head_name/>", "/data/head_name"),
            ("<person_name>Karim</person_name>", "<person_name></person_name>", "/data/person[2]/person_name"),
        ]
        for (from, to, location) in cases {
            let xml = Self.household.replacingOccurrences(of: from, with: to)
            #expect(xml != Self.household, "\(to)")
            let error = odkError { _ = try ODKSubmissionParser.parse(Array(xml.utf8), form: form) }
            #expect(error?.code == .invalidField, "\(to)")
            #expect(error?.location == location, "\(to)")
        }
    }

    @Test func submissionForAnotherFormOrVersion() throws {
        let form = try Fixture.form("household_survey")
        for (from, to, location) in [
            (#"id="household_survey""#, #"id="tree_update""#, "/data@id"),
            (#"version="2026120301""#, #"version="2026120300""#, "/data@version"),
            ("<instanceID>uuid:6b7b5a0e-2d5c-4a53-9e0c-6f1d2f3a4b5c</instanceID>", "<instanceID/>", "/data/meta/instanceID"),
        ] {
            let xml = Self.household.replacingOccurrences(of: from, with: to)
            let error = odkError { _ = try ODKSubmissionParser.parse(Array(xml.utf8), form: form) }
            #expect(error?.code == .invalidSubmission, "\(to)")
            #expect(error?.location == location, "\(to)")
        }
    }

    @Test func headerWithoutForm() throws {
        let doc = try ODKSubmissionParser.document(Array(Self.household.utf8))
        let h = try ODKSubmissionParser.header(doc)
        #expect(
            h == .init(rootName: "data", formID: "household_survey", version: "2026120301", instanceID: "uuid:6b7b5a0e-2d5c-4a53-9e0c-6f1d2f3a4b5c"))
    }

    @Test func entityRegistration() throws {
        let form = try Fixture.form("tree_registration")
        let xml = """
            <data id="tree_registration" version="1"><location>12.1 -1.5 300 5</location><species>baobab</species>\
            <circumference>410</circumference><intake_notes>old tree</intake_notes>\
            <meta><entity dataset="trees" create="1" id="uuid:0F8E6C1A-2B3D-4E5F-8A9B-0C1D2E3F4A5B"><label>baobab 410cm</label></entity>\
            <instanceID>uuid:11111111-2222-4333-8444-555555555555</instanceID></meta></data>
            """
        let s = try ODKSubmissionParser.parse(Array(xml.utf8), form: form)
        let e = try #require(s.entity)
        #expect(e.dataset == "trees")
        #expect(e.id == "0f8e6c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5b")
        #expect(e.create && !e.update)
        #expect(e.baseVersion == nil)
        #expect(e.label == "baobab 410cm")
        #expect(
            e.properties == [
                "geometry": .object(["type": .string("Point"), "coordinates": .array([.number(-1.5), .number(12.1), .number(300)])]),
                "species": .string("baobab"), "circumference": .number(410),
            ])
        #expect(e.propertyTexts == ["geometry": "12.1 -1.5 300 5", "species": "baobab", "circumference": "410"])

        let noLabel = xml.replacingOccurrences(of: "<label>baobab 410cm</label>", with: "<label/>")
        #expect(odkError { _ = try ODKSubmissionParser.parse(Array(noLabel.utf8), form: form) }?.location == "/data/meta/entity/label")
        let badID = xml.replacingOccurrences(of: "uuid:0F8E6C1A-2B3D-4E5F-8A9B-0C1D2E3F4A5B", with: "tree-7")
        #expect(odkError { _ = try ODKSubmissionParser.parse(Array(badID.utf8), form: form) }?.location == "/data/meta/entity@id")
        let otherList = xml.replacingOccurrences(of: #"dataset="trees""#, with: #"dataset="wells""#)
        #expect(odkError { _ = try ODKSubmissionParser.parse(Array(otherList.utf8), form: form) }?.code == .invalidSubmission)
    }

    @Test func entityUpdateWithBaseVersion() throws {
        let form = try Fixture.form("tree_update")
        let xml = """
            <data id="tree_update" version="3"><tree>0f8e6c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5b</tree><circumference>415</circumference><health>good</health>\
            <meta><entity dataset="trees" update="1" baseVersion="2" trunkVersion="1" branchId="a1b2c3d4-0000-4000-8000-000000000001" id="0f8e6c1a-2b3d-4e5f-8a9b-0c1d2e3f4a5b"><label>Tree 415</label></entity>\
            <instanceID>uuid:22222222-2222-4333-8444-555555555555</instanceID><deprecatedID>uuid:11111111-2222-4333-8444-555555555555</deprecatedID></meta></data>
            """
        let s = try ODKSubmissionParser.parse(Array(xml.utf8), form: form)
        #expect(s.deprecatedID == "uuid:11111111-2222-4333-8444-555555555555")
        let e = try #require(s.entity)
        #expect(e.update && !e.create)
        #expect(e.baseVersion == 2)
        #expect(e.trunkVersion == 1)
        #expect(e.branchId == "a1b2c3d4-0000-4000-8000-000000000001")
        #expect(e.properties == ["circumference": .number(415), "health": .string("good")])

        let noBase = xml.replacingOccurrences(of: #"baseVersion="2""#, with: #"baseVersion="""#)
        let e1 = odkError { _ = try ODKSubmissionParser.parse(Array(noBase.utf8), form: form) }
        #expect(e1?.code == .invalidField)
        #expect(e1?.location == "/data/meta/entity@baseVersion")
        let badBase = xml.replacingOccurrences(of: #"baseVersion="2""#, with: #"baseVersion="-3""#)
        #expect(odkError { _ = try ODKSubmissionParser.parse(Array(badBase.utf8), form: form) }?.location == "/data/meta/entity@baseVersion")
        // A registration form's submission can't update.
        let creating = xml.replacingOccurrences(of: #"update="1""#, with: #"create="1""#)
        #expect(odkError { _ = try ODKSubmissionParser.parse(Array(creating.utf8), form: form) }?.code == .invalidSubmission)
    }

    @Test func hugeSubmissionIsRefusedBeforeParsing() throws {
        let form = try Fixture.form("household_survey")
        let limits = ODKLimits(maxXMLBytes: 1 << 20)
        let big = Self.household.replacingOccurrences(
            of: "<head_name>Amina &amp; Co</head_name>",
            with: "<head_name>" + String(repeating: "A", count: 2 << 20) + "</head_name>")
        let error = odkError { _ = try ODKSubmissionParser.parse(Array(big.utf8), form: form, limits: limits) }
        #expect(error?.code == .tooLarge)
        #expect(error?.httpStatus == 413)
        // Many repeat rows: the element limit holds.
        let rows = String(repeating: "<person><person_name>x</person_name><age>1</age></person>", count: 5000)
        let many = Self.household.replacingOccurrences(of: "<thanks/>", with: rows + "<thanks/>")
        let e2 = odkError { _ = try ODKSubmissionParser.parse(Array(many.utf8), form: form, limits: ODKLimits(maxElements: 10_000)) }
        #expect(e2?.code == .tooLarge)
        // Within limits the same rows parse, numbered in order.
        let s = try ODKSubmissionParser.parse(Array(many.utf8), form: form)
        #expect(s.answers["person[5002]/age"] == .number(1))
    }
}
