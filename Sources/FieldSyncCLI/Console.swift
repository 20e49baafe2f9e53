import FieldSyncClient
import FieldSyncCore
import Foundation

/// Writing to the terminal: results, progress, JSON documents, tables.
enum Console {
    /// A line on standard error.
    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// A JSON document on one line of standard output.
    static func json(_ value: JSONValue) {
        print(JSONWriter.string(value))
    }

    /// An `Encodable` document on one line of standard output, written as ``json(_:)-(JSONValue)``
    /// writes (compact, keys sorted).
    static func json(_ value: some Encodable) throws {
        print(try JSONCoding.string(value))
    }

    /// Plain aligned columns: a header row, then one row per entry.
    static func table(_ headers: [String], _ rows: [[String]]) {
        var widths = headers.map(\.count)
        for row in rows {
            for (k, cell) in row.enumerated() where k < widths.count {
                widths[k] = max(widths[k], cell.count)
            }
        }
        func line(_ cells: [String]) -> String {
            var out = ""
            for (k, cell) in cells.enumerated() {
                if k == cells.count - 1 {
                    out += cell
                } else {
                    out += cell + String(repeating: " ", count: widths[k] - cell.count + 2)
                }
            }
            return out
        }
        print(line(headers))
        for row in rows { print(line(row)) }
    }
}

/// Number formats for people.
enum Format {
    /// `5107` → `5,107`.
    static func count(_ n: Int) -> String {
        let digits = String(abs(n))
        var out = ""
        for (k, c) in digits.enumerated() {
            if k > 0 && (digits.count - k) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return n < 0 ? "-" + out : out
    }

    /// Seconds with one decimal place (`12.4`), or two below a second (`0.04`).
    static func seconds(_ s: Double) -> String {
        if s < 0.995 {
            let hundredths = Int((max(0, s) * 100).rounded())
            return "0.\(hundredths < 10 ? "0" : "")\(hundredths)"
        }
        let tenths = Int((s * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    /// `1 position`, `2 positions`.
    static func plural(_ n: Int, _ word: String, _ plural: String? = nil) -> String {
        "\(count(n)) \(n == 1 ? word : (plural ?? word + "s"))"
    }

    /// `value` rounded to `places` decimal places.
    static func rounded(_ value: Double, places: Int) -> Double {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        return (value * scale).rounded() / scale
    }
}
