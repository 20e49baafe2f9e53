import FieldSyncCore
import FieldSyncODK
import Foundation

/// libFuzzer harness for the submission parser, against two XForms made by pyxform (copies of
/// Tests/FieldSyncODKTests/Fixtures/xlsforms/): the household survey (groups, a repeat, a
/// geopoint) and the tree update (an entity update block). The form is chosen as the server
/// chooses it, by the submission's own form id (`<data id="tree_update">`), household otherwise.
///
/// Any bytes must give a submission or an `ODKError`, never a trap. An accepted submission
/// must also pass the protocol's own check: Core's `FormSchema` over the form's
/// `fieldsJSON` accepts its answers outside repeats as a creating write (so the XML
/// parser never lets through what a FieldSync push would refuse), every repeat answer
/// names a declared `name[]/…` field, and an entity block names the form's entity list,
/// a lower-case UUID, and (for an update) the version it was made on.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSubmissionParser(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let submission: ODKSubmission
    let form: Form
    do {
        let root = try ODKSubmissionParser.document(bytes, limits: ODKLimits(maxXMLBytes: 1 << 20))
        let header = try ODKSubmissionParser.header(root)
        form = header.formID == treeUpdate.xform.formID ? treeUpdate : household
        submission = try ODKSubmissionParser.parse(document: root, form: form.xform)
    } catch {
        require(!error.message.isEmpty, "an error without a message")
        return 0
    }
    let flat = submission.answers.filter { !$0.key.contains("[") }
    if let problem = form.schema.check(flat, creating: true, path: "items[0]") {
        fatalError("FormSchema refuses what the submission parser accepted: \(problem)")
    }
    for key in submission.answers.keys where key.contains("[") {
        let template = templateName(key)
        require(form.declared.contains(template), "answer \(key) names no declared field (\(template))")
    }
    if let entity = submission.entity {
        require(entity.dataset == form.xform.entity?.dataset, "entity block of list \(entity.dataset), not the form's")
        require(UUID(uuidString: entity.id) != nil && entity.id == entity.id.lowercased(), "entity id \(entity.id) is not a lower-case UUID")
        require(!entity.update || entity.baseVersion != nil, "an entity update without baseVersion")
    }
    return 0
}

/// A form with what the checks read of it, made once.
private struct Form {
    let xform: XForm
    let schema: FormSchema
    let declared: Set<String>

    init(_ xml: String) {
        do { xform = try XFormParser.parse(Array(xml.utf8)) } catch { fatalError("an embedded form does not parse: \(error)") }
        guard let s = FormSchema(fields: xform.fieldsJSON) else { fatalError("FormSchema refused the fields of \(xform.formID)") }
        schema = s
        declared = Set(xform.fieldSyncFields.map(\.name))
    }
}

/// `person[12]/age` → `person[]/age`.
private func templateName(_ key: String) -> String {
    var out = ""
    var skipping = false
    for c in key {
        if c == "[" { skipping = true; out.append("[") } else if c == "]" { skipping = false; out.append("]") } else if !skipping { out.append(c) }
    }
    return out
}

private let household = Form(householdXML)
private let treeUpdate = Form(treeUpdateXML)

