extension RecordState {
    /// ``stateJSON`` as text, written straight from the state (the `JSONValue` route builds
    /// a tree of dictionaries per value first; a conflicted record holds many values).
    /// Fields and vector entries in no particular order, as ``stateJSON``'s objects.
    public var stateText: String {
        String(decoding: storedText().bytes, as: UTF8.self)
    }

    /// ``stateText``'s bytes, with where each conflicted field's list of values sits in
    /// them: a record's document lists its conflicts with the same values, so it copies
    /// those bytes instead of writing every value again (a hot shared entity holds ~50).
    public func storedText() -> StoredStateText {
        var w = JSONWriter(capacity: 256)
        var conflicts: [(name: String, range: Range<Int>)] = []
        // Members in jsonb's order (`dots` first), so text read back from either a jsonb
        // column or a text one has the dots before the vector, which is then taken from them.
        w.raw("{\"dots\":")
        w.write(dots: applied)
        w.raw(",\"fields\":{")
        for (k, (name, values)) in fields.enumerated() {
            if k > 0 { w.raw(",") }
            w.write(string: name)
            w.raw(":")
            let start = w.bytes.count
            w.write(fieldValueList: values)
            if values.count >= 2 { conflicts.append((name, start..<w.bytes.count)) }
        }
        w.raw("},\"version\":")
        w.write(version: version)
        w.raw("}")
        return StoredStateText(bytes: w.bytes, conflicts: conflicts)
    }

    /// Reads the text of ``stateJSON`` (a stored state), the same state as
    /// `RecordState(stateJSON: JSONParser.parse(text))`, `nil` where that is `nil`, for
    /// every text ``stateText`` or `stateJSON` wrote. Stored dots are believed: their
    /// maximum is the vector and they hold every value's dot (see
    /// ``init(storedFields:version:dots:)``), so a hand-made text that breaks this reads
    /// as its dots say.
    ///
    /// Stored states are read on every push that touches an existing record, and a
    /// record in conflict holds many values: this reads the stored shape straight from
    /// its bytes instead of building a ``JSONValue`` tree of dictionaries first. Anything
    /// outside that shape (a member it does not expect, a value entry that is not an
    /// object of the four members, a duplicate key) goes the general way.
    public init?(stateText text: String) {
        var text = text
        let fast: RecordState?? = text.withUTF8 { buffer in
            var cursor = JSONParser.Cursor(buffer: buffer, maxDepth: JSONParser.maxDepth)
            return try? cursor.parseStoredState()
        }
        if case .some(.some(let state)) = fast {
            self = state
            return
        }
        guard let state = (try? JSONParser.parse(text)).flatMap(RecordState.init(stateJSON:)) else { return nil }
        self = state
    }
}

/// A state's stored text (``RecordState/stateText``) and where its conflicted fields'
/// value lists sit in it.
public struct StoredStateText: Sendable {
    /// The text's UTF-8 bytes.
    public var bytes: [UInt8]
    /// Each field holding two or more values, with the byte range of its `[…]` list.
    public var conflicts: [(name: String, range: Range<Int>)]

    /// Writes `"conflicts":{"name":[…],…}` from the stored text's own bytes; nothing when
    /// no field is in conflict. The conflicted fields' lists, as ``RecordState/storedText()`` wrote them.
    public func writeConflicts(into w: inout JSONWriter) {
        guard !conflicts.isEmpty else { return }
        w.raw("\"conflicts\":{")
        for (k, conflict) in conflicts.enumerated() {
            if k > 0 { w.raw(",") }
            w.write(string: conflict.name)
            w.raw(":")
            bytes.withUnsafeBufferPointer { all in
                w.raw(bytes: UnsafeBufferPointer(rebasing: all[conflict.range]))
            }
        }
        w.raw("}")
    }
}

extension JSONWriter {
    /// A field's values: `[FIELDVALUE,…]`.
    public mutating func write(fieldValueList values: [FieldValue]) {
        raw("[")
        for (j, v) in values.enumerated() {
            if j > 0 { raw(",") }
            write(fieldValue: v)
        }
        raw("]")
    }

