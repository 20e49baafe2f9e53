import ArgumentParser
import FieldSyncClient
import FieldSyncCore
import FieldSyncDevice
import Foundation

/// `fieldsync device …`.
struct Device: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Emulate a field device (its own offline store), or register and list devices.",
        discussion: """
            With --device NAME (or --store PATH) the commands work on an emulated
            device kept in its own SQLite store: edits stay local until sync.
            Without them, register and list use the profile's device.

            Example:
              fieldsync device login --device field-1 --username amina
              fieldsync device register --device field-1
              fieldsync device collect --device field-1 --count 10 --track 20
              fieldsync device edit entity new name=Amina village=Subil --device field-1
              fieldsync device sync --device field-1
              fieldsync device status --device field-1
            """,
        subcommands: [
            DeviceLogin.self, Register.self, DeviceCollect.self, DeviceEdit.self, DevicePropose.self,
            DeviceStatusCommand.self, DeviceSync.self, List.self,
        ])

    /// `fieldsync device register`.
    struct Register: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a device for the signed-in user (idempotent).",
            discussion: """
                The device id is --device-id, else the profile's device, else a new random
                one; it is stored in the profile and used by later pushes. A device taken
                over from another user is now yours.

                With --device NAME or --store PATH, registers that emulated device for the
                user signed in on it (fieldsync device login) and downloads its forms and
                entity types, so it can collect offline.

                Example:
                  fieldsync device register --model "Pixel 7a"
                  fieldsync device register --device field-1
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var store: DeviceStoreOptions

        @Option(help: ArgumentHelp("The device's id (default: the profile's, else a new one).", valueName: "uuid"))
        var deviceId: String?

        @Option(help: "The device's model, e.g. \"Pixel 7a\".")
        var model: String?

        @Option(help: "The app version on the device.")
        var appVersion: String?

        func run() async throws {
            if store.given { return try await registerEmulated() }
            var context = try Context(global)
            // A device that has no id yet is a new one: it gets a random id, kept in the profile.
            let device = try Context.uuid(deviceId ?? context.profile.deviceId, option: "--device-id") ?? Self.newDeviceId()
            let registration = try await context.withSignedInClient { client in
                try await client.registerDevice(deviceId: device, model: model, appVersion: appVersion ?? "fieldsync-cli")
            }
            context.profile.deviceId = registration.deviceId
            try context.save()
            if global.json {
                try Console.json(registration)
            } else if !global.quiet {
                print(
                    "device \(registration.deviceId) is registered to \(context.profile.username ?? registration.userId) since \(registration.since)")
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
            ListOutput.print(
                items, global: global,
                columns: [
                    .init("DEVICE ID", "deviceId"), .init("USER ID", "userId"), .init("SINCE", "since"),
                    .init("MODEL", "model"), .init("APP VERSION", "appVersion"),
                ])
        }
    }
}

extension Device.Register {
    /// The id of a device registered for the first time (UUID v4, as phones make them).
    static func newDeviceId() -> UUID { UUID() }

    /// `device register --device NAME`: the emulated device's registration.
    func registerEmulated() async throws {
        let context = try Context(global)
        let device = try store.open()
        let registration = try await withDeviceClient(device, global: global, context: context) { client in
            try await device.register(client: client, model: model)
        }
        let (forms, types) = try await device.store.catalog()
        if global.json {
            Console.json(
                .object([
                    "deviceId": .string(registration.deviceId), "userId": .string(registration.userId), "since": .string(registration.since),
                    "forms": .number(Double(forms.count)), "entityTypes": .number(Double(types.count)), "store": .string(device.store.path),
                ]))
        } else if !global.quiet {
            print(
                "device \(registration.deviceId) is registered since \(registration.since); downloaded \(Format.plural(forms.count, "form")) and \(Format.plural(types.count, "entity type"))"
            )
        }
    }
}
