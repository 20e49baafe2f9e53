import FieldSyncCore

/// The outcome of a fleet run.
public struct FleetReport: Sendable {
    public var options: FleetOptions
    /// Writes made on devices (versioned writes and positions).
    public var writes = 0
    /// Writes the server acknowledged (any status but `rejected`).
    public var acknowledged = 0
    /// Writes rejected for good (not lost: the device was told).
    public var rejected = 0
    /// Writes neither on the server nor rejected.
    public var lost = 0
    /// Devices whose state differs from the server's after the final pull.
    public var divergentDevices = 0
    /// Devices whose outbox was still not empty after the last round.
    public var devicesNotDrained = 0
    public var failedSyncs = 0
    public var rounds = 0
    public var pushes = 0
    public var p50 = 0.0, p95 = 0.0, p99 = 0.0
    public var faults: [String: Int] = [:]
    /// Forged writes sent by the `forge` fault, and how many the server rejected (all
    /// must be: one accepted is a server bug, and the run is not ok).
    public var forgedSent = 0, forgedRejected = 0
    public var serverRecords = 0
    public var serverPositions = 0
    public var recordsInConflict = 0
    public var setupSeconds = 0.0, workSeconds = 0.0, syncSeconds = 0.0, checkSeconds = 0.0
    /// Where the sync phase's device time went, summed over devices (device-seconds;
    /// divide by the concurrency for wall time): waiting for push answers, waiting
    /// for pull pages, and in the device stores (recording answers, applying pages).
    public var pushWaitSeconds = 0.0, pullWaitSeconds = 0.0, storeSeconds = 0.0
    /// The first problem found, for people.
    public var problem: String?

    public init(options: FleetOptions) {
        self.options = options
    }

    public var converged: Bool { divergentDevices == 0 && devicesNotDrained == 0 }
    public var ok: Bool { lost == 0 && converged && forgedRejected == forgedSent }
    /// Writes per second of the sync phase (push rounds and the final pull).
    public var throughput: Double { syncSeconds > 0 ? Double(writes) / syncSeconds : 0 }

    public var json: JSONValue {
        func n(_ x: Int) -> JSONValue { .number(Double(x)) }
        func r(_ x: Double) -> JSONValue { .number((x * 10).rounded() / 10) }
        var o: [String: JSONValue] = [
            "devices": n(options.devices), "recordsPerDevice": n(options.records), "writes": n(writes),
            "acknowledged": n(acknowledged), "rejected": n(rejected), "lost": n(lost),
            "converged": .bool(converged), "divergentDevices": n(divergentDevices), "devicesNotDrained": n(devicesNotDrained),
            "recordsInConflict": n(recordsInConflict), "serverRecords": n(serverRecords), "serverPositions": n(serverPositions),
            "rounds": n(rounds), "failedSyncs": n(failedSyncs), "pushes": n(pushes),
            "pushLatencyMs": .object(["p50": r(p50), "p95": r(p95), "p99": r(p99)]),
            "faults": .object(faults.mapValues { n($0) }),
            "forged": .object(["sent": n(forgedSent), "rejected": n(forgedRejected)]),
            "throughput": r(throughput),
            "seconds": .object(["setup": r(setupSeconds), "work": r(workSeconds), "sync": r(syncSeconds), "check": r(checkSeconds)]),
            "syncDeviceSeconds": .object(["pushWait": r(pushWaitSeconds), "pullWait": r(pullWaitSeconds), "store": r(storeSeconds)]),
            "concurrency": n(options.concurrency), "batchSize": n(options.batchSize),
            "ok": .bool(ok),
        ]
        if let problem { o["problem"] = .string(problem) }
        return .object(o)
    }

    /// The report for people, a few lines.
    public var text: String {
        func f(_ x: Double) -> String { String(Int(x.rounded())) }
        func s(_ x: Double) -> String { String((x * 10).rounded() / 10) }
        var lines = [
            "devices     : \(options.devices) x \(options.records) records (+\(options.track) positions each)",
            "writes      : \(writes) made, \(acknowledged) acknowledged, \(rejected) rejected, \(lost) lost",
            "conflicts   : \(recordsInConflict) records in conflict on the server (\(serverRecords) records, \(serverPositions) positions)",
            "sync        : \(s(syncSeconds)) s end to end, \(f(throughput)) writes/s, \(rounds) rounds, \(failedSyncs) failed syncs retried",
            "push latency: p50 \(f(p50)) ms, p95 \(f(p95)) ms, p99 \(f(p99)) ms (\(pushes) answered pushes of <= \(options.batchSize) items)",
            "faults      : \(faults.isEmpty ? "none" : faults.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))",
            "forged      : \(forgedSent) forged writes sent, \(forgedRejected) rejected\(forgedRejected == forgedSent ? "" : " (\(forgedSent - forgedRejected) ACCEPTED)")",
            "phases      : setup \(s(setupSeconds)) s, offline work \(s(workSeconds)) s, sync \(s(syncSeconds)) s, check \(s(checkSeconds)) s",
            "sync time   : device-seconds waiting for pushes \(s(pushWaitSeconds)), for pulls \(s(pullWaitSeconds)), in the stores \(s(storeSeconds)) (\(options.concurrency) devices at once)",
            "converged   : \(converged ? "yes" : "NO (\(divergentDevices) devices differ, \(devicesNotDrained) not drained)")",
        ]
        if let problem { lines.append("first problem: \(problem)") }
        return lines.joined(separator: "\n")
    }
}
