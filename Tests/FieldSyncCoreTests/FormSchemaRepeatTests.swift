import FieldSyncCore
import Testing

/// PROTOCOL.md, form fields: a field named with `[]` after a repeat takes the answers of
/// every row of that repeat (ODK's `person[2]/age` for the field `person[]/age`).
@Suite("Form fields inside repeats")
struct FormSchemaRepeatTests {
    let schema = FormSchema(
        fields: .array([
            .object(["name": .string("person[]/age"), "type": .string("integer")]),
            .object(["name": .string("household/person[]/visit[]/date"), "type": .string("date")]),
            .object(["name": .string("name"), "type": .string("text"), "required": .bool(true)]),
        ]))

    @Test("an answer of row n checks against the repeat's field")
    func rowAnswers() throws {
        let schema = try #require(schema)
        #expect(schema.check(["name": .string("a"), "person[1]/age": .number(3), "person[12]/age": .number(40)], creating: true, path: "i") == nil)
        #expect(schema.check(["name": .string("a"), "household/person[2]/visit[3]/date": .string("2026-12-03")], creating: true, path: "i") == nil)
        // The type is the repeat field's.
        let bad = schema.check(["name": .string("a"), "person[2]/age": .string("old")], creating: true, path: "i")
        #expect(bad?.field == "i.changes.person[2]/age")
    }

    @Test("a name that is not a row of a declared repeat is refused")
    func unknownRows() throws {
        let schema = try #require(schema)
        for name in ["person/age", "person[x]/age", "people[1]/age", "person[1]/height", "person[-1]/age"] {
            #expect(schema.check(["name": .string("a"), name: .number(1)], creating: true, path: "i")?.code == "invalid_field", "\(name)")
        }
    }

    @Test("the template of a name replaces every row number, and only those")
    func template() {
        #expect(FormSchema.repeatTemplate("a[1]/b[22]/c") == "a[]/b[]/c")
        #expect(FormSchema.repeatTemplate("plain") == "plain")
        #expect(FormSchema.repeatTemplate("a[]/b") == "a[]/b")
        #expect(FormSchema.repeatTemplate("a[x]") == "a[x]")
        #expect(FormSchema.repeatTemplate("a[1") == "a[1")
    }
}
