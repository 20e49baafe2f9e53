import FieldSyncODK
import Synchronization

/// Whether an XForm names media files, by the XForm's MD5 (the XML under one MD5 never
/// changes): formList tells it for every form on every request, and parsing every XForm
/// again each time would cost more than the answer. Kept for the process's life, at most
/// `capacity` forms (then it starts again empty).
final class XFormMediaIndex: Sendable {
    private let known = Mutex<[String: Bool]>([:])
    let capacity: Int

    init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    /// The answer for `md5`, parsing the XForm `load` reads when it is not known yet (an
    /// XForm that no longer parses names none).
    func namesMedia(md5: String, limits: ODKLimits, load: () async throws -> String?) async throws -> Bool {
        if let found = known.withLock({ $0[md5] }) { return found }
        let xml = try await load()
        let names = xml.flatMap { try? XFormParser.parse(Array($0.utf8), limits: limits) }.map { !$0.mediaFiles.isEmpty } ?? false
        known.withLock { table in
            if table.count >= capacity { table.removeAll(keepingCapacity: true) }
            table[md5] = names
        }
        return names
    }
}
