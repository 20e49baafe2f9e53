import FieldSyncCore
import Foundation
import Logging
import PostgresNIO

/// Applies a batch's `orgUnit` items inside the push transaction, before its entities
/// and instances (which may reference units created in the same batch).
///
/// From an agent, a write is a proposal: it is stored as a change request (`pending`)
/// and, when it creates a unit, the unit is stored with status `pending`, so its author
/// can use it at once as a reference. From a supervisor or an admin, the write is
/// applied like any versioned write. Every item runs under a savepoint: a problem found
/// late rolls back that item alone.
struct OrgUnitWriter {
    let scope: CallerScope
    let connection: PostgresConnection
    let logger: Logger

    var account: UUID { scope.account }
    var user: UUID { scope.user }
    var proposes: Bool { scope.role == .agent }

    /// An item-level problem: the item is rejected with this error.
    struct Rejection: Error { var error: ItemError }

    /// The batch's org-unit items, as sent by `device` in batch `batchId`.
    func process(_ items: [(index: Int, item: VersionedItem)], device: UUID, batchId: UUID) async throws -> [Int: PushResult] {
        guard !items.isEmpty else { return [:] }
        let c = connection
        let store = OrgUnitStore(account: account, connection: c, logger: logger)
        try await store.lockTree()
        var results: [Int: PushResult] = [:]
        for (index, item) in items {
            try await c.query("SAVEPOINT orgunit_item", logger: logger)
            do {
                results[index] = try await apply(item, store: store, device: device, batchId: batchId)
                try await c.query("RELEASE SAVEPOINT orgunit_item", logger: logger)
            } catch {
                let itemError: ItemError
                switch error {
                case let r as Rejection: itemError = r.error
                case let e as APIError where e.status.code < 500 && e.status.code != 409:
                    let field = e.field.map { $0.hasPrefix("changes.") ? "\(item.path).\($0)" : "\(item.path).changes.\($0)" }
                    itemError = ItemError(code: e.code, message: e.message, field: field ?? item.path)
                default: throw error
                }
                try await c.query("ROLLBACK TO SAVEPOINT orgunit_item", logger: logger)
                results[index] = .rejected(id: item.id.lowercased, kind: ItemKind.orgUnit.rawValue, itemError)
            }
        }
        return results
    }

    private func reject(_ code: String, _ message: String, _ field: String) -> Rejection {
        Rejection(error: ItemError(code: code, message: message, field: field))
    }

