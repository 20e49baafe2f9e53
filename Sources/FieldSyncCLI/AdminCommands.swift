import ArgumentParser
import FieldSyncClient
import FieldSyncCore
import Foundation

/// `fieldsync admin …`: accounts, projects, users and org-unit types.
struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create and list accounts, projects, users, org-unit types, entity types and forms.",
        discussion: """
            Accounts are the superuser's; the rest is done by an admin of the account,
            or by the superuser naming the account with --account-id.

            Example:
              fieldsync admin account create --name Demo
              fieldsync admin project create --name "Field survey" --app-id demo.survey \\
                --account-id 0de30000-0000-4000-8000-000000000001
            """,
        subcommands: [
            AccountCommands.self, ProjectCommands.self, UserCommands.self, OrgUnitTypeCommands.self,
            EntityTypeCommands.self, FormCommands.self, AppUserCommands.self,
        ])
}

/// `--account-id`, shared by the commands acting inside an account.
struct AccountOption: ParsableArguments {
    @Option(help: ArgumentHelp("The account to act in (the superuser must name it; default: your account).", valueName: "uuid"))
    var accountId: String?
}

/// Prints a created object: its JSON with `--json`, else `created KIND NAME (id ID)`.
func printCreated(_ kind: String, _ object: JSONValue, name: String, global: GlobalOptions) {
    if global.json {
        Console.json(object)
    } else if !global.quiet {
        print("created \(kind) \(name) (id \(object["id"]?.stringValue ?? "?"))")
    } else {
        print(object["id"]?.stringValue ?? "")
    }
}

