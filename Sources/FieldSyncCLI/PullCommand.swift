import ArgumentParser
import FieldSyncClient
import FieldSyncCore
import Foundation

/// `fieldsync pull`.
struct Pull: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pull changes from the feed and count them by kind.",
        discussion: """
            Without --cursor, starts from the beginning. One page unless --all, which
            follows the cursors to the end. Prints the cursor to resume from. With
            --out FILE, writes every change as one JSON line.

            Example:
              fieldsync pull --all --out changes.jsonl
              fieldsync pull --cursor 0-1234 --limit 100
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "Start after this cursor (default: from the beginning).")
    var cursor: String?

    @Option(help: "Changes per page, 1 to 1000 (default: the server's, 500).")
    var limit: Int?

    @Option(help: ArgumentHelp("Only this project's records.", valueName: "uuid"))
    var projectId: String?

    @Flag(help: "Follow the cursors until there is nothing more.")
    var all = false

    @Option(help: ArgumentHelp("Write the changes to FILE, one JSON object per line.", valueName: "file"))
    var out: String?

    func validate() throws {
        if let limit, !(1...1000).contains(limit) { throw ValidationError("--limit must be from 1 to 1000") }
    }

    func run() async throws {
        let context = try Context(global)
        let project = try Context.uuid(projectId, option: "--project-id")
        var file: FileHandle? = nil
        if let out {
            guard FileManager.default.createFile(atPath: out, contents: nil), let handle = FileHandle(forWritingAtPath: out) else {
                throw CommandFailure.failed("cannot write \(out): check the directory exists and is writable")
            }
            file = handle
        }
        defer { try? file?.close() }
        let tally = try await context.withSignedInClient { client in
            var tally = PullTally()
            if all {
                tally.cursor = try await client.pullAll(from: cursor, limit: limit, projectId: project) { page in
                    try tally.add(page, to: file)
                    if tally.pages % 10 == 0 { context.progress("\(Format.count(tally.total)) changes so far") }
                }
            } else {
                try tally.add(try await client.pull(cursor: cursor, limit: limit, projectId: project), to: file)
            }
            return tally
        }
        if global.json {
            var shown = tally
            shown.out = out
            try Console.json(shown)
        } else {
            print(tally.text + (out.map { "; written to \($0)" } ?? ""))
        }
    }
}

/// Counts of pulled changes by kind.
struct PullTally: Sendable, Encodable {
    var pages = 0
    var total = 0
    var kinds: [String: Int] = [:]
    var cursor = ""
    var hasMore = false

    mutating func add(_ page: PullPage, to file: FileHandle?) throws {
        pages += 1
        total += page.changes.count
        cursor = page.cursor
        hasMore = page.hasMore
        var lines: [UInt8] = []
        for change in page.changes {
            kinds[change["kind"]?.stringValue ?? "unknown", default: 0] += 1
            if file != nil {
                lines.append(contentsOf: JSONWriter.encode(change))
                lines.append(0x0A)
            }
        }
        if let file, !lines.isEmpty { try file.write(contentsOf: lines) }
    }

    /// The file the changes were written to (`--out`), for `--json`.
    var out: String?

    /// `pull --json`: `changes` is the count.
    private enum CodingKeys: String, CodingKey {
        case total = "changes", pages, kinds, cursor, hasMore, out
    }

    /// `pulled 300 changes in 1 page (300 position); cursor 0-123, nothing more`.
    var text: String {
        let byKind = kinds.sorted { $0.key < $1.key }.map { "\(Format.count($0.value)) \($0.key)" }.joined(separator: ", ")
        return "pulled \(Format.plural(total, "change")) in \(Format.plural(pages, "page"))"
            + (byKind.isEmpty ? "" : " (\(byKind))")
            + "; cursor \(cursor)" + (hasMore ? ", more to pull" : ", nothing more")
    }
}
