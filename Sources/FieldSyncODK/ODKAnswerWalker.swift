import FieldSyncCore

/// Walks a submission's data elements against the form's questions, converting each
/// answer to the value the protocol expects and refusing anything the form doesn't ask.
struct AnswerWalker {
    let form: XForm
    let questions: [String: XFormQuestion]
    let repeats: Set<String>
    let containers: Set<String>
    var answers: [String: JSONValue] = [:]
    /// The answers' text as sent, by the same keys.
    var texts: [String: String] = [:]
    var attachments: [String] = []
    /// Every repeat row seen: repeat path and the row numbers down to it.
    var rows: [(path: String, indices: [Int])] = []

    init(form: XForm) {
        self.form = form
        var q: [String: XFormQuestion] = [:]
        var containers = Set(form.groups.map(\.path))
        for question in form.questions {
            q[question.path] = question
            var p = Substring(question.path)
            while let slash = p.lastIndex(of: "/") {
                p = p[..<slash]
                containers.insert(String(p))
            }
        }
        questions = q
        repeats = Set(form.groups.filter(\.isRepeat).map(\.path))
        self.containers = containers
    }

    mutating func walk(_ element: ODKXMLElement, path: String, location: String, indices: [Int], rows _: [Int]) throws(ODKError) {
        var counts: [String: Int] = [:]
        for child in element.children {
            if path.isEmpty && child.name == "meta" { continue }
            if child.attribute("template", namespace: ODKNamespace.javarosa) != nil { continue }
            let p = path.isEmpty ? child.name : "\(path)/\(child.name)"
            if repeats.contains(p) {
                let index = (counts[p] ?? 0) + 1
                counts[p] = index
                let rowIndices = indices + [index]
                self.rows.append((p, rowIndices))
                try walk(child, path: p, location: "\(location)/\(child.name)[\(index)]", indices: rowIndices, rows: [])
            } else if let q = questions[p] {
                let loc = "\(location)/\(child.name)"
                guard child.children.isEmpty else {
                    throw ODKError(.invalidField, "the answer to \(p) must be text, it holds elements", at: loc)
                }
                let key = fieldName(p, repeats: q.repeatPaths, indices: indices)
                guard answers[key] == nil, texts[key] == nil else {
                    throw ODKError(.invalidSubmission, "the question \(p) is answered twice", at: loc)
                }
                let raw = child.text
                let text = raw.trimmed
                guard !text.isEmpty else { continue }
                answers[key] = try Self.value(q.kind == .string ? raw : text, q, at: loc)
                texts[key] = q.kind == .string ? raw : text
                if q.kind == .binary { attachments.append(text) }
            } else if containers.contains(p) {
                guard (counts[p] ?? 0) == 0 else {
                    throw ODKError(.invalidSubmission, "the group \(p) appears twice (it is not a repeat)", at: "\(location)/\(child.name)")
                }
                counts[p] = 1
                try walk(child, path: p, location: "\(location)/\(child.name)", indices: indices, rows: [])
            } else {
                throw ODKError(.invalidField, "form \(form.formID) has no question \(p)", at: "\(location)/\(child.name)")
            }
        }
    }

    /// Required answers: outside repeats once, inside each repeat row seen.
    func checkRequired(root: String) throws(ODKError) {
        for q in form.questions where q.required {
            if let repeatPath = q.repeatPath {
                for row in rows where row.path == repeatPath {
                    let key = fieldName(q.path, repeats: q.repeatPaths, indices: row.indices)
                    if answers[key] == nil {
                        throw ODKError(.invalidField, "\(q.path) is required", at: "/\(root)/\(key)")
                    }
                }
            } else if answers[q.path] == nil {
                throw ODKError(.invalidField, "\(q.path) is required", at: "/\(root)/\(q.path)")
            }
        }
    }

    /// The protocol value of one answer's text.
    static func value(_ text: String, _ q: XFormQuestion, at loc: String) throws(ODKError) -> JSONValue {
        func bad(_ what: String) -> ODKError {
            ODKError(.invalidField, "\(q.path) must be \(what), got \"\(text.prefix(80))\"", at: loc)
        }
        switch q.kind {
        case .string, .dateTime, .time, .barcode, .binary:
            return .string(text)
        case .int:
            guard let n = ODKNumber.integer(text) else { throw bad("a whole number (at most 2^53 in size)") }
            return .number(Double(n))
        case .decimal:
            guard let d = ODKNumber.decimal(text) else { throw bad("a decimal number") }
            return .number(d)
        case .date:
            guard ODKNumber.isDate(text) else { throw bad("a date YYYY-MM-DD") }
            return .string(text)
        case .geopoint:
            guard let p = ODKGeopoint(text) else {
                throw bad("a geopoint \"lat lon [alt [accuracy]]\" with latitude in [-90, 90] and longitude in [-180, 180]")
            }
            return p.geoPoint.geoJSON
        case .select1:
            if case .list(let list) = q.choices, !list.isEmpty {
                guard list.contains(where: { $0.value == text }) else {
                    throw bad("one of \(list.map(\.value).joined(separator: ", "))")
                }
            }
            return .string(text)
        case .select:
            let values = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).map(String.init)
            guard case .list(let list) = q.choices, !list.isEmpty else { return .string(values.joined(separator: " ")) }
            for v in values where !list.contains(where: { $0.value == v }) {
                throw ODKError(
                    .invalidField, "\(q.path) must be choices among \(list.map(\.value).joined(separator: ", ")); \"\(v.prefix(80))\" is not one",
                    at: loc)
            }
            return .array(values.map(JSONValue.string))
        }
    }
}

