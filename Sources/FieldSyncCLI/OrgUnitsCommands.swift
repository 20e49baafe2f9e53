import ArgumentParser
import FieldSyncClient
import FieldSyncCore
import Foundation

/// `fieldsync orgunits …`.
struct OrgUnits: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orgunits",
        abstract: "Import the org-unit tree; a unit's summary for supervisors.",
        discussion: """
            Example:
              fieldsync orgunits import sampledata/bangladesh/orgunits.json \\
                --types sampledata/bangladesh/orgunit-types.json
              fieldsync orgunits summary 1b0e0000-0000-4000-8000-000000000001
            """,
        subcommands: [Import.self, Summary.self])

    /// `fieldsync orgunits summary`.
    struct Summary: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "What came in under an org unit (its whole subtree): for supervisors and admins.",
            discussion: """
                Instances, those outside their unit's polygon, those still waiting for
                attachments (incomplete), instances and entities in conflict, and org-unit
                change requests awaiting review.

                Example:
                  fieldsync orgunits summary 1b0e0000-0000-4000-8000-000000000001 --json
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The org unit's id.") var id: String

        func run() async throws {
            let context = try Context(global)
            guard let unit = try Context.uuid(id, option: "ID") else { throw CommandFailure.usage("give the org unit's id") }
            let summary = try await context.withSignedInClient { try await $0.orgUnitSummary(id: unit) }
            if global.json { Console.json(summary); return }
            if global.quiet { return }
            func n(_ key: String) -> String { summary[key]?.numberValue.map { String(Int($0)) } ?? "-" }
            print(
                """
                org unit          \(unit.lowercased) (\(n("units")) units in its subtree)
                instances         \(n("instances"))
                outside org unit  \(n("outsideOrgUnit"))
                incomplete        \(n("incomplete"))
                in conflict       \(n("instancesInConflict")) instances, \(n("entitiesInConflict")) entities
                pending changes   \(n("pendingChanges"))
                """)
        }
    }

    /// `fieldsync orgunits import`.
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import org units from a JSON array or a GeoJSON FeatureCollection.",
            discussion: """
                The file is sent as is; the import is all or nothing and an upsert by id,
                so it can be run again. With --types, the org-unit types listed in that
                file ([{"id","name","depth"}]) are created first; types already there
                are fine.

                Example:
                  fieldsync orgunits import sampledata/bangladesh/orgunits.json \\
                    --types sampledata/bangladesh/orgunit-types.json
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var account: AccountOption

        @Argument(help: ArgumentHelp("The org units: a JSON array or a GeoJSON FeatureCollection.", valueName: "file"))
        var file: String

        @Option(help: ArgumentHelp("Create the org-unit types of this file first.", valueName: "file"))
        var types: String?

        func run() async throws {
            let context = try Context(global)
            let accountId = try context.accountId(account.accountId)
            let units = try TreeImporter.readUnits(file)
            let started = ContinuousClock.now
            let (typesResult, imported) = try await context.withSignedInClient { client -> (TreeImporter.TypesResult?, Int) in
                let importer = TreeImporter(client: client, accountId: accountId)
                var typesResult: TreeImporter.TypesResult? = nil
                if let types {
                    let r = try await importer.createTypes(fromFile: types)
                    context.progress("org-unit types: \(r.created) created, \(r.existing) already there")
                    typesResult = r
                }
                context.progress("importing \(Format.plural(units.count, "org unit")) from \(file)")
                return (typesResult, try await importer.importUnits(units))
            }
            let seconds = (ContinuousClock.now - started).seconds
            if global.json {
                var o: [String: JSONValue] = ["imported": .number(Double(imported)), "seconds": .number(Format.rounded(seconds, places: 3))]
                if let typesResult {
                    o["types"] = .object(["created": .number(Double(typesResult.created)), "existing": .number(Double(typesResult.existing))])
                }
                Console.json(.object(o))
            } else {
                print("imported \(Format.plural(imported, "org unit")) in \(Format.seconds(seconds)) s")
            }
        }
    }
}
