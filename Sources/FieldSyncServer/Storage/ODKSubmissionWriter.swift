import FieldSyncCore
import FieldSyncODK
import Foundation
import Logging
import PostgresNIO

/// Writes one ODK submission, whichever route it came by (Collect's OpenRosa `POST
/// submission`, Central's `POST …/forms/{id}/submissions` from pyodk): in one
/// transaction, under the instanceID's lock, it recognises a resend (same XML: answered
/// as stored; other XML: 409), finds the submission an edit (`meta/deprecatedID`)
/// edits, stores the files, and once every file the answers name has arrived (or with
/// the last part) writes the instance as the phone's next versioned write, through the
/// same ``RecordWriter`` as every push.
struct ODKSubmissionWriter {
    let scope: CallerScope
    /// The project of the URL, and how errors name it (Central's integer id).
    let project: UUID
    let projectName: String
    let limits: ODKLimits
    let database: Database
    let logger: Logger

    /// A submission as received.
    struct Incoming: Sendable {
        var xml: [UInt8]
        var root: ODKXMLElement
        var header: ODKSubmissionParser.Header
        var files: [ODKMultipart.Part]
        /// false while more parts are to come (OpenRosa's `*isIncomplete*`).
        var complete: Bool
        /// Collect's `deviceID`, naming the phone (its replica).
        var deviceID: String?
        var userAgent: String?
    }

    /// What became of it: the instanceID, the form, and a sentence for the client.
    struct Written: Sendable {
        var instanceID: String
        var form: UUID
        var outcome: String
    }

