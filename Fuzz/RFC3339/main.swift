import FieldSyncCore

/// libFuzzer harness for `Timestamp(rfc3339:)` (every `capturedAt` and `editedAt` of a
/// push) and for the writer of timestamps.
///
/// Any text must parse or give `nil`, never trap. What parses is within the years UTC can
/// write, prints as `YYYY-MM-DDTHH:MM:SS.mmmZ`, and that text parses back to the same
/// instant and prints the same. The first 8 bytes, read as milliseconds, must print
/// without trapping whatever their value.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRFC3339(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let text = String(decoding: bytes, as: UTF8.self)
    if let t = Timestamp(rfc3339: text) {
        require(t >= Timestamp.earliest && t <= Timestamp.latest, "\(text) parsed outside the writable years")
        let printed = t.description
        require(printed.utf8.count == 24 && printed.hasSuffix("Z"), "\(text) printed as \(printed)")
        guard let again = Timestamp(rfc3339: printed) else { fatalError("\(text) printed as \(printed), which does not parse") }
        require(again == t && again.description == printed, "\(text) → \(printed) → \(again) is not stable")
    }
    if size >= 8 {
        var ms: Int64 = 0
        for k in 0..<8 { ms = ms << 8 | Int64(bytes[k]) }
        let t = Timestamp(millisecondsSinceEpoch: ms)
        let printed = t.description
        if t >= Timestamp.earliest && t <= Timestamp.latest {
            require(Timestamp(rfc3339: printed) == t, "\(ms) ms printed as \(printed), which does not parse back")
        } else {
            require(printed.hasSuffix("Z") && printed.utf8.count <= 32, "\(ms) ms printed as \(printed)")
        }
    }
    return 0
}

/// `precondition` that keeps its message in `-O` builds (which drop precondition messages).
private func require(_ condition: Bool, _ message: @autoclosure () -> String = "") {
    if !condition { fatalError(message()) }
}