    private func apply(_ item: VersionedItem, store: OrgUnitStore, device: UUID, batchId: UUID) async throws -> PushResult {
        let c = connection
        let id = item.id
        let w = item.write
        let kind = ItemKind.orgUnit.rawValue
        let row = try await store.load(id)
        var state = row?.state ?? RecordState()

        // 1. Versions, in the protocol's order.
        if proposes {
            if let (changeId, status) = try await existingProposal(id, w, on: c) {
                return PushResult(
                    id: id.lowercased, kind: kind, status: status == "pending" ? .pending : .unchanged,
                    version: state.version, changeId: changeId.lowercased)
            }
            let verdict = state.checkProposal(w)
            if verdict != .ok { throw reject(verdict.errorCode!, verdict.message!, "\(item.path).base") }
        } else {
            let verdict = state.check(w)
            if verdict == .duplicate { return PushResult(id: id.lowercased, kind: kind, status: .unchanged, version: state.version) }
            if verdict != .ok { throw reject(verdict.errorCode!, verdict.message!, "\(item.path).base") }
        }

        // 2. Who may touch the unit.
        if let row {
            if row.status == "rejected" {
                throw reject(
                    ErrorCode.invalidRequest, "org unit \(id.lowercased) was rejected in review; propose it again with a new id", "\(item.path).id")
            }
            if row.status == "pending", proposes, row.createdBy != user {
                throw reject(ErrorCode.forbidden, "org unit \(id.lowercased) is another user's proposal awaiting review", "\(item.path).id")
            }
            if !scope.covers(path: row.path) {
                throw reject(ErrorCode.forbidden, "org unit \(id.lowercased) is outside your org units", "\(item.path).id")
            }
        }
        let creating = row == nil

        // 3. Content: required fields, references.
        if creating {
            if w.changes["name"] == nil || w.changes["name"]?.isNull == true {
                throw reject(ErrorCode.invalidField, "name is required when an org unit is created", "\(item.path).changes.name")
            }
        } else if w.changes.isEmpty {
            throw reject(ErrorCode.invalidField, "changes may be empty only on the write that creates a record", "\(item.path).changes")
        }
        let parentField = "\(item.path).changes.parentId"
        if let p = w.changes["parentId"] ?? (creating ? JSONValue.null : nil) {
            if let parentId = p.stringValue.flatMap(UUID.init(text:)) {
                guard let parent = try await store.load(parentId),
                    parent.status == "validated" || (parent.status == "pending" && (parent.createdBy == user || !proposes))
                else {
                    throw reject(ErrorCode.unknownReference, "parent \(parentId.lowercased) does not exist", parentField)
                }
                if !scope.covers(path: parent.path) {
                    throw reject(ErrorCode.forbiddenReference, "parent \(parentId.lowercased) is outside your org units", parentField)
                }
                if parent.path.split(separator: ".").contains(Substring(OrgUnitImport.label(id))) {
                    throw reject(ErrorCode.invalidParent, "org unit \(id.lowercased) can't move under itself or its own descendant", parentField)
                }
            } else if scope.role != .admin {
                throw reject(
                    creating ? ErrorCode.invalidField : ErrorCode.forbidden,
                    creating ? "parentId is required: only admins create root org units" : "only admins make an org unit a root", parentField)
            }
        }
        if let t = w.changes["orgUnitTypeId"]?.stringValue.flatMap(UUID.init(text:)), !(try await store.typeExists(t)) {
            throw reject(ErrorCode.unknownReference, "org-unit type \(t.lowercased) does not exist", "\(item.path).changes.orgUnitTypeId")
        }

        // 4. A proposal waits for review; a supervisor's or admin's write applies now.
        if proposes {
            let changeId = UUID()
            try await c.query(
                """
                INSERT INTO orgunit_change_requests (account_id, id, org_unit_id, created_by, device_id, is_creation, base, replica, counter, edited_at, changes)
                VALUES (\(account), \(changeId), \(id), \(user), \(device), \(creating), \(JSONWriter.string(w.base.json))::jsonb, \(w.replica),
                        \(w.counter), \(w.editedAt.description)::timestamptz, \(JSONWriter.string(.object(w.changes)))::jsonb)
                """, logger: logger)
            if creating {
                state.apply(w)
                try await store.store(id: id, state: state, status: "pending", previousPath: nil, user: user)
            }
            return PushResult(id: id.lowercased, kind: kind, status: .pending, version: state.version, changeId: changeId.lowercased)
        }
        let outcome = state.apply(w)
        try await store.store(id: id, state: state, status: row?.status ?? "validated", previousPath: row?.path, user: user)
        try await store.recordWrite(id: id, w, user: user, device: device, batchId: batchId)
        return PushResult(id: id.lowercased, kind: kind, status: outcome.pushStatus, version: state.version)
    }

    /// The change request already made of this dot, if any, and its status.
    private func existingProposal(_ id: UUID, _ w: VersionedWrite, on c: PostgresConnection) async throws -> (UUID, String)? {
        try await c.query(
            """
            SELECT id, status FROM orgunit_change_requests
            WHERE account_id = \(account) AND org_unit_id = \(id) AND replica = \(w.replica) AND counter = \(w.counter)
            """, logger: logger
        ).collect { try $0.decode((UUID, String).self) }.first
    }
}
