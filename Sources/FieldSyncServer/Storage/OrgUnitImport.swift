import FieldSyncCore
import FieldSyncGeometry
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// `POST /v1/orgunits/import`: a whole tree (or part of one) in one transaction,
/// parents in any order, geometry checked and normalised by GEOS, upsert by id.
///
/// Every unit is written as a versioned write of replica `server`; a unit whose values
/// are all unchanged gets no write, so importing the same file twice changes nothing.
enum OrgUnitImport {
    /// One unit as read from the body.
    struct Unit: Sendable {
        var id: UUID
        var parentId: UUID?
        var name: String
        var typeId: UUID?
        var location: GeoPoint?
        var aliases: [String]
        var geometryInput: JSONValue?
        var path: String
        /// Filled by ``normalizeGeometry(_:)``.
        var area: NormalizedArea?
        var geometryJSON: JSONValue?

        /// The versioned fields of the unit, as devices see them.
        var fields: [String: JSONValue] {
            [
                "name": .string(name),
                "parentId": parentId.map { .string($0.lowercased) } ?? .null,
                "orgUnitTypeId": typeId.map { .string($0.lowercased) } ?? .null,
                "location": location?.geoJSON ?? .null,
                "geometry": geometryJSON ?? .null,
                "aliases": .array(aliases.map(JSONValue.string)),
            ]
        }
    }

    /// Reads a JSON array of units or a GeoJSON FeatureCollection.
    static func parse(_ body: JSONValue) throws(ItemError) -> [Unit] {
        var units: [Unit] = []
        if case .array(let items) = body {
            for (k, item) in items.enumerated() {
                let r = try ObjectReader(item, path: "items[\(k)]")
                units.append(try unit(r, idReader: r, geometry: r.rawValue("geometry"), path: r.path))
            }
        } else if case .object(let o) = body, o["type"]?.stringValue == "FeatureCollection" {
            guard case .array(let features)? = o["features"] else {
                throw ItemError.invalidRequest("a FeatureCollection needs a features array", field: "features")
            }
            for (k, feature) in features.enumerated() {
                let f = try ObjectReader(feature, path: "features[\(k)]")
                guard try f.value("type")?.stringValue == "Feature" else {
                    throw ItemError.invalidField(f.field("type"), "each feature must have \"type\": \"Feature\"")
                }
                let props = try ObjectReader(f.rawValue("properties") ?? .object([:]), path: "features[\(k)].properties")
                var geometry = f.rawValue("geometry")
                var u = try unit(props, idReader: props.has("id") ? props : f, geometry: nil, path: f.path)
                if let g = geometry, g["type"]?.stringValue == "Point" {
                    u.location = try GeoPoint(geoJSON: g, field: f.field("geometry"))
                    geometry = nil
                }
                if let g = geometry, !g.isNull { u.geometryInput = g; u.path = f.path }
                units.append(u)
            }
        } else {
            throw ItemError.invalidRequest("the body must be a JSON array of org units or a GeoJSON FeatureCollection")
        }
        var seen = Set<UUID>()
        for u in units where !seen.insert(u.id).inserted {
            throw ItemError(code: ErrorCode.invalidField, message: "org unit \(u.id.lowercased) appears twice", field: "\(u.path).id")
        }
        return units
    }

    static func unit(_ r: ObjectReader, idReader: ObjectReader, geometry: JSONValue?, path: String) throws(ItemError) -> Unit {
        let id = try idReader.requiredUUID("id")
        let name = try r.requiredString("name").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.utf8.count <= 300 else { throw ItemError.invalidField(r.field("name"), "name must be 1 to 300 bytes of text") }
        var aliases: [String] = []
        for (k, a) in (try r.array("aliases") ?? []).enumerated() {
            guard let s = a.stringValue else { throw ItemError.invalidField(r.field("aliases[\(k)]"), "aliases must be strings") }
            aliases.append(s)
        }
        let location = try r.value("location").flatMap { v throws(ItemError) -> GeoPoint? in
            v.isNull ? nil : try GeoPoint(geoJSON: v, field: r.field("location"))
        }
        return Unit(id: id, parentId: try r.uuid("parentId"), name: name, typeId: try r.uuid("orgUnitTypeId"),
                    location: location, aliases: aliases, geometryInput: geometry.flatMap { $0.isNull ? nil : $0 }, path: path)
    }

