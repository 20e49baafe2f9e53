import Foundation

/// How a simulated fleet behaves.
public struct FleetOptions: Sendable {
    /// Emulated devices.
    public var devices: Int
    /// Offline writes per device (new instances and edits of shared entities).
    public var records: Int
    /// Devices syncing at once.
    public var concurrency = 32
    /// Devices per agent (each agent has its own org unit; its devices share its entities).
    public var devicesPerUser = 10
    /// Shared entities per agent's org unit, edited by its devices (real conflicts).
    public var sharedEntities = 5
    /// Share of the writes that edit a shared entity (the rest are new instances).
    public var sharedEditRate = 0.2
    /// GPS positions each device records.
    public var track = 10
    /// Items per push.
    public var batchSize = 200
    /// Faults to inject and how often.
    public var faults = FaultPlan.none
    /// Share of devices that are offline during the first sync round.
    public var offlineRate = 0.0
    /// Each device's clock is off by a random amount in ±this many seconds.
    public var clockSkewSeconds = 0.0
    /// Sync rounds before giving up on devices that still fail.
    public var maxRounds = 30
    /// Where the device stores go (one SQLite file each).
    public var storeDirectory: String

    public init(devices: Int, records: Int, storeDirectory: String) {
        self.devices = devices
        self.records = records
        self.storeDirectory = storeDirectory
    }

    /// Agents (and org units) the fleet needs.
    public var users: Int { (devices + devicesPerUser - 1) / devicesPerUser }
}
