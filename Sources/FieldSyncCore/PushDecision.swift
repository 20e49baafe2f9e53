import Foundation

/// One record as a push finds it: its state (with the exact dots applied), the project
/// it belongs to, its fixed attributes and, for instances, the files it lists.
public struct LoadedRecord: Sendable, Hashable {
    public var state: RecordState
    public var projectId: UUID
    /// Fixed attributes by wire name (`entityTypeId`, `orgUnitId`, `formId`, …).
    public var fixed: [String: JSONValue]
    /// Whether the record is not stored yet (the writer inserts it instead of updating).
    public var isNew: Bool
    public var attachments: [VersionedItem.Attachment]

    public init(
        state: RecordState, projectId: UUID, fixed: [String: JSONValue], isNew: Bool,
        attachments: [VersionedItem.Attachment] = []
    ) {
        self.state = state
        self.projectId = projectId
        self.fixed = fixed
        self.isNew = isNew
        self.attachments = attachments
    }
}

/// A form as instances name it (its `formId` text or its `id`), with the fields each
/// version declares (`JSONValue.null` for a version without declared fields).
public struct PushForm: Sendable, Hashable {
    public var id: UUID
    public var formId: String
    public var versions: [String: JSONValue]

    public init(id: UUID, formId: String, versions: [String: JSONValue]) {
        self.id = id
        self.formId = formId
        self.versions = versions
    }
}

/// What a push may refer to, as loaded for one batch: the org units that exist for the
/// caller (and whether each is inside its scope), the entity types, the forms.
public struct PushReferences: Sendable {
    /// Org unit → in the caller's scope. Absent: unknown to the caller.
    public var units: [UUID: Bool]
    public var entityTypes: Set<UUID>
    /// By the key an instance names the form with (`formId` text and `id`).
    public var forms: [String: PushForm]

    public init(units: [UUID: Bool] = [:], entityTypes: Set<UUID> = [], forms: [String: PushForm] = [:]) {
        self.units = units
        self.entityTypes = entityTypes
        self.forms = forms
    }
}

/// The decision on a batch's `entity` and `instance` items, made without I/O: given the
/// records as loaded (after their locks were taken) and what the items may refer to,
/// each item's result and the records' new states. The storage layer loads before and
/// writes after; the protocol's rules live here, in the order PROTOCOL.md gives them.
public struct PushDecision: Sendable {
    /// Result of each item, by its index in the batch.
    public var results: [Int: PushResult] = [:]
    /// Every record loaded or created, with its state after the batch.
    public var records: [ItemKind: [UUID: LoadedRecord]]
    /// The records an applied write changed (to be written back), by kind.
    public var touched: [ItemKind: Set<UUID>] = [.entity: [], .instance: []]
    /// The applied writes, in the order applied (for the write log).
    public var applied: [VersionedItem] = []

    /// Decides `items` (entities and instances, any order) of a push to `project` by a
    /// caller whose projects are `projects`.
    ///
    /// Entities go before instances (an instance may name an entity created in the same
    /// batch); within a kind, items apply in the order sent. Per item, in this order:
    /// an existing record outside the caller's org units or projects → `forbidden`
    /// (before anything else, so the answer tells nothing of its version or place);
    /// the version check (``RecordState/check(_:)``: `unchanged`, `invalid_version`,
    /// `out_of_order`); the write's shape; fixed attributes (`immutable_field`);
    /// references (`unknown_reference`, `forbidden_reference`); the form's fields
    /// (`invalid_field`); then the write is applied and answered `created`, `updated`,
    /// `merged` or `conflict`. A rejected item changes nothing.
    public static func decide(
        _ items: [(index: Int, item: VersionedItem)], records loaded: [ItemKind: [UUID: LoadedRecord]],
        references: PushReferences, project: UUID, projects: Set<UUID>
    ) -> PushDecision {
        var decision = PushDecision(records: loaded)
        for kind in [ItemKind.entity, .instance] where decision.records[kind] == nil { decision.records[kind] = [:] }
        let ordered = items.filter { $0.item.kind == .entity } + items.filter { $0.item.kind == .instance }
        for (index, item) in ordered {
            decision.results[index] = decision.decide(item, references: references, project: project, projects: projects)
        }
        return decision
    }

