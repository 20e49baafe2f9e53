import FieldSyncClient
import FieldSyncCore
import Foundation

/// Who the device is and who is signed in on it, as kept in its store.
public struct DeviceSession: Sendable, Hashable, Encodable {
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

    private enum CodingKeys: String, CodingKey {
        case deviceId, registered, signedIn, orgUnitIds, server, username, userId, role, accountId, projectId, clockSkewMs
    }

    /// The session without the token (`signedIn` says whether there is one), for people
    /// and scripts; `clockSkewMs` only when the clock is skewed.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(replica, forKey: .deviceId)
        try c.encode(registered, forKey: .registered)
        try c.encode(token != nil, forKey: .signedIn)
        try c.encode(orgUnitIds.map(\.lowercasedText), forKey: .orgUnitIds)
        try c.encodeIfPresent(server, forKey: .server)
        try c.encodeIfPresent(username, forKey: .username)
        try c.encodeIfPresent(userId, forKey: .userId)
        try c.encodeIfPresent(role, forKey: .role)
        try c.encodeIfPresent(accountId, forKey: .accountId)
        try c.encodeIfPresent(projectId?.lowercasedText, forKey: .projectId)
        if clockSkewMs != 0 { try c.encode(clockSkewMs, forKey: .clockSkewMs) }
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
            let units = (try db.metaValue([String].self, MetaKey.orgUnitIds) ?? []).compactMap(UUID.init(uuidString:))
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
            try db.setMeta(MetaKey.orgUnitIds, value: answer.user.orgUnitIds)
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
            try db.setMeta(MetaKey.forms, value: forms)
            try db.setMeta(MetaKey.entityTypes, value: entityTypes)
        }
    }

    /// The cached forms (`GET /v1/forms` items) and entity types.
    public func catalog() async throws -> (forms: [JSONValue], entityTypes: [JSONValue]) {
        try await queue.read { db in
            (try db.metaValue([JSONValue].self, MetaKey.forms) ?? [], try db.metaValue([JSONValue].self, MetaKey.entityTypes) ?? [])
        }
    }
}
