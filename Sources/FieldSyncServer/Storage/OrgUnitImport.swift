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
        return Unit(
            id: id, parentId: try r.uuid("parentId"), name: name, typeId: try r.uuid("orgUnitTypeId"),
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

    static let nilUUID = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
}
