import Foundation

// The build tool of the EmbedMigrations plugin: `EmbedMigrationsTool FOLDER OUTPUT` writes
// OUTPUT, a Swift source defining `EmbeddedMigrations.all` with the name, version (the number
// before the first `_`) and text of each `*.sql` file of FOLDER, in order of name. It fails,
// naming the file, on a name without a version or on two files with one version.

/// Stops the build with one sentence.
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("EmbedMigrationsTool: error: \(message)\n".utf8))
    exit(1)
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count == 2 else { fail("usage: EmbedMigrationsTool FOLDER OUTPUT") }
let (folder, output) = (arguments[0], arguments[1])
guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { fail("cannot list \(folder)") }
let files = names.filter { $0.hasSuffix(".sql") }.sorted().map { folder + "/" + $0 }

var entries: [String] = []
var seen: [Int: String] = [:]
for path in files {
    let name = URL(fileURLWithPath: path).lastPathComponent
    let digits = name.prefix { $0.isASCII && $0.isNumber }
    guard !digits.isEmpty, name.dropFirst(digits.count).hasPrefix("_"), let version = Int(digits) else {
        fail("\(path): migration files are named NNNN_name.sql")
    }
    if let other = seen[version] { fail("\(name) and \(other) have the same version \(version)") }
    seen[version] = name
    guard let sql = try? String(contentsOfFile: path, encoding: .utf8) else { fail("\(path) is not readable UTF-8 text") }
    guard !sql.contains("\r") else { fail("\(path) has carriage returns: a Swift string literal would not keep them") }
    guard !name.contains("\"") && !name.contains("\\") else { fail("\(path): a quote or backslash in the name") }
    // A raw string whose delimiter has more `#` than any run in the text: nothing in it can
    // close the literal or start an escape.
    var longest = 0
    var run = 0
    for c in sql {
        run = c == "#" ? run + 1 : 0
        longest = max(longest, run)
    }
    let hashes = String(repeating: "#", count: longest + 1)
    entries.append("        Migration(version: \(version), name: \"\(name)\", sql: \(hashes)\"\"\"\n\(sql)\n\"\"\"\(hashes)),\n")
}

let source = """
    // Generated at build time by the EmbedMigrations plugin (Plugins/EmbedMigrations) from
    // Schemas/migrations/*.sql. Not in git: the SQL files are the only copy.

    extension EmbeddedMigrations {
        /// The SQL migrations, in order of version.
        public static let all: [Migration] = [

    """ + entries.joined() + """
            ]
        }

        """
do {
    if (try? String(contentsOfFile: output, encoding: .utf8)) != source {
        try source.write(toFile: output, atomically: true, encoding: .utf8)
    }
} catch {
    fail("cannot write \(output): \(error)")
}