    /// A field value as a conflict entry: `{"value","replica","counter","editedAt"}`.
    public mutating func write(fieldValue value: FieldValue) {
        raw("{\"value\":")
        write(value.value)
        raw(",\"replica\":")
        write(string: value.replica)
        raw(",\"counter\":")
        write(integer: value.counter)
        raw(",\"editedAt\":")
        write(timestamp: value.editedAt)
        raw("}")
    }

    /// A version vector: `{"dev-b":7,…}`.
    public mutating func write(version: VersionVector) {
        raw("{")
        for (k, (replica, counter)) in version.entries.enumerated() {
            if k > 0 { raw(",") }
            write(string: replica)
            raw(":")
            write(integer: counter)
        }
        raw("}")
    }

    /// An applied-dot set: `{"dev-b":[2,7],…}`, counters ascending.
    public mutating func write(dots: AppliedDots) {
        raw("{")
        for (k, (replica, counters)) in dots.counters.enumerated() {
            if k > 0 { raw(",") }
            write(string: replica)
            raw(":[")
            for (j, counter) in counters.enumerated() {
                if j > 0 { raw(",") }
                write(integer: counter)
            }
            raw("]")
        }
        raw("}")
    }
}

extension JSONParser.Cursor {
    /// Not the stored shape: the caller reads the text the general way.
    private struct Unusual: Error {}

    /// The next non-space byte is `byte`; consumes it.
    private mutating func take(_ byte: UInt8) -> Bool {
        skipSpace()
        guard i < buffer.count, buffer[i] == byte else { return false }
        i += 1
        return true
    }

    /// After an object's `{`: the next member's key, or `nil` at its `}`.
    private mutating func nextKey(first: inout Bool) throws -> String? {
        skipSpace()
        if first {
            first = false
            if take(UInt8(ascii: "}")) { return nil }
        } else {
            if take(UInt8(ascii: "}")) { return nil }
            guard take(UInt8(ascii: ",")) else { throw Unusual() }
            skipSpace()
        }
        guard i < buffer.count, buffer[i] == UInt8(ascii: "\"") else { throw Unusual() }
        let key = try parseString()
        guard take(UInt8(ascii: ":")) else { throw Unusual() }
        skipSpace()
        guard i < buffer.count else { throw Unusual() }
        return key
    }

    /// A whole number `0 ≤ n < 2^53`, as ``VersionVector/init(json:)`` accepts.
    private mutating func wholeNumber() throws -> Int64 {
        skipSpace()
        guard i < buffer.count, buffer[i] == UInt8(ascii: "-") || (buffer[i] >= 48 && buffer[i] <= 57) else { throw Unusual() }
        let n = try parseNumber()
        guard n >= 0, n == n.rounded(), n < 9_007_199_254_740_992 else { throw Unusual() }
        return Int64(n)
    }

    private mutating func string() throws -> String {
        skipSpace()
        guard i < buffer.count, buffer[i] == UInt8(ascii: "\"") else { throw Unusual() }
        return try parseString()
    }

    /// `{"fields":{…},"version":{…},"dots":{…}}` (`dots` absent in states stored before
    /// dot sets were kept); `nil` (a stored state that is no state) where
    /// ``RecordState/init(stateJSON:)`` gives `nil` for a document of this shape.
    mutating func parseStoredState() throws -> RecordState? {
        guard take(UInt8(ascii: "{")) else { throw Unusual() }
        var fields: [String: [FieldValue]]?
        var version: VersionVector?
        var dots: AppliedDots?
        var versionSkipped = false
        var first = true
        while let key = try nextKey(first: &first) {
            switch key {
            case "dots":
                guard dots == nil else { throw Unusual() }
                dots = try parseStoredDots()
            case "fields":
                guard fields == nil else { throw Unusual() }
                fields = try parseStoredFields()
            case "version":
                guard version == nil, !versionSkipped else { throw Unusual() }
                // The stored vector is the stored dots' maximum (``stateText`` writes both from
                // one state): when the dots came first (jsonb orders `dots` before `version`)
                // the vector is taken from them, sharing their replica strings, and its text is
                // only stepped over.
                if let dots, !dots.isEmpty {
                    try skipStoredVersion()
                    versionSkipped = true
                } else {
                    version = try parseStoredVersion()
                }
            default:
                throw Unusual()
            }
        }
        skipSpace()
        guard i == buffer.count else { throw Unusual() }
        if versionSkipped, let dots { version = dots.vector }
        guard let fields, let version else { return nil }
        return RecordState(storedFields: fields, version: version, dots: dots)
    }

