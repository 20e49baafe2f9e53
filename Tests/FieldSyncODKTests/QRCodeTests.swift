import Foundation
import Testing

@testable import FieldSyncODK

/// One matrix that Python's qrcode made (Fixtures/qr, see its README.md and manifest.txt).
struct QRFixture: CustomTestStringConvertible, Sendable {
    let file: String
    let input: String
    let level: QRCode.ErrorCorrection
    let version: Int
    let mask: Int
    /// The mask was forced (file name `…-maskN.txt`); otherwise qrcode chose it.
    let forced: Bool

    var testDescription: String { file }

    static func url(_ name: String) -> URL? {
        Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures/qr")
    }

    static func bytes(_ name: String) throws -> [UInt8] {
        let found = try #require(url(name), "missing fixture \(name)")
        return Array(try Data(contentsOf: found))
    }

    static func text(_ name: String) throws -> String {
        String(decoding: try bytes(name), as: UTF8.self)
    }

    /// The manifest's rows; empty when it cannot be read (`manifestIsComplete` fails then).
    static let all: [QRFixture] = {
        guard let url = url("manifest.txt"), let data = try? Data(contentsOf: url) else { return [] }
        let levels: [String: QRCode.ErrorCorrection] = ["L": .low, "M": .medium, "Q": .quartile, "H": .high]
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#") else { return nil }
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count == 5, let level = levels[fields[2]], let version = Int(fields[3]),
                let mask = Int(fields[4])
            else { return nil }
            return QRFixture(
                file: fields[0], input: fields[1], level: level, version: version, mask: mask,
                forced: fields[0].contains("-mask"))
        }
    }()
}

@Suite struct QRCodeTests {
    @Test func manifestIsComplete() {
        // 12 chosen-mask matrices, 16 forced masks, 40 versions.
        #expect(QRFixture.all.count == 68)
        #expect(Set(QRFixture.all.map(\.version)) == Set(1...40))
        #expect(Set(QRFixture.all.filter(\.forced).map(\.mask)) == Set(0...7))
    }

    /// The whole matrix, the version and (unless forced) the mask equal qrcode's.
    @Test(arguments: QRFixture.all)
    func matchesPythonQRCode(_ fixture: QRFixture) throws {
        let bytes = try QRFixture.bytes(fixture.input + ".bin")
        let rows = try QRFixture.text(fixture.file).split(separator: "\n")
        let code = try QRCode(
            encoding: bytes, errorCorrection: fixture.level, mask: fixture.forced ? fixture.mask : nil)
        #expect(code.version == fixture.version)
        #expect(code.mask == fixture.mask)
        #expect(code.size == 4 * fixture.version + 17)
        try #require(rows.count == code.size)
        var mismatches: [String] = []
        for (y, row) in rows.enumerated() {
            #expect(row.count == code.size)
            for (x, character) in row.enumerated() where (character == "1") != code.isDark(x: x, y: y) {
                mismatches.append("(\(x),\(y))")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) modules differ: \(mismatches.prefix(20))")
    }

    @Test func publicInitialiserChoosesTheMaskAndDefaultsToM() throws {
        let bytes = try QRFixture.bytes("settings200.bin")
        let code = try QRCode(encoding: bytes)
        #expect(code.errorCorrection == .medium)
        let expected = try #require(QRFixture.all.first { $0.file == "settings200-M.txt" })
        #expect(code == (try QRCode(encoding: bytes, errorCorrection: .medium, mask: expected.mask)))
    }

    @Test(arguments: [
        (QRCode.ErrorCorrection.low, 2953), (.medium, 2331), (.quartile, 1663), (.high, 1273),
    ])
    func version40Capacity(_ level: QRCode.ErrorCorrection, _ maximum: Int) throws {
        let fits = try QRCode(encoding: [UInt8](repeating: 0x41, count: maximum), errorCorrection: level)
        #expect(fits.version == 40)
        #expect(fits.size == 177)
        #expect(throws: QRCodeError.dataTooLong(byteCount: maximum + 1, maximum: maximum)) {
            try QRCode(encoding: [UInt8](repeating: 0x41, count: maximum + 1), errorCorrection: level)
        }
    }

    @Test func tooLargeInputThrowsTypedError() {
        do {
            _ = try QRCode(encoding: [UInt8](repeating: 0, count: 100_000))
            Issue.record("expected dataTooLong")
        } catch {
            // `error` is QRCodeError (typed throws).
            #expect(error == .dataTooLong(byteCount: 100_000, maximum: 2331))
        }
    }

