/// Reads an XForm (the XML Central and Collect exchange, e.g. made by pyxform) into an `XForm`.
///
/// Parses for real, with `ODKXMLReader`: the primary instance gives the form id, version and
/// the data tree; binds give types, `required`, `calculate` and entity `saveto`; the body
/// gives controls, groups, repeats, labels and choices; secondary instances and itext give
/// choices and media files. Anything FieldSync can't honour is refused with a typed
/// `ODKError` naming what and where, rather than half-understood.
public enum XFormParser {
    /// Parses an XForm's bytes.
    public static func parse(_ bytes: [UInt8], limits: ODKLimits = .default) throws(ODKError) -> XForm {
        let html = try ODKXMLReader.parse(bytes, limits: limits)
        return try parse(document: html)
    }

    /// Reads an already parsed document (its root element).
    public static func parse(document html: ODKXMLElement) throws(ODKError) -> XForm {
        var reader = Reader()
        return try reader.read(html)
    }
}

/// Bind attributes that matter to FieldSync, merged over every bind of one nodeset.
struct BindInfo {
    var type: String?
    var required: String?
    var readonly: String?
    var calculate: String?
    var saveTo: String?
    var relevant: String?
    var line: Int
}

/// One body control.
struct ControlInfo {
    var tag: String
    var label: String?
    var choices: XFormChoices
    var line: Int
}

private struct Reader {
    let X = ODKNamespace.xforms
    let H = ODKNamespace.xhtml
    var rootName = ""
    /// Paths of the primary instance (elements and `@attributes`), in document order.
    var nodeOrder: [String] = []
    var leaves: Set<String> = []
    var nodes: Set<String> = []
    var binds: [String: BindInfo] = [:]
    var controls: [String: ControlInfo] = [:]
    var groups: [XFormGroup] = []
    var itextDefault: [String: String] = [:]
    var inlineInstances: [String: [ODKXMLElement]] = [:]
    var externalInstances: [String: String] = [:]
    var media: [XFormMediaFile] = []

    mutating func read(_ html: ODKXMLElement) throws(ODKError) -> XForm {
        guard html.name == "html", html.namespace == H else {
            throw ODKError(
                .invalidXForm, "an XForm's root must be <h:html> in \(H), found <\(html.name)> in \"\(html.namespace)\"", at: "line \(html.line)")
        }
        guard let head = html.child("head", namespace: H) else {
            throw ODKError(.invalidXForm, "the XForm has no <h:head>", at: "/h:html")
        }
        guard let model = head.child("model", namespace: X) else {
            throw ODKError(.invalidXForm, "the XForm has no <model> in its <h:head>", at: "/h:html/h:head")
        }
        for submission in model.children("submission", namespace: X) {
            if let key = submission.attribute("base64RsaPublicKey"), !key.isEmpty {
                throw ODKError(
                    .encryptedForm,
                    "the form is encrypted (<submission base64RsaPublicKey>): FieldSync must read answers to merge and check them, so encrypted forms are not supported",
                    at: "/h:html/h:head/model/submission (line \(submission.line))")
            }
        }
        let instances = model.children("instance", namespace: X)
        guard let primary = instances.first else {
            throw ODKError(.invalidXForm, "the model has no <instance>", at: "/h:html/h:head/model")
        }
        let primaryRoots = primary.children
        guard primaryRoots.count == 1, let root = primaryRoots.first else {
            throw ODKError(
                .invalidXForm, "the primary instance must have exactly one root element, it has \(primaryRoots.count)",
                at: "/h:html/h:head/model/instance (line \(primary.line))")
        }
        rootName = root.name
        let formID = (root.attribute("id") ?? "").trimmed
        guard !formID.isEmpty else {
            throw ODKError(
                .invalidXForm, "the primary instance's root <\(root.name)> has no id attribute: every XForm needs a form id",
                at: "/h:html/h:head/model/instance/\(root.name) (line \(root.line))")
        }
        guard formID.unicodeScalars.allSatisfy({ $0.value >= 0x20 }) else {
            throw ODKError(.invalidXForm, "the form id contains control characters", at: "/h:html/h:head/model/instance/\(root.name)@id")
        }
        let versionText = (root.attribute("version") ?? "").trimmed
        walkInstance(root, path: "")
        for instance in instances.dropFirst() {
            try readSecondary(instance)
        }
        if let itext = model.child("itext", namespace: X) { readItext(itext) }
        for bind in model.children("bind", namespace: X) { try readBind(bind) }
        if let body = html.child("body", namespace: H) {
            try walkBody(body.children, context: "", repeats: [])
        }
        let repeatPaths = groups.filter(\.isRepeat).map(\.path)
        var questions: [XFormQuestion] = []
        for path in nodeOrder where leaves.contains(path) && !path.hasPrefix("meta/") && path != "meta" && !path.contains("@") {
            let bind = binds[path]
            let control = controls[path]
            questions.append(try question(path: path, bind: bind, control: control, repeatPaths: repeatPaths))
        }
        for (path, control) in controls where !leaves.contains(path) {
            throw ODKError(
                .invalidXForm, "the <\(control.tag)> control's ref names no leaf of the primary instance",
                at: "/\(rootName)/\(path) (line \(control.line))")
        }
        let entity = try readEntity(root: root, model: model, questions: questions)
        let title = (head.child("title", namespace: H)?.allText ?? "").trimmed
        return XForm(
            formID: formID, version: versionText.isEmpty ? nil : versionText,
            title: title.isEmpty ? formID : title, rootName: rootName, questions: questions,
            groups: groups, mediaFiles: media, entity: entity)
    }

