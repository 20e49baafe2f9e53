/// An XForm as FieldSync understands it: what the form asks, which files it needs, and
/// which entities its submissions create or update. Built by `XFormParser`.
public struct XForm: Sendable, Hashable {
    /// `id` of the primary instance's root: the form id Collect and Central use.
    public var formID: String
    /// `version` of the primary instance's root; nil when the form has none.
    public var version: String?
    /// `<h:title>`; the form id when there is none.
    public var title: String
    /// The primary instance's root element name (`data` for pyxform): a submission's root.
    public var rootName: String
    /// The questions, in the order of the primary instance.
    public var questions: [XFormQuestion]
    /// Groups and repeats, outermost first.
    public var groups: [XFormGroup]
    /// Files the form refers to (images, audio, CSV and XML lists, entity lists), by name, each once.
    public var mediaFiles: [XFormMediaFile]
    /// The entity declaration (`meta/entity`), when the form has one.
    public var entity: XFormEntityDeclaration?

    /// The question at `path` (relative to the root, `dwelling/rooms`).
    public func question(at path: String) -> XFormQuestion? {
        questions.first { $0.path == path }
    }
}

/// What kind of answer a question takes, from its bind's `type` and its body control.
public enum XFormQuestionKind: String, Sendable, Hashable, CaseIterable {
    case string, int, decimal, date, select1, select, geopoint
    /// `dateTime`, `time` and `barcode` are kept as text.
    case dateTime, time, barcode
    /// `binary` (image, audio, file uploads): the answer names an attachment of the submission.
    case binary
}

/// One question: a leaf of the primary instance with a bind or a body control.
public struct XFormQuestion: Sendable, Hashable {
    /// Path below the root, `/`-separated: `head_name`, `dwelling/rooms`, `person/age`.
    public var path: String
    public var kind: XFormQuestionKind
    /// The bind's `type` as written (`int`, `xsd:string`, ...); "string" when absent.
    public var xformType: String
    /// `required="true()"` on a question that is always relevant: an answer must be given.
    public var required: Bool
    /// A `required` expression that is not enforced here: one other than `true()`/`false()`,
    /// or `true()` on a question that a `relevant` (its own or a group's) may hide.
    public var requiredExpression: String?
    /// The bind's `relevant` expression, when it has one.
    public var relevant: String?
    /// The label in the default language, when it is plain text.
    public var label: String?
    public var choices: XFormChoices
    /// The innermost repeat this question is inside (its path), nil when none.
    public var repeatPath: String?
    /// Every repeat enclosing the question, outermost first.
    public var repeatPaths: [String]
    /// The bind's `calculate`, when the value is computed.
    public var calculate: String?
    public var readonly: Bool
    /// `entities:saveto`: the entity property this answer is saved to.
    public var saveTo: String?
}

/// Where a select's choices come from.
public enum XFormChoices: Sendable, Hashable {
    /// Not a select.
    case none
    /// Known choices: inline `<item>`s or an itemset over an inline secondary instance.
    case list([XFormChoice])
    /// An itemset over a secondary instance loaded from a file (`jr://file-csv/villages.csv`);
    /// the choices are known only on the device (entity lists are such files).
    case external(instanceID: String, file: String)
    /// An itemset over something else (a repeat of the form, a computed nodeset).
    case dynamic(nodeset: String)
}

/// One choice of a select.
public struct XFormChoice: Sendable, Hashable {
    /// The value an answer carries.
    public var value: String
    /// The label in the default language, when known.
    public var label: String?
}

/// A group or repeat of the body.
public struct XFormGroup: Sendable, Hashable {
    /// Path below the root.
    public var path: String
    public var isRepeat: Bool
    public var label: String?
}

/// A file the form needs beside its XML, as Collect downloads it from the manifest.
public struct XFormMediaFile: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case image, audio, video
        /// `jr://file-csv/…`: a CSV secondary instance (choices, or an entity list).
        case csv
        /// `jr://file/…`: an XML or GeoJSON secondary instance, or any other file.
        case file
    }

    /// The file name as the form names it (`villages.csv`, `tap.jpg`).
    public var filename: String
    public var kind: Kind
    /// The secondary instance it feeds (`<instance id="villages" src=…>`), nil for label media.
    public var instanceID: String?
}

/// `meta/entity`: the entity a submission creates or updates (ODK entities spec 2024.1).
public struct XFormEntityDeclaration: Sendable, Hashable {
    /// The entity list (`dataset`).
    public var dataset: String
    /// The form may create entities: `create` is present (literal "1"/"true" or computed).
    public var creates: Bool
    /// The form may update entities: `update` is present.
    public var updates: Bool
    /// A `create` computed by an expression (a bind's `calculate`), nil when literal.
    public var createExpression: String?
    public var updateExpression: String?
    /// The `entities-version` of the model (`2024.1.0`), when declared.
    public var specVersion: String?
    /// Properties saved: property name → question path, from `entities:saveto`, in form order.
    public var properties: [XFormEntityProperty]
}

/// One entity property and the question whose answer it is saved from.
public struct XFormEntityProperty: Sendable, Hashable {
    public var name: String
    public var questionPath: String
}

extension XFormEntityProperty {
    /// Whether `name` may name an entity property (as Central allows): not empty, not
    /// `name` or `label`, not starting with `__`, no spaces, control characters, commas or
    /// quotes (the entity list CSV's header carries it).
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name != "name" && name != "label" && !name.hasPrefix("__")
            && name.unicodeScalars.allSatisfy { $0.value > 0x20 && $0 != "," && $0 != "\"" && $0.value != 0x7F }
    }
}
