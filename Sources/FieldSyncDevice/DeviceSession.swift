import FieldSyncClient
import FieldSyncCore
import Foundation

/// Who the device is and who is signed in on it, as kept in its store.
public struct DeviceSession: Sendable, Hashable {
    /// The device id, which is also its replica id in version vectors.
    public var deviceId: UUID
    public var server: String?
    /// Secret: never printed.
    public var token: String?
    public var username: String?
    public var userId: String?
    public var role: String?
    public var accountId: String?
    public var projectId: UUID?
    public var orgUnitIds: [UUID]
    /// Whether `POST /v1/devices` succeeded for the signed-in user.
    public var registered: Bool
    /// Added to the wall clock for `editedAt` (an emulated clock skew).
    public var clockSkewMs: Int64

    /// The replica id, as it appears in version vectors.
    public var replica: String { deviceId.lowercasedText }

    /// The session, without the token, as JSON for people and scripts.
    public var json: JSONValue {
        var o: [String: JSONValue] = [
            "deviceId": .string(replica), "registered": .bool(registered), "signedIn": .bool(token != nil),
            "orgUnitIds": .array(orgUnitIds.map { .string($0.lowercasedText) }),
        ]
        if let server { o["server"] = .string(server) }
        if let username { o["username"] = .string(username) }
        if let userId { o["userId"] = .string(userId) }
        if let role { o["role"] = .string(role) }
        if let accountId { o["accountId"] = .string(accountId) }
        if let projectId { o["projectId"] = .string(projectId.lowercasedText) }
        if clockSkewMs != 0 { o["clockSkewMs"] = .number(Double(clockSkewMs)) }
        return .object(o)
    }
}

extension DeviceStore {
    /// The session; a new device id is chosen and kept on first use.
    public func session() async throws -> DeviceSession {
        try await queue.write { db in
            var id = try db.meta(MetaKey.deviceId).flatMap(UUID.init(uuidString:))
            if id == nil {
                id = UUID()
                try db.setMeta(MetaKey.deviceId, id!.lowercasedText)
            }
            let units = (try db.metaJSON(MetaKey.orgUnitIds)?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(UUID.init(uuidString:)) }
            return DeviceSession(
                deviceId: id!, server: try db.meta(MetaKey.server), token: try db.meta(MetaKey.token),
                username: try db.meta(MetaKey.username), userId: try db.meta(MetaKey.userId), role: try db.meta(MetaKey.role),
                accountId: try db.meta(MetaKey.accountId), projectId: try db.meta(MetaKey.projectId).flatMap(UUID.init(uuidString:)),
                orgUnitIds: units, registered: try db.meta(MetaKey.registered) == "1",
                clockSkewMs: try db.metaInt(MetaKey.clockSkewMs))
        }
    }

    /// Sets the device id (only before anything was written with the old one).
    public func setDeviceId(_ id: UUID) async throws {
        try await queue.write { db in
            let written = try db.metaInt(MetaKey.written)
            let current = try db.meta(MetaKey.deviceId)
            if written > 0, let current, current != id.lowercasedText {
                throw DeviceError("this device store already wrote as device \(current); use another --store to emulate another device")
            }
            try db.setMeta(MetaKey.deviceId, id.lowercasedText)
        }
    }

    /// Stores a sign-in: server, token, user, and the project (the given one, else
    /// the user's only project).
    public func saveSignIn(server: String, answer: SignInAnswer, projectId: UUID?) async throws {
        let project = projectId ?? (answer.user.projectIds.count == 1 ? UUID(uuidString: answer.user.projectIds[0]) : nil)
        try await queue.write { db in
            try db.setMeta(MetaKey.server, server)
            try db.setMeta(MetaKey.token, answer.token)
            try db.setMeta(MetaKey.username, answer.user.username)
            try db.setMeta(MetaKey.userId, answer.user.id)
            try db.setMeta(MetaKey.role, answer.user.role)
            try db.setMeta(MetaKey.accountId, answer.user.accountId)
            try db.setMeta(MetaKey.projectId, project?.lowercasedText)
            try db.setMeta(MetaKey.orgUnitIds, JSONWriter.string(.array(answer.user.orgUnitIds.map(JSONValue.string))))
            try db.setMeta(MetaKey.registered, nil)
        }
    }

    /// Marks the device registered for the signed-in user.
    public func setRegistered() async throws {
        try await queue.write { db in try db.setMeta(MetaKey.registered, "1") }
    }

    /// Sets the emulated clock skew (milliseconds added to the wall clock).
    public func setClockSkew(milliseconds: Int64) async throws {
        try await queue.write { db in try db.setMeta(MetaKey.clockSkewMs, String(milliseconds)) }
    }

    /// Forgets the token (the records and the outbox stay).
    public func signOut() async throws {
        try await queue.write { db in
            try db.setMeta(MetaKey.token, nil)
            try db.setMeta(MetaKey.registered, nil)
        }
    }

    /// Keeps the forms and entity types the device collects with (downloaded while online).
    public func saveCatalog(forms: [JSONValue], entityTypes: [JSONValue]) async throws {
        try await queue.write { db in
            try db.setMeta(MetaKey.forms, JSONWriter.string(.array(forms)))
            try db.setMeta(MetaKey.entityTypes, JSONWriter.string(.array(entityTypes)))
        }
    }

    /// The cached forms (`GET /v1/forms` items) and entity types.
    public func catalog() async throws -> (forms: [JSONValue], entityTypes: [JSONValue]) {
        try await queue.read { db in
            (try db.metaJSON(MetaKey.forms)?.arrayValue ?? [], try db.metaJSON(MetaKey.entityTypes)?.arrayValue ?? [])
        }
    }
}