    /// Steps over a stored vector, `{"dev-b":7,…}`, checking its shape (keys are strings,
    /// values whole numbers) without making its strings.
    private mutating func skipStoredVersion() throws {
        guard take(UInt8(ascii: "{")) else { throw Unusual() }
        if take(UInt8(ascii: "}")) { return }
        repeat {
            skipSpace()
            guard i < buffer.count, buffer[i] == UInt8(ascii: "\"") else { throw Unusual() }
            i += 1
            while i < buffer.count, buffer[i] != UInt8(ascii: "\"") {
                i += buffer[i] == UInt8(ascii: "\\") ? 2 : 1
            }
            guard i < buffer.count else { throw Unusual() }
            i += 1
            guard take(UInt8(ascii: ":")) else { throw Unusual() }
            skipSpace()
            let start = i
            while i < buffer.count, buffer[i] >= 48, buffer[i] <= 57 { i += 1 }
            guard i > start else { throw Unusual() }
        } while take(UInt8(ascii: ","))
        guard take(UInt8(ascii: "}")) else { throw Unusual() }
    }

    /// `{"dev-b":[2,7],…}`.
    private mutating func parseStoredDots() throws -> AppliedDots {
        guard take(UInt8(ascii: "{")) else { throw Unusual() }
        var counters: [String: [Int64]] = [:]
        var first = true
        while let replica = try nextKey(first: &first) {
            guard counters[replica] == nil, take(UInt8(ascii: "[")) else { throw Unusual() }
            var list: [Int64] = []
            if !take(UInt8(ascii: "]")) {
                repeat {
                    list.append(try wholeNumber())
                } while take(UInt8(ascii: ","))
                guard take(UInt8(ascii: "]")) else { throw Unusual() }
            }
            counters[replica] = list
        }
        return AppliedDots(counters: counters)
    }

    private mutating func parseStoredVersion() throws -> VersionVector {
        guard take(UInt8(ascii: "{")) else { throw Unusual() }
        var entries: [String: Int64] = [:]
        var first = true
        while let replica = try nextKey(first: &first) {
            guard entries[replica] == nil else { throw Unusual() }
            entries[replica] = try wholeNumber()
        }
        return VersionVector(entries)
    }

    private mutating func parseStoredFields() throws -> [String: [FieldValue]] {
        guard take(UInt8(ascii: "{")) else { throw Unusual() }
        var fields: [String: [FieldValue]] = [:]
        var first = true
        while let name = try nextKey(first: &first) {
            guard fields[name] == nil, take(UInt8(ascii: "[")) else { throw Unusual() }
            var values: [FieldValue] = []
            if !take(UInt8(ascii: "]")) {
                repeat {
                    values.append(try parseStoredValue())
                } while take(UInt8(ascii: ","))
                guard take(UInt8(ascii: "]")) else { throw Unusual() }
            }
            fields[name] = values
        }
        return fields
    }

    /// `{"value":…,"replica":"…","counter":n,"editedAt":"…"}`, members in any order.
    private mutating func parseStoredValue() throws -> FieldValue {
        guard take(UInt8(ascii: "{")) else { throw Unusual() }
        var value: JSONValue?
        var replica: String?
        var counter: Int64?
        var editedAt: Timestamp?
        var first = true
        while let key = try nextKey(first: &first) {
            switch key {
            case "value" where value == nil: value = try parseValue()
            case "replica" where replica == nil: replica = try string()
            case "counter" where counter == nil: counter = try wholeNumber()
            case "editedAt" where editedAt == nil:
                guard let t = Timestamp(rfc3339: try string()) else { throw Unusual() }
                editedAt = t
            default: throw Unusual()
            }
        }
        guard let replica, let counter, let editedAt else { throw Unusual() }
        return FieldValue(value: value ?? .null, replica: replica, counter: counter, editedAt: editedAt)
    }
}
