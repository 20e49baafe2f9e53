import FieldSyncCore
import Testing

/// Central's integer versions: version N is the state after the first N applied writes.
@Suite("Integer versions (ODK Central's numbering)")
struct IntegerVersionsTests {
    // Applied in this order: dev-a creates, the server edits, dev-b, dev-a again, dev-b again.
    let log = [
        Dot(replica: "dev-a", counter: 3), Dot(replica: "server", counter: 1), Dot(replica: "dev-b", counter: 7),
        Dot(replica: "dev-a", counter: 9), Dot(replica: "dev-b", counter: 8),
    ]

    @Test("the current version counts the applied writes")
    func current() {
        #expect(IntegerVersions.current(log) == 5)
        #expect(IntegerVersions.current([]) == 0)
    }

    @Test("version N covers exactly the first N writes and none after")
    func vectorCoversFirstN() throws {
        for n in 1...log.count {
            let v = try #require(IntegerVersions.vector(log, version: n))
            for (i, dot) in log.enumerated() {
                #expect(v.covers(dot) == (i < n), "version \(n), write \(i + 1) \(dot)")
            }
        }
        #expect(IntegerVersions.vector(log, version: 2) == ["dev-a": 3, "server": 1])
    }

    @Test("there is no version 0, none beyond the current one")
    func outOfRange() {
        #expect(IntegerVersions.vector(log, version: 0) == nil)
        #expect(IntegerVersions.vector(log, version: 6) == nil)
        #expect(IntegerVersions.base(log, version: -1, replica: "dev-a") == nil)
        #expect(IntegerVersions.vector([], version: 1) == nil)
    }

    @Test("a write based on an old version still names its author's own latest write")
    func baseNamesOwnWrite() {
        // dev-a edits again based on version 2: it has seen its own 9 (version 4), not dev-b's 7 or 8.
        let base = IntegerVersions.base(log, version: 2, replica: "dev-a")
        #expect(base == ["dev-a": 9, "server": 1])
        #expect(base?.covers(Dot(replica: "dev-b", counter: 7)) == false)
        // A writer with no write to the record gets version 2 as it is.
        #expect(IntegerVersions.base(log, version: 2, replica: "dev-c") == ["dev-a": 3, "server": 1])
    }
}
