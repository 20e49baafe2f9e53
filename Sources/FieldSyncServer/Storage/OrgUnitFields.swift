import FieldSyncCore
import FieldSyncGeometry
import Foundation

/// The versioned fields of an org unit (PROTOCOL.md, Push: `orgUnit`), checked and
/// normalised on the way in, so that what is stored and shown is what GEOS made of it.
enum OrgUnitFields {
    static let names: Set<String> = ["name", "parentId", "orgUnitTypeId", "location", "geometry", "aliases"]

    /// Checks every change of an `orgUnit` write and returns them normalised: ids in
    /// lower case, points re-encoded, polygons made valid and stored as a MultiPolygon
    /// (the GeoJSON of what PostGIS will hold). `path` names the item (`items[3]`).
    static func normalize(_ changes: [String: JSONValue], path: String) throws(ItemError) -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for (name, value) in changes {
            let field = "\(path).changes.\(name)"
            switch name {
            case "name":
                guard let s = value.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines), !s.isEmpty, s.utf8.count <= 300 else {
                    throw ItemError.invalidField(field, "name must be 1 to 300 bytes of text")
                }
                out[name] = .string(s)
            case "parentId", "orgUnitTypeId":
                if value.isNull { out[name] = .null; continue }
                guard let u = value.stringValue.flatMap(UUID.init(text:)) else {
                    throw ItemError.invalidField(field, "\(name) must be a UUID or null")
                }
                out[name] = .string(u.lowercased)
            case "location":
                out[name] = value.isNull ? .null : try GeoPoint(geoJSON: value, field: field).geoJSON
            case "geometry":
                if value.isNull { out[name] = .null; continue }
                do {
                    let area = try GeometryPipeline.normalizeArea(value, field: field)
                    out[name] = try GeometryPipeline.geoJSON(fromEWKB: area.ewkb)
                } catch {
                    throw ItemError(code: ErrorCode.invalidGeometry, message: error.message, field: field)
                }
            case "aliases":
                guard case .array(let items) = value else { throw ItemError.invalidField(field, "aliases must be an array of strings") }
                for (k, a) in items.enumerated() where a.stringValue == nil {
                    throw ItemError.invalidField("\(field)[\(k)]", "aliases must be strings")
                }
                out[name] = value
            default:
                throw ItemError.invalidField(
                    field, "org units have no field \"\(name.prefix(60))\"; they have \(names.sorted().joined(separator: ", "))")
            }
        }
        return out
    }

    /// The unit as its (approved) state shows it, ready for ``OrgUnitImport/write``.
    static func unit(id: UUID, visible: [String: JSONValue], path: String) throws -> OrgUnitImport.Unit {
        let location = try visible["location"].flatMap { v throws(ItemError) -> GeoPoint? in
            v.isNull ? nil : try GeoPoint(geoJSON: v, field: "location")
        }
        return OrgUnitImport.Unit(
            id: id,
            parentId: visible["parentId"]?.stringValue.flatMap(UUID.init(text:)),
            name: visible["name"]?.stringValue ?? "",
            typeId: visible["orgUnitTypeId"]?.stringValue.flatMap(UUID.init(text:)),
            location: location,
            aliases: (visible["aliases"]?.arrayValue ?? []).compactMap(\.stringValue),
            geometryInput: visible["geometry"].flatMap { $0.isNull ? nil : $0 },
            path: path)
    }
}
