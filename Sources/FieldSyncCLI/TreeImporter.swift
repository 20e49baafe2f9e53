import FieldSyncClient
import FieldSyncCore
import Foundation

/// Creates org-unit types from a types file and imports an org-unit file.
struct TreeImporter {
    let client: FieldSyncClient
    let accountId: UUID?

    /// What creating the types did.
    struct TypesResult {
        var created = 0
        var existing = 0
    }

    /// Reads a whole file, with a sentence naming it on failure.
    static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CommandFailure.failed("cannot read \(path): check the path")
        }
        return Array(data)
    }

    /// Parses a file as JSON, naming the file and byte offset on failure.
    static func parse(_ bytes: [UInt8], path: String) throws -> JSONValue {
        do {
            return try JSONParser.parse(bytes)
        } catch {
            throw CommandFailure.failed("\(path) is not valid JSON: \(error)")
        }
    }

    /// Creates each type of a file like `[{"id","name","depth"}]`; a type already
    /// there (409 `already_exists`) counts as existing, so this is re-runnable.
    func createTypes(fromFile path: String) async throws -> TypesResult {
        let json = try Self.parse(try Self.read(path), path: path)
        guard let entries = json.arrayValue else {
            throw CommandFailure.failed("\(path) must hold a JSON array of {\"id\", \"name\", \"depth\"}")
        }
        var result = TypesResult()
        for (k, entry) in entries.enumerated() {
            guard let name = entry["name"]?.stringValue, let depth = entry["depth"]?.numberValue, depth >= 0, depth == depth.rounded() else {
                throw CommandFailure.failed("\(path): entry \(k) needs a name and a whole depth of 0 or more")
            }
            var id: UUID? = nil
            if let text = entry["id"]?.stringValue {
                guard let u = UUID(uuidString: text) else { throw CommandFailure.failed("\(path): entry \(k) has an id that is not a UUID") }
                id = u
            }
            do {
                _ = try await client.createOrgUnitType(name: name, depth: Int(depth), id: id, accountId: accountId)
                result.created += 1
            } catch let error as ClientError where error.isAlreadyExists {
                result.existing += 1
            }
        }
        return result
    }

    /// Org units in a file: a JSON array, or a GeoJSON FeatureCollection.
    struct UnitFile {
        var bytes: [UInt8]
        var count: Int
        /// The ids of units without a parent.
        var rootIds: [String]
    }

    /// Reads and checks an org-unit file (the body is sent as is).
    static func readUnits(_ path: String) throws -> UnitFile {
        let bytes = try read(path)
        let json = try parse(bytes, path: path)
        let units: [JSONValue]
        if let array = json.arrayValue {
            units = array
        } else if json["type"]?.stringValue == "FeatureCollection", let features = json["features"]?.arrayValue {
            units = features.map { $0["properties"] ?? .null }
        } else {
            throw CommandFailure.failed("\(path) must hold a JSON array of org units or a GeoJSON FeatureCollection")
        }
        let roots = units.filter { ($0["parentId"] ?? .null).isNull }.compactMap { $0["id"]?.stringValue }
        return UnitFile(bytes: bytes, count: units.count, rootIds: roots)
    }

    /// `POST /v1/orgunits/import`; returns how many units the server imported.
    func importUnits(_ file: UnitFile) async throws -> Int {
        let answer = try await client.importOrgUnits(body: file.bytes, accountId: accountId)
        return Int(answer["imported"]?.numberValue ?? Double(answer["ids"]?.arrayValue?.count ?? 0))
    }
}
