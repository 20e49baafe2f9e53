import FieldSyncCore
import Foundation
import Hummingbird
import Logging

/// Org units: import (admins).
struct OrgUnitController {
    let database: Database
    let config: ServerConfiguration
    let logger: Logger

    func addRoutes(to router: RouterGroup<AppRequestContext>) {
        router.post("orgunits/import", use: importUnits)
    }

    @Sendable func importUnits(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try context.requireCaller()
        try caller.requireAdmin()
        let account = try caller.actingAccount(request)
        let body = try await JSONBody.read(request, limit: config.maxPushBytes)
        let units: [OrgUnitImport.Unit]
        do { units = try OrgUnitImport.parse(body) } catch { throw APIError(error) }
        try await AdminController(database: database, config: config, logger: logger).requireAccountExists(account)
        let ids = try await OrgUnitImport.run(units, account: account, by: caller.userId, database: database, logger: context.logger)
        context.logger.info("org units imported", metadata: ["count": "\(ids.count)"])
        return JSONBody.response(.object(["imported": .number(Double(ids.count)), "ids": .array(ids.map { .string($0.lowercased) })]), status: .created)
    }
}
