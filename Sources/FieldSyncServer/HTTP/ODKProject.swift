import Foundation
import Hummingbird

/// The project an ODK URL names (`…/projects/{n}`, Central's integer id), which the caller
/// must be in: where every Central and OpenRosa route starts.
enum ODKProject {
    static func resolve(_ context: AppRequestContext, database: Database) async throws -> (CallerScope, CentralStore.Project) {
        let scope = try context.requireCaller().requireScope()
        guard let raw = context.parameters.get("projectId"), let n = Int64(raw), n > 0 else {
            throw APIError.notFound("no such project: ODK project URLs end in /projects/{n} with n a whole number above 0")
        }
        let found = try await database.withConnection { c in
            try await CentralStore(scope: scope, connection: c, logger: context.logger).project(odkId: n)
        }
        guard let found else { throw APIError.notFound("project \(n) does not exist") }
        guard scope.projects.contains(found.id) else { throw APIError.forbidden("you are not a member of project \(n)") }
        return (scope, found)
    }
}