    private mutating func decide(_ item: VersionedItem, references: PushReferences, project: UUID, projects: Set<UUID>) -> PushResult {
        let kindName = item.kind.rawValue
        let id = item.id.lowercasedText
        func reject(_ e: ItemError) -> PushResult { .rejected(id: id, kind: kindName, e) }
        // Taken out of the table while it is decided, so applying the write mutates the
        // only copy (a hot shared entity holds ~50 values and ~100 dots: copying them per
        // write was a measurable part of a push); put back on every path if it existed,
        // and added when the write is applied.
        let existed = records[item.kind]?[item.id] != nil
        var record =
            records[item.kind]?.removeValue(forKey: item.id)
            ?? LoadedRecord(state: RecordState(), projectId: project, fixed: [:], isNew: true)
        var keep = existed
        defer { if keep { records[item.kind, default: [:]][item.id] = record } }
        let units = references.units
        if !record.state.isEmpty {
            let inUnits = record.fixed["orgUnitId"]?.stringValue.flatMap(UUID.init(text:)).flatMap { units[$0] } ?? false
            if !inUnits || (record.projectId != project && !projects.contains(record.projectId)) {
                return reject(
                    ItemError(code: ErrorCode.forbidden, message: "this record is outside your org units or projects", field: "\(item.path).id"))
            }
        }
        let check = record.state.check(item.write)
        switch check {
        case .duplicate:
            return PushResult(id: id, kind: kindName, status: .unchanged, version: record.state.version)
        case .outOfOrder:
            return reject(ItemError(code: ErrorCode.outOfOrder, message: check.message ?? "out of order", field: "\(item.path).base"))
        case .invalidVersion(let message):
            return reject(ItemError(code: ErrorCode.invalidVersion, message: message, field: "\(item.path).base"))
        case .ok:
            break
        }
        let creating = record.state.isEmpty
        if let problem = record.state.shapeError(of: item.write) {
            return reject(ItemError.invalidField("\(item.path).changes", problem))
        }
        if creating {
            record.fixed = item.fixed
        } else if let name = VersionedItem.fixedAttributes(of: item.kind).first(where: { item.fixed[$0] != nil && item.fixed[$0] != record.fixed[$0] }
        ) {
            let held = record.fixed[name].map { JSONWriter.string($0) } ?? "unset"
            return reject(
                ItemError(
                    code: ErrorCode.immutableField, message: "\(name) is fixed when the record is created; it is \(held)",
                    field: "\(item.path).\(name)"))
        }
        if let e = Self.referenceError(item, record: record, creating: creating, references: references, entities: records[.entity] ?? [:]) {
            return reject(e)
        }
        if !creating, record.projectId != project, !projects.contains(record.projectId) {
            return reject(ItemError(code: ErrorCode.forbidden, message: "this record belongs to a project you are not in", field: "\(item.path).id"))
        }
        if item.kind == .instance, let formKey = record.fixed["formId"]?.stringValue, let version = record.fixed["formVersion"]?.stringValue,
            let schema = references.forms[formKey]?.versions[version].flatMap({ FormSchema(fields: $0) }),
            let e = schema.check(item.write.changes, creating: creating, path: item.path)
        {
            return reject(e)
        }
        if let list = item.attachments {
            var byName = Dictionary(record.attachments.map { ($0.name, $0) }, uniquingKeysWith: { $1 })
            for a in list { byName[a.name] = a }
            record.attachments = byName.values.sorted { $0.name < $1.name }
        }
        let outcome = record.state.apply(item.write)
        keep = true
        touched[item.kind, default: []].insert(item.id)
        applied.append(item)
        return PushResult(id: id, kind: kindName, status: outcome.pushStatus, version: record.state.version)
    }

    /// The first problem with what the item (or, for later writes, its record) refers to:
    /// required attributes of the creating write, its org unit (known, in scope), entity
    /// type, form and version, and an instance's entity (known, in scope).
    static func referenceError(
        _ item: VersionedItem, record: LoadedRecord, creating: Bool, references: PushReferences,
        entities: [UUID: LoadedRecord]
    ) -> ItemError? {
        let path = item.path
        let units = references.units
        func unknown(_ name: String, _ what: String) -> ItemError {
            ItemError(code: ErrorCode.unknownReference, message: "\(what) does not exist", field: "\(path).\(name)")
        }
        let required: [String] = item.kind == .entity ? ["entityTypeId", "orgUnitId"] : ["formId", "formVersion", "orgUnitId"]
        if creating {
            for name in required where record.fixed[name] == nil {
                return ItemError.invalidField("\(path).\(name)", "\(name) is required when a record is created")
            }
        }
        if let unit = record.fixed["orgUnitId"]?.stringValue.flatMap(UUID.init(text:)) {
            guard let inScope = units[unit] else { return unknown("orgUnitId", "org unit \(unit.lowercasedText)") }
            if !inScope {
                return ItemError(
                    code: ErrorCode.forbiddenReference, message: "org unit \(unit.lowercasedText) is outside your org units",
                    field: "\(path).orgUnitId")
            }
        }
        guard creating else { return nil }
        switch item.kind {
        case .entity:
            if let t = record.fixed["entityTypeId"]?.stringValue.flatMap(UUID.init(text:)), !references.entityTypes.contains(t) {
                return unknown("entityTypeId", "entity type \(t.lowercasedText)")
            }
        case .instance:
            let key = record.fixed["formId"]?.stringValue ?? ""
            guard let form = references.forms[key] else { return unknown("formId", "form \(key)") }
            let version = record.fixed["formVersion"]?.stringValue ?? ""
            if form.versions[version] == nil { return unknown("formVersion", "version \(version) of form \(key)") }
            if let e = record.fixed["entityId"]?.stringValue.flatMap(UUID.init(text:)) {
                guard let entity = entities[e], !entity.state.isEmpty else { return unknown("entityId", "entity \(e.lowercasedText)") }
                if let eu = entity.fixed["orgUnitId"]?.stringValue.flatMap(UUID.init(text:)), units[eu] == false {
                    return ItemError(
                        code: ErrorCode.forbiddenReference, message: "entity \(e.lowercasedText) is outside your org units", field: "\(path).entityId"
                    )
                }
            }
        default:
            break
        }
        return nil
    }
}
