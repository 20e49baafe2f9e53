/// A strict, non-validating XML 1.0 parser (with Namespaces in XML 1.0) over UTF-8 bytes,
/// for documents from untrusted clients. No Foundation, no libxml2.
///
/// What it accepts: an optional UTF-8 byte-order mark, an optional XML declaration (version
/// 1.x, encoding UTF-8 or ASCII when declared), comments, processing instructions (skipped),
/// exactly one root element, CDATA sections, the five predefined entities and character
/// references. What it refuses, with the line: anything not well-formed, invalid UTF-8,
/// characters XML does not allow (NUL, most C0 controls, U+FFFE, U+FFFF), any other entity
/// reference (`.malformedXML`), and any `<!` other than a comment or a CDATA section
/// (`<!DOCTYPE`, `<!ENTITY`, ...: `.xmlDeclarationForbidden`), so nothing is ever declared
/// and nothing is ever expanded. The limits of `ODKLimits` hold: bytes, depth, elements,
/// attributes per element.
///
/// One pass, no recursion: open elements are an explicit stack, bounded by `maxDepth`.
/// Line ends are normalised (CR LF and CR become LF, XML 1.0 §2.11); attribute values are
/// normalised as CDATA attributes are (§3.3.3: tab, CR, LF become a space).
struct XMLByteParser {
    private let b: [UInt8]
    private let n: Int
    private let limits: ODKLimits
    private var i = 0
    private var stack: [Open] = []
    private var elements = 0
    /// Lines counted up to `lineOffset` (for the `line` of each element, counted once).
    private var lineOffset = 0
    private var lineAtOffset = 1

    private struct Open {
        var element: ODKXMLElement
        /// The qualified name, as `b[nameStart..<nameEnd]` (what the end tag must repeat).
        var nameStart: Int
        var nameEnd: Int
        var namespaces: [String: String]
        /// Character data, UTF-8, line ends normalised.
        var text: [UInt8]
    }

    private init(_ bytes: [UInt8], limits: ODKLimits) {
        b = bytes
        n = bytes.count
        self.limits = limits
    }

    /// The document's root element.
    static func parse(_ bytes: [UInt8], limits: ODKLimits) throws(ODKError) -> ODKXMLElement {
        var parser = XMLByteParser(bytes, limits: limits)
        return try parser.document()
    }

    // MARK: Bytes

    private static let lt: UInt8 = 0x3C, gt: UInt8 = 0x3E, amp: UInt8 = 0x26, slash: UInt8 = 0x2F
    private static let bang: UInt8 = 0x21, question: UInt8 = 0x3F, equals: UInt8 = 0x3D
    private static let quote: UInt8 = 0x22, apostrophe: UInt8 = 0x27, hash: UInt8 = 0x23
    private static let semicolon: UInt8 = 0x3B, colon: UInt8 = 0x3A, dash: UInt8 = 0x2D
    private static let rbracket: UInt8 = 0x5D, lf: UInt8 = 0x0A, cr: UInt8 = 0x0D, tab: UInt8 = 0x09, space: UInt8 = 0x20

    /// The byte at `k`, or 0 past the end: the document holds no NUL (`checkCharacters`
    /// refuses it first), so 0 means the end.
    private func at(_ k: Int) -> UInt8 {
        k >= 0 && k < n ? b[k] : 0
    }

    private static func isSpace(_ c: UInt8) -> Bool {
        c == space || c == lf || c == cr || c == tab
    }

    /// Whether the bytes at `k` are `s`.
    private func starts(_ s: StaticString, at k: Int) -> Bool {
        let len = s.utf8CodeUnitCount
        guard k >= 0, k <= n, len <= n - k else { return false }
        return s.withUTF8Buffer { p in
            for j in 0..<len where b[k + j] != p[j] { return false }
            return true
        }
    }

    /// Whether `b[s1..<e1]` and `b[s2..<e2]` hold the same bytes.
    private func same(_ s1: Int, _ e1: Int, _ s2: Int, _ e2: Int) -> Bool {
        guard e1 - s1 == e2 - s2 else { return false }
        var j = 0
        while s1 + j < e1 {
            if b[s1 + j] != b[s2 + j] { return false }
            j += 1
        }
        return true
    }

