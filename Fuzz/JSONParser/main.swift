import FieldSyncCore

/// libFuzzer harness for Core's strict JSON parser, which reads every request body.
///
/// Any input must parse or throw `JSONParser.Failure`, never trap. What parses must
/// survive `JSONWriter` unchanged: writing it and parsing the text again gives an equal
/// value, and writing that gives the same bytes (the server compares documents byte-wise).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONParser(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let value: JSONValue
    do {
        value = try JSONParser.parse(bytes)
    } catch {
        require(error.offset >= 0 && error.offset <= size + 1, "error offset \(error.offset) outside the input")
        return 0
    }
    let written = JSONWriter.encode(value)
    let again: JSONValue
    do {
        again = try JSONParser.parse(written)
    } catch {
        fatalError("JSONWriter output does not parse (\(error)): \(String(decoding: written, as: UTF8.self).prefix(500))")
    }
    require(again == value, "parse → write → parse changed the value: \(String(decoding: written, as: UTF8.self).prefix(500))")
    require(JSONWriter.encode(again) == written, "writing the re-parsed value gave other bytes")
    return 0
}

/// `precondition` that keeps its message in `-O` builds (which drop precondition messages).
private func require(_ condition: Bool, _ message: @autoclosure () -> String = "") {
    if !condition { fatalError(message()) }
}