    /// Runs GEOS on every unit's geometry, on all cores.
    static func normalizeGeometry(_ units: [Unit]) async throws -> [Unit] {
        try await withThrowingTaskGroup(of: (Int, NormalizedArea, JSONValue).self) { group in
            for (k, u) in units.enumerated() {
                guard let g = u.geometryInput else { continue }
                let field = "\(u.path).geometry"
                group.addTask {
                    do {
                        let area = try GeometryPipeline.normalizeArea(g, field: field)
                        return (k, area, try GeometryPipeline.geoJSON(fromEWKB: area.ewkb))
                    } catch let error as GeometryError {
                        throw APIError.invalid(error.message, field: field, code: ErrorCode.invalidGeometry)
                    }
                }
            }
            var out = units
            for try await (k, area, json) in group {
                out[k].area = area
                out[k].geometryJSON = json
            }
            return out
        }
    }

    /// ltree label of an id: its 32 hex digits.
    static func label(_ id: UUID) -> String {
        "u" + id.lowercasedText.replacingOccurrences(of: "-", with: "")
    }

    /// Imports `units` into `account` in one transaction. Returns the ids, in input order.
    static func run(_ input: [Unit], account: UUID, by user: UUID, database: Database, logger: Logger) async throws -> [UUID] {
        let units = try await normalizeGeometry(input)
        let ids = units.map(\.id)
        let parents = units.compactMap(\.parentId)
        let types = Array(Set(units.compactMap(\.typeId)))
        // A whole country in one transaction: an admin's bulk operation, not bound by the
        // per-request database deadline.
        return try await database.transaction(timeout: .seconds(300)) { c in
            // One tree change at a time per account keeps paths consistent.
            try await c.query("SELECT pg_advisory_xact_lock(hashtext('orgunits:' || \(account.lowercased)))", logger: logger).drain()
            let knownTypes = Set(try await c.query("SELECT id FROM orgunit_types WHERE account_id = \(account) AND id = ANY(\(types)::uuid[])", logger: logger)
                .collect { try $0.decode(UUID.self) })
            for u in units { if let t = u.typeId, !knownTypes.contains(t) {
                throw APIError.invalid("org-unit type \(t.lowercased) does not exist in this account", field: "\(u.path).orgUnitTypeId", code: ErrorCode.unknownReference)
            } }
            struct Existing { var path: String; var state: RecordState }
            var existing: [UUID: Existing] = [:]
            let rows = try await c.query(
                "SELECT id, path::text, state::text FROM org_units WHERE account_id = \(account) AND id = ANY(\(ids + parents)::uuid[])", logger: logger)
            for try await (id, path, state) in rows.decode((UUID, String, String).self) {
                existing[id] = Existing(path: path, state: RecordWriter.state(state))
            }
            // Paths: parents first, from the file or the database; cycles refused.
            let byId = Dictionary(uniqueKeysWithValues: units.map { ($0.id, $0) })
            var paths: [UUID: String] = [:]
            func resolve(_ id: UUID, _ visiting: inout Set<UUID>) throws -> String {
                if let p = paths[id] { return p }
                guard let u = byId[id] else {
                    guard let e = existing[id] else { throw APIError.invalid("unknown parent", code: ErrorCode.unknownReference) }
                    return e.path
                }
                guard visiting.insert(id).inserted else {
                    throw APIError.invalid("org unit \(id.lowercased) is its own ancestor", field: "\(u.path).parentId", code: ErrorCode.invalidParent)
                }
                var path = label(id)
                if let parent = u.parentId {
                    guard byId[parent] != nil || existing[parent] != nil else {
                        throw APIError.invalid("parent \(parent.lowercased) does not exist", field: "\(u.path).parentId", code: ErrorCode.unknownReference)
                    }
                    let parentPath = try resolve(parent, &visiting)
                    if parentPath.split(separator: ".").contains(Substring(label(id))) {
                        throw APIError.invalid("org unit \(id.lowercased) would be moved under its own descendant", field: "\(u.path).parentId", code: ErrorCode.invalidParent)
                    }
                    path = parentPath + "." + path
                }
                visiting.remove(id)
                paths[id] = path
                return path
            }
            for u in units {
                var visiting = Set<UUID>()
                _ = try resolve(u.id, &visiting)
            }
            // Versioned writes for what changed.
            let now = Timestamp.now()
            var rowsToWrite: [(Unit, String, RecordState)] = []
            var moved: [(old: String, new: String)] = []
            for u in units {
                var state = existing[u.id]?.state ?? RecordState()
                let visible = state.visibleFields()
                let changes = u.fields.filter { visible[$0.key] != $0.value || state.conflicts()[$0.key] != nil }
                let path = paths[u.id]!
                if changes.isEmpty, existing[u.id]?.path == path { continue }
                if !changes.isEmpty { state.apply(state.serverWrite(changes: changes, editedAt: now)) }
                if let old = existing[u.id]?.path, old != path { moved.append((old, path)) }
                rowsToWrite.append((u, path, state))
            }
            if !rowsToWrite.isEmpty {
                try await write(rowsToWrite, account: account, user: user, on: c, logger: logger)
            }
            // Descendants not in the file follow a moved unit.
            for m in moved {
                try await repath(from: m.old, to: m.new, account: account, except: ids, on: c, logger: logger)
            }
            return ids
        }
    }

