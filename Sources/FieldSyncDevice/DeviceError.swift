/// Why a device operation failed; each `description` says what was wrong and what to do.
public struct DeviceError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }

    static func notSignedIn(_ store: String) -> DeviceError {
        DeviceError("the device store \(store) has no session; sign it in first with fieldsync device login --username NAME")
    }

    static func notRegistered(_ store: String) -> DeviceError {
        DeviceError("the device store \(store) is not registered yet; run fieldsync device register first")
    }
}

/// A fault injected on purpose by ``FaultyTransport`` (the request may have reached
/// the server; the answer was thrown away).
public struct InjectedFault: Error, Sendable, CustomStringConvertible {
    public var kind: FaultKind
    public init(kind: FaultKind) { self.kind = kind }
    public var description: String { "injected fault: \(kind.rawValue)" }
}
