import Testing

@testable import FieldSyncODK

/// Bodies shaped as Collect (OkHttp) sends `POST /submission`.
@Suite struct MultipartTests {
    static let boundary = "6f3c2a1e-9d8b-4c7a-b5e4-0a1b2c3d4e5f"

    static func body(_ parts: [(String, String?, String, [UInt8])], boundary: String = boundary) -> [UInt8] {
        var out: [UInt8] = []
        for (name, filename, type, bytes) in parts {
            var h = "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\""
            if let filename { h += "; filename=\"\(filename)\"" }
            h += "\r\nContent-Type: \(type)\r\nContent-Length: \(bytes.count)\r\n\r\n"
            out += Array(h.utf8) + bytes + Array("\r\n".utf8)
        }
        out += Array("--\(boundary)--\r\n".utf8)
        return out
    }

    static let xml = Array("<data id=\"f\"><meta><instanceID>uuid:1</instanceID></meta></data>".utf8)
    static let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 0x0D, 0x0A, 0x2D, 0x2D, 0x00, 0xFF, 0xD9]

    @Test func collectUpload() throws {
        let body = Self.body([
            ("xml_submission_file", "submission.xml", "text/xml", Self.xml),
            ("1764745200000.jpg", "1764745200000.jpg", "image/jpeg", Self.jpeg),
            ("*isIncomplete*", nil, "text/plain", Array("yes".utf8)),
        ])
        let upload = try ODKSubmissionUpload(body: body, contentType: "multipart/form-data; boundary=\(Self.boundary)")
        #expect(upload.xml == Self.xml)
        #expect(upload.attachments.map(\.filename) == ["1764745200000.jpg"])
        #expect(upload.attachments.first?.body == Self.jpeg)
        #expect(upload.attachments.first?.contentType == "image/jpeg")
        #expect(upload.isIncomplete)
        let quoted = try ODKMultipart.boundary(contentType: "Multipart/Form-Data; charset=utf-8; boundary=\"\(Self.boundary)\"")
        #expect(quoted == Self.boundary)
    }

    @Test func badBodies() {
        let ct = "multipart/form-data; boundary=\(Self.boundary)"
        let good = Self.body([("xml_submission_file", "s.xml", "text/xml", Self.xml)])
        var cases: [(String, [UInt8], String, ODKError.Code)] = [
            ("no boundary param", good, "multipart/form-data", .invalidMultipart),
            ("not multipart", good, "application/xml", .invalidMultipart),
            ("no boundary in body", Array("hello".utf8), ct, .invalidMultipart),
            ("unclosed", Array(good.dropLast(Self.boundary.count + 6)), ct, .invalidMultipart),
            ("no xml part", Self.body([("photo", "a.jpg", "image/jpeg", Self.jpeg)]), ct, .invalidMultipart),
            (
                "two xml parts",
                Self.body([("xml_submission_file", "s.xml", "text/xml", Self.xml), ("xml_submission_file", "t.xml", "text/xml", Self.xml)]), ct,
                .invalidMultipart
            ),
            (
                "path in file name",
                Self.body([("xml_submission_file", "s.xml", "text/xml", Self.xml), ("a", "../../etc/passwd", "image/jpeg", Self.jpeg)]), ct,
                .invalidMultipart
            ),
            (
                "same file twice",
                Self.body([
                    ("xml_submission_file", "s.xml", "text/xml", Self.xml), ("a", "a.jpg", "image/jpeg", Self.jpeg),
                    ("b", "a.jpg", "image/jpeg", Self.jpeg),
                ]), ct, .invalidMultipart
            ),
            ("no headers", Array("--\(Self.boundary)\r\n\r\nxx\r\n--\(Self.boundary)--".utf8), ct, .invalidMultipart),
            (
                "unterminated quote", Array("--\(Self.boundary)\r\nContent-Disposition: form-data; name=\"x\r\n\r\nxx\r\n--\(Self.boundary)--".utf8),
                ct, .invalidMultipart
            ),
        ]
        let header =
            "--\(Self.boundary)\r\nContent-Disposition: form-data; name=\"x\"\r\nX-Pad: " + String(repeating: "p", count: 10_000)
            + "\r\n\r\nv\r\n--\(Self.boundary)--"
        cases.append(("huge header", Array(header.utf8), ct, .invalidMultipart))
        for (what, body, type, code) in cases {
            let error = odkError { _ = try ODKSubmissionUpload(body: body, contentType: type) }
            #expect(error?.code == code, "\(what)")
        }
        let many = Self.body((0..<20).map { ("p\($0)", nil, "text/plain", [0x41]) })
        #expect(odkError { _ = try ODKMultipart.parse(many, boundary: Self.boundary, limits: ODKLimits(maxParts: 10)) }?.code == .tooLarge)
        let e = odkError { _ = try ODKMultipart.parse(good, boundary: Self.boundary, limits: ODKLimits(maxMultipartBytes: 10)) }
        #expect(e?.code == .tooLarge)
        #expect(e?.httpStatus == 413)
    }
}