    /// Whether `b[s..<e]` is the ASCII text `word`.
    private func bytes(_ s: Int, _ e: Int, are word: StaticString) -> Bool {
        e - s == word.utf8CodeUnitCount && starts(word, at: s)
    }

    /// `b[s..<e]` as text (the whole document is valid UTF-8, checked first), at most
    /// `max` bytes of it for a message.
    private func text(_ s: Int, _ e: Int, max: Int = Int.max) -> String {
        let start = Swift.max(0, Swift.min(s, n))
        let end = Swift.max(start, Swift.min(e, n))
        guard end - start > max else { return String(decoding: b[start..<end], as: UTF8.self) }
        // Cut on a scalar boundary: back off continuation bytes.
        var cut = start + max
        while cut > start, b[cut] & 0xC0 == 0x80 { cut -= 1 }
        return String(decoding: b[start..<cut], as: UTF8.self) + "…"
    }

    /// What is at `k`, for a message.
    private func describe(_ k: Int) -> String {
        guard k >= 0, k < n else { return "the end of the document" }
        let c = b[k]
        switch c {
        case Self.space: return "a space"
        case Self.lf, Self.cr: return "a line break"
        case Self.tab: return "a tab"
        case 0x21..<0x7F: return "'\(Character(Unicode.Scalar(c)))'"
        default: return "the character \(scalarText(k))"
        }
    }

    private func scalarText(_ k: Int) -> String {
        let (value, _) = scalar(at: k)
        return "U+" + hex(value)
    }

