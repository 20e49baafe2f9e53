import ArgumentParser
import FieldSyncClient
import Foundation

/// `fieldsync`: the command-line client of a FieldSync server.
@main
struct FieldSync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fieldsync",
        abstract: "Command-line client of the FieldSync sync server.",
        discussion: """
            Sign in once, then push and pull; the token and the device, project and
            account in use are kept in the profile (~/.config/fieldsync/profile.json,
            or --profile PATH, or env FIELDSYNC_PROFILE), readable only by you.

            Example:
              fieldsync login --server http://127.0.0.1:8080 --username amina
              fieldsync device register --model "Pixel 7a"
              fieldsync positions push --count 300
              fieldsync pull --all

            The server is --server URL, else env FIELDSYNC_SERVER, else the profile's
            server, else http://127.0.0.1:8080. --json prints machine-readable JSON on
            standard output; errors go to standard error as one sentence.

            Exit codes:
              0  ok
              1  the request failed or the server answered with an error
              2  usage error (bad or missing option)
              3  cannot reach the server
              4  partial: some items were rejected (the others were stored)
            """,
        version: "0.1.0",
        subcommands: [
            Login.self, Logout.self, Status.self, Device.self, Positions.self, Pull.self,
            Admin.self, OrgUnits.self, Tree.self, Changes.self, Conflicts.self, Simulate.self, Demo.self,
        ]
    )

    /// Runs the command, mapping failures to the documented exit codes.
    static func main() async {
        do {
            var command = try await asyncParseAsRoot(nil)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let (code, message) = Exit.classify(error, root: Self.self)
            if let message, !message.isEmpty {
                if code == 0 { print(message) } else { Console.error(message) }
            }
            Foundation.exit(code)
        }
    }
}