/// A geopoint answer as ODK writes it: `lat lon [alt [accuracy]]`, space-separated.
public struct ODKGeopoint: Sendable, Hashable {
    public var latitude: Double
    public var longitude: Double
    public var altitude: Double?
    public var accuracy: Double?

    /// Parses and range-checks the text; nil when it is not a geopoint.
    public init?(_ text: String) {
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
        guard (2...4).contains(parts.count) else { return nil }
        var numbers: [Double] = []
        for part in parts {
            guard let d = ODKNumber.decimal(String(part)) else { return nil }
            numbers.append(d)
        }
        guard (-90...90).contains(numbers[0]), (-180...180).contains(numbers[1]) else { return nil }
        latitude = numbers[0]
        longitude = numbers[1]
        altitude = numbers.count > 2 ? numbers[2] : nil
        accuracy = numbers.count > 3 ? numbers[3] : nil
        if let accuracy, accuracy < 0 { return nil }
    }

    public init(latitude: Double, longitude: Double, altitude: Double? = nil, accuracy: Double? = nil) {
        self.latitude = latitude
        self.longitude = longitude
        self.altitude = altitude
        self.accuracy = accuracy
    }

    /// As the protocol's position (GeoJSON `[lon, lat, alt?]`; the accuracy has no place there).
    public var geoPoint: GeoPoint { GeoPoint(longitude: longitude, latitude: latitude, altitude: altitude) }

    /// The ODK text: `lat lon alt accuracy` (0 for an unknown altitude or accuracy, as Collect writes).
    public var text: String {
        [latitude, longitude, altitude ?? 0, accuracy ?? 0].map(ODKNumber.text).joined(separator: " ")
    }
}

/// Number and date texts of XForm answers (XML Schema lexical forms), checked strictly.
public enum ODKNumber {
    /// `xsd:int`-like: optional sign, 1 to 16 digits, |n| ≤ 2^53 (exact as a JSON number).
    public static func integer(_ s: String) -> Int64? {
        var u = Substring(s).utf8[...]
        var negative = false
        if let f = u.first, f == 0x2B || f == 0x2D { negative = f == 0x2D; u = u.dropFirst() }
        guard !u.isEmpty, u.count <= 16, u.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        var n: Int64 = 0
        for c in u { n = n * 10 + Int64(c - 0x30) }
        guard n <= 1 << 53 else { return nil }
        return negative ? -n : n
    }

    /// `xsd:decimal` (plus an exponent, as Collect may write): finite, no hex, no NaN/INF.
    public static func decimal(_ s: String) -> Double? {
        let u = Array(s.utf8)
        guard !u.isEmpty, u.count <= 64 else { return nil }
        var i = 0
        if u[i] == 0x2B || u[i] == 0x2D { i += 1 }
        var digits = 0
        while i < u.count, u[i] >= 0x30, u[i] <= 0x39 { i += 1; digits += 1 }
        if i < u.count, u[i] == 0x2E {
            i += 1
            while i < u.count, u[i] >= 0x30, u[i] <= 0x39 { i += 1; digits += 1 }
        }
        guard digits > 0 else { return nil }
        if i < u.count, u[i] == 0x65 || u[i] == 0x45 {
            i += 1
            if i < u.count, u[i] == 0x2B || u[i] == 0x2D { i += 1 }
            var exp = 0
            while i < u.count, u[i] >= 0x30, u[i] <= 0x39 { i += 1; exp += 1 }
            guard exp > 0 else { return nil }
        }
        guard i == u.count, let d = Double(s), d.isFinite else { return nil }
        return d
    }

    /// `YYYY-MM-DD` with a real month and day (leap years included), year 0001–9999.
    public static func isDate(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard u.count == 10, u[4] == 0x2D, u[7] == 0x2D else { return false }
        func num(_ r: Range<Int>) -> Int? {
            var n = 0
            for k in r {
                guard u[k] >= 0x30, u[k] <= 0x39 else { return nil }
                n = n * 10 + Int(u[k] - 0x30)
            }
            return n
        }
        guard let y = num(0..<4), let m = num(5..<7), let d = num(8..<10), y >= 1, (1...12).contains(m), d >= 1 else { return false }
        let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return d <= days[m - 1]
    }

    /// A number as ODK text: integers without a fraction (`12`, not `12.0`).
    public static func text(_ d: Double) -> String {
        if d.isFinite, d == d.rounded(), abs(d) <= 9_007_199_254_740_992 { return String(Int64(d)) }
        return "\(d)"
    }
}
