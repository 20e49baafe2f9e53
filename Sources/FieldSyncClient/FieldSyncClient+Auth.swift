import FieldSyncCore
import Foundation

/// A user as the server describes it (`user` of the token answer, `GET /v1/users/me`).
public struct UserInfo: Sendable, Hashable, Codable {
    public var id: String
    public var username: String
    /// `agent`, `supervisor`, `admin` or `superuser`.
    public var role: String
    /// `nil` for the superuser.
    public var accountId: String?
    public var projectIds: [String]
    public var orgUnitIds: [String]

    public init(id: String, username: String, role: String, accountId: String?, projectIds: [String] = [], orgUnitIds: [String] = []) {
        self.id = id
        self.username = username
        self.role = role
        self.accountId = accountId
        self.projectIds = projectIds
        self.orgUnitIds = orgUnitIds
    }

    private enum CodingKeys: String, CodingKey {
        case id, username, role, accountId, projectIds, orgUnitIds
    }

    /// Reads the protocol's user object; absent id lists are empty.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        username = try c.decode(String.self, forKey: .username)
        role = try c.decode(String.self, forKey: .role)
        accountId = try c.decodeIfPresent(String.self, forKey: .accountId)
        projectIds = try c.decodeIfPresent([String].self, forKey: .projectIds) ?? []
        orgUnitIds = try c.decodeIfPresent([String].self, forKey: .orgUnitIds) ?? []
    }
}

/// The answer of `POST /v1/auth/token`.
public struct SignInAnswer: Sendable, Hashable, Codable {
    /// The bearer token; keep it secret (never print it).
    public var token: String
    public var expiresAt: String
    public var user: UserInfo

    public init(token: String, expiresAt: String, user: UserInfo) {
        self.token = token
        self.expiresAt = expiresAt
        self.user = user
    }
}

/// The answer of `POST /v1/devices`.
public struct DeviceRegistration: Sendable, Hashable, Codable {
    public var deviceId: String
    public var userId: String
    /// When the caller's ownership of the device began.
    public var since: String

    public init(deviceId: String, userId: String, since: String) {
        self.deviceId = deviceId
        self.userId = userId
        self.since = since
    }
}

/// The body of `POST /v1/auth/token`.
struct SignInRequest: Encodable {
    var username: String
    var password: String
    var deviceId: String?
}

/// The body of `POST /v1/devices`.
struct DeviceRequest: Encodable {
    var deviceId: String
    var model: String?
    var appVersion: String?
}

extension FieldSyncClient {
    /// `POST /v1/auth/token`: signs in and keeps the token for later requests.
    @discardableResult
    public func signIn(username: String, password: String, deviceId: UUID? = nil) async throws -> SignInAnswer {
        let path = "/v1/auth/token"
        let body = SignInRequest(username: username, password: password, deviceId: deviceId?.lowercasedText)
        let answer = try await request(method: "POST", path: path, encoding: body, idempotent: true).decode(SignInAnswer.self, path: path)
        setToken(answer.token)
        return answer
    }

    /// `DELETE /v1/auth/token`: revokes the current token and forgets it.
    public func signOut() async throws {
        _ = try await request(method: "DELETE", path: "/v1/auth/token")
        setToken(nil)
    }

    /// `GET /v1/users/me`: the caller.
    public func me() async throws -> UserInfo {
        let path = "/v1/users/me"
        return try await request(method: "GET", path: path).decode(UserInfo.self, path: path)
    }

    /// `POST /v1/devices`: registers the device for the caller (idempotent).
    @discardableResult
    public func registerDevice(deviceId: UUID, model: String? = nil, appVersion: String? = nil) async throws -> DeviceRegistration {
        let path = "/v1/devices"
        let body = DeviceRequest(deviceId: deviceId.lowercasedText, model: model, appVersion: appVersion)
        return try await request(method: "POST", path: path, encoding: body, idempotent: true).decode(DeviceRegistration.self, path: path)
    }

    /// `GET /v1/devices`: the devices the caller may see.
    public func listDevices() async throws -> [JSONValue] {
        try await list("/v1/devices", accountId: nil)
    }

    /// Polls `GET /readyz` about once a second until the server is ready or `limit`
    /// has passed; returns `nil` when ready, else why not. Throws
    /// ``ClientError/unreachable(url:detail:)`` when it never answered.
    public func waitUntilReady(within limit: Duration) async throws -> String? {
        let deadline = ContinuousClock.now + limit
        while true {
            var why: String?
            do {
                why = try await readiness()
                if why == nil { return nil }
            } catch let error as ClientError where error.isUnreachable {
                if ContinuousClock.now >= deadline { throw error }
                why = error.description
            }
            if ContinuousClock.now >= deadline { return why }
            try await Task.sleep(for: .seconds(1))
        }
    }

    /// `GET /readyz`: `nil` when the server is ready, else why not (one sentence).
    /// Unreachable servers throw ``ClientError/unreachable(url:detail:)``.
    public func readiness() async throws -> String? {
        do {
            _ = try await request(method: "GET", path: "/readyz", timeout: .seconds(10))
            return nil
        } catch let error as ClientError where error.status != nil {
            return error.description
        }
    }
}