    // MARK: primary instance

    mutating func walkInstance(_ element: ODKXMLElement, path: String) {
        for attribute in element.attributes where attribute.namespace.isEmpty && !path.isEmpty {
            let p = "\(path)/@\(attribute.name)"
            if nodes.insert(p).inserted { nodeOrder.append(p) }
        }
        for child in element.children {
            let p = path.isEmpty ? child.name : "\(path)/\(child.name)"
            if nodes.insert(p).inserted { nodeOrder.append(p) }
            if child.children.isEmpty { leaves.insert(p) }
            walkInstance(child, path: p)
        }
        // A repeat's template and its first instance name the same path; a path with
        // children anywhere is a group, not a leaf.
        for child in element.children where !child.children.isEmpty {
            leaves.remove(path.isEmpty ? child.name : "\(path)/\(child.name)")
        }
    }

    /// `/data/a/b` → `a/b`; a relative ref resolves against `context`.
    func resolve(_ ref: String, context: String, at line: Int) throws(ODKError) -> String {
        let r = ref.trimmed
        var path: String
        if r.hasPrefix("/") {
            let prefix = "/\(rootName)"
            guard r == prefix || r.hasPrefix(prefix + "/") else {
                throw ODKError(.invalidXForm, "the reference \"\(r)\" is outside the primary instance /\(rootName)", at: "line \(line)")
            }
            path = String(r.dropFirst(prefix.count))
            if path.hasPrefix("/") { path.removeFirst() }
        } else {
            path = context.isEmpty ? r : "\(context)/\(r)"
        }
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        for s in segments where s.isEmpty || s == "." || s == ".." || s.contains(where: { "[]()*=' \"".contains($0) }) {
            throw ODKError(
                .unsupportedXForm, "the reference \"\(r)\" is not a plain path (predicates, wildcards and relative steps are not supported)",
                at: "line \(line)")
        }
        return path
    }

    // MARK: model

    mutating func readSecondary(_ instance: ODKXMLElement) throws(ODKError) {
        guard let id = instance.attribute("id"), !id.isEmpty else {
            throw ODKError(.invalidXForm, "a secondary <instance> has no id", at: "line \(instance.line)")
        }
        if let src = instance.attribute("src") {
            if let file = mediaFile(src, instanceID: id) {
                externalInstances[id] = file.filename
                addMedia(file)
            } else {
                externalInstances[id] = src
            }
            return
        }
        inlineInstances[id] = instance.children.first?.children ?? []
    }

    func mediaFile(_ uri: String, instanceID: String?) -> XFormMediaFile? {
        let u = uri.trimmed
        let kinds: [(String, XFormMediaFile.Kind)] = [
            ("jr://images/", .image), ("jr://audio/", .audio), ("jr://video/", .video),
            ("jr://file-csv/", .csv), ("jr://file/", .file),
        ]
        for (prefix, kind) in kinds where u.hasPrefix(prefix) {
            let name = String(u.dropFirst(prefix.count))
            guard !name.isEmpty else { return nil }
            return XFormMediaFile(filename: name, kind: kind, instanceID: instanceID)
        }
        return nil
    }

