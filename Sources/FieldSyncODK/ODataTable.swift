import FieldSyncCore

/// Central's OData JSON, the shape pyodk's `get_table` reads (`.svc/Submissions`,
/// `.svc/Entities`): `{"@odata.context", "value": [rows], "@odata.count"?, "@odata.nextLink"?}`.
public enum ODataTable {
    /// Paging of a table: `$top`, `$skip`, `$count` (and `$wkt` for submissions).
    public struct Query: Sendable, Hashable {
        public var top: Int?
        public var skip: Int = 0
        public var count: Bool = false
        public var wkt: Bool = false
        public var expand: Bool = false
        /// `$select`: the top-level names to keep (`__id` always kept); nil keeps all.
        public var select: Set<String>?

        public init() {}

        /// Reads the query parameters; a value out of range or of the wrong form is an
        /// error naming the parameter. `$filter` is refused, not ignored (an ignored
        /// filter would answer rows the caller asked to leave out).
        public init(parameters: [String: String]) throws(ItemError) {
            func whole(_ name: String, max: Int) throws(ItemError) -> Int? {
                guard let raw = parameters[name] else { return nil }
                guard let n = Int(raw), n >= 0, n <= max else {
                    throw ItemError.invalidRequest("\(name) must be a whole number from 0 to \(max)", field: name)
                }
                return n
            }
            func flag(_ name: String) throws(ItemError) -> Bool {
                guard let raw = parameters[name] else { return false }
                switch raw.lowercased() {
                case "true": return true
                case "false": return false
                default: throw ItemError.invalidRequest("\(name) must be true or false", field: name)
                }
            }
            top = try whole("$top", max: 1_000_000)
            skip = try whole("$skip", max: Int(Int32.max)) ?? 0
            count = try flag("$count")
            wkt = try flag("$wkt")
            if let e = parameters["$expand"] {
                guard e == "*" else { throw ItemError.invalidRequest("$expand supports * (every repeat) only", field: "$expand") }
                expand = true
            }
            if parameters["$filter"] != nil {
                throw ItemError.invalidRequest(
                    "$filter is not supported by FieldSync: page with $top and $skip and filter the rows yourself", field: "$filter")
            }
            if let s = parameters["$select"] {
                let names = s.split(separator: ",").map { String($0).trimmed }.filter { !$0.isEmpty }
                guard !names.isEmpty else { throw ItemError.invalidRequest("$select names the columns to keep, comma-separated", field: "$select") }
                select = Set(names.map { $0.split(separator: "/").first.map(String.init) ?? $0 })
            }
        }
    }

    /// The rows of a table of `count` rows that this page holds (`$skip`, then `$top`).
    public static func page(count: Int, query: Query) -> Range<Int> {
        let start = min(query.skip, count)
        return start..<(query.top.map { min(count, start + $0) } ?? count)
    }

    /// The document for `rows` (all of them, in order): this page of them, the count
    /// when asked, and the next page's link when this one was cut by `$top`.
    public static func document(context: String, rows: [[String: JSONValue]], query: Query, nextLink: (Int) -> String) -> JSONValue {
        let range = page(count: rows.count, query: query)
        return document(context: context, page: Array(rows[range]), range: range, total: rows.count, query: query, nextLink: nextLink)
    }

    /// The document for one page of a table of `total` rows: `rows` are the rows of
    /// `range` (``page(count:query:)``), made for this page only.
    public static func document(
        context: String, page rows: [[String: JSONValue]], range: Range<Int>, total: Int, query: Query, nextLink: (Int) -> String
    ) -> JSONValue {
        var page = rows
        if let keep = query.select {
            page = page.map { row in row.filter { keep.contains($0.key) || $0.key == "__id" } }
        }
        var doc: [String: JSONValue] = ["@odata.context": .string(context), "value": .array(page.map { .object($0) })]
        if query.count { doc["@odata.count"] = .number(Double(total)) }
        if range.upperBound < total { doc["@odata.nextLink"] = .string(nextLink(range.upperBound)) }
        return .object(doc)
    }

    /// One submission's data, read with its form: groups as objects, answers typed as
    /// Central types them (numbers for int and decimal, GeoJSON or WKT for geopoints,
    /// text otherwise), empty answers null, repeats inline (`expand`) or as navigation
    /// links. Elements the form does not know are kept as text (meta among them).
    public static func submissionRow(_ root: ODKXMLElement, form: XForm, id: String, query: Query) -> [String: JSONValue] {
        var questions: [String: XFormQuestion] = [:]
        for q in form.questions { questions[q.path] = q }
        let repeats = Set(form.groups.filter(\.isRepeat).map(\.path))
        func object(_ element: ODKXMLElement, path: String, link: String) -> [String: JSONValue] {
            var out: [String: JSONValue] = [:]
            var rows: [String: [JSONValue]] = [:]
            for child in element.children where child.attribute("template", namespace: ODKNamespace.javarosa) == nil {
                let p = path.isEmpty ? child.name : "\(path)/\(child.name)"
                if repeats.contains(p) {
                    let n = (rows[child.name]?.count ?? 0) + 1
                    var row = object(child, path: p, link: "\(link)/\(child.name)")
                    row["__id"] = .string(ODataRowID.hex("\(id)/\(p)[\(n)]"))
                    rows[child.name, default: []].append(.object(row))
                } else if let q = questions[p] {
                    out[child.name] = value(child.text, q, wkt: query.wkt)
                } else if !child.children.isEmpty {
                    out[child.name] = .object(object(child, path: p, link: "\(link)/\(child.name)"))
                } else {
                    let t = child.text.trimmed
                    out[child.name] = t.isEmpty ? .null : .string(t)
                }
            }
            for (name, list) in rows {
                if query.expand { out[name] = .array(list) } else { out["\(name)@odata.navigationLink"] = .string("\(link)/\(name)") }
            }
            return out
        }
        var row = object(root, path: "", link: "Submissions('\(percentEncoded(id))')")
        row["__id"] = .string(id)
        return row
    }

    /// One answer as Central's OData has it.
    static func value(_ raw: String, _ q: XFormQuestion, wkt: Bool) -> JSONValue {
        let text = q.kind == .string ? raw : raw.trimmed
        guard !text.isEmpty else { return .null }
        switch q.kind {
        case .int, .decimal:
            if let d = ODKNumber.decimal(text) { return .number(d) }
            return .string(text)
        case .geopoint:
            guard let p = ODKGeopoint(text) else { return .string(text) }
            var coordinates: [JSONValue] = [.number(p.longitude), .number(p.latitude)]
            if let alt = p.altitude { coordinates.append(.number(alt)) }
            if wkt {
                return .string("POINT (" + coordinates.map { EntityListCSV.text($0) }.joined(separator: " ") + ")")
            }
            var point: [String: JSONValue] = ["type": .string("Point"), "coordinates": .array(coordinates)]
            if let acc = p.accuracy { point["properties"] = .object(["accuracy": .number(acc)]) }
            return .object(point)
        default:
            return .string(text)
        }
    }

    /// Percent-encoding of an id inside an OData key (`uuid:…` → `uuid%3A…`).
    static func percentEncoded(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            let c = Character(UnicodeScalar(b))
            if (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || c == "-" || c == "." || c == "_" || c == "~" {
                out.append(c)
            } else {
                out += "%" + String(b >> 4, radix: 16, uppercase: true) + String(b & 0xF, radix: 16, uppercase: true)
            }
        }
        return out
    }
}

/// Short stable ids for repeat rows (Central gives each a hash): FNV-1a 64 of the text, hex.
enum ODataRowID {
    static func hex(_ s: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        let digits = String(h, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
