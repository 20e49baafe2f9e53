import FieldSyncCore
import Foundation
import Testing

@testable import FieldSyncODK

/// XForms made by pyxform from the XLSForms in Fixtures/xlsforms: the expectations are
/// read off the XLSForm sources (`*.md`), not off the parser's output.
@Suite struct XFormParserTests {
    @Test func householdSurveyIdentityAndQuestions() throws {
        let form = try Fixture.form("household_survey")
        #expect(form.formID == "household_survey")
        #expect(form.version == "2026120301")
        #expect(form.title == "Household survey")
        #expect(form.rootName == "data")
        let kinds = Dictionary(uniqueKeysWithValues: form.questions.map { ($0.path, $0.kind) })
        #expect(
            kinds == [
                "start": .dateTime, "end": .dateTime, "head_name": .string, "members": .int, "income": .decimal,
                "income_each": .string, "photo": .binary, "visit_date": .date, "water_source": .select1,
                "assets": .select, "location": .geopoint, "village": .select1, "dwelling/rooms": .int,
                "dwelling/electricity": .select1, "person/person_name": .string, "person/age": .int, "thanks": .string,
            ])
        // Instance order, as in the XLSForm.
        #expect(form.questions.map(\.path).prefix(5) == ["start", "end", "head_name", "members", "income"])
        let required = Set(form.questions.filter(\.required).map(\.path))
        // `income` is required but only relevant when members > 1: not enforceable statically.
        #expect(required == ["head_name", "members", "water_source", "person/person_name"])
        #expect(form.question(at: "income")?.requiredExpression == "true()")
        #expect(form.question(at: "income")?.relevant != nil)
        #expect(form.question(at: "income_each")?.calculate != nil)
        #expect(form.question(at: "head_name")?.label == "Head of household")
        #expect(form.question(at: "water_source")?.label == "Main water source")
    }

    @Test func householdSurveyGroupsRepeatsChoicesMedia() throws {
        let form = try Fixture.form("household_survey")
        #expect(
            form.groups == [
                XFormGroup(path: "dwelling", isRepeat: false, label: "Dwelling"),
                XFormGroup(path: "person", isRepeat: true, label: "Person"),
            ])
        #expect(form.question(at: "person/age")?.repeatPath == "person")
        #expect(form.question(at: "dwelling/rooms")?.repeatPath == nil)
        #expect(
            form.question(at: "water_source")?.choices
                == .list([
                    XFormChoice(value: "tap", label: "Tap"), XFormChoice(value: "well", label: "Well"),
                    XFormChoice(value: "river", label: "River"),
                ]))
        #expect(
            form.question(at: "assets")?.choices
                == .list([
                    XFormChoice(value: "radio", label: "Radio"), XFormChoice(value: "bike", label: "Bicycle"),
                    XFormChoice(value: "phone", label: "Phone"),
                ]))
        #expect(
            form.question(at: "dwelling/electricity")?.choices
                == .list([
                    XFormChoice(value: "yes", label: "Yes"), XFormChoice(value: "no", label: "No"),
                ]))
        #expect(form.question(at: "village")?.choices == .external(instanceID: "villages", file: "villages.csv"))
        #expect(
            Set(form.mediaFiles) == [
                XFormMediaFile(filename: "villages.csv", kind: .csv, instanceID: "villages"),
                XFormMediaFile(filename: "tap.jpg", kind: .image, instanceID: nil),
                XFormMediaFile(filename: "water.png", kind: .image, instanceID: nil),
            ])
        #expect(form.entity == nil)
    }

    /// The form version's `fields` as PROTOCOL.md defines them, written out from the XLSForm.
    @Test func householdSurveyFields() throws {
        let form = try Fixture.form("household_survey")
        let expected: [FieldSyncFieldDeclaration] = [
            .init(name: "start", type: "text", required: false, choices: []),
            .init(name: "end", type: "text", required: false, choices: []),
            .init(name: "head_name", type: "text", required: true, choices: []),
            .init(name: "members", type: "integer", required: true, choices: []),
            .init(name: "income", type: "decimal", required: false, choices: []),
            .init(name: "income_each", type: "text", required: false, choices: []),
            .init(name: "photo", type: "text", required: false, choices: []),
            .init(name: "visit_date", type: "date", required: false, choices: []),
            .init(name: "water_source", type: "select_one", required: true, choices: ["tap", "well", "river"]),
            .init(name: "assets", type: "select_multiple", required: false, choices: ["radio", "bike", "phone"]),
            .init(name: "location", type: "geopoint", required: false, choices: []),
            .init(name: "village", type: "text", required: false, choices: []),
            .init(name: "dwelling/rooms", type: "integer", required: false, choices: []),
            .init(name: "dwelling/electricity", type: "select_one", required: false, choices: ["yes", "no"]),
            .init(name: "person[]/person_name", type: "text", required: false, choices: []),
            .init(name: "person[]/age", type: "integer", required: false, choices: []),
            .init(name: "thanks", type: "text", required: false, choices: []),
        ]
        #expect(form.fieldSyncFields == expected)
        // The JSON Core's FormSchema reads, with the members PROTOCOL.md names.
        let schema = try #require(FormSchema(fields: form.fieldsJSON))
        #expect(schema.questions["water_source"]?.choices == ["tap", "well", "river"])
        #expect(schema.questions["members"]?.required == true)
        #expect(schema.questions.count == expected.count)
    }

    @Test func entityRegistrationForm() throws {
        let form = try Fixture.form("tree_registration")
        let entity = try #require(form.entity)
        #expect(entity.dataset == "trees")
        #expect(entity.creates && !entity.updates)
        #expect(entity.specVersion == "2024.1.0")
        #expect(
            entity.properties == [
                XFormEntityProperty(name: "geometry", questionPath: "location"),
                XFormEntityProperty(name: "species", questionPath: "species"),
                XFormEntityProperty(name: "circumference", questionPath: "circumference"),
            ])
        // meta/entity is not a question.
        #expect(!form.questions.contains { $0.path.hasPrefix("meta") })
        #expect(form.questions.map(\.path) == ["location", "species", "circumference", "intake_notes"])
    }

    @Test func entityUpdateForm() throws {
        let form = try Fixture.form("tree_update")
        let entity = try #require(form.entity)
        #expect(entity.dataset == "trees")
        #expect(entity.updates && !entity.creates)
        #expect(entity.properties.map(\.name) == ["circumference", "health"])
        // The entity list the form reads is a media file Collect downloads.
        #expect(form.mediaFiles == [XFormMediaFile(filename: "trees.csv", kind: .csv, instanceID: "trees")])
        #expect(form.question(at: "tree")?.choices == .external(instanceID: "trees", file: "trees.csv"))
        #expect(form.version == "3")
    }

    @Test func encryptedFormIsRefused() throws {
        let bytes = try Fixture.bytes("encrypted_survey")
        let error = odkError { _ = try XFormParser.parse(bytes) }
        #expect(error?.code == .encryptedForm)
        #expect(error?.location?.contains("submission") == true)
    }

    @Test func unsupportedQuestionTypeNamesTheQuestion() throws {
        let bytes = try Fixture.bytes("geotrace_unsupported")
        let error = odkError { _ = try XFormParser.parse(bytes) }
        #expect(error?.code == .unsupportedXForm)
        #expect(error?.location == "/data/track")
        #expect(error?.message.contains("geotrace") == true)
    }

    @Test func formWithoutInstanceIDIsRefused() throws {
        let text = try Fixture.text("tree_registration")
        let stripped = text.replacingOccurrences(of: #"<data id="tree_registration" version="1">"#, with: #"<data version="1">"#)
        #expect(stripped != text)
        let error = odkError { _ = try XFormParser.parse(Array(stripped.utf8)) }
        #expect(error?.code == .invalidXForm)
        #expect(error?.location?.hasPrefix("/h:html/h:head/model/instance/data") == true)
        #expect(error?.message.contains("no id") == true)
    }

    /// Inline `<item>` choices (older forms, other tools), a relative ref inside a group and
    /// a bind to no node: written by hand as XForms allow, beside the pyxform fixtures.
    @Test func inlineItemsAndRelativeRefs() throws {
        let xml = """
            <?xml version="1.0"?>
            <h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml">
              <h:head><h:title>Inline</h:title>
                <model><instance><survey id="inline" orx:version="x" xmlns:orx="http://openrosa.org/xforms"><g><color/></g><meta><instanceID/></meta></survey></instance>
                  <bind nodeset="/survey/g/color" type="select1" required="true()"/>
                </model></h:head>
              <h:body><group ref="/survey/g"><select1 ref="color"><label>Color</label>
                <item><label>Red</label><value>red</value></item><item><label>Blue &amp; green</label><value>blue</value></item>
              </select1></group></h:body>
            </h:html>
            """
        let form = try XFormParser.parse(Array(xml.utf8))
        #expect(form.version == nil)
        #expect(
            form.question(at: "g/color")?.choices
                == .list([XFormChoice(value: "red", label: "Red"), XFormChoice(value: "blue", label: "Blue & green")]))
        #expect(form.fieldSyncFields == [.init(name: "g/color", type: "select_one", required: true, choices: ["red", "blue"])])

        let badBind = xml.replacingOccurrences(of: #"nodeset="/survey/g/color""#, with: #"nodeset="/survey/g/colour""#)
        let error = odkError { _ = try XFormParser.parse(Array(badBind.utf8)) }
        #expect(error?.code == .invalidXForm)
        #expect(error?.message.contains("/survey/g/colour") == true)
    }

    @Test func notAnXForm() {
        let error = odkError { _ = try XFormParser.parse(Array("<html><head/></html>".utf8)) }
        #expect(error?.code == .invalidXForm)
    }
}