    mutating func addMedia(_ file: XFormMediaFile) {
        guard !media.contains(where: { $0.filename == file.filename }) else { return }
        media.append(file)
    }

    mutating func readItext(_ itext: ODKXMLElement) {
        let translations = itext.children("translation", namespace: X)
        let def = translations.first { ($0.attribute("default") ?? "").hasPrefix("true") } ?? translations.first
        for translation in translations {
            for text in translation.children("text", namespace: X) {
                guard let id = text.attribute("id") else { continue }
                for value in text.children("value", namespace: X) {
                    let form = value.attribute("form")
                    if let form, form != "short", form != "long", form != "guidance" {
                        if let file = mediaFile(value.allText, instanceID: nil) { addMedia(file) }
                    } else if form == nil, translation == def, itextDefault[id] == nil {
                        itextDefault[id] = value.allText.trimmed
                    }
                }
            }
        }
    }

    mutating func readBind(_ bind: ODKXMLElement) throws(ODKError) {
        guard let nodeset = bind.attribute("nodeset") else {
            throw ODKError(.invalidXForm, "a <bind> has no nodeset", at: "line \(bind.line)")
        }
        let path = try resolve(nodeset, context: "", at: bind.line)
        guard nodes.contains(path) else {
            throw ODKError(.invalidXForm, "the bind's nodeset \"\(nodeset)\" names no node of the primary instance", at: "line \(bind.line)")
        }
        var info = binds[path] ?? BindInfo(line: bind.line)
        info.type = bind.attribute("type") ?? info.type
        info.required = bind.attribute("required") ?? info.required
        info.readonly = bind.attribute("readonly") ?? info.readonly
        info.calculate = bind.attribute("calculate") ?? info.calculate
        info.saveTo = bind.attribute("saveto", namespace: ODKNamespace.entities) ?? info.saveTo
        info.relevant = bind.attribute("relevant") ?? info.relevant
        binds[path] = info
    }

    // MARK: body

    mutating func walkBody(_ elements: [ODKXMLElement], context: String, repeats: [String]) throws(ODKError) {
        for e in elements {
            switch (e.namespace, e.name) {
            case (X, "group"):
                if let ref = e.attribute("ref") {
                    let path = try resolve(ref, context: context, at: e.line)
                    groups.append(XFormGroup(path: path, isRepeat: false, label: label(of: e)))
                    try walkBody(e.children, context: path, repeats: repeats)
                } else {
                    try walkBody(e.children, context: context, repeats: repeats)
                }
            case (X, "repeat"):
                guard let nodeset = e.attribute("nodeset") else {
                    throw ODKError(.invalidXForm, "a <repeat> has no nodeset", at: "line \(e.line)")
                }
                let path = try resolve(nodeset, context: context, at: e.line)
                guard nodes.contains(path) else {
                    throw ODKError(.invalidXForm, "the repeat's nodeset \"\(nodeset)\" names no node of the primary instance", at: "line \(e.line)")
                }
                if let i = groups.lastIndex(where: { $0.path == path && !$0.isRepeat }) {
                    groups[i].isRepeat = true
                } else {
                    groups.append(XFormGroup(path: path, isRepeat: true, label: label(of: e)))
                }
                try walkBody(e.children, context: path, repeats: repeats + [path])
            case (X, "input"), (X, "select1"), (X, "select"), (X, "upload"), (X, "trigger"), (X, "range"):
                guard let ref = e.attribute("ref") ?? e.attribute("bind") else {
                    throw ODKError(.invalidXForm, "a <\(e.name)> control has no ref", at: "line \(e.line)")
                }
                let path = try resolve(ref, context: context, at: e.line)
                let choices = (e.name == "select1" || e.name == "select") ? try readChoices(e) : .none
                controls[path] = ControlInfo(tag: e.name, label: label(of: e), choices: choices, line: e.line)
            case (X, "label"), (X, "hint"), (X, "setvalue"), (X, "help"), (ODKNamespace.odk, "setgeopoint"):
                continue
            case (H, _):
                try walkBody(e.children, context: context, repeats: repeats)
            default:
                throw ODKError(.unsupportedXForm, "the body element <\(e.name)> (\(e.namespace)) is not supported", at: "line \(e.line)")
            }
        }
    }

    func label(of e: ODKXMLElement) -> String? {
        guard let label = e.child("label", namespace: X) else { return nil }
        if let ref = label.attribute("ref"), let id = itextID(ref) { return itextDefault[id] }
        let text = label.allText.trimmed
        return text.isEmpty ? nil : text
    }

