import FieldSyncCore
import Foundation
import HTTPTypes
import Testing

/// ODK Collect's side of the wire (issue 14), as Collect does it: an XForm pyxform made,
/// uploaded by an admin; an app user's server URL; formList, download, HEAD then POST of
/// multipart submissions, split over two POSTs; resends, edits and bad input.
@Suite("ODK Collect: OpenRosa")
struct OpenRosaTests {
    static let xformURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("FieldSyncODKTests/Fixtures/xlsforms/household_survey.xml")

    static func multipart(_ parts: [(name: String, filename: String?, type: String, body: [UInt8])], boundary: String) -> [UInt8] {
        var out: [UInt8] = []
        for p in parts {
            var head = "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(p.name)\""
            if let f = p.filename { head += "; filename=\"\(f)\"" }
            head += "\r\nContent-Type: \(p.type)\r\n\r\n"
            out += Array(head.utf8) + p.body + Array("\r\n".utf8)
        }
        out += Array("--\(boundary)--\r\n".utf8)
        return out
    }

    static func submission(instance: String, headName: String, members: String = "2", deprecated: String? = nil) -> [UInt8] {
        let meta = deprecated.map { "<deprecatedID>\($0)</deprecatedID>" } ?? ""
        return Array(
            """
            <?xml version="1.0"?><data xmlns:jr="http://openrosa.org/javarosa" id="household_survey" version="2026120301">\
            <head_name>\(headName)</head_name><members>\(members)</members><income>120.5</income><photo>house.jpg</photo>\
            <water_source>tap</water_source><assets>radio bike</assets><location>23.81 90.41 10 5</location>\
            <person><person_name>Amina</person_name><age>31</age></person><person><person_name>Karim</person_name><age>4</age></person>\
            <meta><instanceID>\(instance)</instanceID>\(meta)</meta></data>
            """.utf8)
    }

    @Test("an XForm from pyxform, an app user, formList, download, HEAD and a split POST, resend, edit, bad input")
    func collect() async throws {
        try await withTestApp { api in
            let f = try await Fixture.make(api)
            let admin = f.admin.token
            // A unit to file submissions under (an admin's write applies at once).
            let unit = UUID()
            let item: JSONValue = .object([
                "kind": .string("orgUnit"), "id": .string(unit.lowercased), "replica": .string(f.admin.device.lowercased), "counter": .number(1),
                "editedAt": .string("2026-12-03T08:00:00.000Z"), "changes": .object(["name": .string("Village A")]),
            ])
            _ = try await VersionedSyncTests.push(api, admin, f.admin.device, [item])

            let xform = try Array(Data(contentsOf: Self.xformURL))
            let xml: HTTPFields = [.contentType: "application/xml"]
            let upload = try await api.call(.post, "/v1/forms/xform?projectId=\(f.project.lowercased)", token: admin, raw: xform, headers: xml)
            #expect(upload.status == .created, "\(upload.text)")
            #expect(upload.json["formId"] == .string("household_survey"))
            #expect(upload.json["version"] == .string("2026120301"))
            #expect(upload.json["fields"]?.arrayValue?.contains { $0["name"] == .string("person[]/age") } == true)
            let again = try await api.call(.post, "/v1/forms/xform?projectId=\(f.project.lowercased)", token: admin, raw: xform, headers: xml)
            #expect(again.status == .ok && again.json["created"] == .bool(false), "\(again.text)")
            var changed = xform
            // "Household" → "Jousehold": other bytes, same version.
            if let k = changed.firstIndex(of: UInt8(ascii: "H")) { changed[k] = UInt8(ascii: "J") }
            #expect(
                try await api.call(.post, "/v1/forms/xform?projectId=\(f.project.lowercased)", token: admin, raw: changed, headers: xml).status
                    == .conflict)
            #expect(
                try await api.call(.post, "/v1/forms/xform?projectId=\(f.project.lowercased)", token: f.agent.token, raw: xform, headers: xml).status
                    == .forbidden)

            let app = try await api.call(
                .post, "/v1/app-users", token: admin,
                json: .object([
                    "projectId": .string(f.project.lowercased), "orgUnitIds": .array([.string(unit.lowercased)]),
                ]))
            #expect(app.status == .created, "\(app.text)")
            let key = try #require(app.json["key"]?.stringValue)
            let n = try #require(app.json["odkProjectId"]?.numberValue.map { Int($0) })
            #expect(app.json["serverUrl"]?.stringValue?.hasSuffix("/odk/v1/key/\(key)/projects/\(n)") == true)
            let qr = try #require(app.json["settingsQR"]?.stringValue.flatMap { Data(base64Encoded: $0) })
            #expect(qr.first == 0x78, "the QR's settings are zlib data")
            let base = "/odk/v1/key/\(key)/projects/\(n)"

            let list = try await api.call(.get, "\(base)/formList?deviceID=collect%3Aphone-1")
            #expect(list.status == .ok, "\(list.text)")
            #expect(list.headers[HTTPField.Name("X-OpenRosa-Version")!] == "1.0")
            #expect(list.headers[.contentType]?.contains("text/xml") == true)
            #expect(list.text.contains("<formID>household_survey</formID>") && list.text.contains("md5:"), "\(list.text)")
            let download = try await api.call(.get, "\(base)/forms/household_survey.xml")
            #expect(download.status == .ok && Array(buffer: download.body) == xform)
            #expect(try await api.call(.get, "\(base)/forms/household_survey/manifest").text.contains("manifest"))
            #expect(try await api.call(.get, "\(base)/forms/nothing.xml").status == .notFound)
            #expect(try await api.call(.get, "/odk/v1/key/\(key)/projects/\(n + 1000)/formList").status == .notFound)

