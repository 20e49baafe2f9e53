import FieldSyncCore
import Foundation
import Hummingbird
import Logging

/// `POST /v1/devices` (register the device for the caller) and `GET /v1/devices`.
struct DeviceController {
    let database: Database
    let config: ServerConfiguration

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
        let since = try await database.transaction { c in
            try await DeviceRegistry(connection: c, logger: context.logger)
                .register(account: account, device: deviceId, model: model, appVersion: appVersion, user: userId)
        }
        return JSONBody.response(
            .object([
                "deviceId": .string(deviceId.lowercased), "userId": .string(userId.lowercased), "since": .string(since.rfc3339),
            ]))
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        let account = try await AdminRequest.account(caller, request, database: database, logger: context.logger)
        let everyone = caller.role == .admin || caller.role == .superuser
        let items = try await database.withConnection { c in
            try await DeviceRegistry(connection: c, logger: context.logger).devices(account: account, everyone: everyone, user: caller.userId)
        }
        return JSONBody.response(.object(["items": .array(items)]))
    }
}
