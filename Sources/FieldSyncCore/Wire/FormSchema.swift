/// A form version's declared questions, and the check of an instance's answers.
public struct FormSchema: Sendable {
    public struct Question: Sendable {
        public var name: String
        public var type: String
        public var required: Bool
        public var choices: Set<String>
    }

    public var questions: [String: Question]

    /// Reads `[{"name","type","required"?,"choices"?}]`; `nil` when the version declares none.
    public init?(fields: JSONValue?) {
        guard case .array(let list)? = fields else { return nil }
        var q: [String: Question] = [:]
        for f in list {
            guard let name = f["name"]?.stringValue, let type = f["type"]?.stringValue else { continue }
            q[name] = Question(
                name: name, type: type, required: f["required"]?.boolValue ?? false,
                choices: Set((f["choices"]?.arrayValue ?? []).compactMap(\.stringValue)))
        }
        questions = q
    }

    /// Checks answers (`changes` of an instance write); `creating` also requires the
    /// required answers. `deleted` is the tombstone, not a question.
    public func check(_ changes: [String: JSONValue], creating: Bool, path: String) -> ItemError? {
        for (name, value) in changes.sorted(by: { $0.key < $1.key }) where name != "deleted" {
            let field = "\(path).changes.\(name)"
            guard let q = questions[name] ?? questions[Self.repeatTemplate(name)] else {
                return ItemError.invalidField(field, "the form has no question \"\(name)\"")
            }
            if value.isNull {
                if q.required { return ItemError.invalidField(field, "\(name) is required and can't be cleared") }
                continue
            }
            if let problem = Self.problem(value, q) { return ItemError.invalidField(field, problem) }
        }
        if creating {
            for q in questions.values.sorted(by: { $0.name < $1.name }) where q.required && (changes[q.name]?.isNull ?? true) {
                return ItemError.invalidField("\(path).changes.\(q.name)", "\(q.name) is required")
            }
        }
        return nil
    }

    /// The field an answer inside a repeat belongs to: a field named with `[]` after a
    /// repeat (`person[]/age`) takes the answers of every row (`person[2]/age`). `name`
    /// itself when it names no row.
    public static func repeatTemplate(_ name: String) -> String {
        guard name.utf8.contains(UInt8(ascii: "[")) else { return name }
        var out = ""
        var inIndex = false
        var digits = ""
        for ch in name {
            if inIndex {
                if ch.isASCII, ch.isNumber { digits.append(ch); continue }
                if ch == "]", !digits.isEmpty { out += "[]" } else { out += "[" + digits + String(ch) }
                inIndex = false
                digits = ""
            } else if ch == "[" {
                inIndex = true
            } else {
                out.append(ch)
            }
        }
        if inIndex { out += "[" + digits }
        return out
    }

    static func problem(_ v: JSONValue, _ q: Question) -> String? {
        switch q.type {
        case "text":
            return v.stringValue == nil ? "\(q.name) must be text, got \(v.typeName)" : nil
        case "integer":
            guard let n = v.numberValue, n == n.rounded() else { return "\(q.name) must be a whole number, got \(JSONWriter.string(v))" }
            return nil
        case "decimal":
            return v.numberValue == nil ? "\(q.name) must be a number, got \(v.typeName)" : nil
        case "date":
            guard let s = v.stringValue, isDate(s) else { return "\(q.name) must be a date YYYY-MM-DD, got \(JSONWriter.string(v))" }
            return nil
        case "select_one":
            guard let s = v.stringValue, q.choices.contains(s) else {
                return "\(q.name) must be one of \(q.choices.sorted().joined(separator: ", ")); got \(JSONWriter.string(v))"
            }
            return nil
        case "select_multiple":
            guard let a = v.arrayValue, a.allSatisfy({ $0.stringValue.map(q.choices.contains) ?? false }) else {
                return "\(q.name) must be an array of choices among \(q.choices.sorted().joined(separator: ", "))"
            }
            return nil
        case "geopoint":
            do { _ = try GeoPoint(geoJSON: v, field: q.name) } catch { return "\(q.name) must be a GeoJSON Point: \(error.message)" }
            return nil
        default:
            return nil
        }
    }

    static func isDate(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard u.count == 10, u[4] == 45, u[7] == 45 else { return false }
        return Timestamp(rfc3339: s + "T00:00:00.000Z") != nil
    }
}