    /// `jr:itext('id')` → `id`.
    func itextID(_ ref: String) -> String? {
        let r = ref.trimmed
        guard r.hasPrefix("jr:itext("), r.hasSuffix(")") else { return nil }
        let inner = r.dropFirst(9).dropLast().trimming("'\" ")
        return inner.isEmpty ? nil : inner
    }

    func readChoices(_ select: ODKXMLElement) throws(ODKError) -> XFormChoices {
        var list: [XFormChoice] = []
        for item in select.children("item", namespace: X) {
            guard let value = item.child("value", namespace: X)?.allText.trimmed, !value.isEmpty else {
                throw ODKError(.invalidXForm, "an <item> of a select has no value", at: "line \(item.line)")
            }
            list.append(XFormChoice(value: value, label: label(of: item)))
        }
        guard let itemset = select.child("itemset", namespace: X) else { return .list(list) }
        let nodeset = itemset.attribute("nodeset") ?? ""
        guard let id = instanceName(nodeset) else { return .dynamic(nodeset: nodeset) }
        if let file = externalInstances[id] { return .external(instanceID: id, file: file) }
        guard let items = inlineInstances[id] else {
            throw ODKError(.invalidXForm, "the itemset names instance('\(id)'), which the model does not have", at: "line \(itemset.line)")
        }
        let valueRef = itemset.child("value", namespace: X)?.attribute("ref") ?? "name"
        let labelRef = itemset.child("label", namespace: X)?.attribute("ref") ?? "label"
        for item in items {
            guard let value = item.children.first(where: { $0.name == valueRef })?.allText.trimmed, !value.isEmpty else { continue }
            var text: String?
            if let id = itextID(labelRef).flatMap({ ref in item.children.first { $0.name == ref }?.allText.trimmed }) {
                text = itextDefault[id]
            } else {
                text = item.children.first { $0.name == labelRef }?.allText.trimmed
            }
            list.append(XFormChoice(value: value, label: text))
        }
        return .list(list)
    }

    /// `instance('water')/root/item[...]` → `water`.
    func instanceName(_ nodeset: String) -> String? {
        let s = nodeset.trimmed
        guard s.hasPrefix("instance(") else { return nil }
        let rest = s.dropFirst(9)
        guard let q = rest.first, q == "'" || q == "\"" else { return nil }
        let name = rest.dropFirst().prefix { $0 != q }
        return name.isEmpty ? nil : String(name)
    }

    // MARK: questions

    func question(path: String, bind: BindInfo?, control: ControlInfo?, repeatPaths: [String]) throws(ODKError) -> XFormQuestion {
        let written = bind?.type ?? "string"
        var type = written
        for prefix in ["xsd:", "xs:"] where type.hasPrefix(prefix) { type = String(type.dropFirst(prefix.count)) }
        let kind: XFormQuestionKind
        switch (control?.tag, type) {
        case ("select1", _): kind = .select1
        case ("select", _): kind = .select
        case ("upload", _), (_, "binary"): kind = .binary
        case (_, "string"), (_, "select1"), (_, "select"): kind = .string
        case (_, "int"), (_, "integer"): kind = .int
        case (_, "decimal"): kind = .decimal
        case (_, "date"): kind = .date
        case (_, "geopoint"): kind = .geopoint
        case (_, "dateTime"): kind = .dateTime
        case (_, "time"): kind = .time
        case (_, "barcode"): kind = .barcode
        default:
            throw ODKError(
                .unsupportedXForm,
                "the question \(path) has type \"\(written)\", which FieldSync does not support (supported: string, int, decimal, date, select1, select, geopoint, dateTime, time, barcode, binary)",
                at: "/\(rootName)/\(path)")
        }
        let requiredText = (bind?.required ?? "").trimmed
        let repeats = repeatPaths.filter { path.hasPrefix($0 + "/") }.sorted { $0.count < $1.count }
        // A question (or a group around it) that may be non-relevant is sent empty by
        // Collect even when required: only an always-relevant required question must be answered.
        var conditional = false
        var p = Substring(path)
        while true {
            if let r = binds[String(p)]?.relevant?.trimmed, !r.isEmpty, r != "true()" { conditional = true }
            guard let slash = p.lastIndex(of: "/") else { break }
            p = p[..<slash]
        }
        let required = requiredText == "true()" && !conditional
        return XFormQuestion(
            path: path, kind: kind, xformType: written, required: required,
            requiredExpression: required || requiredText.isEmpty || requiredText == "false()" ? nil : requiredText,
            relevant: binds[path]?.relevant,
            label: control?.label, choices: control?.choices ?? .none,
            repeatPath: repeats.last, repeatPaths: repeats, calculate: bind?.calculate,
            readonly: (bind?.readonly ?? "").trimmed == "true()", saveTo: bind?.saveTo)
    }

