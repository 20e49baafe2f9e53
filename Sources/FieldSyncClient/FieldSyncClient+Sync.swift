import FieldSyncCore
import Foundation

/// The answer of `POST /v1/sync/push`.
public struct PushAnswer: Sendable {
    public var batchId: String
    /// One result per item, in the order the items were sent.
    public var results: [PushResult]
    /// The feed position just after this batch.
    public var cursor: String
    /// The results as sent, with members ``PushResult`` does not keep (e.g. the
    /// `changeId` of a `pending` org-unit proposal).
    public var rawResults: [JSONValue] = []

    public init(batchId: String, results: [PushResult], cursor: String, rawResults: [JSONValue] = []) {
        self.batchId = batchId
        self.results = results
        self.cursor = cursor
        self.rawResults = rawResults
    }

    /// How many results have `status`.
    public func count(_ status: PushStatus) -> Int {
        results.reduce(0) { $0 + ($1.status == status ? 1 : 0) }
    }
}

/// One page of `GET /v1/sync/pull`.
public struct PullPage: Sendable {
    /// Records, in commit order (each a JSON object with `kind` and `id`).
    public var changes: [JSONValue]
    /// Where the next page starts.
    public var cursor: String
    /// `true` when more changes follow this page.
    public var hasMore: Bool

    public init(changes: [JSONValue], cursor: String, hasMore: Bool) {
        self.changes = changes
        self.cursor = cursor
        self.hasMore = hasMore
    }
}

extension FieldSyncClient {
    /// `POST /v1/sync/push` of `items` (already JSON, e.g. ``PositionItem/json(deviceId:)``).
    ///
    /// Push is idempotent by `batchId`: a batch sent again answers as the first time,
    /// so lost connections are retried with the same body.
    public func push(batchId: UUID = UUID(), deviceId: UUID, projectId: UUID? = nil, items: [JSONValue]) async throws -> PushAnswer {
        var body: [String: JSONValue] = [
            "batchId": .string(batchId.lowercasedText),
            "deviceId": .string(deviceId.lowercasedText),
            "items": .array(items),
        ]
        if let projectId { body["projectId"] = .string(projectId.lowercasedText) }
        let path = "/v1/sync/push"
        let json = try await request(method: "POST", path: path, body: .object(body), idempotent: true).json
        guard let raw = json["results"]?.arrayValue else {
            throw ClientError.invalidResponse(path: path, detail: "no results array in the answer")
        }
        let results = raw.compactMap(PushResult.init(json:))
        guard results.count == items.count else {
            throw ClientError.invalidResponse(path: path, detail: "\(results.count) readable results for \(items.count) items")
        }
        return PushAnswer(
            batchId: json["batchId"]?.stringValue ?? batchId.lowercasedText, results: results,
            cursor: json["cursor"]?.stringValue ?? "", rawResults: raw)
    }

    /// `GET /v1/sync/pull`: one page from `cursor` (`nil` or empty: from the beginning).
    /// `limit` is 1 to 1000 (the server's default is 500).
    public func pull(cursor: String? = nil, limit: Int? = nil, projectId: UUID? = nil) async throws -> PullPage {
        var query: [(String, String)] = []
        if let cursor, !cursor.isEmpty { query.append(("cursor", cursor)) }
        if let limit { query.append(("limit", String(limit))) }
        if let projectId { query.append(("projectId", projectId.lowercasedText)) }
        let path = "/v1/sync/pull"
        let json = try await request(method: "GET", path: path, query: query).json
        guard let changes = json["changes"]?.arrayValue, let next = json["cursor"]?.stringValue,
            let hasMore = json["hasMore"]?.boolValue
        else {
            throw ClientError.invalidResponse(path: path, detail: "expected changes, cursor and hasMore")
        }
        return PullPage(changes: changes, cursor: next, hasMore: hasMore)
    }

    /// Follows cursors from `cursor` until `hasMore` is false, handing each page to
    /// `onPage`; returns the last cursor (where a later pull resumes).
    @discardableResult
    public func pullAll(
        from cursor: String? = nil, limit: Int? = nil, projectId: UUID? = nil,
        onPage: (PullPage) async throws -> Void
    ) async throws -> String {
        var position = cursor ?? ""
        while true {
            let page = try await pull(cursor: position, limit: limit, projectId: projectId)
            try await onPage(page)
            if !page.hasMore || (page.cursor == position && page.changes.isEmpty) { return page.cursor }
            position = page.cursor
        }
    }
}
