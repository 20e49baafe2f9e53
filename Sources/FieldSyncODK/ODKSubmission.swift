import FieldSyncCore

/// A submission (a filled-in instance of an XForm, as Collect posts it), checked against its form.
public struct ODKSubmission: Sendable, Hashable {
    public var formID: String
    public var version: String?
    /// `meta/instanceID` as sent (`uuid:…`).
    public var instanceID: String
    /// `meta/deprecatedID`: the instanceID this submission edits, when it is an edit.
    public var deprecatedID: String?
    /// `meta/instanceName`, when the form computes one.
    public var instanceName: String?
    /// Answers keyed by the FieldSync field name (`XForm.fieldSyncFields`; rows of repeats
    /// numbered from 1: `person[2]/age`), typed as the protocol wants them: text, integer
    /// and decimal numbers, `YYYY-MM-DD`, a choice, an array of choices, a GeoJSON Point.
    /// Unanswered questions (empty elements) are absent.
    public var answers: [String: JSONValue]
    /// File names that binary questions (photos, audio, files) name: the attachments the
    /// submission needs, in form order.
    public var attachmentNames: [String]
    /// The entity block, when the form declares an entity and the submission creates or updates one.
    public var entity: ODKSubmissionEntity?
}

/// `<meta><entity dataset id create update baseVersion trunkVersion branchId><label>`.
public struct ODKSubmissionEntity: Sendable, Hashable {
    public var dataset: String
    /// The entity's UUID (lower case, without a `uuid:` prefix).
    public var id: String
    public var create: Bool
    public var update: Bool
    /// Central's integer version the device based an update on (nil when absent).
    public var baseVersion: Int?
    /// The version the device last had from the server, for offline chains of updates.
    public var trunkVersion: Int?
    /// Identifies a chain of offline updates by one device.
    public var branchId: String?
    /// `label`; nil when empty (an update that keeps the label).
    public var label: String?
    /// Saved properties (by `entities:saveto`), typed as the answers are.
    public var properties: [String: JSONValue]
    /// The same properties as the text the submission carried (what Central stores and
    /// an entity list CSV shows).
    public var propertyTexts: [String: String]
}

/// Reads and checks submissions against their `XForm`.
public enum ODKSubmissionParser {
    /// Form id, version and instanceID, read without a form: to find which form to check against.
    public struct Header: Sendable, Hashable {
        public var rootName: String
        public var formID: String
        public var version: String?
        public var instanceID: String
    }

    /// Parses the XML of a submission (`xml_submission_file`) safely; see `ODKXMLReader`.
    public static func document(_ bytes: [UInt8], limits: ODKLimits = .default) throws(ODKError) -> ODKXMLElement {
        try ODKXMLReader.parse(bytes, limits: limits)
    }

    /// The header of a parsed submission.
    public static func header(_ root: ODKXMLElement) throws(ODKError) -> Header {
        let formID = (root.attribute("id") ?? "").trimmed
        guard !formID.isEmpty else {
            throw ODKError(.invalidSubmission, "the submission's root <\(root.name)> has no id attribute (the form id)", at: "/\(root.name)")
        }
        let version = (root.attribute("version") ?? "").trimmed
        let instanceID = try metaText(root, "instanceID")
        guard let instanceID, !instanceID.isEmpty else {
            throw ODKError(.invalidSubmission, "the submission has no meta/instanceID", at: "/\(root.name)/meta/instanceID")
        }
        return Header(rootName: root.name, formID: formID, version: version.isEmpty ? nil : version, instanceID: instanceID)
    }

    /// Parses and checks a submission against `form`.
    public static func parse(_ bytes: [UInt8], form: XForm, limits: ODKLimits = .default) throws(ODKError) -> ODKSubmission {
        try parse(document: document(bytes, limits: limits), form: form)
    }

    /// Checks a parsed submission against `form`: root, form id and version, every answer's
    /// question, type and choices, required answers, and the entity block.
    public static func parse(document root: ODKXMLElement, form: XForm) throws(ODKError) -> ODKSubmission {
        let h = try header(root)
        guard root.name == form.rootName else {
            throw ODKError(
                .invalidSubmission, "the submission's root is <\(root.name)>, the form's instance root is <\(form.rootName)>", at: "/\(root.name)")
        }
        guard h.formID == form.formID else {
            throw ODKError(.invalidSubmission, "the submission is for form \"\(h.formID)\", not \"\(form.formID)\"", at: "/\(root.name)@id")
        }
        guard h.version == form.version else {
            throw ODKError(
                .invalidSubmission, "the submission is for version \"\(h.version ?? "")\" of \(form.formID), not \"\(form.version ?? "")\"",
                at: "/\(root.name)@version")
        }
        guard h.instanceID.count <= 256, h.instanceID.unicodeScalars.allSatisfy({ $0.value > 0x20 }) else {
            throw ODKError(
                .invalidSubmission, "meta/instanceID must be at most 256 characters without spaces or control characters",
                at: "/\(root.name)/meta/instanceID")
        }
        var walker = AnswerWalker(form: form)
        try walker.walk(root, path: "", location: "/\(root.name)", indices: [], rows: [])
        try walker.checkRequired(root: root.name)
        let deprecated = try metaText(root, "deprecatedID")
        let entity = try readEntity(root, form: form, answers: walker)
        return ODKSubmission(
            formID: h.formID, version: h.version, instanceID: h.instanceID,
            deprecatedID: deprecated.flatMap { $0.isEmpty ? nil : $0 },
            instanceName: try metaText(root, "instanceName").flatMap { $0.isEmpty ? nil : $0 },
            answers: walker.answers, attachmentNames: walker.attachments, entity: entity)
    }

