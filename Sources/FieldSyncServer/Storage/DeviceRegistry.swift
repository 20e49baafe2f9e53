import FieldSyncCore
import Foundation
import Logging
import PostgresNIO

/// Devices and who owns them: one open ownership per device at a time.
struct DeviceRegistry {
    let connection: PostgresConnection
    let logger: Logger

    /// Registers `device` to `user` (run it in a transaction): the device row is
    /// upserted, then its ownership changed under a row lock on it, so concurrent
    /// registrations of one device serialise. Answers since when the user owns it.
    func register(account: UUID, device: UUID, model: String?, appVersion: String?, user: UUID) async throws -> Date {
        try await connection.query(
            """
            INSERT INTO devices (account_id, id, model, app_version) VALUES (\(account), \(device), \(model), \(appVersion))
            ON CONFLICT (account_id, id) DO UPDATE SET
                model = coalesce(EXCLUDED.model, devices.model),
                app_version = coalesce(EXCLUDED.app_version, devices.app_version)
            """, logger: logger)
        try await connection.query("SELECT 1 FROM devices WHERE account_id = \(account) AND id = \(device) FOR UPDATE", logger: logger).drain()
        let current = try await connection.query(
            "SELECT user_id, started_at FROM device_ownerships WHERE account_id = \(account) AND device_id = \(device) AND ended_at IS NULL",
            logger: logger
        ).collect { try $0.decode((UUID, Date).self) }.first
        if let current, current.0 == user { return current.1 }
        if current != nil {
            try await connection.query(
                "UPDATE device_ownerships SET ended_at = clock_timestamp() WHERE account_id = \(account) AND device_id = \(device) AND ended_at IS NULL",
                logger: logger)
        }
        let since = try await connection.query(
            "INSERT INTO device_ownerships (account_id, device_id, user_id) VALUES (\(account), \(device), \(user)) RETURNING started_at",
            logger: logger
        ).collect { try $0.decode(Date.self) }.first
        guard let since else { throw APIError.unavailable("the device's ownership was not stored") }
        return since
    }

    /// The devices of the account with their current owner: all (`everyone`), or `user`'s.
    func devices(account: UUID, everyone: Bool, user: UUID) async throws -> [JSONValue] {
        try await connection.query(
            """
            SELECT d.id, o.user_id, o.started_at, d.model, d.app_version
            FROM devices d JOIN device_ownerships o ON o.account_id = d.account_id AND o.device_id = d.id AND o.ended_at IS NULL
            WHERE d.account_id = \(account) AND (\(everyone) OR o.user_id = \(user))
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
}
