import FieldSyncCore
import Foundation
import Testing

@testable import FieldSyncODK

/// Central's OData rows and documents, compared with values written out by hand from
/// what Central answers (groups as objects, int/decimal as numbers, geopoints as GeoJSON
/// with accuracy, repeats as navigation links unless expanded, empty answers null).
@Suite struct ODataTableTests {
    static let id = "uuid:6b7b5a0e-2d5c-4a53-9e0c-6f1d2f3a4b5c"

    func row(_ parameters: [String: String] = [:]) throws -> [String: JSONValue] {
        let form = try Fixture.form("household_survey")
        let doc = try ODKSubmissionParser.document(Array(SubmissionParserTests.household.utf8))
        return ODataTable.submissionRow(doc, form: form, id: Self.id, query: try ODataTable.Query(parameters: parameters))
    }

    @Test func aSubmissionRowIsTypedAndNested() throws {
        let r = try row()
        #expect(r["__id"] == .string(Self.id))
        #expect(r["head_name"] == .string("Amina & Co"))
        #expect(r["members"] == .number(4))
        #expect(r["income"] == .number(1250.5))
        #expect(r["assets"] == .string("radio phone"))
        #expect(
            r["location"]
                == .object([
                    "type": .string("Point"), "coordinates": .array([.number(90.4125), .number(23.8103), .number(12.5)]),
                    "properties": .object(["accuracy": .number(4)]),
                ]))
        #expect(r["dwelling"] == .object(["rooms": .number(3), "electricity": .null]))
        #expect(r["thanks"] == .null)
        #expect(r["meta"] == .object(["instanceID": .string(Self.id)]))
        #expect(r["person"] == nil)
        #expect(r["person@odata.navigationLink"] == .string("Submissions('uuid%3A6b7b5a0e-2d5c-4a53-9e0c-6f1d2f3a4b5c')/person"))
    }

    @Test func expandedRepeatsAreRowsWithIdsAndWKTIsText() throws {
        let r = try row(["$expand": "*", "$wkt": "true"])
        guard case .array(let people)? = r["person"] else { Issue.record("person is not expanded: \(String(describing: r["person"]))"); return }
        #expect(people.count == 2)
        #expect(people.first?["person_name"] == .string("Amina"))
        #expect(people.first?["age"] == .number(34))
        #expect(people.last?["age"] == .null)
        #expect(people.first?["__id"] != people.last?["__id"])
        #expect(r["location"] == .string("POINT (90.4125 23.8103 12.5)"))
    }

    @Test func documentsPageCountAndSelect() throws {
        let rows: [[String: JSONValue]] = (1...5).map { ["__id": .string("r\($0)"), "n": .number(Double($0)), "x": .null] }
        let q = try ODataTable.Query(parameters: ["$top": "2", "$skip": "1", "$count": "True", "$select": "n"])
        let doc = ODataTable.document(context: "ctx", rows: rows, query: q, nextLink: { "next?$skip=\($0)" })
        #expect(
            doc
                == .object([
                    "@odata.context": .string("ctx"), "@odata.count": .number(5), "@odata.nextLink": .string("next?$skip=3"),
                    "value": .array([.object(["__id": .string("r2"), "n": .number(2)]), .object(["__id": .string("r3"), "n": .number(3)])]),
                ]))
        let last = ODataTable.document(context: "ctx", rows: rows, query: try ODataTable.Query(parameters: ["$skip": "9"]), nextLink: { _ in "x" })
        #expect(last == .object(["@odata.context": .string("ctx"), "value": .array([])]))
    }

    @Test func badParametersNameThemselves() {
        for (name, value) in [
            ("$top", "-1"), ("$top", "1.5"), ("$skip", "x"), ("$count", "yes"), ("$wkt", "1"),
            ("$expand", "person"), ("$filter", "a eq 1"), ("$select", ","),
        ] {
            do {
                _ = try ODataTable.Query(parameters: [name: value])
                Issue.record("\(name)=\(value) accepted")
            } catch {
                #expect(error.field == name, "\(name)=\(value): \(error)")
            }
        }
    }
}
