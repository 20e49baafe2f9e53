import FieldSyncClient
import FieldSyncCore
import Foundation
import Synchronization

/// Faults a fleet can inject into its pushes.
public enum FaultKind: String, Sendable, CaseIterable, Codable {
    /// The batch reaches the server, the answer is thrown away (connection cut mid-push).
    case drop
    /// The batch is sent twice at once (same `batchId`).
    case duplicate
    /// The device's pending batches are delivered out of order.
    case reorder
    /// The request is cancelled after a few milliseconds, answered or not.
    case timeout
    /// Before the batch, a batch of forged copies of its versioned writes is sent, as a
    /// buggy or hostile client would: fresh dots whose bases name a dot never written,
    /// cover the write's own dot, name a previous own write that never existed, or name
    /// a dot of another record. Each must come back `rejected` (`invalid_version` or
    /// `out_of_order`); the count of those accepted is reported (it must be 0).
    case forge
}

/// Which faults to inject and how often (per push; per sync for `reorder`).
public struct FaultPlan: Sendable {
    public var kinds: Set<FaultKind>
    /// Probability in [0, 1].
    public var rate: Double
    /// Where reorders are counted (pushes' faults are counted by ``FaultyTransport``).
    public var counter: FaultCounter?

    public init(kinds: Set<FaultKind> = [], rate: Double = 0, counter: FaultCounter? = nil) {
        self.kinds = kinds
        self.rate = rate
        self.counter = counter
    }

    public static let none = FaultPlan()

    /// Whether this sync should deliver its batches out of order.
    public func shouldReorder() -> Bool {
        guard kinds.contains(.reorder) && Double.random(in: 0..<1) < rate else { return false }
        counter?.add(.reorder)
        return true
    }

    /// The fault to inject into the next push, if any.
    func nextPushFault() -> FaultKind? {
        let push = kinds.subtracting([.reorder])
        guard !push.isEmpty, Double.random(in: 0..<1) < rate else { return nil }
        return push.randomElement()
    }
}

/// Counts of faults injected, by kind, and what became of forged writes.
public final class FaultCounter: Sendable {
    private let counts = Mutex<[FaultKind: Int]>([:])
    private let forged = Mutex<(sent: Int, rejected: Int)>((0, 0))

    public init() {}

    public func add(_ kind: FaultKind) {
        counts.withLock { $0[kind, default: 0] += 1 }
    }

    public var snapshot: [FaultKind: Int] {
        counts.withLock { $0 }
    }

    /// Records forged writes sent and how many of them the server rejected.
    public func addForged(sent: Int, rejected: Int) {
        forged.withLock { $0 = ($0.sent + sent, $0.rejected + rejected) }
    }

    /// Forged writes sent, and rejected by the server (the rest were accepted: a bug).
    public var forgedWrites: (sent: Int, rejected: Int) {
        forged.withLock { $0 }
    }
}

/// A transport that injects the plan's push faults into another one.
public struct FaultyTransport: SyncTransport {
    public let inner: any SyncTransport
    public let plan: FaultPlan
    public let counter: FaultCounter

    public init(_ inner: any SyncTransport, plan: FaultPlan, counter: FaultCounter = FaultCounter()) {
        self.inner = inner
        self.plan = plan
        self.counter = counter
    }

