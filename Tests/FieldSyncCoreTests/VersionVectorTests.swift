import FieldSyncCore
import Testing

@Suite("Version vectors")
struct VersionVectorTests {
    @Test("an absent replica reads as 0 and zero entries are never stored")
    func absentIsZero() {
        var v: VersionVector = ["server": 3, "dev-a": 2]
        #expect(v["dev-b"] == 0)
        v["dev-a"] = 0
        #expect(v == ["server": 3])
        #expect(VersionVector(["dev-a": 0, "dev-b": -1]).isEmpty)
    }

    @Test("a vector covers a dot when its entry for the replica is at least the counter")
    func coversDot() {
        let v: VersionVector = ["server": 3, "dev-a": 2]
        #expect(v.covers(Dot(replica: "dev-a", counter: 2)))
        #expect(v.covers(Dot(replica: "dev-a", counter: 1)))
        #expect(!v.covers(Dot(replica: "dev-a", counter: 3)))
        #expect(!v.covers(Dot(replica: "dev-b", counter: 1)))
    }

    @Test("a vector covers another when it is at least as large in every entry")
    func coversVector() {
        let v: VersionVector = ["server": 3, "dev-a": 2]
        #expect(v.covers(["server": 3]))
        #expect(v.covers([:]))
        #expect(!v.covers(["server": 3, "dev-b": 1]))
        #expect(!VersionVector().covers(v))
    }

    @Test("merging is the pointwise maximum")
    func pointwiseMax() {
        let a: VersionVector = ["server": 3, "dev-a": 2]
        let b: VersionVector = ["server": 1, "dev-b": 7]
        #expect(a.merging(b) == ["server": 3, "dev-a": 2, "dev-b": 7])
        #expect(a.merging(b) == b.merging(a))
        var c = a
        c.merge(a)
        #expect(c == a)
    }

    @Test("description lists replicas in byte order")
    func description() {
        let v: VersionVector = ["server": 3, "dev-a": 2, "Dev-z": 1]
        #expect(v.description == #"{"Dev-z":1,"dev-a":2,"server":3}"#)
    }
}