    func write(_ incoming: Incoming) async throws -> Written {
        let deviceID = incoming.deviceID, header = incoming.header, root = incoming.root
        let (scope, project, projectName, limits, logger) = (self.scope, self.project, self.projectName, self.limits, self.logger)
        let device = OpenRosa.deviceId(deviceID, account: scope.account, user: scope.user)
        guard let unit = scope.orgUnits.first else {
            throw APIError.forbidden("you have no org unit to file submissions under; an admin gives you one (PATCH /v1/users/{id})")
        }
        let xmlText = String(decoding: incoming.xml, as: UTF8.self)
        let xmlSHA = OpenRosa.sha256(incoming.xml)
        let files = incoming.files.map { (part: $0, sha: OpenRosa.sha256($0.body)) }
        let chunk = AttachmentController.chunkSize
        let complete = incoming.complete

        return try await database.transaction { c in
            let odk = ODKStore(account: scope.account, connection: c, logger: logger)
            guard let form = try await odk.publishedForm(project: project, formId: header.formID, version: header.version) else {
                throw APIError.invalid(
                    "form \(header.formID.prefix(100)) version \(header.version ?? "(none)") is not published in project \(projectName)",
                    field: "xml_submission_file", code: ErrorCode.unknownReference)
            }
            let xform: XForm
            let submission: ODKSubmission
            do throws(ODKError) {
                xform = try XFormParser.parse(Array(form.xml.utf8), limits: limits)
                submission = try ODKSubmissionParser.parse(document: root, form: xform)
            } catch { throw APIError(error) }
            try await odk.lockSubmission(submission.instanceID)
            let attachments = AttachmentStore(connection: c, logger: logger)
            let stored = try await odk.submission(submission.instanceID)
            if let stored, stored.xmlSHA256 != xmlSHA {
                throw APIError.conflict(
                    ErrorCode.alreadyExists,
                    "instance \(submission.instanceID.prefix(100)) was already submitted with other content; an edit needs a new instanceID and deprecatedID"
                )
            }
            // The edited submission, for an edit: its record and the version it made.
            var base: JSONValue = .object([:])
            var previousAnswers: [String: JSONValue] = [:]
            var record = OpenRosa.recordId(instanceID: submission.instanceID, account: scope.account)
            if let deprecated = submission.deprecatedID, stored == nil {
                guard let edited = try await odk.submission(deprecated), let version = edited.version else {
                    throw APIError.invalid(
                        "the edited submission \(deprecated.prefix(100)) has not arrived whole; send it first",
                        field: "meta/deprecatedID", code: ErrorCode.unknownReference)
                }
                record = edited.recordId
                base = (try? JSONParser.parse(version)) ?? .object([:])
                previousAnswers = try await odk.answers(of: deprecated, form: xform, limits: limits)
            } else if let stored {
                record = stored.recordId
            }
            if stored == nil {
                try await odk.insertSubmission(
                    submission.instanceID, record: record, form: form.form, xml: xmlText, sha256: xmlSHA,
                    user: scope.user, device: device)
            }
            for (part, sha) in files {
                try await attachments.storeWhole(account: scope.account, sha256: sha, bytes: part.body, chunkSize: chunk)
                try await odk.addFile(
                    submission.instanceID, name: part.filename ?? part.name, sha256: sha, size: Int64(part.body.count),
                    contentType: part.contentType)
            }
            if stored?.version != nil {
                return Written(instanceID: submission.instanceID, form: form.form, outcome: "this submission was already received whole")
            }
            let received = try await odk.files(submission.instanceID)
            let names = Set(received.map(\.name))
            let missing = submission.attachmentNames.filter { !names.contains($0) }
            guard missing.isEmpty || complete else {
                return Written(
                    instanceID: submission.instanceID, form: form.form,
                    outcome: "received; waiting for \(missing.count) more file\(missing.count == 1 ? "" : "s")")
            }
            // The write: what Collect sent, as the phone's next write to the instance.
            _ = try await DeviceRegistry(connection: c, logger: logger).register(
                account: scope.account, device: device, model: deviceID.map { "ODK Collect \($0.prefix(100))" } ?? "ODK Collect",
                appVersion: incoming.userAgent, user: scope.user)
            var changes = submission.answers
            for name in previousAnswers.keys where changes[name] == nil { changes[name] = .null }
            var fixed: [String: JSONValue] = [:]
            if submission.deprecatedID == nil {
                fixed["formId"] = .string(form.formId)
                fixed["formVersion"] = .string(form.version)
                fixed["orgUnitId"] = .string(unit.lowercased)
            }
            try await Self.writeInstance(
                record: record, instanceID: submission.instanceID, batchKey: submission.instanceID, base: base, changes: changes, fixed: fixed,
                attachments: received.filter { submission.attachmentNames.contains($0.name) },
                device: device, scope: scope, project: project, connection: c, logger: logger)
            var outcome = "full submission received"
            if let entity = submission.entity {
                outcome += try await ODKSubmissionEntities(scope: scope, project: project, connection: c, logger: logger)
                    .apply(entity, instanceID: submission.instanceID, device: device, userAgent: incoming.userAgent)
            }
            return Written(instanceID: submission.instanceID, form: form.form, outcome: outcome)
        }
    }

    /// The phone's next write to an instance: `changes` on `base`, listing `attachments`;
    /// the version it makes is kept as the submission's. A refused write is the request's
    /// error.
    static func writeInstance(
        record: UUID, instanceID: String, batchKey: String, base: JSONValue, changes: [String: JSONValue], fixed: [String: JSONValue],
        attachments: [VersionedItem.Attachment], device: UUID, scope: CallerScope, project: UUID,
        connection c: PostgresConnection, logger: Logger
    ) async throws {
        let odk = ODKStore(account: scope.account, connection: c, logger: logger)
        var item: [String: JSONValue] = [
            "kind": .string("instance"), "id": .string(record.lowercased),
            "replica": .string(device.lowercased), "counter": .number(Double(try await odk.nextCounter(device: device))),
            "editedAt": .string(Timestamp.now().description), "base": base, "changes": .object(changes),
            "attachments": .array(attachments.map(\.json)),
        ]
        for (name, value) in fixed { item[name] = value }
        let versioned: VersionedItem
        do throws(ItemError) { versioned = try VersionedItem(json: .object(item), kind: .instance, path: "submission", device: device) } catch {
            throw APIError(error)
        }
        let results = try await RecordWriter(scope: scope, connection: c, logger: logger)
            .process(
                [(0, versioned)], project: project, device: device,
                batchId: OpenRosa.namedUUID("batch", scope.account, batchKey))
        guard let result = results[0] else { throw APIError.unavailable("the submission was not processed") }
        if result.status == .rejected {
            throw APIError(result.error ?? ItemError.invalidField("submission", "the submission was refused"))
        }
        try await odk.setVersion(instanceID, (result.version ?? VersionVector()).json)
    }

