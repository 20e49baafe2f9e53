import Crypto
import FieldSyncCore
import Foundation
import HTTPTypes
import Testing

@Suite("Attachments")
struct AttachmentTests {
    static func hex(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: Data(bytes)).map { String(format: "%02x", $0) }.joined()
    }

    @Test("content-addressed, idempotent, digest checked, size limited, per account; instances complete when their files arrive")
    func attachments() async throws {
        try await withTestApp(configure: { $0.maxAttachmentBytes = 3 << 20 }) { api in
            let w = try await VersionedSyncTests.World.make(api)
            let f = w.f
            // 2.5 MiB: three chunks.
            let file = (0..<(5 << 19)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            let digest = Self.hex(file)
            let dev = f.admin.device
            // An instance that lists the file before it is uploaded is not complete.
            var item = w.instance(UUID(), device: dev, answers: ["members": .number(3)]).objectValue!
            item["attachments"] = .array([
                .object([
                    "name": .string("photo.jpg"), "sha256": .string(digest), "size": .number(Double(file.count)),
                    "contentType": .string("image/jpeg"),
                ])
            ])
            let id = item["id"]!.stringValue!
            _ = try await VersionedSyncTests.push(api, f.admin.token, dev, [.object(item)])
            var record = try #require(try await VersionedSyncTests.pulledRecord(api, f.admin.token, id: id))
            #expect(record["complete"] == .bool(false))

            #expect(try await api.call(.head, "/v1/attachments/\(digest)", token: f.admin.token).status == .notFound)
            let put = try await api.call(.put, "/v1/attachments/\(digest)", token: f.admin.token, raw: file)
            #expect(put.status == .created, "\(put.text)")
            #expect(put.json["size"] == .number(Double(file.count)))
            let again = try await api.call(.put, "/v1/attachments/\(digest)", token: f.admin.token, raw: file)
            #expect(again.status == .ok)
            #expect(try await api.call(.head, "/v1/attachments/\(digest)", token: f.admin.token).status == .ok)
            record = try #require(try await VersionedSyncTests.pulledRecord(api, f.admin.token, id: id))
            #expect(record["complete"] == .bool(true))

            let other = Array(file.prefix(1000))
            let wrong = try await api.call(
                .put, "/v1/attachments/\(digest.replacingOccurrences(of: digest.prefix(4), with: "0000"))", token: f.admin.token, raw: other)
            #expect(wrong.status == .unprocessableContent)
            #expect(wrong.errorCode == "digest_mismatch")
            #expect(try await api.call(.head, "/v1/attachments/\(Self.hex(other))", token: f.admin.token).status == .notFound)
            let big = [UInt8](repeating: 1, count: (3 << 20) + 1)
            let tooBig = try await api.call(.put, "/v1/attachments/\(Self.hex(big))", token: f.admin.token, raw: big)
            #expect(tooBig.status == .contentTooLarge)
            #expect(tooBig.errorCode == "too_large")
            #expect(try await api.call(.put, "/v1/attachments/nothex", token: f.admin.token, raw: other).status == .badRequest)

            // Another account does not see the file, even with the same bytes stored on its side later.
            let stranger = try await Fixture.make(api)
            #expect(try await api.call(.head, "/v1/attachments/\(digest)", token: stranger.admin.token).status == .notFound)
        }
    }
}
