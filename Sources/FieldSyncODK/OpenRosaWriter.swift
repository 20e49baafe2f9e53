/// OpenRosa documents Collect reads, as bytes (UTF-8, every text XML-escaped).
///
/// Shapes follow the OpenRosa Form List API (`<xforms xmlns=…xformsList>` with one
/// `<xform>` per form), the Form Manifest (`<manifest xmlns=…xformsManifest>` with one
/// `<mediaFile>` per file; `type="entityList"` and `integrityUrl` as Central marks entity
/// lists) and the submission response (`<OpenRosaResponse xmlns=…/http/response>`).
public enum OpenRosaWriter {
    /// One form of a formList.
    public struct FormListEntry: Sendable, Hashable {
        public var formID: String
        public var name: String
        /// The form's version; written empty when nil, as servers do for unversioned forms.
        public var version: String?
        /// MD5 of the form's XML bytes as lower-case hex (written `md5:<hex>`).
        public var md5Hex: String
        public var downloadURL: String
        /// Present only when the form has media files or entity lists.
        public var manifestURL: String?
        public var descriptionText: String?

        public init(
            formID: String, name: String, version: String?, md5Hex: String, downloadURL: String,
            manifestURL: String? = nil, descriptionText: String? = nil
        ) {
            self.formID = formID
            self.name = name
            self.version = version
            self.md5Hex = md5Hex
            self.downloadURL = downloadURL
            self.manifestURL = manifestURL
            self.descriptionText = descriptionText
        }
    }

    /// One file of a manifest.
    public struct MediaFileEntry: Sendable, Hashable {
        public var filename: String
        public var md5Hex: String
        public var downloadURL: String
        /// True for an entity list CSV (Collect then keeps entities offline).
        public var isEntityList: Bool
        /// Central's integrity URL of an entity list, when the server offers it.
        public var integrityURL: String?

        public init(filename: String, md5Hex: String, downloadURL: String, isEntityList: Bool = false, integrityURL: String? = nil) {
            self.filename = filename
            self.md5Hex = md5Hex
            self.downloadURL = downloadURL
            self.isEntityList = isEntityList
            self.integrityURL = integrityURL
        }
    }

    /// The `nature` of a response message.
    public enum Nature: String, Sendable, Hashable {
        case submitSuccess = "submit_success"
        case error
    }

    static let declaration = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

    /// `GET …/formList`.
    public static func formList(_ forms: [FormListEntry]) -> [UInt8] {
        var s = declaration + "<xforms xmlns=\"\(ODKNamespace.formList)\">\n"
        for f in forms {
            s += "  <xform>\n"
            s += "    <formID>\(escape(f.formID))</formID>\n"
            s += "    <name>\(escape(f.name))</name>\n"
            s += "    <version>\(escape(f.version ?? ""))</version>\n"
            s += "    <hash>md5:\(escape(f.md5Hex))</hash>\n"
            if let d = f.descriptionText { s += "    <descriptionText>\(escape(d))</descriptionText>\n" }
            s += "    <downloadUrl>\(escape(f.downloadURL))</downloadUrl>\n"
            if let m = f.manifestURL { s += "    <manifestUrl>\(escape(m))</manifestUrl>\n" }
            s += "  </xform>\n"
        }
        s += "</xforms>\n"
        return Array(s.utf8)
    }

    /// `GET …/manifest`.
    public static func manifest(_ files: [MediaFileEntry]) -> [UInt8] {
        var s = declaration + "<manifest xmlns=\"\(ODKNamespace.manifest)\">\n"
        for f in files {
            s += f.isEntityList ? "  <mediaFile type=\"entityList\">\n" : "  <mediaFile>\n"
            s += "    <filename>\(escape(f.filename))</filename>\n"
            s += "    <hash>md5:\(escape(f.md5Hex))</hash>\n"
            s += "    <downloadUrl>\(escape(f.downloadURL))</downloadUrl>\n"
            if let i = f.integrityURL { s += "    <integrityUrl>\(escape(i))</integrityUrl>\n" }
            s += "  </mediaFile>\n"
        }
        s += "</manifest>\n"
        return Array(s.utf8)
    }

    /// The OpenRosa integrity document of an entity list: for each entity asked about that
    /// the server knows, whether it was deleted (Collect then drops deleted ones it holds).
    public static func integrity(_ entities: [(id: String, deleted: Bool)]) -> [UInt8] {
        var s = declaration + "<data>\n  <entities>\n"
        for e in entities {
            s += "    <entity id=\"\(escape(e.id))\">\n      <deleted>\(e.deleted ? "true" : "false")</deleted>\n    </entity>\n"
        }
        s += "  </entities>\n</data>\n"
        return Array(s.utf8)
    }

    /// The body of every submission answer (success and error), as Collect shows it.
    public static func response(_ message: String, nature: Nature) -> [UInt8] {
        Array(
            (declaration + "<OpenRosaResponse xmlns=\"\(ODKNamespace.openRosaResponse)\">\n"
                + "  <message nature=\"\(nature.rawValue)\">\(escape(message))</message>\n"
                + "</OpenRosaResponse>\n").utf8)
    }

    /// Escapes text for element content: `& < > " '` and CR (as `&#13;`); characters
    /// XML 1.0 does not allow (C0 controls but tab/LF/CR, U+FFFE/U+FFFF) become U+FFFD.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\r": out += "&#13;"  // a raw CR would be read back as LF
            case "\t", "\n": out.unicodeScalars.append(c)
            default:
                if c.value < 0x20 || c.value == 0xFFFE || c.value == 0xFFFF {
                    out.unicodeScalars.append("\u{FFFD}")
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        return out
    }
}
