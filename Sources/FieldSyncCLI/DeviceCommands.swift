import ArgumentParser
import FieldSyncClient
import FieldSyncCore
import Foundation

/// `fieldsync device …`.
struct Device: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Register this device, or list the account's devices.",
        discussion: """
            Example:
              fieldsync device register --model "Pixel 7a"
              fieldsync device list
            """,
        subcommands: [Register.self, List.self])

    /// `fieldsync device register`.
    struct Register: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a device for the signed-in user (idempotent).",
            discussion: """
                The device id is --device-id, else the profile's device, else a new random
                one; it is stored in the profile and used by later pushes. A device taken
                over from another user is now yours.

                Example:
                  fieldsync device register --model "Pixel 7a"
                """)

        @OptionGroup var global: GlobalOptions

        @Option(help: ArgumentHelp("The device's id (default: the profile's, else a new one).", valueName: "uuid"))
        var deviceId: String?

        @Option(help: "The device's model, e.g. \"Pixel 7a\".")
        var model: String?

        @Option(help: "The app version on the device.")
        var appVersion: String?

        func run() async throws {
            var context = try Context(global)
            let device = try Context.uuid(deviceId ?? context.profile.deviceId, option: "--device-id") ?? UUID()
            let registration = try await context.withSignedInClient { client in
                try await client.registerDevice(deviceId: device, model: model, appVersion: appVersion ?? "fieldsync-cli")
            }
            context.profile.deviceId = registration.deviceId
            try context.save()
            if global.json {
                Console.json(.object([
                    "deviceId": .string(registration.deviceId), "userId": .string(registration.userId),
                    "since": .string(registration.since),
                ]))
            } else if !global.quiet {
                print("device \(registration.deviceId) is registered to \(context.profile.username ?? registration.userId) since \(registration.since)")
            }
        }
    }

    /// `fieldsync device list`.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the devices you may see, with their current owner.",
            discussion: """
                Example:
                  fieldsync device list --json
                """)

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let context = try Context(global)
            let items = try await context.withSignedInClient { client in try await client.listDevices() }
            ListOutput.print(items, global: global, columns: [
                .init("DEVICE ID", "deviceId"), .init("USER ID", "userId"), .init("SINCE", "since"),
                .init("MODEL", "model"), .init("APP VERSION", "appVersion"),
            ])
        }
    }
}
