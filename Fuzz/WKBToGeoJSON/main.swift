import FieldSyncCore
import FieldSyncGeometry

/// libFuzzer harness for reading stored (E)WKB into GeoJSON (`WKBGeoJSONReader`, through
/// `GeometryPipeline.geoJSON(fromEWKB:)` and `appendGeoJSON(fromEWKB:to:)`), which every
/// pull and org-unit answer runs on what PostGIS returns.
///
/// Arbitrary bytes must be read or refused with `invalid_wkb`, never trap. The two readers
/// must agree: both accept or both refuse; a refusal leaves `out` as it was; the text
/// written is JSON that parses to the very value the tree reader built.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWKBToGeoJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let tree = try? GeometryPipeline.geoJSON(fromEWKB: bytes)
    let prefix = Array("{\"before\":".utf8)
    var out = prefix
    var textError: GeometryError?
    do {
        try GeometryPipeline.appendGeoJSON(fromEWKB: bytes, to: &out)
    } catch {
        textError = error
        require(error.code == "invalid_wkb", "unexpected error code \(error.code)")
    }
    require((tree == nil) == (textError != nil), "the tree and text readers disagree: \(String(describing: textError))")
    guard let tree else {
        require(out == prefix, "a refused read left bytes in the output")
        return 0
    }
    let text = Array(out[prefix.count...])
    let parsed: JSONValue
    do {
        parsed = try JSONParser.parse(text)
    } catch {
        fatalError("WKB text output is not JSON (\(error)): \(String(decoding: text.prefix(400), as: UTF8.self))")
    }
    require(parsed == tree, "WKB text and tree differ: \(String(decoding: text.prefix(400), as: UTF8.self))")
    return 0
}

/// `precondition` that keeps its message in `-O` builds (which drop precondition messages).
private func require(_ condition: Bool, _ message: @autoclosure () -> String = "") {
    if !condition { fatalError(message()) }
}
