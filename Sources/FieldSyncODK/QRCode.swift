// QR Code encoder (ISO/IEC 18004), byte mode only: what ODK Collect scans to configure
// itself (its settings JSON, zlib-compressed, then base64: plain ASCII bytes).
//
// Pure Swift, no dependency. Versions 1-40, error-correction levels L/M/Q/H, Reed-Solomon
// over GF(256) (polynomial 0x11D), blocks interleaved per the standard tables, all eight
// masks scored with the four penalty rules and the lowest kept.
//
// How the masks are scored, exactly (it decides which mask wins, so it is part of the
// output): the candidate symbol is scored with its format information, version information
// and dark module all light, i.e. before they are drawn, as Python's `qrcode` package (and
// Kazuhiko Arase's qrcode-generator it derives from) does; rule 1 adds 3 + (n - 5) for each
// run of n ≥ 5 same-colour modules in a row or column; rule 2 adds 3 for each 2×2 block of
// one colour (overlapping blocks each count); rule 3 adds 40 for each 11-module window of a
// row or column reading 10111010000 or 00001011101, windows inside the symbol only (the quiet
// zone is not counted as light); rule 4 adds 10 × ⌊|dark% − 50| / 5⌋. Ties go to the lowest
// mask number. Tests compare whole matrices with `qrcode` 8.2's (see
// Tests/FieldSyncODKTests/Fixtures/qr/README.md).

/// Why a QR code could not be made.
public enum QRCodeError: Error, Equatable, Sendable {
    /// More bytes than a version-40 symbol holds at this error-correction level
    /// (`maximum`: 2953 at L, 2331 at M, 1663 at Q, 1273 at H).
    case dataTooLong(byteCount: Int, maximum: Int)
    /// A forced mask outside 0...7 (tests only).
    case invalidMask(Int)
}

/// A QR code symbol: `size` × `size` modules, dark or light, without the quiet zone.
public struct QRCode: Equatable, Sendable {
    /// Error-correction level: the share of codewords that can be restored
    /// (about 7 %, 15 %, 25 %, 30 %).
    public enum ErrorCorrection: Int, CaseIterable, Sendable {
        case low, medium, quartile, high

        /// The two bits of the format information (L 01, M 00, Q 11, H 10).
        var formatBits: Int {
            switch self {
            case .low: 1
            case .medium: 0
            case .quartile: 3
            case .high: 2
            }
        }
    }

    /// How `terminalText` draws the modules with half-block characters.
    public enum TerminalStyle: Sendable {
        /// As `qrencode -t UTF8`: dark modules are spaces, light modules and the quiet zone
        /// are drawn with glyphs, for a terminal with light text on a dark background (the
        /// usual terminal default): the glyphs show light, the background dark.
        case lightOnDark
        /// As `qrencode -t UTF8i` and Python qrcode's `print_ascii()`: dark modules are drawn
        /// with glyphs, for a terminal with dark text on a light background.
        case darkOnLight
    }

    /// Modules per side: 17 + 4 × version.
    public let size: Int
    /// 1...40.
    public let version: Int
    public let errorCorrection: ErrorCorrection
    /// The mask applied, 0...7.
    public let mask: Int
    /// Row-major, `true` = dark.
    private let modules: [Bool]

    /// Encodes `bytes` in byte mode in the smallest version that holds them at
    /// `errorCorrection`, with the mask of lowest penalty.
    public init(encoding bytes: [UInt8], errorCorrection: ErrorCorrection = .medium) throws(QRCodeError) {
        try self.init(encoding: bytes, errorCorrection: errorCorrection, mask: nil)
    }

    /// As the public initialiser, with the mask forced when `mask` is not nil (for tests).
    init(encoding bytes: [UInt8], errorCorrection: ErrorCorrection, mask forcedMask: Int?) throws(QRCodeError) {
        if let forcedMask, !(0...7).contains(forcedMask) {
            throw QRCodeError.invalidMask(forcedMask)
        }
        guard let version = QRCode.smallestVersion(byteCount: bytes.count, errorCorrection) else {
            throw QRCodeError.dataTooLong(
                byteCount: bytes.count, maximum: QRCode.byteCapacity(version: 40, errorCorrection))
        }
        let codewords = QRCode.codewords(bytes, version: version, errorCorrection)
        var matrix = Matrix(version: version)
        matrix.placeData(codewords)

        let chosen: Int
        if let forcedMask {
            chosen = forcedMask
        } else {
            var best = 0
            var bestPenalty = Int.max
            for candidate in 0..<8 {
                var trial = matrix
                trial.applyMask(candidate)
                let penalty = trial.penalty()
                if penalty < bestPenalty {
                    bestPenalty = penalty
                    best = candidate
                }
            }
            chosen = best
        }
        matrix.applyMask(chosen)
        matrix.drawFormatBits(errorCorrection: errorCorrection, mask: chosen)
        matrix.drawVersionBits()

        self.size = matrix.size
        self.version = version
        self.errorCorrection = errorCorrection
        self.mask = chosen
        self.modules = matrix.dark
    }

