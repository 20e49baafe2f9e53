import Foundation
import Testing

@testable import FieldSyncODK

/// The XForms pyxform made from the XLSForms in Fixtures/xlsforms (see its README.md).
enum Fixture {
    static func bytes(_ name: String) throws -> [UInt8] {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: "xml", subdirectory: "Fixtures/xlsforms"))
        return Array(try Data(contentsOf: url))
    }

    static func text(_ name: String) throws -> String {
        String(decoding: try bytes(name), as: UTF8.self)
    }

    static func form(_ name: String) throws -> XForm {
        try XFormParser.parse(bytes(name))
    }
}

/// Runs `body`, expecting an `ODKError`; returns it (nil, recorded as a failure, when none
/// or another error is thrown).
func odkError(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> ODKError? {
    do {
        try body()
        Issue.record("expected an ODKError, got none", sourceLocation: sourceLocation)
        return nil
    } catch let error as ODKError {
        return error
    } catch {
        Issue.record("expected an ODKError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
