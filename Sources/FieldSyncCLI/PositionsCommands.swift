import ArgumentParser
import FieldSyncClient
import FieldSyncCore
import FieldSyncDevice
import Foundation

/// `fieldsync positions …`.
struct Positions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate and push device positions.",
        discussion: """
            Example:
              fieldsync positions push --count 300
            """,
        subcommands: [Push.self])

    /// `fieldsync positions push`.
    struct Push: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Push a generated GPS track in batches.",
            discussion: """
                Generates a plausible track (a random walk around the start point, about
                5 s apart, accuracy 3-15 m, some fixes with altitude, on foot or by
                motorbike) ending now, and pushes it in batches, each with a fresh
                batchId, from the profile's device (fieldsync device register). The same
                --seed gives the same track and ids: pushing it again answers
                "unchanged". Exits 4 when some positions were rejected.

                Example:
                  fieldsync positions push --count 300 --batch-size 100 --seed 7
                """)

        @OptionGroup var global: GlobalOptions

        @Option(help: "How many positions to push.")
        var count: Int = 300

        @Option(help: "Positions per push request.")
        var batchSize: Int = 500

        @Option(help: ArgumentHelp("The project to push to (default: the profile's, else the user's only project).", valueName: "uuid"))
        var projectId: String?

        @Option(help: ArgumentHelp("The registered device pushing (default: the profile's).", valueName: "uuid"))
        var deviceId: String?

        @Option(help: "Seed of the generated track and ids (default: random).")
        var seed: UInt64?

        @Option(help: ArgumentHelp("Start of the track as lon,lat (default: Dhaka, 90.4125,23.8103).", valueName: "lon,lat"))
        var start: String?

        func validate() throws {
            guard count >= 1, count <= 10_000_000 else { throw ValidationError("--count must be from 1 to 10000000") }
            guard batchSize >= 1, batchSize <= 50_000 else { throw ValidationError("--batch-size must be from 1 to 50000") }
            if let start { _ = try Self.parseStart(start) }
        }

        static func parseStart(_ text: String) throws -> (Double, Double) {
            let parts = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 2, let lon = parts[0], let lat = parts[1], (-180...180).contains(lon), (-90...90).contains(lat) else {
                throw ValidationError("--start must be lon,lat in degrees, like 90.4125,23.8103")
            }
            return (lon, lat)
        }

        func run() async throws {
            let context = try Context(global)
            guard let device = try Context.uuid(deviceId ?? context.profile.deviceId, option: "--device-id") else {
                throw CommandFailure.failed("no device in the profile; register one first with fieldsync device register")
            }
            let project = try context.projectId(projectId)
            let (lon, lat) = try start.map(Self.parseStart) ?? TrackGenerator.defaultStart
            var generator = TrackGenerator(seed: seed ?? UInt64.random(in: .min ... .max), longitude: lon, latitude: lat)
            let positions = generator.positions(count: count)
            let batches = (count + batchSize - 1) / batchSize
            let summary = try await context.withSignedInClient { client in
                try await PositionPusher(client: client, deviceId: device, projectId: project, batchSize: batchSize)
                    .push(positions) { s in
                        if batches > 1 { context.progress("batch \(s.batches) of \(batches): \(s.pushed) pushed") }
                    }
            }
            if global.json {
                try Console.json(summary)
            } else {
                print(summary.text)
                for r in summary.rejections { print("  rejected \(r)") }
            }
            if summary.rejected > 0 {
                throw CommandFailure.partial(
                    "\(Format.count(summary.rejected)) of \(Format.count(summary.pushed)) positions were rejected; the others are stored")
            }
        }
    }
}