    /// A file of a submission sent after it (Central's `POST …/submissions/{id}/attachments/{name}`,
    /// as pyodk's `submissions.create(attachments=)` sends them): stored, and, the
    /// submission being written already, written again as its phone's next write (the
    /// same answers, on the version it made) so the instance lists the file. The name
    /// must be one its answers give (404 otherwise, as Central). Its sender only.
    /// Answers whether the instance was written again (false: it waits for more files, or
    /// was edited since, and the edit has files of its own).
    func addFile(instanceID: String, form formId: String, name: String, bytes: [UInt8], contentType: String?) async throws -> Bool {
        let (scope, project, limits, logger) = (self.scope, self.project, self.limits, self.logger)
        let sha = OpenRosa.sha256(bytes)
        return try await database.transaction { c in
            let odk = ODKStore(account: scope.account, connection: c, logger: logger)
            try await odk.lockSubmission(instanceID)
            guard let stored = try await odk.submission(instanceID), let sent = try await odk.sent(instanceID) else {
                throw APIError.notFound("submission \(instanceID.prefix(100)) does not exist")
            }
            // The write is the phone's: only its sender may make it.
            guard sent.user == scope.user else { throw APIError.forbidden("only the sender of a submission adds its files") }
            let root: ODKXMLElement
            let header: ODKSubmissionParser.Header
            do throws(ODKError) {
                root = try ODKSubmissionParser.document(Array(sent.xml.utf8), limits: limits)
                header = try ODKSubmissionParser.header(root)
            } catch { throw APIError(error) }
            guard header.formID == formId,
                let form = try await odk.publishedForm(project: project, formId: header.formID, version: header.version)
            else {
                throw APIError.notFound("submission \(instanceID.prefix(100)) does not exist in form \(formId.prefix(100))")
            }
            let submission: ODKSubmission
            do throws(ODKError) {
                submission = try ODKSubmissionParser.parse(document: root, form: XFormParser.parse(Array(form.xml.utf8), limits: limits))
            } catch { throw APIError(error) }
            guard submission.attachmentNames.contains(name) else {
                throw APIError.notFound("submission \(instanceID.prefix(100)) names no file \(name.prefix(100)) in its answers")
            }
            try await AttachmentStore(connection: c, logger: logger)
                .storeWhole(account: scope.account, sha256: sha, bytes: bytes, chunkSize: AttachmentController.chunkSize)
            try await odk.addFile(instanceID, name: name, sha256: sha, size: Int64(bytes.count), contentType: contentType)
            guard let version = stored.version, try await odk.latestSubmission(of: stored.recordId) == instanceID else { return false }
            let received = try await odk.files(instanceID).filter { submission.attachmentNames.contains($0.name) }
            try await Self.writeInstance(
                record: stored.recordId, instanceID: instanceID,
                batchKey: "\(instanceID)#file:\(name):\(Hex.string(sha))",
                base: (try? JSONParser.parse(version)) ?? .object([:]),
                changes: submission.answers, fixed: [:], attachments: received, device: sent.device,
                scope: scope, project: project, connection: c, logger: logger)
            return true
        }
    }
}
