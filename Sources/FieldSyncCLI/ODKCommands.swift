import ArgumentParser
import FieldSyncClient
import FieldSyncCore
import FieldSyncODK
import Foundation

/// `fieldsync admin form upload FILE.xml --project-id P`: an XForm (what pyxform makes of
/// an XLSForm) as a form version that ODK Collect can download.
struct FormUpload: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upload",
        abstract: "Upload an XForm (XML, e.g. from pyxform's xls2xform) as a version of its form.",
        discussion: """
            The form is named by the XForm's id and created on its first upload; the
            XForm must carry a version (the settings sheet's `version`).

            Example:
              fieldsync admin form upload household.xml --project-id 5a1f0000-0000-4000-8000-000000000001
            """)
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The XForm file.") var file: String
    @Option(help: ArgumentHelp("The project the form is published in.", valueName: "uuid")) var projectId: String

    func run() async throws {
        let context = try Context(global)
        guard let project = try Context.uuid(projectId, option: "--project-id") else { throw CommandFailure.usage("give --project-id") }
        guard let data = FileManager.default.contents(atPath: file) else { throw CommandFailure.usage("can't read \(file)") }
        let stored = try await context.withSignedInClient { try await $0.uploadXForm(Array(data), project: project) }
        if global.json {
            Console.json(stored)
        } else if !global.quiet {
            let verb = stored["created"] == .bool(false) ? "already stored" : "stored"
            print(
                "\(verb) form \(stored["formId"]?.stringValue ?? "?") version \(stored["version"]?.stringValue ?? "?") (id \(stored["id"]?.stringValue ?? "?"))"
            )
        }
    }
}

/// `fieldsync admin app-user …`.
struct AppUserCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "app-user", abstract: "App users: the credential of phones running ODK Collect.",
        subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an app user and print the server URL and the QR code Collect scans.",
            discussion: """
                The app user is an agent of the project and the org units (submissions are
                filed under the first). In Collect: Configure with QR code, or enter the
                server URL by hand. The key in the URL is shown once.

                Example:
                  fieldsync admin app-user create --project-id 5a1f0000-0000-4000-8000-000000000001 \\
                    --org-unit-id 0a000000-0000-4000-8000-000000000001
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp("The project.", valueName: "uuid")) var projectId: String
        @Option(help: ArgumentHelp("An org unit (repeat for several).", valueName: "uuid")) var orgUnitId: [String]
        @Option(help: "A name to show in Collect.") var name: String?
        @Flag(help: "Print the QR code dark on light (for terminals with dark text on a light background).") var darkOnLight = false

        func run() async throws {
            let context = try Context(global)
            guard let project = try Context.uuid(projectId, option: "--project-id") else { throw CommandFailure.usage("give --project-id") }
            let units = try orgUnitId.map { raw -> UUID in
                guard let u = try Context.uuid(raw, option: "--org-unit-id") else { throw CommandFailure.usage("give --org-unit-id") }
                return u
            }
            guard !units.isEmpty else { throw CommandFailure.usage("give at least one --org-unit-id") }
            let created = try await context.withSignedInClient { try await $0.createAppUser(project: project, orgUnits: units, name: name) }
            if global.json {
                Console.json(created)
                return
            }
            let url = created["serverUrl"]?.stringValue ?? "?"
            if global.quiet {
                print(url)
                return
            }
            print("server URL: \(url)")
            guard let payload = created["settingsQR"]?.stringValue else { return }
            do {
                let qr = try QRCode(encoding: Array(payload.utf8), errorCorrection: .low)
                print(qr.terminalText(quietZone: 4, style: darkOnLight ? .darkOnLight : .lightOnDark), terminator: "")
            } catch {
                print("(the settings are too long for a QR code: \(error))")
            }
        }
    }
}
