import FieldSyncClient
import FieldSyncCore
import FieldSyncTestSupport
import Foundation
import Testing

/// The built `fieldsync` executable run as a person or a script runs it: what it prints
/// on standard output and error, the profile it keeps, and its exit codes.
@Suite(.serialized)
struct CommandOutputTests {
    @Test func aServerThatIsNotThereExitsThreeWithOneSentence() async throws {
        let home = try CommandLineRun.temporaryHome()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let run = try await CommandLineRun.run(["status", "--server", "http://127.0.0.1:9"], home: home)
        #expect(run.status == 3)
        #expect(run.stderr == "error: cannot reach the server at http://127.0.0.1:9: is fieldsync-server running?\n")
        #expect(run.stdout.isEmpty)
    }

    @Test func notSignedInExitsOneAndSaysWhatToDo() async throws {
        let home = try CommandLineRun.temporaryHome()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let run = try await CommandLineRun.run(["device", "list", "--server", "http://127.0.0.1:9"], home: home)
        #expect(run.status == 1)
        #expect(run.stderr == "error: not signed in to http://127.0.0.1:9; sign in first with fieldsync login --username NAME\n")
    }

    @Test func usageErrorsExitTwo() async throws {
        let home = try CommandLineRun.temporaryHome()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let run = try await CommandLineRun.run(["simulate", "--devices", "0"], home: home)
        #expect(run.status == 2)
        #expect(run.stderr.contains("--devices must be from 1 to 100000"))
        let help = try await CommandLineRun.run(["simulate", "--help"], home: home)
        #expect(help.status == 0 && help.stdout.contains("USAGE: fieldsync simulate"))
    }