    @Test func invalidForcedMaskThrows() {
        #expect(throws: QRCodeError.invalidMask(8)) {
            try QRCode(encoding: [1, 2, 3], errorCorrection: .low, mask: 8)
        }
        #expect(throws: QRCodeError.invalidMask(-1)) {
            try QRCode(encoding: [1, 2, 3], errorCorrection: .low, mask: -1)
        }
    }

    @Test func emptyInputIsVersion1() throws {
        let code = try QRCode(encoding: [], errorCorrection: .high)
        #expect(code.version == 1)
        #expect(code.size == 21)
    }

    @Test func isDarkOutsideTheSymbolIsLight() throws {
        let code = try QRCode(encoding: Array("FieldSync".utf8))
        #expect(code.isDark(x: 0, y: 0))  // finder corner
        #expect(!code.isDark(x: -1, y: 0))
        #expect(!code.isDark(x: 0, y: code.size))
        #expect(!code.isDark(x: Int.max, y: Int.min))
    }

    @Test(arguments: [0, 1, 2, 4], [QRCode.TerminalStyle.lightOnDark, .darkOnLight])
    func terminalTextLinesAndWidth(quietZone: Int, style: QRCode.TerminalStyle) throws {
        for input in ["FieldSync", String(repeating: "x", count: 300)] {
            let code = try QRCode(encoding: Array(input.utf8))
            let text = code.terminalText(quietZone: quietZone, style: style)
            #expect(text.hasSuffix("\n"))
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            let side = code.size + 2 * quietZone
            #expect(lines.count == (side + 1) / 2)
            for line in lines {
                #expect(line.count == side)
                #expect(line.allSatisfy { " ▀▄█".contains($0) })
            }
        }
    }

    /// Reading the glyphs back (upper half, lower half) gives every module and a light quiet
    /// zone: dark = ink for `.darkOnLight`, dark = no ink for `.lightOnDark`.
    @Test(arguments: [QRCode.TerminalStyle.lightOnDark, .darkOnLight], [0, 3])
    func terminalTextRoundTrips(style: QRCode.TerminalStyle, quietZone: Int) throws {
        let code = try QRCode(encoding: try QRFixture.bytes("settings200.bin"), errorCorrection: .medium)
        let lines = code.terminalText(quietZone: quietZone, style: style).split(separator: "\n")
        let side = code.size + 2 * quietZone
        var wrong = 0
        for (lineIndex, line) in lines.enumerated() {
            for (column, glyph) in line.enumerated() {
                let ink: (top: Bool, bottom: Bool) =
                    switch glyph {
                    case "█": (true, true)
                    case "▀": (true, false)
                    case "▄": (false, true)
                    default: (false, false)
                    }
                for (row, inked) in [(2 * lineIndex, ink.top), (2 * lineIndex + 1, ink.bottom)] where row < side {
                    let dark = style == .darkOnLight ? inked : !inked
                    if dark != code.isDark(x: column - quietZone, y: row - quietZone) { wrong += 1 }
                }
            }
        }
        #expect(wrong == 0)
    }

    @Test func terminalTextNegativeQuietZoneIsNone() throws {
        let code = try QRCode(encoding: Array("FieldSync".utf8))
        #expect(code.terminalText(quietZone: -3) == code.terminalText(quietZone: 0))
    }

    /// Same characters as qrcode's print_ascii(border=2), no-break spaces as spaces:
    /// invert=False is `.darkOnLight`, invert=True (qrencode -t UTF8's convention) `.lightOnDark`.
    @Test func terminalTextMatchesPythonPrintASCII() throws {
        let code = try QRCode(encoding: try QRFixture.bytes("short.bin"), errorCorrection: .medium)
        #expect(code.terminalText(quietZone: 2, style: .darkOnLight) == (try QRFixture.text("terminal-short-M-plain.txt")))
        #expect(code.terminalText(quietZone: 2, style: .lightOnDark) == (try QRFixture.text("terminal-short-M-inverted.txt")))
        #expect(code.terminalText() == code.terminalText(quietZone: 2, style: .lightOnDark))
    }

    @Test func svgDrawsEveryDarkModule() throws {
        let code = try QRCode(encoding: Array("FieldSync".utf8))
        let svg = code.svg(moduleSize: 4, quietZone: 4)
        let side = (code.size + 8) * 4
        #expect(svg.contains("viewBox=\"0 0 \(side) \(side)\""))
        var dark = 0
        for y in 0..<code.size { for x in 0..<code.size where code.isDark(x: x, y: y) { dark += 1 } }
        #expect(svg.filter { $0 == "z" }.count == dark)
    }
}
