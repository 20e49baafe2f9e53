import FieldSyncCore
import FieldSyncODK

/// libFuzzer harness for the XForm parser (FieldSyncODK's XML reader underneath): any bytes
/// must give an `XForm` or an `ODKError`, never a trap, a hang or unbounded memory.
///
/// What parses must hold together: each question's path names it once, its field name is
/// unique, Core's FormSchema reads `fieldsJSON` with every question in it, select fields
/// list choices, and the form id and title survive an OpenRosa formList written and read back.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzXFormParser(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let form: XForm
    do {
        form = try XFormParser.parse(bytes, limits: ODKLimits(maxXMLBytes: 1 << 20))
    } catch {
        require(!error.message.isEmpty, "an error without a message")
        return 0
    }
    let fields = form.fieldSyncFields
    require(fields.count == form.questions.count, "fields and questions differ in number")
    require(Set(fields.map(\.name)).count == fields.count, "two fields with one name: \(fields.map(\.name))")
    require(Set(form.questions.map(\.path)).count == form.questions.count, "two questions with one path")
    for f in fields where f.type == "select_one" || f.type == "select_multiple" {
        require(!f.choices.isEmpty, "select field \(f.name) without choices")
    }
    guard let schema = FormSchema(fields: form.fieldsJSON) else { fatalError("FormSchema refused fieldsJSON") }
    require(schema.questions.count == fields.count, "FormSchema lost fields")
    require(!form.formID.isEmpty, "empty form id")
    let list = OpenRosaWriter.formList([.init(formID: form.formID, name: form.title, version: form.version, md5Hex: "00", downloadURL: "u")])
    do {
        let root = try ODKXMLReader.parse(list)
        let entry = root.children.first
        require(entry?.child("formID", namespace: ODKNamespace.formList)?.text == form.formID, "formID changed through formList")
        require(entry?.child("name", namespace: ODKNamespace.formList)?.text == form.title, "title changed through formList")
    } catch {
        fatalError("the formList written for a parsed form does not parse: \(error)")
    }
    return 0
}

/// `precondition` that keeps its message in `-O` builds (which drop precondition messages).
private func require(_ condition: Bool, _ message: @autoclosure () -> String = "") {
    if !condition { fatalError(message()) }
}
