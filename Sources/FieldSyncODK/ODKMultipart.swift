/// A strict, bounded `multipart/form-data` reader (RFC 7578 over RFC 2046) for Collect's
/// `POST /submission`: the whole body is in memory (already capped by the route), parts
/// are slices copied out, nothing is decoded beyond headers.
public enum ODKMultipart {
    /// One part.
    public struct Part: Sendable, Hashable {
        /// `name` of `Content-Disposition: form-data`.
        public var name: String
        /// `filename`, when the part is a file.
        public var filename: String?
        /// `Content-Type`, when sent.
        public var contentType: String?
        public var body: [UInt8]
    }

    /// The boundary of a `Content-Type: multipart/form-data; boundary=…` header value.
    public static func boundary(contentType: String) throws(ODKError) -> String {
        let pieces = contentType.split(separator: ";", omittingEmptySubsequences: false).map { $0.trimmed }
        guard let type = pieces.first, type.lowercased() == "multipart/form-data" else {
            throw ODKError(.invalidMultipart, "the Content-Type must be multipart/form-data, got \"\(contentType.prefix(80))\"", at: "Content-Type")
        }
        for p in pieces.dropFirst() {
            guard let eq = p.firstIndex(of: "=") else { continue }
            guard p[..<eq].trimmed.lowercased() == "boundary" else { continue }
            var v = p[p.index(after: eq)...].trimmed
            if v.count >= 2, v.hasPrefix("\""), v.hasSuffix("\"") { v = String(v.dropFirst().dropLast()) }
            guard (1...70).contains(v.utf8.count), v.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }), v.last != " " else {
                throw ODKError(.invalidMultipart, "the boundary must be 1 to 70 printable ASCII characters", at: "Content-Type")
            }
            return v
        }
        throw ODKError(.invalidMultipart, "the Content-Type has no boundary parameter", at: "Content-Type")
    }

    /// The parts of `body`, in order.
    public static func parse(_ body: [UInt8], boundary: String, limits: ODKLimits = .default) throws(ODKError) -> [Part] {
        guard body.count <= limits.maxMultipartBytes else {
            throw ODKError(.tooLarge, "the body is \(body.count) bytes, more than the limit of \(limits.maxMultipartBytes)")
        }
        let dash = Array("--\(boundary)".utf8)
        let delimiter = [0x0D, 0x0A] + dash
        let n = body.count
        // The first boundary: at the start, or after a preamble ending in CRLF.
        var i: Int
        if starts(body, dash, at: 0) {
            i = dash.count
        } else if let k = find(body, delimiter, from: 0) {
            i = k + delimiter.count
        } else {
            throw ODKError(.invalidMultipart, "the body has no boundary --\(boundary)")
        }
        var parts: [Part] = []
        while true {
            // After a boundary: "--" closes; else optional linear white space, then CRLF.
            if starts(body, [0x2D, 0x2D], at: i) { return parts }
            while i < n, body[i] == 0x20 || body[i] == 0x09 { i += 1 }
            guard starts(body, [0x0D, 0x0A], at: i) else {
                throw ODKError(.invalidMultipart, "a boundary line must end in CRLF", at: "part \(parts.count + 1)")
            }
            i += 2
            guard parts.count < limits.maxParts else {
                throw ODKError(.tooLarge, "more than \(limits.maxParts) parts")
            }
            let location = "part \(parts.count + 1)"
            guard !starts(body, [0x0D, 0x0A], at: i) else {
                throw ODKError(.invalidMultipart, "the part has no headers (Content-Disposition is required)", at: location)
            }
            guard let headerEnd = find(body, [0x0D, 0x0A, 0x0D, 0x0A], from: i, limit: limits.maxPartHeaderBytes) else {
                throw ODKError(
                    .invalidMultipart, "the part's headers do not end in an empty line within \(limits.maxPartHeaderBytes) bytes", at: location)
            }
            let headers = Array(body[i..<headerEnd])
            let contentStart = headerEnd + 4
            guard let end = find(body, delimiter, from: contentStart) else {
                throw ODKError(.invalidMultipart, "the part is not closed by a boundary", at: location)
            }
            var part = try readHeaders(headers, at: location)
            part.body = Array(body[contentStart..<end])
            parts.append(part)
            i = end + delimiter.count
        }
    }

    static func readHeaders(_ bytes: [UInt8], at location: String) throws(ODKError) -> Part {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ODKError(.invalidMultipart, "the part's headers are not UTF-8", at: location)
        }
        var name: String?
        var filename: String?
        var contentType: String?
        for line in text.split(separator: "\r\n", omittingEmptySubsequences: false) where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else {
                throw ODKError(.invalidMultipart, "a part header line has no colon", at: location)
            }
            let key = line[..<colon].trimmed.lowercased()
            let value = line[line.index(after: colon)...].trimmed
            switch key {
            case "content-disposition":
                let params = try parameters(value, at: location)
                guard params.first?.0 == "form-data" else {
                    throw ODKError(.invalidMultipart, "the part's Content-Disposition must be form-data", at: location)
                }
                name = params.first { $0.0 == "name" }?.1
                filename = params.first { $0.0 == "filename" }?.1
            case "content-type":
                contentType = value
            default:
                continue
            }
        }
        guard let name, !name.isEmpty else {
            throw ODKError(.invalidMultipart, "the part has no Content-Disposition name", at: location)
        }
        return Part(name: name, filename: filename, contentType: contentType, body: [])
    }

    /// `form-data; name="a"; filename="b"` → [("form-data",""), ("name","a"), ("filename","b")].
    static func parameters(_ value: String, at location: String) throws(ODKError) -> [(String, String)] {
        var out: [(String, String)] = []
        let s = Array(value.unicodeScalars)
        var i = 0
        func skipSpace() { while i < s.count, s[i] == " " || s[i] == "\t" { i += 1 } }
        var first = true
        while i < s.count {
            skipSpace()
            var key = ""
            while i < s.count, s[i] != "=", s[i] != ";" { key.unicodeScalars.append(s[i]); i += 1 }
            key = key.trimmed.lowercased()
            var val = ""
            if i < s.count, s[i] == "=" {
                i += 1
                skipSpace()
                if i < s.count, s[i] == "\"" {
                    i += 1
                    var closed = false
                    while i < s.count {
                        if s[i] == "\\", i + 1 < s.count, s[i + 1] == "\"" || s[i + 1] == "\\" {
                            val.unicodeScalars.append(s[i + 1]); i += 2; continue
                        }
                        if s[i] == "\"" { closed = true; i += 1; break }
                        val.unicodeScalars.append(s[i]); i += 1
                    }
                    guard closed else { throw ODKError(.invalidMultipart, "an unterminated quoted parameter in Content-Disposition", at: location) }
                    skipSpace()
                } else {
                    while i < s.count, s[i] != ";" { val.unicodeScalars.append(s[i]); i += 1 }
                    val = val.trimmed
                }
            } else if !first {
                throw ODKError(.invalidMultipart, "the Content-Disposition parameter \"\(key.prefix(40))\" has no value", at: location)
            }
            out.append((key, val))
            first = false
            if i < s.count {
                guard s[i] == ";" else { throw ODKError(.invalidMultipart, "garbage after a Content-Disposition parameter", at: location) }
                i += 1
            }
        }
        return out
    }

    static func starts(_ b: [UInt8], _ p: [UInt8], at k: Int) -> Bool {
        guard k >= 0, p.count <= b.count - k else { return false }
        for j in 0..<p.count where b[k + j] != p[j] { return false }
        return true
    }

    /// The first index ≥ `from` where `p` occurs, looking at most `limit` bytes ahead.
    static func find(_ b: [UInt8], _ p: [UInt8], from: Int, limit: Int = .max) -> Int? {
        guard let first = p.first, from >= 0 else { return nil }
        let last = b.count - p.count
        guard from <= last else { return nil }
        let stop = limit >= last - from ? last : from + limit
        var k = from
        while k <= stop {
            if b[k] == first, starts(b, p, at: k) { return k }
            k += 1
        }
        return nil
    }
}

