import FieldSyncCore
import Foundation
import Logging
import PostgresNIO

/// Inserts a batch's positions with one set-based statement (arrays + UNNEST),
/// idempotent by id: a position already stored is left as it is.
struct PositionStore {
    /// Who sent them: the positions are the caller's, in its account.
    let scope: CallerScope
    let connection: PostgresConnection
    let logger: Logger

    /// Inserts `positions` of `device` in `project`; returns the ids that were new.
    func insert(_ positions: [PositionItem], project: UUID, device: UUID) async throws -> Set<UUID> {
        guard !positions.isEmpty else { return [] }
        let account = scope.account
        let user = scope.user
        let ids = positions.map(\.id)
        // Milliseconds, added to the epoch in SQL: exact, unlike a Double round trip.
        let millis = positions.map(\.capturedAt.millisecondsSinceEpoch)
        let lon = positions.map(\.location.longitude)
        let lat = positions.map(\.location.latitude)
        // Arrays can't hold NULL through this driver: NaN stands for "absent" and is
        // turned back into NULL in SQL (NaN can't arrive through JSON).
        let z = positions.map { $0.location.altitude ?? .nan }
        let accuracy = positions.map { $0.accuracy ?? .nan }
        let altitude = positions.map { $0.altitude ?? .nan }
        let transport = positions.map { $0.transport ?? "" }
        let rows = try await connection.query(
            """
            INSERT INTO positions (account_id, project_id, id, device_id, user_id, captured_at, location, location_z, accuracy, altitude, transport)
            SELECT \(account), \(project), t.id, \(device), \(user),
                   timestamptz 'epoch' + t.ms * interval '1 millisecond',
                   ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326),
                   NULLIF(t.z, 'NaN'), NULLIF(t.acc, 'NaN'), NULLIF(t.alt, 'NaN'), NULLIF(t.tr, '')
            FROM unnest(\(ids)::uuid[], \(millis)::int8[], \(lon)::float8[], \(lat)::float8[], \(z)::float8[],
                        \(accuracy)::float8[], \(altitude)::float8[], \(transport)::text[])
                 AS t(id, ms, lon, lat, z, acc, alt, tr)
            ON CONFLICT (account_id, id) DO NOTHING
            RETURNING id
            """, logger: logger)
        return Set(try await rows.collect { try $0.decode(UUID.self) })
    }
}