private let householdXML = #"""
    <?xml version="1.0"?><h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml" xmlns:ev="http://www.w3.org/2001/xml-events" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms" xmlns:odk="http://www.opendatakit.org/xforms"><h:head><h:title>Household survey</h:title><model odk:xforms-version="1.0.0"><itext><translation lang="default" default="true()"><text id="water-0"><value>Tap</value><value form="image">jr://images/tap.jpg</value></text><text id="water-1"><value>Well</value></text><text id="water-2"><value>River</value></text><text id="/data/water_source:label"><value>Main water source</value><value form="image">jr://images/water.png</value></text></translation></itext><instance><data id="household_survey" version="2026120301"><start/><end/><head_name/><members/><income/><income_each/><photo/><visit_date/><water_source/><assets/><location/><village/><dwelling><rooms/><electricity/></dwelling><person jr:template=""><person_name/><age/></person><person><person_name/><age/></person><thanks/><meta><instanceID/></meta></data></instance><instance id="villages" src="jr://file-csv/villages.csv"/><instance id="water"><root><item><itextId>water-0</itextId><name>tap</name></item><item><itextId>water-1</itextId><name>well</name></item><item><itextId>water-2</itextId><name>river</name></item></root></instance><instance id="assets"><root><item><name>radio</name><label>Radio</label></item><item><name>bike</name><label>Bicycle</label></item><item><name>phone</name><label>Phone</label></item></root></instance><instance id="yes_no"><root><item><name>yes</name><label>Yes</label></item><item><name>no</name><label>No</label></item></root></instance><bind nodeset="/data/start" jr:preload="timestamp" type="dateTime" jr:preloadParams="start"/><bind nodeset="/data/end" jr:preload="timestamp" type="dateTime" jr:preloadParams="end"/><bind nodeset="/data/head_name" type="string" required="true()"/><bind nodeset="/data/members" type="int" required="true()"/><bind nodeset="/data/income" type="decimal" required="true()" relevant=" /data/members  &gt; 1"/><bind nodeset="/data/income_each" type="string" calculate=" /data/income  div  /data/members "/><bind nodeset="/data/photo" type="binary" orx:max-pixels="1024"/><bind nodeset="/data/visit_date" type="date"/><bind nodeset="/data/water_source" type="string" required="true()"/><bind nodeset="/data/assets" type="string"/><bind nodeset="/data/location" type="geopoint"/><bind nodeset="/data/village" type="string"/><bind nodeset="/data/dwelling/rooms" type="int"/><bind nodeset="/data/dwelling/electricity" type="string"/><bind nodeset="/data/person/person_name" type="string" required="true()"/><bind nodeset="/data/person/age" type="int"/><bind nodeset="/data/thanks" readonly="true()" type="string"/><bind nodeset="/data/meta/instanceID" type="string" readonly="true()" jr:preload="uid"/></model></h:head><h:body><input ref="/data/head_name"><label>Head of household</label></input><input ref="/data/members"><label>Members</label></input><input ref="/data/income"><label>Monthly income</label></input><upload ref="/data/photo" mediatype="image/*"><label>Photo of the house</label></upload><input ref="/data/visit_date"><label>Visit date</label></input><select1 ref="/data/water_source"><label ref="jr:itext('/data/water_source:label')"/><itemset nodeset="instance('water')/root/item"><value ref="name"/><label ref="jr:itext(itextId)"/></itemset></select1><select ref="/data/assets"><label>Assets</label><itemset nodeset="instance('assets')/root/item"><value ref="name"/><label ref="label"/></itemset></select><input ref="/data/location"><label>Location</label></input><select1 ref="/data/village"><label>Village</label><itemset nodeset="instance('villages')/root/item"><value ref="name"/><label ref="label"/></itemset></select1><group ref="/data/dwelling"><label>Dwelling</label><input ref="/data/dwelling/rooms"><label>Rooms</label></input><select1 ref="/data/dwelling/electricity"><label>Electricity</label><itemset nodeset="instance('yes_no')/root/item"><value ref="name"/><label ref="label"/></itemset></select1></group><group ref="/data/person"><label>Person</label><repeat nodeset="/data/person"><input ref="/data/person/person_name"><label>Name</label></input><input ref="/data/person/age"><label>Age</label></input></repeat></group><input ref="/data/thanks"><label>Thank you</label></input></h:body></h:html>
    """#

private let treeUpdateXML = #"""
    <?xml version="1.0"?><h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml" xmlns:ev="http://www.w3.org/2001/xml-events" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms" xmlns:odk="http://www.opendatakit.org/xforms" xmlns:entities="http://www.opendatakit.org/xforms/entities"><h:head><h:title>Tree update</h:title><model odk:xforms-version="1.0.0" entities:entities-version="2024.1.0"><instance><data id="tree_update" version="3"><tree/><circumference/><health/><meta><entity dataset="trees" update="1" baseVersion="" trunkVersion="" branchId="" id=""><label/></entity><instanceID/></meta></data></instance><instance id="trees" src="jr://file-csv/trees.csv"/><instance id="health"><root><item><name>good</name><label>Good</label></item><item><name>poor</name><label>Poor</label></item></root></instance><bind nodeset="/data/tree" type="string" required="true()"/><bind nodeset="/data/circumference" type="int" required="true()" entities:saveto="circumference"/><bind nodeset="/data/health" type="string" entities:saveto="health"/><bind nodeset="/data/meta/entity/@baseVersion" calculate="instance('trees')/root/item[name= /data/tree ]/__version" readonly="true()" type="string"/><bind nodeset="/data/meta/entity/@trunkVersion" calculate="instance('trees')/root/item[name= /data/tree ]/__trunkVersion" readonly="true()" type="string"/><bind nodeset="/data/meta/entity/@branchId" calculate="instance('trees')/root/item[name= /data/tree ]/__branchId" readonly="true()" type="string"/><bind nodeset="/data/meta/entity/@id" readonly="true()" type="string" calculate=" /data/tree "/><bind nodeset="/data/meta/entity/label" calculate="concat(&quot;Tree &quot;,  /data/circumference )" readonly="true()" type="string"/><bind nodeset="/data/meta/instanceID" type="string" readonly="true()" jr:preload="uid"/></model></h:head><h:body><select1 ref="/data/tree"><label>Tree</label><itemset nodeset="instance('trees')/root/item"><value ref="name"/><label ref="label"/></itemset></select1><input ref="/data/circumference"><label>New circumference</label></input><select1 ref="/data/health"><label>Health</label><itemset nodeset="instance('health')/root/item"><value ref="name"/><label ref="label"/></itemset></select1></h:body></h:html>
    """#

/// `precondition` that keeps its message in `-O` builds (which drop precondition messages).
private func require(_ condition: Bool, _ message: @autoclosure () -> String = "") {
    if !condition { fatalError(message()) }
}
