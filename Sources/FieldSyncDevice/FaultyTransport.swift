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

/// Counts of faults injected, by kind.
public final class FaultCounter: Sendable {
    private let counts = Mutex<[FaultKind: Int]>([:])

    public init() {}

    public func add(_ kind: FaultKind) {
        counts.withLock { $0[kind, default: 0] += 1 }
    }

    public var snapshot: [FaultKind: Int] {
        counts.withLock { $0 }
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
                throw DeviceError("the server answered one batch \(batchId.lowercasedText) sent twice with two different results; this is a server bug")
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
        case .reorder:
            return try await inner.push(batchId: batchId, deviceId: deviceId, projectId: projectId, items: items)
        }
    }

    public func pull(cursor: String?, limit: Int, projectId: UUID?) async throws -> PullPage {
        try await inner.pull(cursor: cursor, limit: limit, projectId: projectId)
    }
}
