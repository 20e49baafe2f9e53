import ArgumentParser
import FieldSyncClient
import FieldSyncDevice
import Testing

@testable import FieldSyncCLI

/// The CLI's argument parsing and its mapping of failures to the documented exit codes,
/// in process (`parseAsRoot`, ``Exit/classify(_:root:)``).
struct ArgumentParsingTests {
    /// The exit code and message the CLI would end with for `arguments`, or `nil` when
    /// they parse (the command is not run).
    func failure(_ arguments: [String]) -> (Int32, String)? {
        do {
            // --help and --version parse into a command whose run ends the process cleanly.
            var command = try FieldSync.parseAsRoot(arguments)
            if !(command is AsyncParsableCommand) { try command.run() }
            return nil
        } catch {
            let (code, message) = Exit.classify(error, root: FieldSync.self)
            return (code, message ?? "")
        }
    }

    @Test func optionsParseIntoTheCommandsFields() throws {
        let sync = try #require(try FieldSync.parseAsRoot(["device", "sync", "--device", "field-1", "--batch-size", "7", "--json"]) as? DeviceSync)
        #expect(sync.batchSize == 7 && sync.store.device == "field-1" && sync.global.json)
        #expect(sync.store.path.hasSuffix("/fieldsync/devices/field-1.sqlite"))
        let simulate = try #require(try FieldSync.parseAsRoot(["simulate", "--devices", "3", "--faults", "drop, reorder"]) as? Simulate)
        #expect(simulate.devices == 3 && simulate.concurrency == 32 && simulate.batchSize == 200)
        #expect(try simulate.faultKinds() == [.drop, .reorder])
        let edit = try #require(
            try FieldSync.parseAsRoot(["device", "edit", "entity", "new", "name=Amina", "age=42", "ok=true", "x={\"a\":1}"]) as? DeviceEdit)
        #expect(
            try parseAssignments(edit.assignments) == [
                "name": .string("Amina"), "age": .number(42), "ok": .bool(true), "x": .object(["a": .number(1)]),
            ])
    }

    @Test func odkCommandsParse() throws {
        let upload = try #require(
            try FieldSync.parseAsRoot(["admin", "form", "upload", "household.xml", "--project-id", "5a1f0000-0000-4000-8000-000000000001"])
                as? FormUpload)
        #expect(upload.file == "household.xml" && upload.projectId == "5a1f0000-0000-4000-8000-000000000001")
        let app = try #require(
            try FieldSync.parseAsRoot([
                "admin", "app-user", "create", "--project-id", "5a1f0000-0000-4000-8000-000000000001",
                "--org-unit-id", "0a000000-0000-4000-8000-000000000001", "--org-unit-id", "0a000000-0000-4000-8000-000000000002", "--dark-on-light",
            ]) as? AppUserCommands.Create)
        #expect(app.orgUnitId.count == 2 && app.darkOnLight && app.name == nil)
        #expect(failure(["admin", "form", "upload", "household.xml"])?.0 == 2, "--project-id is required")
        #expect(failure(["admin", "app-user", "create", "--org-unit-id", "x"])?.0 == 2, "--project-id is required")
    }

    @Test func usageErrorsExitTwoAndSayWhatIsWrong() throws {
        let cases: [([String], String)] = [
            (["simulate", "--devices", "0"], "--devices must be from 1 to 100000"),
            (["simulate", "--faults", "drop,melt"], "unknown fault \"melt\""),
            (["simulate", "--fault-rate", "2"], "--fault-rate must be between 0 and 1"),
            (["device", "sync", "--batch-size", "0"], "--batch-size must be from 1 to 10000"),
            (["device", "status", "--device", "a/b"], "--device must be a plain name"),
            (["login"], "--username"),
            (["status", "--timeout", "0"], "--timeout must be between 0 and 86400 seconds"),
            (["no-such-command"], "no-such-command"),
        ]
        for (arguments, expected) in cases {
            let (code, message) = try #require(failure(arguments), "\(arguments) must not parse")
            #expect(code == Exit.usage, "\(arguments): \(message)")
            #expect(message.contains(expected), "\(arguments): \(message)")
        }
        #expect(throws: CommandFailure.self) { _ = try parseAssignments(["=x"]) }
    }

    @Test func helpAndVersionExitZero() throws {
        let (code, help) = try #require(failure(["simulate", "--help"]))
        #expect(code == Exit.ok)
        #expect(help.contains("--faults") && help.contains("Example:"))
        let (versionCode, version) = try #require(failure(["--version"]))
        #expect(versionCode == Exit.ok && version == "0.1.0")
    }

    @Test func failuresMapOntoTheDocumentedExitCodes() {
        func code(_ error: any Error) -> Int32 { Exit.classify(error, root: FieldSync.self).0 }
        #expect(code(ClientError.unreachable(url: "http://127.0.0.1:1", detail: "refused")) == Exit.unreachable)
        #expect(code(ClientError.server(status: 404, error: nil, method: "GET", path: "/v1/x")) == Exit.failed)
        #expect(code(ClientError.timedOut(url: "http://h", seconds: 1)) == Exit.failed)
        #expect(code(CommandFailure.partial("2 rejected")) == Exit.partial)
        #expect(code(CommandFailure.usage("bad")) == Exit.usage)
        #expect(code(DeviceError("no session")) == Exit.failed)
        #expect(code(ProfileError("unreadable")) == Exit.failed)
        let hint = Exit.classify(
            ClientError.server(
                status: 422, error: .init(code: "invalid_request", message: "accountId is required", field: "accountId"),
                method: "POST", path: "/v1/projects"), root: FieldSync.self
        ).1
        #expect(hint == "error: invalid_request: accountId is required (accountId); pass --account-id ID")
    }
}