/// `fieldsync admin account …`.
struct AccountCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "account", abstract: "Accounts (superuser).",
        discussion: """
            Example:
              fieldsync admin account create --name Demo
              fieldsync admin account list
            """,
        subcommands: [Create.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an account (superuser only).",
            discussion: """
                Example:
                  fieldsync admin account create --name Demo \\
                    --id 0de30000-0000-4000-8000-000000000001
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "The account's name.") var name: String
        @Option(help: ArgumentHelp("Choose the id (re-runnable set-up; 409 when it exists).", valueName: "uuid")) var id: String?

        func run() async throws {
            let context = try Context(global)
            let id = try Context.uuid(id, option: "--id")
            let created = try await context.withSignedInClient { try await $0.createAccount(name: name, id: id) }
            printCreated("account", created, name: name, global: global)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List accounts (the superuser sees all; others their own).",
            discussion: """
                Example:
                  fieldsync admin account list
                """)
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let context = try Context(global)
            let items = try await context.withSignedInClient { try await $0.listAccounts() }
            ListOutput.print(items, global: global, columns: [.init("ID", "id"), .init("NAME", "name")], empty: "no accounts")
        }
    }
}

/// `fieldsync admin project …`.
struct ProjectCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "project", abstract: "Projects of an account.",
        discussion: """
            Example:
              fieldsync admin project create --name "Field survey" --app-id demo.survey
              fieldsync admin project list
            """,
        subcommands: [Create.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a project.",
            discussion: """
                Example:
                  fieldsync admin project create --name "Field survey" --app-id demo.survey
                """)
        @OptionGroup var global: GlobalOptions
        @OptionGroup var account: AccountOption
        @Option(help: "The project's name.") var name: String
        @Option(help: "The app id devices know the project by, unique in the account.") var appId: String
        @Option(help: ArgumentHelp("Choose the id (re-runnable set-up; 409 when it exists).", valueName: "uuid")) var id: String?

        func run() async throws {
            let context = try Context(global)
            let id = try Context.uuid(id, option: "--id")
            let accountId = try context.accountId(account.accountId)
            let created = try await context.withSignedInClient {
                try await $0.createProject(name: name, appId: appId, id: id, accountId: accountId)
            }
            printCreated("project", created, name: name, global: global)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the projects you may see.",
            discussion: """
                Example:
                  fieldsync admin project list --json
                """)
        @OptionGroup var global: GlobalOptions
        @OptionGroup var account: AccountOption

        func run() async throws {
            let context = try Context(global)
            let accountId = try context.accountId(account.accountId)
            let items = try await context.withSignedInClient { try await $0.listProjects(accountId: accountId) }
            ListOutput.print(
                items, global: global, columns: [.init("ID", "id"), .init("NAME", "name"), .init("APP ID", "appId")],
                empty: "no projects")
        }
    }
}

/// The roles an admin may give.
enum AssignableRole: String, ExpressibleByArgument, CaseIterable {
    case agent, supervisor, admin
}

/// `fieldsync admin user …`.
struct UserCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Users of an account.",
        discussion: """
            Example:
              fieldsync admin user create --username amina --password s3cret-pass \\
                --role agent
              fieldsync admin user list
            """,
        subcommands: [Create.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a user.",
            discussion: """
                Repeat --project-id and --org-unit-id for several. The password must be
                8 to 72 bytes.

                Example:
                  fieldsync admin user create --username amina --password s3cret-pass \\
                    --role agent --project-id 0de30000-0000-4000-8000-000000000002 \\
                    --org-unit-id ff1900ab-6707-5b24-a057-331a174d70f4
                """)
        @OptionGroup var global: GlobalOptions
        @OptionGroup var account: AccountOption
        @Option(help: "The username, unique in the installation.") var username: String
        @Option(help: "The user's password (8 to 72 bytes).") var password: String
        @Option(help: "agent, supervisor or admin.") var role: AssignableRole
        @Option(name: .customLong("project-id"), help: ArgumentHelp("A project of the user (repeatable).", valueName: "uuid"))
        var projectIds: [String] = []
        @Option(name: .customLong("org-unit-id"), help: ArgumentHelp("An org unit assigned to the user (repeatable).", valueName: "uuid"))
        var orgUnitIds: [String] = []
        @Option(help: ArgumentHelp("Choose the id.", valueName: "uuid")) var id: String?

        func run() async throws {
            let context = try Context(global)
            let id = try Context.uuid(id, option: "--id")
            let projects = try projectIds.map { try Context.uuid($0, option: "--project-id")! }
            let units = try orgUnitIds.map { try Context.uuid($0, option: "--org-unit-id")! }
            let accountId = try context.accountId(account.accountId)
            let created = try await context.withSignedInClient {
                try await $0.createUser(
                    username: username, password: password, role: role.rawValue,
                    projectIds: projects, orgUnitIds: units, id: id, accountId: accountId)
            }
            printCreated("user", created, name: username, global: global)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the users of the account (admin).",
            discussion: """
                PROJECTS and ORG UNITS show the id when there is one, else how many.

                Example:
                  fieldsync admin user list
                """)
        @OptionGroup var global: GlobalOptions
        @OptionGroup var account: AccountOption

        func run() async throws {
            let context = try Context(global)
            let accountId = try context.accountId(account.accountId)
            let items = try await context.withSignedInClient { try await $0.listUsers(accountId: accountId) }
            ListOutput.print(
                items, global: global,
                columns: [
                    .init("ID", "id"), .init("USERNAME", "username"), .init("ROLE", "role"),
                    .init("PROJECTS", "projectIds"), .init("ORG UNITS", "orgUnitIds"),
                ], empty: "no users")
        }
    }
}

/// `fieldsync admin orgunit-type …`.
struct OrgUnitTypeCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orgunit-type", abstract: "Org-unit types of an account.",
        discussion: """
            Example:
              fieldsync admin orgunit-type create --name Union --depth 4
              fieldsync admin orgunit-type list
            """,
        subcommands: [Create.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an org-unit type (a level of the tree).",
            discussion: """
                Example:
                  fieldsync admin orgunit-type create --name Union --depth 4
                """)
        @OptionGroup var global: GlobalOptions
        @OptionGroup var account: AccountOption
        @Option(help: "The type's name, e.g. District.") var name: String
        @Option(help: "Its depth in the tree (0 for the root level).") var depth: Int
        @Option(help: ArgumentHelp("Choose the id (re-runnable set-up; 409 when it exists).", valueName: "uuid")) var id: String?

        func validate() throws {
            guard depth >= 0 else { throw ValidationError("--depth must be 0 or more") }
        }

        func run() async throws {
            let context = try Context(global)
            let id = try Context.uuid(id, option: "--id")
            let accountId = try context.accountId(account.accountId)
            let created = try await context.withSignedInClient {
                try await $0.createOrgUnitType(name: name, depth: depth, id: id, accountId: accountId)
            }
            printCreated("org-unit type", created, name: name, global: global)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the org-unit types of the account.",
            discussion: """
                Example:
                  fieldsync admin orgunit-type list
                """)
        @OptionGroup var global: GlobalOptions
        @OptionGroup var account: AccountOption

        func run() async throws {
            let context = try Context(global)
            let accountId = try context.accountId(account.accountId)
            let items = try await context.withSignedInClient { try await $0.listOrgUnitTypes(accountId: accountId) }
            let sorted = items.sorted { ($0["depth"]?.numberValue ?? 0) < ($1["depth"]?.numberValue ?? 0) }
            ListOutput.print(
                sorted, global: global, columns: [.init("ID", "id"), .init("NAME", "name"), .init("DEPTH", "depth")],
                empty: "no org-unit types")
        }
    }
}