    /// Whether the module in column `x`, row `y` (from the top-left corner) is dark;
    /// `false` outside the symbol.
    public func isDark(x: Int, y: Int) -> Bool {
        guard x >= 0, y >= 0, x < size, y < size else { return false }
        return modules[y * size + x]
    }

    /// The symbol as text, two module rows per line with `▀`, `▄`, `█` and spaces, inside
    /// a quiet zone of `quietZone` modules on each side (the standard asks for 4; 2 scans
    /// with phone cameras on a terminal). Every line ends with a newline; there are
    /// ⌈(size + 2 × quietZone) / 2⌉ lines of size + 2 × quietZone characters. When the
    /// row count is odd, the last line's lower half is the terminal's background.
    /// `style` says which modules are drawn with glyphs; see `TerminalStyle`. The layout
    /// is Python qrcode's `print_ascii(invert:)` (`.darkOnLight` = invert false) with
    /// spaces for its no-break spaces.
    public func terminalText(quietZone: Int = 2, style: TerminalStyle = .lightOnDark) -> String {
        let quiet = max(0, quietZone)
        let inkIsDark = style == .darkOnLight
        var text = ""
        var row = -quiet
        while row < size + quiet {
            for column in -quiet..<(size + quiet) {
                let top = isDark(x: column, y: row) == inkIsDark
                let bottom = row + 1 < size + quiet && isDark(x: column, y: row + 1) == inkIsDark
                switch (top, bottom) {
                case (false, false): text += " "
                case (true, false): text += "▀"
                case (false, true): text += "▄"
                case (true, true): text += "█"
                }
            }
            text += "\n"
            row += 2
        }
        return text
    }

