import ArgumentParser
import FieldSyncClient
import FieldSyncCore
import Foundation

/// `fieldsync admin entity-type …`.
struct EntityTypeCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "entity-type", abstract: "Entity types of an account.",
        discussion: """
            Example:
              fieldsync admin entity-type create --name Household
              fieldsync admin entity-type list
            """,
        subcommands: [Create.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an entity type.",
            discussion: """
                Example:
                  fieldsync admin entity-type create --name Household
                """)
        @OptionGroup var global: GlobalOptions
        @OptionGroup var account: AccountOption
        @Option(help: "The type's name.") var name: String
        @Option(help: ArgumentHelp("Choose the id (re-runnable set-up; 409 when it exists).", valueName: "uuid")) var id: String?

        func run() async throws {
            let context = try Context(global)
            let id = try Context.uuid(id, option: "--id")
            let accountId = try context.accountId(account.accountId)
            let created = try await context.withSignedInClient { try await $0.createEntityType(name: name, id: id, accountId: accountId) }
            printCreated("entity type", created, name: name, global: global)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List entity types.",
            discussion: """
                Example:
                  fieldsync admin entity-type list --json
                """)
        @OptionGroup var global: GlobalOptions
        @OptionGroup var account: AccountOption

        func run() async throws {
            let context = try Context(global)
            let accountId = try context.accountId(account.accountId)
            let items = try await context.withSignedInClient { try await $0.listEntityTypes(accountId: accountId) }
            ListOutput.print(items, global: global, columns: [.init("ID", "id"), .init("NAME", "name")], empty: "no entity types")
        }
    }
}

/// `fieldsync admin form …`.
struct FormCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "form", abstract: "Forms and their versions.",
        discussion: """
            Questions are a JSON array [{"name","type","required"?,"choices"?}] with type
            text, integer, decimal, date, select_one, select_multiple or geopoint, given
            inline with --fields or from a file with --fields-file.

            Example:
              fieldsync admin form create --form-id household --name "Household survey" --version 1 \\
                --project-id 5a1f0000-0000-4000-8000-000000000001 \\
                --fields '[{"name":"members","type":"integer","required":true}]'
              fieldsync admin form version 9c3d0000-0000-4000-8000-000000000001 --version 2 --fields-file v2.json
            """,
        subcommands: [Create.self, List.self, Version.self, FormUpload.self])

    /// `--fields` / `--fields-file`.
    struct FieldsOption: ParsableArguments {
        @Option(help: ArgumentHelp("The questions, as a JSON array.", valueName: "json")) var fields: String?
        @Option(help: ArgumentHelp("The questions, from a JSON file.", valueName: "file")) var fieldsFile: String?

        func value() throws -> JSONValue? {
            if fields != nil && fieldsFile != nil { throw CommandFailure.usage("give --fields or --fields-file, not both") }
            let text: String
            if let fields {
                text = fields
            } else if let fieldsFile {
                guard let data = FileManager.default.contents(atPath: fieldsFile) else {
                    throw CommandFailure.failed("cannot read \(fieldsFile); check the path")
                }
                text = String(decoding: data, as: UTF8.self)
            } else {
                return nil
            }
            do {
                let v = try JSONParser.parse(text)
                guard v.arrayValue != nil else {
                    throw CommandFailure.usage("the questions must be a JSON array like [{\"name\":\"age\",\"type\":\"integer\"}]")
                }
                return v
            } catch let e as JSONParser.Failure {
                throw CommandFailure.usage("the questions are not valid JSON (\(e)); give an array like [{\"name\":\"age\",\"type\":\"integer\"}]")
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a form with its first version.",
            discussion: """
                Example:
                  fieldsync admin form create --form-id household --name "Household survey" --version 1 \\
                    --project-id 5a1f0000-0000-4000-8000-000000000001 --fields-file household.json
                """)
        @OptionGroup var global: GlobalOptions
        @OptionGroup var account: AccountOption
        @Option(help: "The form's id devices name it by (text, unique in the account).") var formId: String
        @Option(help: "The form's title.") var name: String
        @Option(help: "The first version's label.") var version: String = "1"
        @Option(help: ArgumentHelp("A project the form belongs to (repeatable; default: your project).", valueName: "uuid")) var projectId: [String] =
            []
        @OptionGroup var questions: FieldsOption
        @Option(help: ArgumentHelp("Choose the id.", valueName: "uuid")) var id: String?

        func run() async throws {
            let context = try Context(global)
            var projects = try projectId.compactMap { try Context.uuid($0, option: "--project-id") }
            if projects.isEmpty, let p = try context.projectId(nil) { projects = [p] }
            let fields = try questions.value()
            let id = try Context.uuid(id, option: "--id")
            let accountId = try context.accountId(account.accountId)
            let created = try await context.withSignedInClient {
                try await $0.createForm(
                    formId: formId, name: name, version: version, projectIds: projects, fields: fields, id: id, accountId: accountId)
            }
            printCreated("form", created, name: formId, global: global)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List forms with their latest version.",
            discussion: """
                Example:
                  fieldsync admin form list
                """)
        @OptionGroup var global: GlobalOptions
        @OptionGroup var account: AccountOption

        func run() async throws {
            let context = try Context(global)
            let accountId = try context.accountId(account.accountId)
            let items = try await context.withSignedInClient { try await $0.listForms(accountId: accountId) }
            ListOutput.print(
                items, global: global,
                columns: [
                    .init("ID", "id"), .init("FORM ID", "formId"), .init("NAME", "name"), .init("VERSION", "version"), .init("QUESTIONS", "fields"),
                ], empty: "no forms")
        }
    }

    struct Version: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a version to a form (ID as returned when the form was created).",
            discussion: """
                Example:
                  fieldsync admin form version 9c3d0000-0000-4000-8000-000000000001 --version 2 \\
                    --fields '[{"name":"members","type":"integer"},{"name":"water","type":"select_one","choices":["tap","well"]}]'
                """)
        @OptionGroup var global: GlobalOptions
        @OptionGroup var account: AccountOption
        @Argument(help: "The form's id.") var id: String
        @Option(help: "The new version's label.") var version: String
        @OptionGroup var questions: FieldsOption

        func run() async throws {
            let context = try Context(global)
            guard let form = try Context.uuid(id, option: "ID") else { throw CommandFailure.usage("give the form's id") }
            let fields = try questions.value()
            let accountId = try context.accountId(account.accountId)
            let created = try await context.withSignedInClient {
                try await $0.addFormVersion(form: form, version: version, fields: fields, accountId: accountId)
            }
            if global.json {
                Console.json(created)
            } else if !global.quiet {
                print("added version \(version) to form \(form.lowercased)")
            }
        }
    }
}
