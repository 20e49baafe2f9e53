import FieldSyncCore
import Foundation

/// The supervisor's calls: org-unit change requests, the merged tree, conflicts.
extension FieldSyncClient {
    /// `GET /v1/orgunits/changes?status=…`: change requests (`pending`, `approved`,
    /// `rejected`; `nil` for the server's default).
    public func listOrgUnitChanges(status: String? = nil) async throws -> [JSONValue] {
        let query = status.map { [("status", $0)] } ?? []
        let path = "/v1/orgunits/changes"
        let json = try await request(method: "GET", path: path, query: query).json
        guard let items = json["items"]?.arrayValue else {
            throw ClientError.invalidResponse(path: path, detail: "no items array in the answer")
        }
        return items
    }

    /// `POST /v1/orgunits/changes/{id}/review` `{"decision","fields"?,"comment"?}`:
    /// `decision` is `approve` or `reject`; `fields` approves only those fields.
    /// Answers the change request as it is now.
    public func reviewOrgUnitChange(id: UUID, decision: String, fields: [String]? = nil, comment: String? = nil) async throws -> JSONValue {
        // A review is a decision on a state: replaying it answers 409, never a second one.
        try await request(
            method: "POST", path: "/v1/orgunits/changes/\(id.lowercasedText)/review",
            encoding: Review(decision: decision, fields: fields, comment: comment), idempotent: true
        ).json
    }

    /// `GET /v1/orgunits/tree?root=&geometry=&format=&since=`: the merged tree as
    /// `{"orgUnits":[…],"cursor"}` (`format` `json`) or a GeoJSON FeatureCollection
    /// with a `cursor` member (`geojson`).
    public func orgUnitTree(root: UUID? = nil, geometry: String? = nil, format: String? = nil, since: String? = nil) async throws -> JSONValue {
        try await downloadOrgUnitTree(root: root, geometry: geometry, format: format, since: since).json
    }

    /// As ``orgUnitTree(root:geometry:format:since:)``, asking for gzip (`Accept-Encoding:
    /// gzip`, decompressed here) and answering the body as sent, the cursor to pass as
    /// `since` next time (the `FieldSync-Cursor` header, else the body's `cursor`) and the
    /// bytes on the wire.
    public func downloadOrgUnitTree(
        root: UUID? = nil, geometry: String? = nil, format: String? = nil, since: String? = nil, gzip: Bool = true
    ) async throws -> OrgUnitTreeDownload {
        var query: [(String, String)] = []
        if let root { query.append(("root", root.lowercasedText)) }
        if let geometry { query.append(("geometry", geometry)) }
        if let format { query.append(("format", format)) }
        if let since, !since.isEmpty { query.append(("since", since)) }
        let path = "/v1/orgunits/tree"
        let response = try await request(method: "GET", path: path, query: query, timeout: max(timeout, .seconds(300)), acceptGzip: gzip)
        guard let cursor = response.header("FieldSync-Cursor") ?? response.json["cursor"]?.stringValue else {
            throw ClientError.invalidResponse(path: path, detail: "the answer has no cursor (neither a FieldSync-Cursor header nor a cursor member)")
        }
        let units = response.json["orgUnits"]?.arrayValue?.count ?? response.json["features"]?.arrayValue?.count ?? 0
        let encoding = response.header("Content-Encoding")?.lowercased()
        return OrgUnitTreeDownload(
            json: response.json, body: response.body, cursor: cursor, orgUnits: units,
            wireBytes: response.wireBytes, gzipped: encoding == "gzip" || encoding == "x-gzip")
    }

    /// `GET /v1/orgunits/{id}/summary`: for the unit's subtree, `instances`,
    /// `outsideOrgUnit`, `incomplete`, `instancesInConflict`, `entitiesInConflict`,
    /// `pendingChanges` (supervisors and admins).
    public func orgUnitSummary(id: UUID) async throws -> JSONValue {
        try await request(method: "GET", path: "/v1/orgunits/\(id.lowercasedText)/summary").json
    }

    /// `GET /v1/conflicts?kind=&status=open`: records with conflicted fields (pull
    /// RECORDs with `conflicts`). `kind` is `entity`, `instance` or `nil` for both.
    public func listConflicts(kind: String? = nil) async throws -> [JSONValue] {
        var query: [(String, String)] = [("status", "open")]
        if let kind { query.append(("kind", kind)) }
        let path = "/v1/conflicts"
        let json = try await request(method: "GET", path: path, query: query).json
        guard let items = json["items"]?.arrayValue else {
            throw ClientError.invalidResponse(path: path, detail: "no items array in the answer")
        }
        return items
    }

    /// `POST /v1/conflicts/{kind}/{id}/resolve` `{"changes":{…}}`: writes as replica
    /// `server` over every value shown; answers the record.
    public func resolveConflict(kind: String, id: UUID, changes: [String: JSONValue]) async throws -> JSONValue {
        try await request(
            method: "POST", path: "/v1/conflicts/\(kind)/\(id.lowercasedText)/resolve",
            body: .object(["changes": .object(changes)]), idempotent: false
        ).json
    }
}

/// A downloaded org-unit tree.
public struct OrgUnitTreeDownload: Sendable {
    /// The answer, parsed.
    public var json: JSONValue
    /// The answer as the server wrote it (decompressed).
    public var body: [UInt8]
    /// Pass as `since` for only what changes after this download.
    public var cursor: String
    /// Org units (json) or features (geojson) in the answer.
    public var orgUnits: Int
    /// Bytes received (compressed when `gzipped`).
    public var wireBytes: Int
    /// Whether the server sent it gzip-encoded.
    public var gzipped: Bool
}

/// `POST /v1/orgunits/changes/{id}/review`.
struct Review: Encodable {
    var decision: String
    var fields: [String]?
    var comment: String?
}
