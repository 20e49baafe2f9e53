/// A deliberately simple model of PROTOCOL.md's "Versions" and "Push" sections, written
/// from the contract's sentences and sharing nothing with the production code: a record
/// is the list of the writes applied to it, and everything (the checks, every field's
/// values, the vector) is computed from that list by scanning it. No version vectors,
/// no dot sets, no incremental state. The property tests compare the production push
/// decision with it.
struct ModelWrite: Hashable, CustomStringConvertible {
    var record: String
    var replica: String
    var counter: Int64
    /// replica → counter, as sent (0 entries never sent).
    var base: [String: Int64]
    /// Milliseconds after the test's epoch.
    var editedAt: Int64
    /// Field → value; `nil` is JSON null (a value that clears the field).
    var changes: [String: String?]
    /// The record's org unit as the item names it (a fixed attribute).
    var orgUnit: String

    var description: String { "\(replica.prefix(6)):\(counter)@\(record.prefix(4)) base \(base.mapValues { $0 })" }
}

/// The answer the model expects for one pushed write.
enum ModelStatus: String, Hashable {
    case created, updated, merged, conflict, unchanged
    case outOfOrder = "out_of_order"
    case invalidVersion = "invalid_version"
    case invalidField = "invalid_field"
    case immutableField = "immutable_field"

    var isApplied: Bool { [.created, .updated, .merged, .conflict].contains(self) }
}

/// One value as the model holds it.
struct ModelValue: Hashable {
    var replica: String
    var counter: Int64
    var value: String?
    var editedAt: Int64
}

/// One record: the writes applied to it, in the order they were applied.
struct ModelRecord {
    var applied: [ModelWrite] = []

    /// "A write whose dot was already applied".
    func hasApplied(_ replica: String, _ counter: Int64) -> Bool {
        applied.contains { $0.replica == replica && $0.counter == counter }
    }

    /// "The record's vector is the pointwise maximum of all dots applied."
    var vector: [String: Int64] {
        var v: [String: Int64] = [:]
        for w in applied { v[w.replica] = max(v[w.replica] ?? 0, w.counter) }
        return v
    }

    /// The Push section's check order, then the item's content; `nil` when the write is
    /// to be applied.
    func verdict(_ w: ModelWrite) -> ModelStatus? {
        if w.counter < 1 { return .invalidVersion }
        // "a dot already applied → unchanged"
        if hasApplied(w.replica, w.counter) { return .unchanged }
        // "a base covering the write's own dot → invalid_version"
        let previous = w.base[w.replica] ?? 0
        if previous >= w.counter { return .invalidVersion }
        // "its previous own write not applied → out_of_order"
        if previous > 0 && !hasApplied(w.replica, previous) { return .outOfOrder }
        // base[replica] names its previous write to that record: no later own write may
        // have been applied ("a device's writes to one record arrive in its own order").
        let own = applied.filter { $0.replica == w.replica }.map(\.counter)
        if let latest = own.max(), latest != previous { return .invalidVersion }
        // "any other named dot not applied → invalid_version"
        for (replica, counter) in w.base where replica != w.replica && counter > 0 {
            if !hasApplied(replica, counter) { return .invalidVersion }
        }
        // "then the item's content": changes may be empty only on the creating write;
        // fixed attributes are set by the creating write.
        if let first = applied.first {
            if w.changes.isEmpty { return .invalidField }
            if w.orgUnit != first.orgUnit { return .immutableField }
        }
        return nil
    }

    /// "A write for field f removes the values whose dots its base covers": the values of
    /// field `name` are those of the applied writes that changed it and that no other
    /// applied write changing it has covered.
    func values(of name: String) -> Set<ModelValue> {
        let writers = applied.filter { $0.changes.keys.contains(name) }
        var out = Set<ModelValue>()
        for w in writers {
            let covered = writers.contains { other in
                !(other.replica == w.replica && other.counter == w.counter) && (other.base[w.replica] ?? 0) >= w.counter
            }
            if !covered, let value = w.changes[name] {
                out.insert(ModelValue(replica: w.replica, counter: w.counter, value: value, editedAt: w.editedAt))
            }
        }
        return out
    }

    var fieldNames: Set<String> { Set(applied.flatMap(\.changes.keys)) }

    /// "its visible value is the one with the greatest (editedAt, replica)", replicas as
    /// byte strings, then the counter.
    func visible(_ name: String) -> ModelValue? {
        values(of: name).max { a, b in
            if a.editedAt != b.editedAt { return a.editedAt < b.editedAt }
            let ab = Array(a.replica.utf8), bb = Array(b.replica.utf8)
            if ab != bb { return ab.lexicographicallyPrecedes(bb) }
            return a.counter < b.counter
        }
    }

    /// Pushes `w`: answers as the contract says and applies it when it passes.
    mutating func push(_ w: ModelWrite) -> ModelStatus {
        if let verdict = verdict(w) { return verdict }
        let wasEmpty = applied.isEmpty
        let before = vector
        applied.append(w)
        if wasEmpty { return .created }
        // "conflict when any field of the record is in conflict after it, merged when its
        // base did not cover the record's vector, else updated"
        if fieldNames.contains(where: { values(of: $0).count >= 2 }) { return .conflict }
        let covered = before.allSatisfy { (w.base[$0.key] ?? 0) >= $0.value }
        return covered ? .updated : .merged
    }
}
