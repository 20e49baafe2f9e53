import FieldSyncCore
import Foundation

/// A user as the server describes it (`user` of the token answer, `GET /v1/users/me`).
public struct UserInfo: Sendable, Hashable {
    public var id: String
    public var username: String
    /// `agent`, `supervisor`, `admin` or `superuser`.
    public var role: String
    /// `nil` for the superuser.
    public var accountId: String?
    public var projectIds: [String]
    public var orgUnitIds: [String]

    /// Reads the protocol's user object.
    public init?(json: JSONValue) {
        guard let id = json["id"]?.stringValue, let username = json["username"]?.stringValue,
              let role = json["role"]?.stringValue
        else { return nil }
        self.id = id
        self.username = username
        self.role = role
        self.accountId = json["accountId"]?.stringValue
        self.projectIds = json["projectIds"]?.arrayValue?.compactMap(\.stringValue) ?? []
        self.orgUnitIds = json["orgUnitIds"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }
}

/// The answer of `POST /v1/auth/token`.
public struct SignInAnswer: Sendable {
    /// The bearer token; keep it secret (never print it).
    public var token: String
    public var expiresAt: String
    public var user: UserInfo
}

/// The answer of `POST /v1/devices`.
public struct DeviceRegistration: Sendable, Hashable {
    public var deviceId: String
    public var userId: String
    /// When the caller's ownership of the device began.
    public var since: String
}

extension FieldSyncClient {
    /// `POST /v1/auth/token`: signs in and keeps the token for later requests.
    @discardableResult
    public func signIn(username: String, password: String, deviceId: UUID? = nil) async throws -> SignInAnswer {
        var body: [String: JSONValue] = ["username": .string(username), "password": .string(password)]
        if let deviceId { body["deviceId"] = .string(deviceId.lowercasedText) }
        let path = "/v1/auth/token"
        let json = try await request(method: "POST", path: path, body: .object(body), idempotent: true).json
        guard let token = json["token"]?.stringValue, let user = json["user"].flatMap(UserInfo.init(json:)) else {
            throw ClientError.invalidResponse(path: path, detail: "no token or user in the answer")
        }
        setToken(token)
        return SignInAnswer(token: token, expiresAt: json["expiresAt"]?.stringValue ?? "", user: user)
    }

    /// `DELETE /v1/auth/token`: revokes the current token and forgets it.
    public func signOut() async throws {
        _ = try await request(method: "DELETE", path: "/v1/auth/token")
        setToken(nil)
    }

    /// `GET /v1/users/me`: the caller.
    public func me() async throws -> UserInfo {
        let path = "/v1/users/me"
        guard let user = UserInfo(json: try await request(method: "GET", path: path).json) else {
            throw ClientError.invalidResponse(path: path, detail: "not a user object")
        }
        return user
    }

    /// `POST /v1/devices`: registers the device for the caller (idempotent).
    @discardableResult
    public func registerDevice(deviceId: UUID, model: String? = nil, appVersion: String? = nil) async throws -> DeviceRegistration {
        var body: [String: JSONValue] = ["deviceId": .string(deviceId.lowercasedText)]
        if let model { body["model"] = .string(model) }
        if let appVersion { body["appVersion"] = .string(appVersion) }
        let path = "/v1/devices"
        let json = try await request(method: "POST", path: path, body: .object(body), idempotent: true).json
        guard let id = json["deviceId"]?.stringValue, let user = json["userId"]?.stringValue else {
            throw ClientError.invalidResponse(path: path, detail: "no deviceId or userId in the answer")
        }
        return DeviceRegistration(deviceId: id, userId: user, since: json["since"]?.stringValue ?? "")
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
