import ArgumentParser
import FieldSyncClient
import FieldSyncCore
import Foundation

/// `fieldsync orgunits …`.
struct OrgUnits: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orgunits",
        abstract: "Import the org-unit tree.",
        discussion: """
            Example:
              fieldsync orgunits import sampledata/bangladesh/orgunits.json \\
                --types sampledata/bangladesh/orgunit-types.json
            """,
        subcommands: [Import.self])

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
                var o: [String: JSONValue] = ["imported": .number(Double(imported)), "seconds": Format.number(seconds, places: 3)]
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
