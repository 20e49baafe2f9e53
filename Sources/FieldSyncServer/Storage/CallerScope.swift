import Foundation

/// What one caller may see and write, resolved once per request with its bearer token
/// (``AuthStore/caller(forToken:)``, in the same statement) and handed to every storage
/// type that filters by it, so PROTOCOL.md's scope rules are spelled here only:
/// - an admin sees the whole account: every project, every org unit;
/// - a supervisor or an agent sees its projects and the subtrees of its org units;
/// - a supervisor also sees the positions of the users assigned under its units, and
///   reviews proposals and resolves conflicts there.
///
/// The subtree test is one form everywhere: in SQL `o.path <@ \(scope.subtrees)::ltree[]`
/// (ltree's "an element of the array is an ancestor of, or equal to, the path"), behind
/// `\(scope.everything) OR`; in Swift ``covers(path:)``. Paths are read with the token,
/// before any tree lock: a path gone stale because a unit moved since then can only
/// deny (a path's labels are unit ids, so no other unit lies under the old path), never
/// grant, and the next request reads the new one.
struct CallerScope: Sendable {
    let account: UUID
    let user: UUID
    let role: Role
    /// The projects visible: every project of the account for an admin, the user's own
    /// otherwise. A pull narrowed to one project replaces it.
    var projects: [UUID]
    /// The caller's own org units, the roots of its subtrees.
    let orgUnits: [UUID]
    /// The `ltree` paths of ``orgUnits``.
    let subtrees: [String]

    /// Admins see the whole account.
    var everything: Bool { role == .admin }
    /// Supervisors see the positions of the users under their units.
    var supervisor: Bool { role == .supervisor }
    /// Supervisors and admins review proposals, resolve conflicts and read summaries.
    var reviews: Bool { role == .supervisor || role == .admin }

    /// Whether the unit at `path` is visible: admins see all, others the units at or
    /// under one of their own.
    func covers(path: String) -> Bool {
        everything || subtrees.contains { path == $0 || path.hasPrefix($0 + ".") }
    }
}
