/// A version vector: for each replica, the greatest counter of its writes applied
/// to one record. On the wire and in storage it is a plain JSON object,
/// `{"server":3,"dev-a":2}`.
///
/// Counters are ≥ 1; a replica with no write is absent (reads as 0), so two vectors
/// naming the same writes are always equal. Because the server applies a replica's
/// writes to a record in that replica's order, `v[r] = n` means every write of `r`
/// to the record with a counter ≤ n has been applied.
public struct VersionVector: Sendable, Hashable, Codable, CustomStringConvertible,
    ExpressibleByDictionaryLiteral
{
    /// The non-zero entries, replica → counter.
    public private(set) var entries: [String: Int64]

    /// The empty vector (nothing applied).
    public init() {
        entries = [:]
    }

    /// A vector with the given entries; counters ≤ 0 are dropped (they mean "none").
    public init(_ entries: [String: Int64]) {
        self.entries = entries.filter { $0.value > 0 }
    }

    /// Entries the caller knows are all above 0 (checked in debug builds only).
    init(positiveEntries entries: [String: Int64]) {
        assert(entries.values.allSatisfy { $0 > 0 })
        self.entries = entries
    }

    /// `["server": 3, "dev-a": 2]`; a replica named twice keeps its greater counter.
    public init(dictionaryLiteral elements: (String, Int64)...) {
        entries = [:]
        for (replica, counter) in elements where counter > self[replica] {
            self[replica] = counter
        }
    }

    /// The counter of `replica`, 0 when absent. Setting 0 or less removes the entry.
    public subscript(replica: String) -> Int64 {
        get { entries[replica] ?? 0 }
        set { entries[replica] = newValue > 0 ? newValue : nil }
    }

    /// `true` when no write is named.
    public var isEmpty: Bool { entries.isEmpty }

    /// The replicas named, sorted by their UTF-8 bytes.
    public var replicas: [String] { entries.keys.sorted(by: bytewiseLess) }

    /// Whether the write `dot` is covered (`self[dot.replica] >= dot.counter`).
    public func covers(_ dot: Dot) -> Bool {
        self[dot.replica] >= dot.counter
    }

    /// Whether every entry of `other` is covered (`other ≤ self` pointwise).
    public func covers(_ other: VersionVector) -> Bool {
        other.entries.allSatisfy { self[$0.key] >= $0.value }
    }

    /// The pointwise maximum of both vectors.
    public func merging(_ other: VersionVector) -> VersionVector {
        var result = self
        result.merge(other)
        return result
    }

    /// Raises every entry to at least `other`'s (pointwise maximum).
    public mutating func merge(_ other: VersionVector) {
        for (replica, counter) in other.entries where counter > self[replica] {
            entries[replica] = counter
        }
    }

    /// Raises `dot.replica`'s entry to at least `dot.counter`.
    public mutating func include(_ dot: Dot) {
        if dot.counter > self[dot.replica] { self[dot.replica] = dot.counter }
    }

    /// The vector with `dot` included.
    public func including(_ dot: Dot) -> VersionVector {
        var result = self
        result.include(dot)
        return result
    }

    /// `{"dev-a":2,"server":3}`, replicas in byte order (for messages and logs).
    public var description: String {
        let body = replicas.map { "\"\($0)\":\(self[$0])" }.joined(separator: ",")
        return "{\(body)}"
    }

    /// Decodes a JSON object of counters. A counter of 0 means "none" and is dropped;
    /// a negative counter is an error.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: NameKey.self)
        var entries: [String: Int64] = [:]
        for key in container.allKeys {
            let counter = try container.decode(Int64.self, forKey: key)
            guard counter >= 0 else {
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: container,
                    debugDescription: "a version counter must not be negative")
            }
            if counter > 0 { entries[key.stringValue] = counter }
        }
        self.entries = entries
    }

    /// Encodes as a JSON object, replicas in byte order.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: NameKey.self)
        for replica in replicas {
            try container.encode(self[replica], forKey: NameKey(replica))
        }
    }
}

/// A coding key for objects whose member names are data (replicas, field names).
struct NameKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }

    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
