import FieldSyncCore

/// The outcome of a fleet run.
public struct FleetReport: Sendable, Encodable {
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

    private enum CodingKeys: String, CodingKey {
        case devices, recordsPerDevice, writes, acknowledged, rejected, lost, converged, divergentDevices, devicesNotDrained
        case recordsInConflict, serverRecords, serverPositions, rounds, failedSyncs, pushes, pushLatencyMs, faults, forged
        case throughput, seconds, syncDeviceSeconds, concurrency, batchSize, ok, problem
    }

    /// Seconds, milliseconds and rates with one decimal place.
    private struct Tenths: Encodable {
        var value: Double
        init(_ value: Double) { self.value = value }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            try c.encode((value * 10).rounded() / 10)
        }
    }

    /// The report for machines (`simulate --json`).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(options.devices, forKey: .devices)
        try c.encode(options.records, forKey: .recordsPerDevice)
        try c.encode(writes, forKey: .writes)
        try c.encode(acknowledged, forKey: .acknowledged)
        try c.encode(rejected, forKey: .rejected)
        try c.encode(lost, forKey: .lost)
        try c.encode(converged, forKey: .converged)
        try c.encode(divergentDevices, forKey: .divergentDevices)
        try c.encode(devicesNotDrained, forKey: .devicesNotDrained)
        try c.encode(recordsInConflict, forKey: .recordsInConflict)
        try c.encode(serverRecords, forKey: .serverRecords)
        try c.encode(serverPositions, forKey: .serverPositions)
        try c.encode(rounds, forKey: .rounds)
        try c.encode(failedSyncs, forKey: .failedSyncs)
        try c.encode(pushes, forKey: .pushes)
        try c.encode(["p50": Tenths(p50), "p95": Tenths(p95), "p99": Tenths(p99)], forKey: .pushLatencyMs)
        try c.encode(faults, forKey: .faults)
        try c.encode(["sent": forgedSent, "rejected": forgedRejected], forKey: .forged)
        try c.encode(Tenths(throughput), forKey: .throughput)
        try c.encode(
            ["setup": Tenths(setupSeconds), "work": Tenths(workSeconds), "sync": Tenths(syncSeconds), "check": Tenths(checkSeconds)],
            forKey: .seconds)
        try c.encode(
            ["pushWait": Tenths(pushWaitSeconds), "pullWait": Tenths(pullWaitSeconds), "store": Tenths(storeSeconds)],
            forKey: .syncDeviceSeconds)
        try c.encode(options.concurrency, forKey: .concurrency)
        try c.encode(options.batchSize, forKey: .batchSize)
        try c.encode(ok, forKey: .ok)
        try c.encodeIfPresent(problem, forKey: .problem)
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
