import Foundation
import PackagePlugin

/// Compiles `Schemas/migrations/*.sql` into the target that uses this plugin, as the Swift
/// source of `EmbeddedMigrations.all`, at build time: the server binary carries its migrations
/// (it needs no files beside it) and the SQL files stay the only copy in git.
///
/// The tool (`EmbedMigrationsTool`) runs again when a file in the folder is added, removed or
/// changed, so the next `swift build` embeds what the folder holds.
@main
struct EmbedMigrations: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) async throws -> [Command] {
        let folder = context.package.directoryURL.appending(path: "Schemas/migrations")
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedMigrations+all.swift")
        return [
            // The folder, not its files, is the input and the argument: the build system tracks
            // the folder's contents (a file added, removed or edited runs the tool again), and the
            // tool lists it itself. A list of files made here would go stale: SwiftPM calls this
            // only when the package's structure changes, and a deleted file it named fails the build.
            .buildCommand(
                displayName: "Embedding the migrations of Schemas/migrations",
                executable: try context.tool(named: "EmbedMigrationsTool").url,
                arguments: [folder.path, output.path],
                inputFiles: [folder],
                outputFiles: [output])
        ]
    }
}
