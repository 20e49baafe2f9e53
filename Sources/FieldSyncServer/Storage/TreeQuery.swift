import FieldSyncCore
import Foundation
import Hummingbird
import Logging
import NIOCore
import PostgresNIO

/// `GET /v1/orgunits/tree`: the approved units under some roots, parents before
/// children (ordered by path, which the `(account_id, path)` index serves without a
/// sort), each built as JSON text by PostgreSQL and streamed to the client as rows arrive.
struct TreeQuery {
    let connection: PostgresConnection
    let logger: Logger

    enum Geometry: String, Sendable { case none, simplified, full }
    enum Format: String, Sendable { case json, geojson }

    struct Request: Sendable {
        var account: UUID
        /// Paths of the roots; `nil` for the whole account. A caller's own roots are its
        /// scope's ``CallerScope/subtrees``.
        var roots: [String]?
        var geometry: Geometry
        var format: Format
        var since: FeedCursor?
    }

    /// `path` as the ids from the top of the tree down to the unit.
    static let pathSQL = "(SELECT json_agg(substr(l, 2)::uuid ORDER BY n) FROM unnest(string_to_array(o.path::text, '.')) WITH ORDINALITY AS x(l, n))"
    static let locationSQL = """
        CASE WHEN o.location IS NULL THEN NULL ELSE json_build_object('type', 'Point', 'coordinates',
            CASE WHEN o.location_z IS NULL THEN json_build_array(ST_X(o.location), ST_Y(o.location))
                 ELSE json_build_array(ST_X(o.location), ST_Y(o.location), o.location_z) END) END
        """

    /// The statement that yields one JSON text per unit, in path order. Simplified
    /// geometry is for screens: 6 decimals (about 0.1 m) are plenty.
    static func statement(_ r: Request) -> PostgresQuery {
        let cursor = r.since ?? .start
        let all = r.roots == nil
        let roots = r.roots ?? []
        let mode = r.geometry.rawValue
        switch r.format {
        case .json:
            return """
                SELECT json_build_object('id', o.id, 'parentId', o.parent_id, 'name', o.name, 'orgUnitTypeId', o.org_unit_type_id,
                    'path', \(unescaped: pathSQL), 'status', o.validation_status, 'aliases', to_json(o.aliases),
                    'location', \(unescaped: locationSQL),
                    'geometry', CASE WHEN \(mode) = 'full' THEN ST_AsGeoJSON(o.geom)::json
                                     WHEN \(mode) = 'simplified' THEN ST_AsGeoJSON(o.simplified_geom, 6)::json END,
                    'version', o.version)::text
                FROM org_units o
                WHERE o.account_id = \(r.account) AND o.validation_status = 'validated'
                  AND (\(all) OR o.path <@ \(roots)::ltree[])
                  AND (o.feed_xid, o.feed_seq) > (\(String(cursor.xid))::xid8, \(cursor.seq))
                ORDER BY o.account_id, o.path
                """
        case .geojson:
            return """
                SELECT json_build_object('type', 'Feature', 'id', o.id,
                    'geometry', coalesce(CASE WHEN \(mode) = 'full' THEN ST_AsGeoJSON(o.geom)::json
                                              WHEN \(mode) = 'simplified' THEN ST_AsGeoJSON(o.simplified_geom, 6)::json END,
                                         \(unescaped: locationSQL)),
                    'properties', json_build_object('id', o.id, 'parentId', o.parent_id, 'name', o.name, 'orgUnitTypeId', o.org_unit_type_id,
                        'path', \(unescaped: pathSQL), 'status', o.validation_status, 'aliases', to_json(o.aliases),
                        'location', \(unescaped: locationSQL), 'version', o.version))::text
                FROM org_units o
                WHERE o.account_id = \(r.account) AND o.validation_status = 'validated'
                  AND (\(all) OR o.path <@ \(roots)::ltree[])
                  AND (o.feed_xid, o.feed_seq) > (\(String(cursor.xid))::xid8, \(cursor.seq))
                ORDER BY o.account_id, o.path
                """
        }
    }

    /// The cursor a tree answer ends with: the feed boundary now (see ``FeedCursor``).
    /// Every unit changed by a transaction below it is in the answer; a later `since`
    /// with it returns what changed after (possibly some units again, never fewer).
    func boundary() async throws -> FeedCursor {
        let xmin = try await connection.query(
            """
            SELECT \(unescaped: FeedCursor.boundarySQL)::text
            """, logger: logger
        ).collect { try $0.decode(String.self) }.first
        return FeedCursor(xid: xmin.flatMap(UInt64.init) ?? 0, seq: 0)
    }

    /// Streams the answer into `writer`, gzip-compressed when `gzip`: rows are batched
    /// into chunks of about 64 KiB, and PostgresNIO's row stream applies backpressure,
    /// so memory stays flat whatever the size of the tree.
    ///
    /// The one storage call not made on a connection the controller holds: the body is
    /// written after the handler returned, so the rows come from the pool, which leases a
    /// connection for the row sequence and takes it back when the sequence is consumed
    /// (no per-request deadline: a national tree takes its time over a slow link).
    static func stream(
        _ r: Request, cursor: FeedCursor, gzip: Bool, client: PostgresClient, logger: Logger,
        into writer: inout any ResponseBodyWriter
    ) async throws {
        let compressor = gzip ? try GzipStream() : nil
        let allocator = ByteBufferAllocator()
        var chunk = allocator.buffer(capacity: 80 * 1024)
        func emit(_ final: Bool, _ writer: inout any ResponseBodyWriter) async throws {
            if let compressor {
                var out = compressor.compress(chunk)
                if final { var tail = compressor.finish(); out.writeBuffer(&tail) }
                if out.readableBytes > 0 { try await writer.write(out) }
            } else if chunk.readableBytes > 0 {
                try await writer.write(chunk)
            }
            chunk.clear()
        }
        switch r.format {
        case .json: chunk.writeString("{\"orgUnits\":[")
        case .geojson: chunk.writeString("{\"type\":\"FeatureCollection\",\"features\":[")
        }
        let rows = try await client.query(statement(r), logger: logger)
        var first = true
        for try await row in rows {
            if !first { chunk.writeStaticString(",") }
            first = false
            chunk.writeString(try row.decode(String.self))
            if chunk.readableBytes >= 64 * 1024 { try await emit(false, &writer) }
        }
        chunk.writeString("],\"cursor\":\"\(cursor.description)\"}")
        try await emit(true, &writer)
        try await writer.finish(nil)
    }
}
