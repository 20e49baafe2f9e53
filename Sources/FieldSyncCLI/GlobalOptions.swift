import ArgumentParser
import Foundation

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Server base URL (env FIELDSYNC_SERVER; else the profile's server; else http://127.0.0.1:8080).",
            valueName: "url"))
    var server: String?

    @Flag(name: .long, help: "Print machine-readable JSON on standard output.")
    var json = false

    @Flag(name: [.short, .long], help: "Print only results and errors, no progress.")
    var quiet = false

    @Flag(name: [.short, .long], help: "Print each retry and connection problem.")
    var verbose = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Profile file (env FIELDSYNC_PROFILE; default ~/.config/fieldsync/profile.json).", valueName: "path"))
    var profile: String?

    @Option(name: .long, help: ArgumentHelp("Seconds each request may take.", valueName: "seconds"))
    var timeout: Double = 60

    func validate() throws {
        guard timeout > 0, timeout <= 86_400 else {
            throw ValidationError("--timeout must be between 0 and 86400 seconds")
        }
    }

    /// The default server when neither option, environment nor profile names one.
    static let defaultServer = "http://127.0.0.1:8080"
}