    public func push(batchId: UUID, deviceId: UUID, projectId: UUID?, items: [JSONValue]) async throws -> PushAnswer {
        guard let fault = plan.nextPushFault() else {
            return try await inner.push(batchId: batchId, deviceId: deviceId, projectId: projectId, items: items)
        }
        counter.add(fault)
        switch fault {
        case .drop:
            _ = try await inner.push(batchId: batchId, deviceId: deviceId, projectId: projectId, items: items)
            throw InjectedFault(kind: .drop)
        case .duplicate:
            async let first = inner.push(batchId: batchId, deviceId: deviceId, projectId: projectId, items: items)
            async let second = inner.push(batchId: batchId, deviceId: deviceId, projectId: projectId, items: items)
            let (a, b) = try await (first, second)
            guard a.results == b.results else {
                throw DeviceError(
                    "the server answered one batch \(batchId.lowercasedText) sent twice with two different results; this is a server bug")
            }
            return a
        case .timeout:
            let inner = self.inner
            let limit = Duration.milliseconds(Int64.random(in: 1...30))
            return try await withThrowingTaskGroup(of: PushAnswer?.self) { group in
                group.addTask { try await inner.push(batchId: batchId, deviceId: deviceId, projectId: projectId, items: items) }
                group.addTask {
                    try await Task.sleep(for: limit)
                    return nil
                }
                let first = try await group.next() ?? nil
                group.cancelAll()
                guard let first else { throw InjectedFault(kind: .timeout) }
                return first
            }
        case .forge:
            let forged = Self.forgeries(of: items, device: deviceId)
            if !forged.isEmpty {
                let answer = try await inner.push(batchId: UUID(), deviceId: deviceId, projectId: projectId, items: forged)
                let rejected = answer.results.filter { r in
                    r.status == .rejected && (r.error?.code == ErrorCode.invalidVersion || r.error?.code == ErrorCode.outOfOrder)
                }.count
                counter.addForged(sent: forged.count, rejected: rejected)
            }
            return try await inner.push(batchId: batchId, deviceId: deviceId, projectId: projectId, items: items)
        case .reorder:
            return try await inner.push(batchId: batchId, deviceId: deviceId, projectId: projectId, items: items)
        }
    }

    /// Forged copies of the batch's entity and instance writes (org-unit proposals wait for
    /// review instead of being applied, so they are left alone). Each has a dot its device
    /// never uses (counters from 2^40 up) and one flaw in its base, drawn at random.
    static func forgeries(of items: [JSONValue], device: UUID) -> [JSONValue] {
        let replica = device.lowercasedText
        let versioned = items.filter { $0["kind"]?.stringValue == "entity" || $0["kind"]?.stringValue == "instance" }
        // Dots of other devices' writes to other records (server counters are per record: not those).
        let foreign: [(record: String, replica: String, counter: Double)] = versioned.flatMap { item -> [(String, String, Double)] in
            let id = item["id"]?.stringValue ?? ""
            return (item["base"]?.objectValue ?? [:]).compactMap { r, n in
                guard r != replica, r != VersionedWrite.serverReplica, let n = n.numberValue, n >= 1 else { return nil }
                return (id, r, n)
            }
        }
        return versioned.map { item in
            guard case .object(var o) = item else { return item }
            let counter = Double(1 << 40) + Double(Int.random(in: 0..<(1 << 20)))
            var base = o["base"]?.objectValue ?? [:]
            let id = o["id"]?.stringValue ?? ""
            let elsewhere = foreign.filter { $0.record != id }
            switch Int.random(in: 0..<4) {
            case 0:  // a dot its replica never wrote
                if let r = base.keys.first(where: { $0 != replica }) {
                    base[r] = .number((base[r]?.numberValue ?? 0) + Double(1 << 41))
                } else {
                    base[replica] = .number(counter - 1)
                }
            case 1:  // covering its own dot
                base[replica] = .number(counter)
            case 2:  // a previous own write that never existed
                base[replica] = .number(counter - 1)
            default:  // a dot of another record (else: never written)
                if let pick = elsewhere.randomElement() {
                    base[pick.replica] = .number(pick.counter)
                    if base[replica] == nil { base[replica] = .number(counter - 2) }
                } else {
                    base[replica] = .number(counter + 5)
                }
            }
            o["base"] = .object(base)
            o["counter"] = .number(counter)
            o["changes"] = .object(["forged": .string("never applied")])
            return .object(o)
        }
    }

    public func pull(cursor: String?, limit: Int, projectId: UUID?) async throws -> PullPage {
        try await inner.pull(cursor: cursor, limit: limit, projectId: projectId)
    }
}
