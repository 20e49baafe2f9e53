import FieldSyncClient
import FieldSyncCore
import Foundation

/// How a device reaches the server for sync: push one batch, pull one page.
/// ``ClientTransport`` is the real one; ``FaultyTransport`` injects faults.
public protocol SyncTransport: Sendable {
    /// `POST /v1/sync/push` of one batch.
    func push(batchId: UUID, deviceId: UUID, projectId: UUID?, items: [JSONValue]) async throws -> PushAnswer
    /// `GET /v1/sync/pull` of one page.
    func pull(cursor: String?, limit: Int, projectId: UUID?) async throws -> PullPage
}

/// Sync over a ``FieldSyncClient`` (with its retries: backoff with jitter on 429/503).
public struct ClientTransport: SyncTransport {
    public let client: FieldSyncClient

    public init(client: FieldSyncClient) {
        self.client = client
    }

    public func push(batchId: UUID, deviceId: UUID, projectId: UUID?, items: [JSONValue]) async throws -> PushAnswer {
        try await client.push(batchId: batchId, deviceId: deviceId, projectId: projectId, items: items)
    }

    public func pull(cursor: String?, limit: Int, projectId: UUID?) async throws -> PullPage {
        try await client.pull(cursor: cursor, limit: limit, projectId: projectId)
    }
}
