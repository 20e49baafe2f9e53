import FieldSyncCore

/// The entity list CSV Collect downloads through the manifest: `name,label,__version,<properties>`.
///
/// RFC 4180: CRLF line ends, a field quoted (quotes doubled) when it holds a comma, quote,
/// CR or LF, or starts or ends with a space; UTF-8 without byte-order mark.
public enum EntityListCSV {
    /// One entity: its UUID, label, Central-style integer version and property texts.
    public struct Row: Sendable, Hashable {
        public var name: String
        public var label: String
        public var version: Int
        /// Property name → text (absent properties are written empty).
        public var values: [String: String]

        public init(name: String, label: String, version: Int, values: [String: String]) {
            self.name = name
            self.label = label
            self.version = version
            self.values = values
        }
    }

    /// The CSV bytes; `properties` gives the column order after the three fixed columns.
    public static func write(properties: [String], rows: [Row]) -> [UInt8] {
        var out = ""
        out += (["name", "label", "__version"] + properties).map(field).joined(separator: ",") + "\r\n"
        for r in rows {
            let cells = [r.name, r.label, String(r.version)] + properties.map { r.values[$0] ?? "" }
            out += cells.map(field).joined(separator: ",") + "\r\n"
        }
        return Array(out.utf8)
    }

    /// One CSV field, quoted when needed.
    public static func field(_ s: String) -> String {
        let needs =
            s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" })
            || s.first == " " || s.last == " "
        guard needs else { return s }
        return "\"" + s.replacingAll("\"", with: "\"\"") + "\""
    }

    /// The text Collect expects for a FieldSync field value: strings as they are, numbers
    /// without a needless fraction, booleans `true`/`false`, arrays (select_multiple)
    /// space-separated, a GeoJSON Point as `lat lon alt 0`, null as empty.
    public static func text(_ value: JSONValue) -> String {
        switch value {
        case .null: return ""
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return ODKNumber.text(n)
        case .string(let s): return s
        case .array(let a): return a.map(text).joined(separator: " ")
        case .object:
            if let p = try? GeoPoint(geoJSON: value, field: "value") {
                return ODKGeopoint(latitude: p.latitude, longitude: p.longitude, altitude: p.altitude).text
            }
            return JSONWriter.string(value)
        }
    }
}

extension String {
    /// Every occurrence of `target` replaced (without Foundation).
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self {
            if c == target { out += replacement } else { out.append(c) }
        }
        return out
    }
}