    static let nilUUID = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))

    /// Moves the descendants of a unit whose path changed from `old` to `new` (all of
    /// them, in one statement, in the caller's transaction), except `except` (written
    /// by the caller itself). They appear again in the feed.
    static func repath(from old: String, to new: String, account: UUID, except: [UUID] = [], on c: PostgresConnection, logger: Logger) async throws {
        try await c.query(
            """
            UPDATE org_units SET path = \(new)::ltree || subpath(path, nlevel(\(old)::ltree)),
                feed_xid = pg_current_xact_id(), feed_seq = nextval('feed_seq')
            WHERE account_id = \(account) AND path <@ \(old)::ltree AND path <> \(old)::ltree AND NOT (id = ANY(\(except)::uuid[]))
            """, logger: logger)
    }

    /// Upserts the units with one statement. `status` is their validation status:
    /// `validated`, or `pending` for a unit an agent proposed.
    static func write(_ rows: [(Unit, String, RecordState)], status: String = "validated", account: UUID, user: UUID,
                      on c: PostgresConnection, logger: Logger) async throws {
        let ids = rows.map(\.0.id)
        let parentIds = rows.map { $0.0.parentId ?? nilUUID }
        let names = rows.map(\.0.name)
        let typeIds = rows.map { $0.0.typeId ?? nilUUID }
        let paths = rows.map(\.1)
        let geoms = rows.map { ByteBuffer(bytes: $0.0.area?.ewkb ?? []) }
        let simplified = rows.map { ByteBuffer(bytes: $0.0.area?.simplifiedEWKB ?? []) }
        let lon = rows.map { $0.0.location?.longitude ?? $0.0.area?.interiorPoint.lon ?? .nan }
        let lat = rows.map { $0.0.location?.latitude ?? $0.0.area?.interiorPoint.lat ?? .nan }
        let z = rows.map { $0.0.location?.altitude ?? .nan }
        let aliases = rows.map { JSONWriter.string(.array($0.0.aliases.map(JSONValue.string))) }
        let states = rows.map { $0.2.stateText }
        let versions = rows.map { JSONWriter.string($0.2.version.json) }
        let docs = rows.map { row in
            JSONWriter.string(row.2.recordDocument(kind: .orgUnit, id: row.0.id, attributes: ["projectId": .null, "status": .string(status)]))
        }
        try await c.query(
            """
            INSERT INTO org_units (account_id, id, parent_id, name, org_unit_type_id, path, geom, simplified_geom, location, location_z,
                                   aliases, validation_status, state, version, doc, created_by)
            SELECT \(account), t.id, NULLIF(t.parent, \(nilUUID)), t.name, NULLIF(t.type, \(nilUUID)), t.path::ltree,
                   ST_GeomFromEWKB(NULLIF(t.geom, ''::bytea)), ST_GeomFromEWKB(NULLIF(t.simple, ''::bytea)),
                   CASE WHEN t.lon = 'NaN' THEN NULL ELSE ST_SetSRID(ST_MakePoint(t.lon, t.lat), 4326) END, NULLIF(t.z, 'NaN'),
                   ARRAY(SELECT jsonb_array_elements_text(t.aliases::jsonb)), \(status), t.state::jsonb, t.version::jsonb, t.doc::jsonb, \(user)
            FROM unnest(\(ids)::uuid[], \(parentIds)::uuid[], \(names)::text[], \(typeIds)::uuid[], \(paths)::text[], \(geoms)::bytea[],
                        \(simplified)::bytea[], \(lon)::float8[], \(lat)::float8[], \(z)::float8[], \(aliases)::text[], \(states)::text[],
                        \(versions)::text[], \(docs)::text[])
                 AS t(id, parent, name, type, path, geom, simple, lon, lat, z, aliases, state, version, doc)
            ON CONFLICT (account_id, id) DO UPDATE SET
                parent_id = EXCLUDED.parent_id, name = EXCLUDED.name, org_unit_type_id = EXCLUDED.org_unit_type_id, path = EXCLUDED.path,
                geom = EXCLUDED.geom, simplified_geom = EXCLUDED.simplified_geom, location = EXCLUDED.location, location_z = EXCLUDED.location_z,
                aliases = EXCLUDED.aliases, validation_status = EXCLUDED.validation_status, state = EXCLUDED.state, version = EXCLUDED.version,
                doc = EXCLUDED.doc, updated_at = now(), feed_xid = pg_current_xact_id(), feed_seq = nextval('feed_seq')
            """, logger: logger)
    }
}