    /// The symbol as an SVG document: black modules of `moduleSize` user units on white,
    /// inside a quiet zone of `quietZone` modules.
    public func svg(moduleSize: Int = 8, quietZone: Int = 4) -> String {
        let unit = max(1, moduleSize)
        let quiet = max(0, quietZone)
        let side = (size + 2 * quiet) * unit
        var path = ""
        for y in 0..<size {
            for x in 0..<size where isDark(x: x, y: y) {
                path += "M\((x + quiet) * unit) \((y + quiet) * unit)h\(unit)v\(unit)h-\(unit)z"
            }
        }
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" version="1.1" viewBox="0 0 \(side) \(side)" \
            width="\(side)" height="\(side)" shape-rendering="crispEdges">
            <rect width="100%" height="100%" fill="#ffffff"/>
            <path d="\(path)" fill="#000000"/>
            </svg>

            """
    }
}

// MARK: - Capacity and codewords

extension QRCode {
    /// Error-correction codewords per block, by level then version (index 0 unused).
    private static let eccCodewordsPerBlock: [[Int]] = [
        // L
        [
            0, 7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28,
            28, 28, 30, 30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30,
        ],
        // M
        [
            0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26,
            26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28,
        ],
        // Q
        [
            0, 13, 22, 18, 26, 18, 24, 18, 22, 20, 24, 28, 26, 24, 20, 30, 24, 28, 28, 26, 30,
            28, 30, 30, 30, 30, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30,
        ],
        // H
        [
            0, 17, 28, 22, 16, 22, 28, 26, 26, 24, 28, 24, 28, 22, 24, 24, 30, 28, 28, 26, 28,
            30, 24, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30,
        ],
    ]

    /// Error-correction blocks, by level then version (index 0 unused).
    private static let blockCount: [[Int]] = [
        // L
        [
            0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8,
            8, 9, 9, 10, 12, 12, 12, 13, 14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25,
        ],
        // M
        [
            0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16,
            17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49,
        ],
        // Q
        [
            0, 1, 1, 2, 2, 4, 4, 6, 6, 8, 8, 8, 10, 12, 16, 12, 17, 16, 18, 21, 20,
            23, 23, 25, 27, 29, 34, 34, 35, 38, 40, 43, 45, 48, 51, 53, 56, 59, 62, 65, 68,
        ],
        // H
        [
            0, 1, 1, 2, 4, 4, 4, 5, 6, 8, 8, 11, 11, 16, 16, 18, 16, 19, 21, 25, 25,
            25, 34, 30, 32, 35, 37, 40, 42, 45, 48, 51, 54, 57, 60, 63, 66, 70, 74, 77, 81,
        ],
    ]

    /// Modules left for codewords (and remainder bits) once the function patterns,
    /// format and version information are placed.
    static func rawDataModules(version: Int) -> Int {
        var result = (16 * version + 128) * version + 64
        if version >= 2 {
            let alignments = version / 7 + 2
            result -= (25 * alignments - 10) * alignments - 55
            if version >= 7 { result -= 36 }
        }
        return result
    }

    static func dataCodewords(version: Int, _ level: ErrorCorrection) -> Int {
        rawDataModules(version: version) / 8
            - eccCodewordsPerBlock[level.rawValue][version] * blockCount[level.rawValue][version]
    }

    /// Bits of the character count in byte mode.
    static func countBits(version: Int) -> Int { version < 10 ? 8 : 16 }

    /// The most bytes a version holds at a level in byte mode.
    static func byteCapacity(version: Int, _ level: ErrorCorrection) -> Int {
        (dataCodewords(version: version, level) * 8 - 4 - countBits(version: version)) / 8
    }

    static func smallestVersion(byteCount: Int, _ level: ErrorCorrection) -> Int? {
        (1...40).first { byteCount <= byteCapacity(version: $0, level) }
    }

    /// Data codewords (mode, count, bytes, terminator, padding) split into blocks, each
    /// with its Reed-Solomon codewords, interleaved.
    static func codewords(_ bytes: [UInt8], version: Int, _ level: ErrorCorrection) -> [UInt8] {
        let capacity = dataCodewords(version: version, level)
        var bits = BitWriter()
        bits.append(0b0100, count: 4)
        bits.append(bytes.count, count: countBits(version: version))
        for byte in bytes { bits.append(Int(byte), count: 8) }
        bits.append(0, count: min(4, capacity * 8 - bits.count))
        bits.append(0, count: (8 - bits.count % 8) % 8)
        var data = bits.bytes
        var pad: UInt8 = 0xEC
        while data.count < capacity {
            data.append(pad)
            pad ^= 0xEC ^ 0x11
        }

        let blocks = blockCount[level.rawValue][version]
        let eccLength = eccCodewordsPerBlock[level.rawValue][version]
        let rawCodewords = rawDataModules(version: version) / 8
        let shortBlocks = blocks - rawCodewords % blocks
        let shortDataLength = rawCodewords / blocks - eccLength
        let generator = ReedSolomon.generator(degree: eccLength)

        var dataBlocks: [ArraySlice<UInt8>] = []
        var eccBlocks: [[UInt8]] = []
        var start = 0
        for index in 0..<blocks {
            let length = shortDataLength + (index < shortBlocks ? 0 : 1)
            let block = data[start..<(start + length)]
            start += length
            dataBlocks.append(block)
            eccBlocks.append(ReedSolomon.remainder(block, generator: generator))
        }

        var result: [UInt8] = []
        result.reserveCapacity(rawCodewords)
        for offset in 0...shortDataLength {
            for block in dataBlocks where offset < block.count {
                result.append(block[block.startIndex + offset])
            }
        }
        for offset in 0..<eccLength {
            for block in eccBlocks {
                result.append(block[offset])
            }
        }
        return result
    }
}

/// Bits appended most significant first, read out as bytes.
private struct BitWriter {
    private(set) var bytes: [UInt8] = []
    private(set) var count = 0

    mutating func append(_ value: Int, count length: Int) {
        guard length > 0 else { return }
        for shift in stride(from: length - 1, through: 0, by: -1) {
            if count % 8 == 0 { bytes.append(0) }
            if (value >> shift) & 1 == 1 {
                bytes[bytes.count - 1] |= UInt8(0x80 >> (count % 8))
            }
            count += 1
        }
    }
}

/// Reed-Solomon over GF(256) with the QR field polynomial x⁸ + x⁴ + x³ + x² + 1.
private enum ReedSolomon {
    static func multiply(_ a: UInt8, _ b: UInt8) -> UInt8 {
        // Russian-peasant multiplication, reducing by 0x11D.
        var result: UInt8 = 0
        var a = a
        var b = b
        while b != 0 {
            if b & 1 == 1 { result ^= a }
            a = (a & 0x80 != 0) ? (a << 1) ^ 0x1D : a << 1
            b >>= 1
        }
        return result
    }

    /// The coefficients of (x − α⁰)(x − α¹)…(x − α^(degree−1)), highest power first,
    /// the leading 1 left out.
    static func generator(degree: Int) -> [UInt8] {
        var coefficients = [UInt8](repeating: 0, count: degree)
        guard degree > 0 else { return coefficients }
        coefficients[degree - 1] = 1
        var root: UInt8 = 1
        for _ in 0..<degree {
            for index in 0..<degree {
                coefficients[index] = multiply(coefficients[index], root)
                if index + 1 < degree {
                    coefficients[index] ^= coefficients[index + 1]
                }
            }
            root = multiply(root, 2)
        }
        return coefficients
    }

    /// The remainder of data·x^degree divided by the generator: the ECC codewords.
    static func remainder(_ data: ArraySlice<UInt8>, generator: [UInt8]) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: generator.count)
        guard !generator.isEmpty else { return result }
        for byte in data {
            let factor = byte ^ result[0]
            result.removeFirst()
            result.append(0)
            for index in 0..<generator.count {
                result[index] ^= multiply(generator[index], factor)
            }
        }
        return result
    }
}

// MARK: - Module matrix

private struct Matrix {
    let version: Int
    let size: Int
    var dark: [Bool]
    /// Finder, separator, timing, alignment, format, version, dark module.
    var isFunction: [Bool]

    /// The function patterns drawn, format and version areas reserved (light).
    init(version: Int) {
        self.version = version
        size = 4 * version + 17
        dark = [Bool](repeating: false, count: size * size)
        isFunction = [Bool](repeating: false, count: size * size)

        for index in 0..<size {
            setFunction(x: 6, y: index, dark: index % 2 == 0)
            setFunction(x: index, y: 6, dark: index % 2 == 0)
        }
        drawFinder(centerX: 3, centerY: 3)
        drawFinder(centerX: size - 4, centerY: 3)
        drawFinder(centerX: 3, centerY: size - 4)

        let positions = Matrix.alignmentPositions(version: version, size: size)
        let last = positions.count - 1
        for (i, x) in positions.enumerated() {
            for (j, y) in positions.enumerated() {
                // The three corners are the finders'.
                if (i == 0 && j == 0) || (i == 0 && j == last) || (i == last && j == 0) { continue }
                for dy in -2...2 {
                    for dx in -2...2 {
                        setFunction(x: x + dx, y: y + dy, dark: max(abs(dx), abs(dy)) != 1)
                    }
                }
            }
        }

        // Format information (both copies, around the timing patterns) and the dark
        // module: reserved, light for now.
        for index in 0..<9 where index != 6 {
            setFunction(x: 8, y: index, dark: false)
            setFunction(x: index, y: 8, dark: false)
        }
        for index in 0..<8 {
            setFunction(x: size - 1 - index, y: 8, dark: false)
            setFunction(x: 8, y: size - 1 - index, dark: false)
        }
        if version >= 7 {
            for index in 0..<18 {
                setFunction(x: size - 11 + index % 3, y: index / 3, dark: false)
                setFunction(x: index / 3, y: size - 11 + index % 3, dark: false)
            }
        }
    }

    static func alignmentPositions(version: Int, size: Int) -> [Int] {
        guard version >= 2 else { return [] }
        let count = version / 7 + 2
        let step = version == 32 ? 26 : (version * 4 + count * 2 + 1) / (count * 2 - 2) * 2
        var positions = [Int](repeating: 6, count: count)
        var position = size - 7
        for index in stride(from: count - 1, through: 1, by: -1) {
            positions[index] = position
            position -= step
        }
        return positions
    }

    private mutating func setFunction(x: Int, y: Int, dark value: Bool) {
        guard x >= 0, y >= 0, x < size, y < size else { return }
        dark[y * size + x] = value
        isFunction[y * size + x] = true
    }

    /// Finder pattern and its separator, clipped to the symbol.
    private mutating func drawFinder(centerX: Int, centerY: Int) {
        for dy in -4...4 {
            for dx in -4...4 {
                let distance = max(abs(dx), abs(dy))
                setFunction(x: centerX + dx, y: centerY + dy, dark: distance != 2 && distance != 4)
            }
        }
    }

    /// Codeword bits, most significant first, up and down two-column strips from the
    /// right, skipping the vertical timing column; remainder bits light.
    mutating func placeData(_ codewords: [UInt8]) {
        var bit = 0
        let totalBits = codewords.count * 8
        var right = size - 1
        while right >= 1 {
            if right == 6 { right = 5 }
            let upward = ((right + 1) & 2) == 0
            for step in 0..<size {
                let y = upward ? size - 1 - step : step
                for x in [right, right - 1] {
                    let index = y * size + x
                    guard !isFunction[index] else { continue }
                    if bit < totalBits {
                        dark[index] = (codewords[bit >> 3] >> (7 - (bit & 7))) & 1 == 1
                    }
                    bit += 1
                }
            }
            right -= 2
        }
    }

    /// XORs mask `mask` onto the non-function modules (applying it twice undoes it).
    mutating func applyMask(_ mask: Int) {
        for y in 0..<size {
            for x in 0..<size {
                let index = y * size + x
                guard !isFunction[index] else { continue }
                let flip: Bool
                switch mask {
                case 0: flip = (x + y) % 2 == 0
                case 1: flip = y % 2 == 0
                case 2: flip = x % 3 == 0
                case 3: flip = (x + y) % 3 == 0
                case 4: flip = (x / 3 + y / 2) % 2 == 0
                case 5: flip = x * y % 2 + x * y % 3 == 0
                case 6: flip = (x * y % 2 + x * y % 3) % 2 == 0
                default: flip = ((x + y) % 2 + x * y % 3) % 2 == 0
                }
                if flip { dark[index].toggle() }
            }
        }
    }

    mutating func drawFormatBits(errorCorrection: QRCode.ErrorCorrection, mask: Int) {
        let data = errorCorrection.formatBits << 3 | mask
        var remainder = data
        for _ in 0..<10 { remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537) }
        let bits = (data << 10 | remainder) ^ 0x5412
        func bit(_ index: Int) -> Bool { (bits >> index) & 1 == 1 }

        for index in 0...5 { setFunction(x: 8, y: index, dark: bit(index)) }
        setFunction(x: 8, y: 7, dark: bit(6))
        setFunction(x: 8, y: 8, dark: bit(7))
        setFunction(x: 7, y: 8, dark: bit(8))
        for index in 9..<15 { setFunction(x: 14 - index, y: 8, dark: bit(index)) }

        for index in 0..<8 { setFunction(x: size - 1 - index, y: 8, dark: bit(index)) }
        for index in 8..<15 { setFunction(x: 8, y: size - 15 + index, dark: bit(index)) }
        setFunction(x: 8, y: size - 8, dark: true)
    }

    mutating func drawVersionBits() {
        guard version >= 7 else { return }
        var remainder = version
        for _ in 0..<12 { remainder = (remainder << 1) ^ ((remainder >> 11) * 0x1F25) }
        let bits = version << 12 | remainder
        for index in 0..<18 {
            let value = (bits >> index) & 1 == 1
            let a = size - 11 + index % 3
            let b = index / 3
            setFunction(x: a, y: b, dark: value)
            setFunction(x: b, y: a, dark: value)
        }
    }

    /// The four penalty rules (see the top of the file).
    func penalty() -> Int {
        var total = 0
        let finderLike1 = 0b101_1101_0000
        let finderLike2 = 0b000_0101_1101
        for line in 0..<size {
            for horizontal in [true, false] {
                var runColor = false
                var runLength = 0
                var window = 0
                for along in 0..<size {
                    let value = horizontal ? dark[line * size + along] : dark[along * size + line]
                    if along > 0 && value == runColor {
                        runLength += 1
                    } else {
                        if runLength >= 5 { total += runLength - 2 }
                        runColor = value
                        runLength = 1
                    }
                    window = ((window << 1) | (value ? 1 : 0)) & 0x7FF
                    if along >= 10 && (window == finderLike1 || window == finderLike2) {
                        total += 40
                    }
                }
                if runLength >= 5 { total += runLength - 2 }
            }
        }

        for y in 0..<(size - 1) {
            for x in 0..<(size - 1) {
                let color = dark[y * size + x]
                if dark[y * size + x + 1] == color && dark[(y + 1) * size + x] == color
                    && dark[(y + 1) * size + x + 1] == color
                {
                    total += 3
                }
            }
        }

        let darkCount = dark.reduce(0) { $0 + ($1 ? 1 : 0) }
        // Double arithmetic as in Python qrcode, so that a boundary case rounds alike.
        let percent = Double(darkCount) / Double(size * size)
        total += Int((percent * 100 - 50).magnitude / 5) * 10
        return total
    }
}