    // MARK: entities

    func readEntity(root: ODKXMLElement, model: ODKXMLElement, questions: [XFormQuestion]) throws(ODKError) -> XFormEntityDeclaration? {
        let saving = questions.filter { $0.saveTo != nil }
        let meta = root.children.first { $0.name == "meta" }
        let entity = meta?.children.first { $0.name == "entity" && ($0.namespace == X || $0.namespace == ODKNamespace.entities) }
        guard let entity else {
            if let q = saving.first {
                throw ODKError(
                    .invalidXForm, "the question \(q.path) is saved to an entity property (entities:saveto) but the form declares no meta/entity",
                    at: "/\(rootName)/\(q.path)")
            }
            for (path, bind) in binds where bind.saveTo != nil {
                throw ODKError(.invalidXForm, "entities:saveto on \(path), which is not a question", at: "/\(rootName)/\(path)")
            }
            return nil
        }
        let at = "/\(rootName)/meta/entity"
        guard let dataset = entity.attribute("dataset")?.trimmed, !dataset.isEmpty else {
            throw ODKError(.invalidXForm, "meta/entity has no dataset (the entity list it writes to)", at: at)
        }
        guard !dataset.hasPrefix("__"), !dataset.contains(".") || !dataset.hasPrefix(".") else {
            throw ODKError(.invalidXForm, "the entity list name \"\(dataset)\" is not allowed (it may not start with __ or .)", at: "\(at)@dataset")
        }
        func flag(_ name: String) -> (Bool, String?) {
            let calc = binds["meta/entity/@\(name)"]?.calculate
            if let calc, !calc.trimmed.isEmpty { return (true, calc) }
            guard let v = entity.attribute(name)?.trimmed else { return (false, nil) }
            return (v == "1" || v == "true" || v == "true()", nil)
        }
        let (creates, createExpression) = flag("create")
        let (updates, updateExpression) = flag("update")
        guard creates || updates else {
            throw ODKError(.invalidXForm, "meta/entity neither creates nor updates (no create or update attribute)", at: at)
        }
        for (path, bind) in binds where bind.saveTo != nil && !questions.contains(where: { $0.path == path }) {
            throw ODKError(.invalidXForm, "entities:saveto on \(path), which is not a question", at: "/\(rootName)/\(path)")
        }
        var properties: [XFormEntityProperty] = []
        for q in saving {
            let name = (q.saveTo ?? "").trimmed
            guard XFormEntityProperty.isValidName(name) else {
                throw ODKError(
                    .invalidXForm,
                    "\"\(name)\" can't be an entity property name (not empty, name, label, or starting with __; no spaces, commas or quotes)",
                    at: "/\(rootName)/\(q.path)")
            }
            guard q.repeatPath == nil else {
                throw ODKError(
                    .unsupportedXForm, "the question \(q.path) inside a repeat is saved to an entity property: one submission makes one entity",
                    at: "/\(rootName)/\(q.path)")
            }
            guard !properties.contains(where: { $0.name == name }) else {
                throw ODKError(.invalidXForm, "two questions are saved to the entity property \(name)", at: "/\(rootName)/\(q.path)")
            }
            properties.append(XFormEntityProperty(name: name, questionPath: q.path))
        }
        return XFormEntityDeclaration(
            dataset: dataset, creates: creates, updates: updates,
            createExpression: createExpression, updateExpression: updateExpression,
            specVersion: model.attribute("entities-version", namespace: ODKNamespace.entities),
            properties: properties)
    }
}

extension StringProtocol {
    /// Without leading and trailing XML white space.
    var trimmed: String { trimming(" \t\n\r") }

    func trimming(_ set: String) -> String {
        let chars = Set(set.unicodeScalars)
        var s = Substring(self).unicodeScalars[...]
        while let f = s.first, chars.contains(f) { s.removeFirst() }
        while let l = s.last, chars.contains(l) { s.removeLast() }
        return String(String.UnicodeScalarView(s))
    }
}