    @Test func loginStatusDeviceAndLogoutAgainstALiveServer() async throws {
        let home = try CommandLineRun.temporaryHome()
        defer { try? FileManager.default.removeItem(atPath: home) }
        try await LiveTestServer.run { port in
            let server = "http://127.0.0.1:\(port)"
            let env = ["FIELDSYNC_PASSWORD": TestServerDefaults.rootPassword]
            let login = try await CommandLineRun.run(["login", "--server", server, "--username", "root", "--json"], home: home, environment: env)
            #expect(login.status == 0, "\(login.stderr)")
            let profilePath = home + "/config/fieldsync/profile.json"
            let shown = try JSONParser.parse(Array(login.stdout.utf8))
            #expect(
                Set(shown.objectValue?.keys.map { $0 } ?? []) == ["server", "username", "role", "accountId", "projectIds", "expiresAt", "profile"])
            #expect(shown["server"] == .string(server) && shown["role"] == .string("superuser") && shown["accountId"] == .null)
            #expect(shown["profile"] == .string(profilePath))
            #expect(!login.stdout.contains("token"), "the token is never printed")

            // The profile: owner-only, the token kept, read back as written.
            let attributes = try FileManager.default.attributesOfItem(atPath: profilePath)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
            let stored = try JSONParser.parse(Array(try #require(FileManager.default.contents(atPath: profilePath))))
            #expect(stored["server"] == .string(server) && stored["username"] == .string("root") && stored["role"] == .string("superuser"))
            #expect(stored["token"]?.stringValue?.isEmpty == false)

            // No --server: the profile's. Text for people, JSON for scripts.
            let status = try await CommandLineRun.run(["status"], home: home)
            #expect(status.status == 0, "\(status.stderr)")
            #expect(status.stdout.hasPrefix("server   \(server) (ready)\nuser     root (superuser)\n"))
            let statusJSON = try await CommandLineRun.run(["status", "--json"], home: home)
            let s = try JSONParser.parse(Array(statusJSON.stdout.utf8))
            #expect(s["ready"] == .bool(true) && s["signedIn"] == .bool(true) && s["token"] == nil)
            #expect(s["username"] == .string("root") && s["profile"] == .string(profilePath) && s["server"] == .string(server))

            // The superuser has no account: the server's answer, with the CLI's hint.
            let project = try await CommandLineRun.run(["admin", "project", "create", "--name", "P", "--app-id", "p.app"], home: home)
            #expect(project.status == 1)
            #expect(project.stderr.hasPrefix("error: ") && project.stderr.hasSuffix("; pass --account-id ID\n"), "\(project.stderr)")

            let logout = try await CommandLineRun.run(["logout", "--json"], home: home)
            #expect(logout.status == 0 && logout.stdout == "{\"revoked\":true,\"signedIn\":false}\n")
            let after = try await CommandLineRun.run(["device", "list"], home: home)
            #expect(after.status == 1 && after.stderr.contains("not signed in to \(server)"))
        }
    }

    @Test func anEmulatedDeviceCollectsOfflineSyncsAndReportsItsStatus() async throws {
        let home = try CommandLineRun.temporaryHome()
        defer { try? FileManager.default.removeItem(atPath: home) }
        try await LiveTestServer.run { port in
            let server = "http://127.0.0.1:\(port)"
            // An account, a project, a form and an agent, as an admin would make them.
            let agent = "agent-\(UUID().uuidString.prefix(6).lowercased())"
            try await FieldSyncClient.withClient(baseURL: server) { client in
                try await client.signIn(username: TestServerDefaults.rootUser, password: TestServerDefaults.rootPassword)
                let account = try #require(UUID(uuidString: try await client.createAccount(name: "CLI test")["id"]?.stringValue ?? ""))
                let project = try #require(
                    UUID(uuidString: try await client.createProject(name: "P", appId: "p.app", accountId: account)["id"]?.stringValue ?? ""))
                _ = try await client.createForm(
                    formId: "visit", name: "Visit", version: "1", projectIds: [project],
                    fields: .array([.object(["name": .string("members"), "type": .string("integer")])]), accountId: account)
                let type = try await client.createOrgUnitType(name: "district", depth: 1, accountId: account)
                let unit = UUID()
                _ = try await client.importOrgUnits(
                    json: .array([
                        .object([
                            "id": .string(unit.lowercasedText), "name": .string("Comilla"), "orgUnitTypeId": type["id"] ?? .null,
                        ])
                    ]), accountId: account)
                _ = try await client.createUser(
                    username: agent, password: "agent-password", role: "agent",
                    projectIds: [project], orgUnitIds: [unit], accountId: account)
            }
            let env = ["FIELDSYNC_PASSWORD": "agent-password"]
            let device = ["--device", "field-1"]
            let login = try await CommandLineRun.run(
                ["device", "login", "--server", server, "--username", agent] + device, home: home, environment: env)
            #expect(login.status == 0, "\(login.stderr)")
            let store = home + "/data/fieldsync/devices/field-1.sqlite"
            #expect(login.stdout.contains("(store \(store)); next: fieldsync device register --device field-1"))
            let register = try await CommandLineRun.run(["device", "register", "--json"] + device, home: home)
            #expect(register.status == 0, "\(register.stderr)")
            let registered = try JSONParser.parse(Array(register.stdout.utf8))
            #expect(registered["forms"] == .number(1) && registered["store"] == .string(store))

            let collect = try await CommandLineRun.run(["device", "collect", "--count", "3", "--track", "4"] + device, home: home)
            #expect(collect.status == 0 && collect.stdout == "collected 3 instances and 4 positions offline; send them with fieldsync device sync\n")
            let queued = try JSONParser.parse(Array(try await CommandLineRun.run(["device", "status", "--json"] + device, home: home).stdout.utf8))
            #expect(queued["queued"] == .object(["instance": .number(3), "position": .number(4)]))
            #expect(queued["cursor"] == .null && queued["device"]?["signedIn"] == .bool(true) && queued["device"]?["token"] == nil)

            let sync = try await CommandLineRun.run(["device", "sync", "--json"] + device, home: home)
            #expect(sync.status == 0, "\(sync.stderr)")
            let report = try JSONParser.parse(Array(sync.stdout.utf8))
            #expect(report["acknowledged"] == .number(7) && report["rejected"] == .number(0) && report["outboxLeft"] == .number(0))
            #expect(report["statuses"] == .object(["created": .number(7)]))
            #expect(
                Set(report.objectValue?.keys.map { $0 } ?? []) == [
                    "batches", "acknowledged", "requeued", "rejected", "conflicts", "statuses",
                    "pages", "pulledRecords", "pulledPositions", "outboxLeft",
                ])
            let text = try await CommandLineRun.run(["device", "status"] + device, home: home)
            #expect(text.stdout.contains("\nqueued     0\nin flight  0 in 0 batches\n"))
            #expect(text.stdout.contains("written    7, acknowledged 7, counter 3\n"))
        }
    }
}
