import FieldSyncCore

/// One entry of a FieldSync form version's `fields` (PROTOCOL.md, Administration).
public struct FieldSyncFieldDeclaration: Sendable, Hashable {
    /// The answer's key in an instance's `changes`: the question's path below the root,
    /// with `[]` after each enclosing repeat (`person[]/age`; answers say `person[2]/age`).
    public var name: String
    /// `text`, `integer`, `decimal`, `date`, `select_one`, `select_multiple` or `geopoint`.
    public var type: String
    public var required: Bool
    /// For `select_one`/`select_multiple`: the values allowed; empty otherwise.
    public var choices: [String]

    /// As `{"name","type","required"?,"choices"?}`.
    public var json: JSONValue {
        var o: [String: JSONValue] = ["name": .string(name), "type": .string(type)]
        if required { o["required"] = .bool(true) }
        if !choices.isEmpty { o["choices"] = .array(choices.map(JSONValue.string)) }
        return .object(o)
    }
}

extension XForm {
    /// The form version's `fields`, so the protocol's checks apply to its submissions.
    ///
    /// Mapping: string, dateTime, time, barcode and binary → `text`; int → `integer`;
    /// decimal → `decimal`; date → `date`; geopoint → `geopoint`; select1/select with
    /// known choices → `select_one`/`select_multiple` with those choices, and with choices
    /// known only on the device (a CSV or entity list) → `text` / `text` (space-separated
    /// values, as Collect sends them). `required` holds outside repeats only: the protocol's
    /// required check is on the field's exact name, and a repeat may have no row at all;
    /// `ODKSubmissionParser` checks required answers inside each repeat row.
    public var fieldSyncFields: [FieldSyncFieldDeclaration] {
        questions.map { q in
            var type: String
            var choices: [String] = []
            switch q.kind {
            case .string, .dateTime, .time, .barcode, .binary: type = "text"
            case .int: type = "integer"
            case .decimal: type = "decimal"
            case .date: type = "date"
            case .geopoint: type = "geopoint"
            case .select1, .select:
                if case .list(let list) = q.choices, !list.isEmpty {
                    type = q.kind == .select1 ? "select_one" : "select_multiple"
                    var seen = Set<String>()
                    choices = list.map(\.value).filter { seen.insert($0).inserted }
                } else {
                    type = "text"
                }
            }
            return FieldSyncFieldDeclaration(
                name: fieldName(q.path, repeats: q.repeatPaths, indices: nil), type: type,
                required: q.required && q.repeatPath == nil, choices: choices)
        }
    }

    /// `fieldSyncFields` as the JSON array `POST /v1/forms/{id}/versions` takes.
    public var fieldsJSON: JSONValue { .array(fieldSyncFields.map(\.json)) }
}

/// `person/age` inside repeat `person` → `person[]/age` (template) or `person[2]/age` (row 2).
func fieldName(_ path: String, repeats: [String], indices: [Int]?) -> String {
    guard !repeats.isEmpty else { return path }
    var out = ""
    var consumed = 0
    for (k, r) in repeats.enumerated() {
        let seg = r.dropFirst(consumed)
        out += seg
        out += indices.map { k < $0.count ? "[\($0[k])]" : "[]" } ?? "[]"
        consumed = r.count
    }
    out += path.dropFirst(consumed)
    return out
}