    private func hex(_ v: UInt32) -> String {
        let digits = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: Swift.max(0, 4 - digits.count)) + digits
    }

    /// The scalar whose UTF-8 encoding starts at `k`, and its length in bytes (the document
    /// is valid UTF-8; a stray continuation byte or the end gives (0, 1)).
    private func scalar(at k: Int) -> (UInt32, Int) {
        let c = at(k)
        if c < 0x80 { return (UInt32(c), 1) }
        let len: Int
        var value: UInt32
        switch c {
        case 0xC0...0xDF: len = 2; value = UInt32(c & 0x1F)
        case 0xE0...0xEF: len = 3; value = UInt32(c & 0x0F)
        case 0xF0...0xF7: len = 4; value = UInt32(c & 0x07)
        default: return (0, 1)
        }
        guard len <= n - k else { return (0, 1) }
        for j in 1..<len { value = value << 6 | UInt32(b[k + j] & 0x3F) }
        return (value, len)
    }

    // MARK: Lines

    /// The 1-based line of offset `k` (LF, CR LF and a lone CR each end a line).
    private func line(_ k: Int) -> Int {
        let target = Swift.max(0, Swift.min(k, n))
        var j = 0
        var l = 1
        if target >= lineOffset {
            j = lineOffset
            l = lineAtOffset
        }
        while j < target {
            let c = b[j]
            if c == Self.lf || (c == Self.cr && at(j + 1) != Self.lf) { l += 1 }
            j += 1
        }
        return l
    }

    /// `line(k)`, remembered so the next call counts from here.
    private mutating func advanceLine(to k: Int) -> Int {
        let l = line(k)
        lineOffset = Swift.max(0, Swift.min(k, n))
        lineAtOffset = l
        return l
    }

    private func error(_ code: ODKError.Code, _ message: String, at k: Int) -> ODKError {
        ODKError(code, message, at: "line \(line(k))")
    }

    private func malformed(_ message: String, at k: Int) -> ODKError {
        error(.malformedXML, message, at: k)
    }

    // MARK: Characters

    /// Size, encoding (UTF-8 only, valid) and characters (XML 1.0 `Char` only), before any
    /// parsing: past this, every byte sequence is a scalar XML allows.
    private func checkBytes() throws(ODKError) {
        guard n <= limits.maxXMLBytes else {
            throw ODKError(.tooLarge, "the XML is \(n) bytes, more than the limit of \(limits.maxXMLBytes)")
        }
        guard n > 0 else { throw ODKError(.malformedXML, "the XML is empty") }
        if n >= 2, (b[0] == 0xFE && b[1] == 0xFF) || (b[0] == 0xFF && b[1] == 0xFE) {
            throw ODKError(.malformedXML, "the XML must be UTF-8, this one starts with a UTF-16 byte-order mark", at: "line 1")
        }
        var k = 0
        while k < n {
            let c = b[k]
            if c < 0x80 {
                if c < 0x20, c != Self.tab, c != Self.lf, c != Self.cr {
                    if c == 0 { throw malformed("the XML holds a NUL byte, which XML does not allow", at: k) }
                    throw malformed("the XML holds the control character U+\(hex(UInt32(c))), which XML does not allow", at: k)
                }
                k += 1
                continue
            }
            // Unicode 15, table 3-7: well-formed UTF-8 byte sequences.
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            let len: Int
            switch c {
            case 0xC2...0xDF: len = 2
            case 0xE0: len = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE, 0xEF: len = 3
            case 0xED: len = 3; high = 0x9F
            case 0xF0: len = 4; low = 0x90
            case 0xF1...0xF3: len = 4
            case 0xF4: len = 4; high = 0x8F
            default: throw malformed("the XML is not valid UTF-8 (the byte 0x\(String(c, radix: 16, uppercase: true)))", at: k)
            }
            guard len <= n - k, (low...high).contains(b[k + 1]) else {
                throw malformed("the XML is not valid UTF-8 (a sequence starting with 0x\(String(c, radix: 16, uppercase: true)) is broken)", at: k)
            }
            for j in 2..<len where b[k + j] & 0xC0 != 0x80 {
                throw malformed("the XML is not valid UTF-8 (a sequence starting with 0x\(String(c, radix: 16, uppercase: true)) is broken)", at: k)
            }
            if c == 0xEF, b[k + 1] == 0xBF, b[k + 2] >= 0xBE {
                throw malformed("the XML holds the noncharacter \(scalarText(k)), which XML does not allow", at: k)
            }
            k += len
        }
    }

    /// XML 1.0 (fifth edition) `NameStartChar`, `:` excluded (Namespaces: colons only split a QName).
    private static func isNameStart(_ v: UInt32) -> Bool {
        switch v {
        case 0x41...0x5A, 0x61...0x7A, 0x5F: return true
        case 0xC0...0xD6, 0xD8...0xF6, 0xF8...0x2FF, 0x370...0x37D, 0x37F...0x1FFF, 0x200C...0x200D,
            0x2070...0x218F, 0x2C00...0x2FEF, 0x3001...0xD7FF, 0xF900...0xFDCF, 0xFDF0...0xFFFD, 0x10000...0xEFFFF:
            return true
        default: return false
        }
    }

    /// XML 1.0 (fifth edition) `NameChar`, `:` excluded.
    private static func isNameChar(_ v: UInt32) -> Bool {
        switch v {
        case 0x2D, 0x2E, 0x30...0x39, 0xB7, 0x300...0x36F, 0x203F...0x2040: return true
        default: return isNameStart(v)
        }
    }

    /// XML 1.0 `Char`: what a character reference may name.
    private static func isXMLChar(_ v: UInt32) -> Bool {
        switch v {
        case 0x9, 0xA, 0xD, 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: return true
        default: return false
        }
    }

    // MARK: Document

    private mutating func document() throws(ODKError) -> ODKXMLElement {
        try checkBytes()
        if starts("\u{FEFF}", at: 0) { i = 3 }
        if starts("<?xml", at: i), Self.isSpace(at(i + 5)) { try xmlDeclaration() }
        var root: ODKXMLElement?
        while i < n {
            let c = b[i]
            if Self.isSpace(c) {
                i += 1
                continue
            }
            guard c == Self.lt else {
                throw malformed(
                    root == nil
                        ? "text before the root element (found \(describe(i))): a document is one element"
                        : "text after the root element (found \(describe(i))): a document is one element", at: i)
            }
            switch at(i + 1) {
            case Self.bang:
                if starts("<!--", at: i) {
                    try comment()
                } else if starts("<![CDATA[", at: i) {
                    throw malformed("a CDATA section outside the root element", at: i)
                } else {
                    throw declarationForbidden(at: i)
                }
            case Self.question:
                try processingInstruction()
            case Self.slash:
                throw malformed("an end tag outside the root element", at: i)
            default:
                if let root {
                    let s = i + 1
                    var e = s
                    while e < n, Self.isSpace(b[e]) == false, b[e] != Self.gt, b[e] != Self.slash { e += 1 }
                    throw malformed("a second root element <\(text(s, e, max: 80))> after <\(root.name)>: a document has one", at: i)
                }
                root = try rootElement()
            }
        }
        guard let root else { throw malformed("the XML has no root element", at: n) }
        return root
    }

    private func declarationForbidden(at k: Int) -> ODKError {
        error(
            .xmlDeclarationForbidden,
            "DTDs and entity declarations (<!DOCTYPE, <!ENTITY) are refused: ODK documents never need them, and they allow XML bombs and external entities",
            at: k)
    }

    /// `<?xml version="1.x" encoding="…" standalone="…"?>`, at the start only; `i` at `<?xml`.
    private mutating func xmlDeclaration() throws(ODKError) {
        let start = i
        i += 5
        // 0: nothing yet, 1: version read, 2: encoding read, 3: standalone read.
        var stage = 0
        while true {
            let hadSpace = skipSpaces()
            if at(i) == Self.question, at(i + 1) == Self.gt {
                i += 2
                break
            }
            guard i < n else { throw malformed("the XML declaration is not closed", at: start) }
            guard hadSpace, isASCIILetter(at(i)) else {
                throw malformed("the XML declaration is malformed (found \(describe(i)))", at: i)
            }
            let keyStart = i
            while isASCIILetter(at(i)) { i += 1 }
            let keyEnd = i
            skipSpaces()
            guard at(i) == Self.equals else {
                throw malformed(
                    "the XML declaration is malformed (expected '=' after \(text(keyStart, keyEnd, max: 40)), found \(describe(i)))", at: i)
            }
            i += 1
            skipSpaces()
            let q = at(i)
            guard q == Self.quote || q == Self.apostrophe else {
                throw malformed("the XML declaration is malformed (\(text(keyStart, keyEnd, max: 40)) is not quoted)", at: i)
            }
            i += 1
            let valueStart = i
            while i < n, b[i] != q, b[i] != Self.lt, b[i] != Self.gt { i += 1 }
            guard at(i) == q else { throw malformed("the XML declaration is not closed", at: start) }
            let valueEnd = i
            i += 1
            let value = text(valueStart, valueEnd, max: 60)
            if bytes(keyStart, keyEnd, are: "version"), stage == 0 {
                guard isVersion(valueStart, valueEnd) else {
                    throw malformed("the XML declaration's version is \"\(value)\"; only XML 1.x is read", at: valueStart)
                }
                stage = 1
            } else if bytes(keyStart, keyEnd, are: "encoding"), stage == 1 {
                guard ["utf-8", "utf8", "us-ascii", "ascii"].contains(value.lowercased()) else {
                    throw malformed("the XML declares encoding \"\(value)\"; only UTF-8 is accepted", at: valueStart)
                }
                stage = 2
            } else if bytes(keyStart, keyEnd, are: "standalone"), stage == 1 || stage == 2 {
                guard value == "yes" || value == "no" else {
                    throw malformed("the XML declaration's standalone is \"\(value)\", not yes or no", at: valueStart)
                }
                stage = 3
            } else {
                throw malformed(
                    "the XML declaration is malformed (\(text(keyStart, keyEnd, max: 40)) is out of place: version, then encoding, then standalone)",
                    at: keyStart)
            }
        }
        guard stage >= 1 else { throw malformed("the XML declaration has no version", at: start) }
    }

    private func isASCIILetter(_ c: UInt8) -> Bool {
        (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c)
    }

    /// `1.` followed by digits.
    private func isVersion(_ s: Int, _ e: Int) -> Bool {
        guard e - s >= 3, at(s) == 0x31, at(s + 1) == 0x2E else { return false }
        var k = s + 2
        while k < e {
            guard (0x30...0x39).contains(b[k]) else { return false }
            k += 1
        }
        return true
    }

    /// Skips white space; whether there was any.
    @discardableResult
    private mutating func skipSpaces() -> Bool {
        let start = i
        while i < n, Self.isSpace(b[i]) { i += 1 }
        return i > start
    }

    /// `<!-- … -->`, `i` at `<!--`; `--` inside is refused (XML 1.0 §2.5).
    private mutating func comment() throws(ODKError) {
        let start = i
        i += 4
        while true {
            guard i < n - 1 else { throw malformed("a comment is not closed", at: start) }
            if b[i] == Self.dash, b[i + 1] == Self.dash {
                guard at(i + 2) == Self.gt else { throw malformed("\"--\" inside a comment (only its end, \"-->\", may hold it)", at: i) }
                i += 3
                return
            }
            i += 1
        }
    }

    /// `<?target …?>`, skipped; `i` at `<?`. The target `xml` (any case) is reserved.
    private mutating func processingInstruction() throws(ODKError) {
        let start = i
        i += 2
        let (s, e, colon) = try name("a processing instruction's target")
        if e - s == 3, b[s] | 0x20 == 0x78, b[s + 1] | 0x20 == 0x6D, b[s + 2] | 0x20 == 0x6C {
            throw malformed("an XML declaration (<?xml …?>) is only allowed at the very start of the document", at: start)
        }
        guard colon == nil else { throw malformed("a processing instruction's target holds a colon", at: s) }
        if at(i) == Self.question, at(i + 1) == Self.gt {
            i += 2
            return
        }
        guard Self.isSpace(at(i)) else {
            throw malformed(
                "expected a space or \"?>\" after the processing instruction's target \(text(s, e, max: 40)), found \(describe(i))", at: i)
        }
        while i < n - 1 {
            if b[i] == Self.question, b[i + 1] == Self.gt {
                i += 2
                return
            }
            i += 1
        }
        throw malformed("a processing instruction is not closed", at: start)
    }

    /// A QName at `i` (XML `Name`, at most one colon, not first or last, `NCName` on each
    /// side): its bounds and the colon's offset.
    private mutating func name(_ what: String) throws(ODKError) -> (Int, Int, Int?) {
        let start = i
        let (first, firstLength) = scalar(at: i)
        guard Self.isNameStart(first) else {
            throw malformed("expected \(what), found \(describe(i))", at: i)
        }
        i += firstLength
        var colon: Int?
        while i < n {
            if b[i] == Self.colon {
                guard colon == nil else {
                    throw malformed("the name \(text(start, i + 1, max: 80))… has two colons (Namespaces in XML: prefix:local)", at: i)
                }
                let (next, _) = scalar(at: i + 1)
                guard Self.isNameStart(next) else {
                    throw malformed("the name \(text(start, i + 1, max: 80)) ends with a colon or has no valid local part after it", at: i)
                }
                colon = i
                i += 1
                continue
            }
            let (v, length) = scalar(at: i)
            guard Self.isNameChar(v) else { break }
            i += length
        }
        return (start, i, colon)
    }

    // MARK: Elements

    /// The root element and all its content, `i` at its `<`.
    private mutating func rootElement() throws(ODKError) -> ODKXMLElement {
        if let done = try startTag() { return done }
        while true {
            guard i < n else {
                guard let top = stack.last else { throw malformed("the document ends early", at: n) }
                throw malformed("the element <\(text(top.nameStart, top.nameEnd, max: 80))> (line \(top.element.line)) is not closed", at: n)
            }
            switch b[i] {
            case Self.lt:
                switch at(i + 1) {
                case Self.slash:
                    if let done = try endTag() { return done }
                case Self.bang:
                    if starts("<!--", at: i) {
                        try comment()
                    } else if starts("<![CDATA[", at: i) {
                        try cdata()
                    } else {
                        throw declarationForbidden(at: i)
                    }
                case Self.question:
                    try processingInstruction()
                default:
                    if let done = try startTag() { return done }
                }
            case Self.amp:
                let v = try reference()
                appendText(v)
            default:
                try characterData()
            }
        }
    }

    /// Adds `e`, complete, to its parent; the root when it has none.
    private mutating func close(_ e: ODKXMLElement) -> ODKXMLElement? {
        guard stack.isEmpty == false else { return e }
        stack[stack.count - 1].element.children.append(e)
        return nil
    }

    private mutating func appendText(_ bytes: ArraySlice<UInt8>) {
        guard stack.isEmpty == false, bytes.isEmpty == false else { return }
        stack[stack.count - 1].text.append(contentsOf: bytes)
    }

    private mutating func appendText(_ scalar: Unicode.Scalar) {
        guard stack.isEmpty == false else { return }
        UTF8.encode(scalar) { stack[stack.count - 1].text.append($0) }
    }

    /// Text up to the next `<` or `&`; `]]>` refused, line ends normalised.
    private mutating func characterData() throws(ODKError) {
        var run = i
        while i < n {
            let c = b[i]
            if c == Self.lt || c == Self.amp { break }
            if c == Self.rbracket, at(i + 1) == Self.rbracket, at(i + 2) == Self.gt {
                throw malformed("\"]]>\" in text (outside a CDATA section it must be written ]]&gt;)", at: i)
            }
            if c == Self.cr {
                appendText(b[run..<i])
                appendText(Unicode.Scalar(Self.lf))
                i += 1
                if at(i) == Self.lf { i += 1 }
                run = i
                continue
            }
            i += 1
        }
        appendText(b[run..<i])
    }

    /// `<![CDATA[ … ]]>`, its content text; `i` at `<![CDATA[`.
    private mutating func cdata() throws(ODKError) {
        let start = i
        i += 9
        var run = i
        while true {
            guard i < n else { throw malformed("a CDATA section is not closed", at: start) }
            let c = b[i]
            if c == Self.rbracket, at(i + 1) == Self.rbracket, at(i + 2) == Self.gt {
                appendText(b[run..<i])
                i += 3
                return
            }
            if c == Self.cr {
                appendText(b[run..<i])
                appendText(Unicode.Scalar(Self.lf))
                i += 1
                if at(i) == Self.lf { i += 1 }
                run = i
                continue
            }
            i += 1
        }
    }

    /// `&name;` or `&#…;` at `i`: the character it stands for. Only the five predefined
    /// entities are known; character references must name an XML `Char`.
    private mutating func reference() throws(ODKError) -> Unicode.Scalar {
        let start = i
        i += 1
        if at(i) == Self.hash {
            i += 1
            let hex = at(i) == 0x78  // x
            if hex { i += 1 }
            var value: UInt32 = 0
            var digits = 0
            while true {
                let c = at(i)
                let d: UInt32
                switch c {
                case 0x30...0x39: d = UInt32(c - 0x30)
                case 0x61...0x66 where hex: d = UInt32(c - 0x61 + 10)
                case 0x41...0x46 where hex: d = UInt32(c - 0x41 + 10)
                default: d = 16
                }
                if d == 16 { break }
                // value ≤ 0x10FFFF here, so value * 16 + 15 fits in UInt32.
                value = value * (hex ? 16 : 10) + d
                guard value <= 0x10FFFF else {
                    var end = i
                    while end < n, end - start < 40, b[end] != Self.semicolon, b[end] != Self.lt { end += 1 }
                    throw malformed("the character reference \(text(start, end, max: 40))… is beyond U+10FFFF, the last Unicode character", at: start)
                }
                digits += 1
                i += 1
            }
            guard digits > 0 else {
                throw malformed("a character reference (&#…;) without \(hex ? "hexadecimal " : "")digits (found \(describe(i)))", at: start)
            }
            guard at(i) == Self.semicolon else {
                throw malformed("the character reference \(text(start, i, max: 40)) is not closed by ';' (found \(describe(i)))", at: start)
            }
            i += 1
            guard Self.isXMLChar(value), let scalar = Unicode.Scalar(value) else {
                let what = value == 0 ? "NUL" : (0xD800...0xDFFF).contains(value) ? "a surrogate" : "a character XML does not allow"
                throw malformed("the character reference \(text(start, i, max: 40)) names U+\(self.hex(value)), \(what)", at: start)
            }
            return scalar
        }
        let (s, e, _) = try nameOrBareAmpersand(start)
        guard at(i) == Self.semicolon else {
            throw malformed("the entity reference &\(text(s, e, max: 40)) is not closed by ';' (a bare & must be written &amp;)", at: start)
        }
        i += 1
        if bytes(s, e, are: "amp") { return "&" }
        if bytes(s, e, are: "lt") { return "<" }
        if bytes(s, e, are: "gt") { return ">" }
        if bytes(s, e, are: "quot") { return "\"" }
        if bytes(s, e, are: "apos") { return "'" }
        throw malformed(
            "the entity reference &\(text(s, e, max: 40)); is not declared: only &amp; &lt; &gt; &quot; &apos; and character references are allowed",
            at: start)
    }

    private mutating func nameOrBareAmpersand(_ start: Int) throws(ODKError) -> (Int, Int, Int?) {
        let (v, _) = scalar(at: i)
        guard Self.isNameStart(v) else {
            throw malformed("a bare '&' (followed by \(describe(i))): write &amp;", at: start)
        }
        return try name("an entity name")
    }

    private struct RawAttribute {
        var nameStart: Int
        var nameEnd: Int
        var colon: Int?
        var value: [UInt8]
    }

    /// A start tag or empty-element tag at `i`. An open element is pushed (nil returned);
    /// an empty one is closed at once (the root returned, when it is the root).
    private mutating func startTag() throws(ODKError) -> ODKXMLElement? {
        let tagStart = i
        let tagLine = advanceLine(to: tagStart)
        i += 1
        let (ns, ne, ncolon) = try name("an element name after '<'")
        let qname = text(ns, ne, max: 80)
        elements += 1
        guard elements <= limits.maxElements else {
            throw error(.tooLarge, "more than \(limits.maxElements) elements", at: tagStart)
        }
        guard stack.count < limits.maxDepth else {
            throw error(.tooDeep, "elements nested deeper than \(limits.maxDepth)", at: tagStart)
        }
        var raw: [RawAttribute] = []
        let empty: Bool
        while true {
            let hadSpace = skipSpaces()
            let c = at(i)
            if c == Self.gt {
                i += 1
                empty = false
                break
            }
            if c == Self.slash, at(i + 1) == Self.gt {
                i += 2
                empty = true
                break
            }
            guard i < n else { throw malformed("the start tag <\(qname)> is not closed", at: tagStart) }
            guard hadSpace else {
                throw malformed("expected a space, '>' or \"/>\" in the start tag <\(qname)>, found \(describe(i))", at: i)
            }
            let (an, ae, acolon) = try name("an attribute name or the end of the start tag <\(qname)>")
            let attributeName = text(an, ae, max: 80)
            skipSpaces()
            guard at(i) == Self.equals else {
                throw malformed("the attribute \(attributeName) of <\(qname)> has no value (expected '=', found \(describe(i)))", at: i)
            }
            i += 1
            skipSpaces()
            let q = at(i)
            guard q == Self.quote || q == Self.apostrophe else {
                throw malformed("the value of attribute \(attributeName) of <\(qname)> is not quoted (found \(describe(i)))", at: i)
            }
            let value = try attributeValue(quote: q, name: attributeName)
            for other in raw where same(other.nameStart, other.nameEnd, an, ae) {
                throw malformed("the attribute \(attributeName) appears twice on <\(qname)>", at: an)
            }
            raw.append(RawAttribute(nameStart: an, nameEnd: ae, colon: acolon, value: value))
            guard raw.count <= limits.maxAttributes else {
                throw error(.tooLarge, "<\(qname)> has more than \(limits.maxAttributes) attributes", at: tagStart)
            }
        }

        // Namespaces: this element's declarations first, then its name and its attributes' names.
        var namespaces = stack.last?.namespaces ?? ["xml": ODKNamespace.xml]
        for a in raw {
            if bytes(a.nameStart, a.nameEnd, are: "xmlns") {
                namespaces[""] = String(decoding: a.value, as: UTF8.self)
            } else if let colon = a.colon, bytes(a.nameStart, colon, are: "xmlns") {
                let prefix = text(colon + 1, a.nameEnd)
                let uri = String(decoding: a.value, as: UTF8.self)
                guard uri.isEmpty == false else {
                    throw malformed("the prefix \"\(prefix)\" is bound to an empty namespace", at: a.nameStart)
                }
                guard prefix != "xmlns", (prefix == "xml") == (uri == ODKNamespace.xml) else {
                    throw malformed("the prefix \"\(prefix)\" cannot be bound to \"\(uri)\" (xml and xmlns are reserved)", at: a.nameStart)
                }
                namespaces[prefix] = uri
            }
        }
        let namespace: String
        let local: String
        if let ncolon {
            let prefix = text(ns, ncolon)
            guard let resolved = namespaces[prefix] else {
                throw malformed("the prefix \"\(prefix)\" of <\(qname)> is not declared", at: tagStart)
            }
            namespace = resolved
            local = text(ncolon + 1, ne)
        } else {
            namespace = namespaces[""] ?? ""
            local = text(ns, ne)
        }
        var attributes: [(key: String, attribute: ODKXMLElement.Attribute)] = []
        for a in raw {
            if bytes(a.nameStart, a.nameEnd, are: "xmlns") { continue }
            let key = text(a.nameStart, a.nameEnd)
            var attributeNamespace = ""
            var attributeName = key
            if let colon = a.colon {
                if bytes(a.nameStart, colon, are: "xmlns") { continue }
                let prefix = text(a.nameStart, colon)
                guard let resolved = namespaces[prefix] else {
                    throw malformed("the prefix \"\(prefix)\" of attribute \(key) is not declared", at: a.nameStart)
                }
                attributeNamespace = resolved
                attributeName = text(colon + 1, a.nameEnd)
            }
            for other in attributes where other.attribute.namespace == attributeNamespace && other.attribute.name == attributeName {
                throw malformed("the attributes \(other.key) and \(key) of <\(qname)> are the same name in the same namespace", at: a.nameStart)
            }
            attributes.append((key, .init(namespace: attributeNamespace, name: attributeName, value: String(decoding: a.value, as: UTF8.self))))
        }
        // In order of qualified name (as the XMLParser-based reader gave them).
        attributes.sort { $0.key < $1.key }
        let element = ODKXMLElement(
            namespace: namespace, name: local, attributes: attributes.map(\.attribute),
            children: [], text: "", line: tagLine)
        if empty { return close(element) }
        stack.append(Open(element: element, nameStart: ns, nameEnd: ne, namespaces: namespaces, text: []))
        return nil
    }

    /// A quoted attribute value, `i` at its opening quote: references replaced, tab, CR, LF
    /// (and CR LF) each become a space; `<` is refused.
    private mutating func attributeValue(quote q: UInt8, name: String) throws(ODKError) -> [UInt8] {
        let start = i
        i += 1
        var value: [UInt8] = []
        while true {
            guard i < n else { throw malformed("the value of attribute \(name) is not closed", at: start) }
            let c = b[i]
            switch c {
            case q:
                i += 1
                return value
            case Self.lt:
                throw malformed("'<' in the value of attribute \(name) (write &lt;)", at: i)
            case Self.amp:
                let v = try reference()
                UTF8.encode(v) { value.append($0) }
            case Self.cr:
                value.append(Self.space)
                i += 1
                if at(i) == Self.lf { i += 1 }
            case Self.lf, Self.tab:
                value.append(Self.space)
                i += 1
            default:
                value.append(c)
                i += 1
            }
        }
    }

    /// An end tag at `i`; it must close the innermost open element. The root when it closes it.
    private mutating func endTag() throws(ODKError) -> ODKXMLElement? {
        let tagStart = i
        i += 2
        let (s, e, _) = try name("an element name after \"</\"")
        skipSpaces()
        guard at(i) == Self.gt else {
            throw malformed("the end tag </\(text(s, e, max: 80))> is malformed (expected '>', found \(describe(i)))", at: i)
        }
        i += 1
        guard var top = stack.popLast() else { throw malformed("an end tag outside the root element", at: tagStart) }
        guard same(s, e, top.nameStart, top.nameEnd) else {
            throw malformed(
                "the end tag </\(text(s, e, max: 80))> does not match the start tag <\(text(top.nameStart, top.nameEnd, max: 80))> (line \(top.element.line))",
                at: tagStart)
        }
        top.element.text = String(decoding: top.text, as: UTF8.self)
        return close(top.element)
    }
}
