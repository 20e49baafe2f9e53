import FieldSyncCore
import Foundation
import Hummingbird
import Logging
import PostgresNIO

/// `POST /v1/devices` (register the device for the caller) and `GET /v1/devices`.
struct DeviceController {
    let database: Database
    let config: ServerConfiguration
    let logger: Logger

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.post("devices", use: register)
        router.get("devices", use: list)
    }

    /// Idempotent, also under concurrent registration of the same device: the device
    /// row is upserted, then the ownership rows are changed under a row lock on it.
    @Sendable func register(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let account = try caller.requireAccount()
        let body = try await JSONBody.read(request, limit: config.maxPushBytes)
        let (deviceId, model, appVersion): (UUID, String?, String?)
        do throws(ItemError) {
            let r = try ObjectReader(body, path: "")
            // `model` and `appVersion` are strings or absent: `null` is refused (422), as
            // on every administration body, rather than read as "not given".
            try RequestChecks.rejectNullMembers(r, of: ["deviceId", "model", "appVersion"])
            deviceId = try r.requiredUUID("deviceId")
            model = try r.string("model")
            appVersion = try r.string("appVersion")
        } catch {
            throw APIError(error, status: error.code == ErrorCode.invalidRequest ? .badRequest : .unprocessableContent)
        }
        let userId = caller.userId
        let since: Date = try await database.transaction { [logger] c in
            try await c.query(
                """
                INSERT INTO devices (account_id, id, model, app_version) VALUES (\(account), \(deviceId), \(model), \(appVersion))
                ON CONFLICT (account_id, id) DO UPDATE SET
                    model = coalesce(EXCLUDED.model, devices.model),
                    app_version = coalesce(EXCLUDED.app_version, devices.app_version)
                """, logger: logger)
            // Serialise ownership changes of this device.
            try await c.query("SELECT 1 FROM devices WHERE account_id = \(account) AND id = \(deviceId) FOR UPDATE", logger: logger).drain()
            let current = try await c.query(
                "SELECT user_id, started_at FROM device_ownerships WHERE account_id = \(account) AND device_id = \(deviceId) AND ended_at IS NULL",
                logger: logger
            ).collect { try $0.decode((UUID, Date).self) }.first
            if let current, current.0 == userId { return current.1 }
            if current != nil {
                try await c.query(
                    "UPDATE device_ownerships SET ended_at = clock_timestamp() WHERE account_id = \(account) AND device_id = \(deviceId) AND ended_at IS NULL",
                    logger: logger)
            }
            return try await c.query(
                "INSERT INTO device_ownerships (account_id, device_id, user_id) VALUES (\(account), \(deviceId), \(userId)) RETURNING started_at",
                logger: logger
            ).collect { try $0.decode(Date.self) }.first ?? Date()
        }
        return JSONBody.response(.object([
            "deviceId": .string(deviceId.lowercased), "userId": .string(userId.lowercased), "since": .string(since.rfc3339),
        ]))
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let account = try await AdminController(database: database, config: config, logger: logger).account(caller, request)
        let everyone = caller.role == .admin || caller.role == .superuser
        let me = caller.userId
        let items = try await database.withConnection { [logger] c in
            try await c.query(
                """
                SELECT d.id, o.user_id, o.started_at, d.model, d.app_version
                FROM devices d JOIN device_ownerships o ON o.account_id = d.account_id AND o.device_id = d.id AND o.ended_at IS NULL
                WHERE d.account_id = \(account) AND (\(everyone) OR o.user_id = \(me))
                ORDER BY d.id
                """, logger: logger
            ).collect { row -> JSONValue in
                let (id, user, since, model, app) = try row.decode((UUID, UUID, Date, String?, String?).self)
                return .object([
                    "deviceId": .string(id.lowercased), "userId": .string(user.lowercased), "since": .string(since.rfc3339),
                    "model": model.map(JSONValue.string) ?? .null, "appVersion": app.map(JSONValue.string) ?? .null,
                ])
            }
        }
        return JSONBody.response(.object(["items": .array(items)]))
    }
}