/// What Collect posts to `/submission`: the instance XML, its attachments, and whether
/// more POSTs follow (`*isIncomplete*`, when attachments don't fit in one request).
public struct ODKSubmissionUpload: Sendable, Hashable {
    /// The bytes of `xml_submission_file`.
    public var xml: [UInt8]
    /// Attachments: every other part with a file name, by that name.
    public var attachments: [ODKMultipart.Part]
    /// True when the part `*isIncomplete*` is present: the client sends more attachments later.
    public var isIncomplete: Bool

    /// Reads the parts: exactly one `xml_submission_file`, attachment file names that are
    /// plain names (no path, no control characters, at most 255 bytes), each once.
    public init(parts: [ODKMultipart.Part]) throws(ODKError) {
        let xmlParts = parts.filter { $0.name == "xml_submission_file" }
        guard xmlParts.count == 1, let xmlPart = xmlParts.first else {
            throw ODKError(
                .invalidMultipart,
                xmlParts.isEmpty ? "the body has no xml_submission_file part" : "the body has \(xmlParts.count) xml_submission_file parts",
                at: "xml_submission_file")
        }
        xml = xmlPart.body
        isIncomplete = parts.contains { $0.name == "*isIncomplete*" }
        var seen = Set<String>()
        var files: [ODKMultipart.Part] = []
        for (k, p) in parts.enumerated() where p.name != "xml_submission_file" && p.name != "*isIncomplete*" {
            guard let name = p.filename else { continue }
            guard Self.isPlainFileName(name) else {
                throw ODKError(.invalidMultipart, "the attachment file name \"\(name.prefix(80))\" is not a plain file name", at: "part \(k + 1)")
            }
            guard seen.insert(name).inserted else {
                throw ODKError(.invalidMultipart, "the attachment \(name) is sent twice", at: "part \(k + 1)")
            }
            files.append(p)
        }
        attachments = files
    }

    /// Parses a body and its `Content-Type`.
    public init(body: [UInt8], contentType: String, limits: ODKLimits = .default) throws(ODKError) {
        let boundary = try ODKMultipart.boundary(contentType: contentType)
        try self.init(parts: ODKMultipart.parse(body, boundary: boundary, limits: limits))
    }

    static func isPlainFileName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 255 && name != "." && name != ".."
            && name.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0 != "/" && $0 != "\\" && $0.value != 0x7F }
    }
}
