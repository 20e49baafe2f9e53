import ArgumentParser
import FieldSyncClient
import FieldSyncCore
import Foundation

/// `fieldsync tree …`.
struct Tree: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Download the merged org-unit tree (approved state).",
        discussion: """
            Example:
              fieldsync tree pull --root 1b0e0000-0000-4000-8000-000000000001 --format geojson --out tree.geojson
            """,
        subcommands: [Pull.self])

    struct Pull: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the tree under --root (default: your units) to --out or standard output.",
            discussion: """
                --format json gives {"orgUnits":[…],"cursor"}; geojson a FeatureCollection
                (with a cursor member). The answer is asked for gzip-compressed and written
                decompressed, as the server sent it. The new cursor is printed (to standard
                error when the tree goes to standard output): pass it as --since later for
                only what changed. --geometry none|simplified|full (default simplified).

                Example:
                  fieldsync tree pull --format geojson --geometry full --out tree.geojson
                  fieldsync tree pull --since "$(jq -r .cursor tree.geojson)" --format json --out changed.json
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp("The subtree's root.", valueName: "uuid")) var root: String?
        @Option(help: "json or geojson.") var format = "json"
        @Option(help: "none, simplified or full.") var geometry: String?
        @Option(help: ArgumentHelp("Only what changed after this cursor (printed by an earlier pull).", valueName: "cursor")) var since: String?
        @Option(help: ArgumentHelp("Write to this file (default: standard output).", valueName: "file")) var out: String?
        @Flag(help: "Do not ask for a gzip-compressed answer.") var noGzip = false

        func validate() throws {
            guard ["json", "geojson"].contains(format) else { throw ValidationError("--format must be json or geojson") }
            if let geometry, !["none", "simplified", "full"].contains(geometry) {
                throw ValidationError("--geometry must be none, simplified or full")
            }
        }

        func run() async throws {
            let context = try Context(global)
            let root = try Context.uuid(root, option: "--root")
            let tree = try await context.withSignedInClient {
                try await $0.downloadOrgUnitTree(root: root, geometry: geometry, format: format, since: since, gzip: !noGzip)
            }
            var bytes = tree.body
            if bytes.last != 0x0A { bytes.append(0x0A) }
            let summary: JSONValue = .object([
                "out": out.map(JSONValue.string) ?? .null, "orgUnits": .number(Double(tree.orgUnits)), "cursor": .string(tree.cursor),
                "bytes": .number(Double(tree.body.count)), "wireBytes": .number(Double(tree.wireBytes)), "gzip": .bool(tree.gzipped),
            ])
            let line =
                "\(Format.plural(tree.orgUnits, "org unit")), \(tree.body.count) bytes"
                + (tree.gzipped ? " (\(tree.wireBytes) gzip-compressed)" : "") + "; cursor \(tree.cursor)"
            if let out {
                guard FileManager.default.createFile(atPath: out, contents: Data(bytes)) else {
                    throw CommandFailure.failed("cannot write \(out); check the folder exists and is writable")
                }
                if global.json {
                    Console.json(summary)
                } else if !global.quiet {
                    print("wrote \(line) to \(out)")
                }
            } else {
                FileHandle.standardOutput.write(Data(bytes))
                if !global.quiet { Console.error(global.json ? JSONWriter.string(summary) : line) }
            }
        }
    }
}

/// `fieldsync changes …`: org-unit change requests.
struct Changes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List and review org-unit change requests.",
        discussion: """
            Example:
              fieldsync changes list --status pending
              fieldsync changes review 7d2e0000-0000-4000-8000-000000000001 --approve --fields name,location
            """,
        subcommands: [List.self, Review.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List change requests (agents see their own; supervisors their subtree).",
            discussion: """
                Example:
                  fieldsync changes list --status pending --json
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "pending, approved or rejected.") var status: String = "pending"

        func validate() throws {
            guard ["pending", "approved", "rejected"].contains(status) else {
                throw ValidationError("--status must be pending, approved or rejected")
            }
        }

        func run() async throws {
            let context = try Context(global)
            let items = try await context.withSignedInClient { try await $0.listOrgUnitChanges(status: status) }
            let rows = items.map { item -> JSONValue in
                var o = item.objectValue ?? [:]
                o["fieldNames"] = .string((item["changes"]?.objectValue ?? [:]).keys.sorted().joined(separator: ","))
                return .object(o)
            }
            ListOutput.print(
                global.json ? items : rows, global: global,
                columns: [
                    .init("ID", "id"), .init("ORG UNIT", "orgUnitId"), .init("OPERATION", "operation"), .init("STATUS", "status"),
                    .init("FIELDS", "fieldNames"), .init("CREATED", "createdAt"),
                ], empty: "no \(status) change requests")
        }
    }

    struct Review: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Approve (all or some fields) or reject a change request.",
            discussion: """
                Approval applies the approved fields as a versioned write on the request's base.

                Example:
                  fieldsync changes review 7d2e0000-0000-4000-8000-000000000001 --approve
                  fieldsync changes review 7d2e0000-0000-4000-8000-000000000001 --approve --fields name
                  fieldsync changes review 7d2e0000-0000-4000-8000-000000000001 --reject --comment "wrong parent"
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The change request's id.") var id: String
        @Flag(help: "Approve.") var approve = false
        @Flag(help: "Reject.") var reject = false
        @Option(help: ArgumentHelp("Approve only these fields (comma-separated).", valueName: "list")) var fields: String?
        @Option(help: "A comment for the author.") var comment: String?

        func validate() throws {
            guard approve != reject else { throw ValidationError("give exactly one of --approve or --reject") }
            if reject && fields != nil { throw ValidationError("--fields goes with --approve") }
        }

        func run() async throws {
            let context = try Context(global)
            guard let change = try Context.uuid(id, option: "ID") else { throw CommandFailure.usage("give the change request's id") }
            let list = fields.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
            let answer = try await context.withSignedInClient {
                try await $0.reviewOrgUnitChange(id: change, decision: approve ? "approve" : "reject", fields: list, comment: comment)
            }
            if global.json {
                Console.json(answer)
            } else if !global.quiet {
                print("change request \(change.lowercased) is now \(answer["status"]?.stringValue ?? "?")")
            }
        }
    }
}

/// `fieldsync conflicts …`.
struct Conflicts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List records in conflict and resolve them (supervisors, admins).",
        discussion: """
            Example:
              fieldsync conflicts list --kind entity
              fieldsync conflicts resolve entity 6f1c0000-0000-4000-8000-000000000001 village=Subil
            """,
        subcommands: [List.self, Resolve.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List records with conflicted fields and all their values.",
            discussion: """
                Example:
                  fieldsync conflicts list --json
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "entity or instance (default both).") var kind: String?

        func validate() throws {
            if let kind, !["entity", "instance"].contains(kind) { throw ValidationError("--kind must be entity or instance") }
        }

        func run() async throws {
            let context = try Context(global)
            let items = try await context.withSignedInClient { try await $0.listConflicts(kind: kind) }
            if global.json { Console.json(.object(["items": .array(items)])); return }
            if items.isEmpty { if !global.quiet { print("no open conflicts") }; return }
            for item in items {
                for (field, values) in (item["conflicts"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
                    let shown = (values.arrayValue ?? []).map { "\(JSONWriter.string($0["value"] ?? .null)) (\($0["replica"]?.stringValue ?? "?"))" }
                    print("\(item["kind"]?.stringValue ?? "?") \(item["id"]?.stringValue ?? "?") \(field): \(shown.joined(separator: " | "))")
                }
            }
        }
    }

    struct Resolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Resolve conflicted fields by writing their value as the server.",
            discussion: """
                Values are JSON when they parse (42, true, null, "text"), else text.

                Example:
                  fieldsync conflicts resolve entity 6f1c0000-0000-4000-8000-000000000001 village=Subil members=5
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "entity or instance.") var kind: String
        @Argument(help: "The record's id.") var id: String
        @Argument(help: "field=value pairs.") var assignments: [String] = []

        func run() async throws {
            guard ["entity", "instance"].contains(kind) else { throw CommandFailure.usage("the kind must be entity or instance, got \"\(kind)\"") }
            guard let record = try Context.uuid(id, option: "ID") else { throw CommandFailure.usage("give the record's id") }
            let changes = try parseAssignments(assignments)
            guard !changes.isEmpty else { throw CommandFailure.usage("give the resolved values as field=value") }
            let context = try Context(global)
            let answer = try await context.withSignedInClient { try await $0.resolveConflict(kind: kind, id: record, changes: changes) }
            if global.json {
                Console.json(answer)
            } else if !global.quiet {
                let left = answer["conflicts"]?.objectValue?.keys.sorted() ?? []
                print(
                    "resolved \(changes.keys.sorted().joined(separator: ", ")) of \(kind) \(record.lowercased)\(left.isEmpty ? "" : "; still in conflict: \(left.joined(separator: ", "))")"
                )
            }
        }
    }
}