            let head = try await api.call(.head, "\(base)/submission")
            #expect(head.status == .noContent)
            #expect(head.headers[HTTPField.Name("X-OpenRosa-Accept-Content-Length")!] != nil)

            // Split over two POSTs: the XML and `*isIncomplete*` first, the photo after.
            let instance = "uuid:\(UUID().lowercased)"
            let record = String(instance.dropFirst(5))
            let boundary = "b-\(UUID().lowercased)"
            let form: HTTPFields = [.contentType: "multipart/form-data; boundary=\(boundary)"]
            let photo = Array(repeating: UInt8(0xFF), count: 5000)
            let first = Self.multipart(
                [
                    ("xml_submission_file", "submission.xml", "text/xml", Self.submission(instance: instance, headName: "Rahim")),
                    ("*isIncomplete*", nil, "text/plain", Array("yes".utf8)),
                ], boundary: boundary)
            let r1 = try await api.call(.post, "\(base)/submission?deviceID=collect%3Aphone-1", raw: first, headers: form)
            #expect(r1.status == .created, "\(r1.text)")
            #expect(r1.text.contains("<OpenRosaResponse"))
            #expect(try await VersionedSyncTests.pullAll(api, admin).first { $0["id"] == .string(record) } == nil, "written before its photo arrived")
            let second = Self.multipart(
                [
                    ("xml_submission_file", "submission.xml", "text/xml", Self.submission(instance: instance, headName: "Rahim")),
                    ("house.jpg", "house.jpg", "image/jpeg", photo),
                ], boundary: boundary)
            let r2 = try await api.call(.post, "\(base)/submission?deviceID=collect%3Aphone-1", raw: second, headers: form)
            #expect(r2.status == .created, "\(r2.text)")
            var pulled = try #require(try await VersionedSyncTests.pulledRecord(api, admin, id: record))
            #expect(pulled["fields"]?["head_name"] == .string("Rahim"))
            #expect(pulled["fields"]?["person[2]/age"] == .number(4))
            #expect(pulled["fields"]?["assets"] == .array([.string("radio"), .string("bike")]))
            #expect(pulled["orgUnitId"] == .string(unit.lowercased))
            #expect(pulled["complete"] == .bool(true))
            let firstVersion = try #require(pulled["version"]?.objectValue)
            #expect(firstVersion.count == 1, "one write, of the phone's device: \(firstVersion)")

            // The same submission again: answered as stored; other XML under its instanceID: 409.
            #expect(try await api.call(.post, "\(base)/submission?deviceID=collect%3Aphone-1", raw: second, headers: form).status == .created)
            let other = Self.multipart(
                [("xml_submission_file", "submission.xml", "text/xml", Self.submission(instance: instance, headName: "Other"))],
                boundary: boundary)
            let clash = try await api.call(.post, "\(base)/submission?deviceID=collect%3Aphone-1", raw: other, headers: form)
            #expect(clash.status == .conflict && clash.text.contains("<OpenRosaResponse"), "\(clash.text)")

            // An edit: a new instanceID naming the edited one; the same record, a later write based on it.
            let edit = "uuid:\(UUID().lowercased)"
            let editBody = Self.multipart(
                [
                    (
                        "xml_submission_file", "submission.xml", "text/xml",
                        Self.submission(instance: edit, headName: "Rahim Uddin", deprecated: instance)
                    ),
                    ("house.jpg", "house.jpg", "image/jpeg", photo),
                ], boundary: boundary)
            let r3 = try await api.call(.post, "\(base)/submission?deviceID=collect%3Aphone-1", raw: editBody, headers: form)
            #expect(r3.status == .created, "\(r3.text)")
            pulled = try #require(try await VersionedSyncTests.pulledRecord(api, admin, id: record))
            #expect(pulled["fields"]?["head_name"] == .string("Rahim Uddin"))
            #expect(pulled["conflicts"] == nil, "an edit based on the version it edits is no conflict: \(pulled)")
            let replica = try #require(firstVersion.keys.first)
            #expect((pulled["version"]?[replica]?.numberValue ?? 0) > (firstVersion[replica]?.numberValue ?? 0))

            // Bad input: a clear 4xx, nothing written.
            let wrongType = Self.multipart(
                [
                    (
                        "xml_submission_file", "s.xml", "text/xml",
                        Self.submission(instance: "uuid:\(UUID().lowercased)", headName: "X", members: "many")
                    )
                ], boundary: boundary)
            let r4 = try await api.call(.post, "\(base)/submission", raw: wrongType, headers: form)
            #expect(r4.status == .unprocessableContent, "\(r4.text)")
            let bomb = Array(
                """
                <?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><data id="household_survey">&lol2;</data>
                """.utf8)
            let r5 = try await api.call(
                .post, "\(base)/submission", raw: Self.multipart([("xml_submission_file", "s.xml", "text/xml", bomb)], boundary: boundary),
                headers: form)
            #expect(r5.status == .badRequest, "\(r5.text)")
            let unknownForm = Array(#"<data id="no_such_form" version="1"><meta><instanceID>uuid:x</instanceID></meta></data>"#.utf8)
            let r6 = try await api.call(
                .post, "\(base)/submission", raw: Self.multipart([("xml_submission_file", "s.xml", "text/xml", unknownForm)], boundary: boundary),
                headers: form)
            #expect(r6.status == .unprocessableContent, "\(r6.text)")
            #expect(
                try await api.call(.post, "\(base)/submission", raw: Array("not multipart".utf8), headers: [.contentType: "text/plain"]).status
                    == .badRequest)
            #expect(try await api.call(.get, "/odk/v1/key/fs_not-a-key/projects/\(n)/formList").status == .unauthorized)
        }
    }
}