    static func meta(_ root: ODKXMLElement) -> ODKXMLElement? {
        root.children.first { $0.name == "meta" }
    }

    static func metaText(_ root: ODKXMLElement, _ name: String) throws(ODKError) -> String? {
        guard let meta = meta(root) else { return nil }
        let found = meta.children.filter { $0.name == name }
        guard found.count <= 1 else {
            throw ODKError(.invalidSubmission, "meta/\(name) appears \(found.count) times", at: "/\(root.name)/meta/\(name)")
        }
        return found.first.map { $0.allText.trimmed }
    }

    static func readEntity(_ root: ODKXMLElement, form: XForm, answers: AnswerWalker) throws(ODKError) -> ODKSubmissionEntity? {
        let at = "/\(root.name)/meta/entity"
        let blocks = meta(root)?.children.filter { $0.name == "entity" } ?? []
        guard blocks.count <= 1 else { throw ODKError(.invalidSubmission, "meta/entity appears \(blocks.count) times", at: at) }
        guard let block = blocks.first else { return nil }
        guard let declared = form.entity else {
            throw ODKError(.invalidSubmission, "the submission has an entity block but form \(form.formID) declares no entity", at: at)
        }
        func flag(_ name: String) -> Bool {
            let v = (block.attribute(name) ?? "").trimmed
            return v == "1" || v == "true" || v == "true()"
        }
        let create = flag("create"), update = flag("update")
        guard create || update else { return nil }
        let dataset = (block.attribute("dataset") ?? "").trimmed
        guard dataset == declared.dataset else {
            throw ODKError(
                .invalidSubmission, "the entity block names dataset \"\(dataset)\", the form declares \"\(declared.dataset)\"", at: "\(at)@dataset")
        }
        if create && !declared.creates || update && !declared.updates {
            throw ODKError(
                .invalidSubmission, "the entity block \(create ? "creates" : "updates") an entity, which form \(form.formID) does not declare", at: at
            )
        }
        var idText = (block.attribute("id") ?? "").trimmed
        if idText.hasPrefix("uuid:") { idText.removeFirst(5) }
        guard let uuid = UUIDText.parse(idText) else {
            throw ODKError(.invalidField, "the entity id \"\(idText.prefix(60))\" is not a UUID", at: "\(at)@id")
        }
        func version(_ name: String) throws(ODKError) -> Int? {
            let v = (block.attribute(name) ?? "").trimmed
            guard !v.isEmpty else { return nil }
            guard v.count <= 18, v.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let n = Int(v), n >= 1 else {
                throw ODKError(.invalidField, "\(name) must be a positive whole number, got \"\(v.prefix(40))\"", at: "\(at)@\(name)")
            }
            return n
        }
        let baseVersion = try version("baseVersion")
        let trunkVersion = try version("trunkVersion")
        if update && !create && baseVersion == nil {
            throw ODKError(.invalidField, "an entity update needs baseVersion (the version the device edited)", at: "\(at)@baseVersion")
        }
        let branch = (block.attribute("branchId") ?? "").trimmed
        let labels = block.children.filter { $0.name == "label" }
        guard labels.count <= 1 else { throw ODKError(.invalidSubmission, "meta/entity/label appears \(labels.count) times", at: "\(at)/label") }
        let label = labels.first?.allText.trimmed ?? ""
        if create && !update && label.isEmpty {
            throw ODKError(.invalidField, "a new entity needs a label", at: "\(at)/label")
        }
        var properties: [String: JSONValue] = [:]
        var texts: [String: String] = [:]
        for property in declared.properties {
            if let v = answers.answers[property.questionPath] { properties[property.name] = v }
            if let t = answers.texts[property.questionPath] { texts[property.name] = t }
        }
        return ODKSubmissionEntity(
            dataset: dataset, id: uuid, create: create, update: update,
            baseVersion: baseVersion, trunkVersion: trunkVersion,
            branchId: branch.isEmpty ? nil : branch, label: label.isEmpty ? nil : label,
            properties: properties, propertyTexts: texts)
    }
}

/// UUID text checks without Foundation.
enum UUIDText {
    /// The canonical lower-case form of a 36-character UUID, or nil.
    static func parse(_ s: String) -> String? {
        let u = Array(s.utf8)
        guard u.count == 36 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(36)
        for (i, c) in u.enumerated() {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                guard c == 0x2D else { return nil }
                out.append(c)
            } else {
                switch c {
                case 0x30...0x39, 0x61...0x66: out.append(c)
                case 0x41...0x46: out.append(c + 0x20)
                default: return nil
                }
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
