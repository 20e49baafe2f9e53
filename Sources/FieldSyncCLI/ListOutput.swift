import FieldSyncCore

/// Prints `{"items": […]}` lists as a table or as JSON.
enum ListOutput {
    /// One table column: a header and the member it shows.
    struct Column {
        var header: String
        var key: String
        init(_ header: String, _ key: String) {
            self.header = header
            self.key = key
        }
    }

    /// `--json`: `{"items": […]}`; else a table (or "no …" when empty).
    static func print(_ items: [JSONValue], global: GlobalOptions, columns: [Column], empty: String = "nothing to list") {
        if global.json {
            Console.json(.object(["items": .array(items)]))
            return
        }
        if items.isEmpty {
            if !global.quiet { Swift.print(empty) }
            return
        }
        Console.table(columns.map(\.header), items.map { item in columns.map { cell(item[$0.key]) } })
    }

    /// A member as table text: strings as is, arrays as their length or their few elements.
    static func cell(_ value: JSONValue?) -> String {
        switch value {
        case nil, .null?: return "-"
        case .string(let s)?: return s
        case .number?, .bool?: return JSONWriter.string(value!)
        case .array(let a)?:
            if a.isEmpty { return "-" }
            if a.count == 1, let s = a[0].stringValue { return s }
            return "\(a.count)"
        case .object?: return JSONWriter.string(value!)
        }
    }
}
