import Testing

@testable import SyncLedgerCore

/// `text` in Windows-1252 (every character of it must have a byte there).
func windows1252(_ text: String) -> [UInt8] {
    let high: [Unicode.Scalar: UInt8] = ["€": 0x80, "‚": 0x82, "„": 0x84, "…": 0x85, "‘": 0x91, "’": 0x92, "“": 0x93, "”": 0x94, "–": 0x96, "—": 0x97, "™": 0x99, "Œ": 0x8C, "œ": 0x9C, "Š": 0x8A, "š": 0x9A, "Ÿ": 0x9F]
    return text.unicodeScalars.map { scalar in
        if let byte = high[scalar] { return byte }
        precondition(scalar.value < 0x80 || (0xA0...0xFF).contains(scalar.value), "no Windows-1252 byte for \(scalar)")
        return UInt8(scalar.value)
    }
}

/// `text` in UTF-16, with a byte order mark when asked.
func utf16(_ text: String, bigEndian: Bool, mark: Bool = true) -> [UInt8] {
    var bytes: [UInt8] = []
    for unit in (mark ? "\u{FEFF}" + text : text).utf16 {
        let (high, low) = (UInt8(unit >> 8), UInt8(unit & 0xFF))
        bytes += bigEndian ? [high, low] : [low, high]
    }
    return bytes
}

/// Decodes `bytes` fed in two chunks split at `split`, then in chunks of `size`.
func decodeSplit(_ bytes: [UInt8], at split: Int, encoding: IntakeEncoding) throws -> [UInt8] {
    var decoder = IntakeDecoder(encoding: encoding)
    var out: [UInt8] = []
    try Array(bytes[..<split]).withUnsafeBytes { raw in try decoder.decode(raw) { out.append(contentsOf: $0) } }
    try Array(bytes[split...]).withUnsafeBytes { raw in try decoder.decode(raw) { out.append(contentsOf: $0) } }
    try decoder.finish { out.append(contentsOf: $0) }
    return out
}

@Suite("IntakeDecoder: encodings to UTF-8, streamed")
struct IntakeDecoderTests {
    static let text = "Nr;Name;Betrag\r\nE1;René Müller;4200,50 €\r\nE2;“Zoë” – Œuvre;1.234,56\r\nE3;😀 東京;0\r\n"

    @Test func utf8PassesThroughAndItsByteOrderMarkIsSkipped() throws {
        #expect(try IntakeDecoder.decode(Array(Self.text.utf8), encoding: .utf8) == Array(Self.text.utf8))
        #expect(try IntakeDecoder.decode(Array(("\u{FEFF}" + Self.text).utf8), encoding: .utf8) == Array(Self.text.utf8))
        #expect(try IntakeDecoder.decode([UInt8](), encoding: .utf8) == [])
        #expect(try IntakeDecoder.decode(Array("ab".utf8), encoding: .utf8) == Array("ab".utf8))
    }

    @Test(arguments: [IntakeEncoding.utf8, .windows1252, .utf16LE, .utf16BE])
    func chunkBoundariesAtEveryBytePosition(encoding: IntakeEncoding) throws {
        let text = encoding == .windows1252 ? "Nr;Name\r\nE1;René € “x” Ÿ\r\nE2;Œuvre – ÿ\r\n" : Self.text
        let bytes: [UInt8]
        switch encoding {
        case .utf8: bytes = Array(("\u{FEFF}" + text).utf8)
        case .windows1252, .latin1: bytes = windows1252(text)
        case .utf16LE: bytes = utf16(text, bigEndian: false)
        case .utf16BE: bytes = utf16(text, bigEndian: true)
        }
        // UTF-16 with a byte order mark is read by the UTF-8 default too.
        let readAs = encoding == .windows1252 ? encoding : .utf8
        for split in 0...bytes.count {
            #expect(try decodeSplit(bytes, at: split, encoding: readAs) == Array(text.utf8), "split at \(split)")
        }
        // And byte by byte.
        var decoder = IntakeDecoder(encoding: readAs)
        var out: [UInt8] = []
        for byte in bytes { try [byte].withUnsafeBytes { raw in try decoder.decode(raw) { out.append(contentsOf: $0) } } }
        try decoder.finish { out.append(contentsOf: $0) }
        #expect(out == Array(text.utf8))
        #expect(decoder.effectiveEncoding == encoding)
    }

    @Test func everyWindows1252ByteDecodesOrIsRefused() throws {
        let undefined: Set<UInt8> = [0x81, 0x8D, 0x8F, 0x90, 0x9D]
        for byte in UInt8(0x80)...UInt8(0xFF) {
            let input: [UInt8] = [UInt8(ascii: "a"), byte, UInt8(ascii: "b")]
            if undefined.contains(byte) {
                let error = try #require(throws: IntakeError.self) { try IntakeDecoder.decode(input, encoding: .windows1252) }
                #expect(error.code == .badEncoding)
                #expect(error.message.contains("not a character in Windows-1252"), "\(error)")
            } else {
                let decoded = String(decoding: try IntakeDecoder.decode(input, encoding: .windows1252), as: UTF8.self)
                #expect(decoded.unicodeScalars.count == 3, "byte \(byte)")
            }
        }
        #expect(try IntakeDecoder.decode([0x80, 0xE9, 0x9F, 0xFF], encoding: .windows1252) == Array("€éŸÿ".utf8))
    }

    @Test func latin1DecodesAndRefusesItsControlBytes() throws {
        #expect(try IntakeDecoder.decode([0x41, 0xE9, 0xA0, 0xFF], encoding: .latin1) == Array("Aé\u{A0}ÿ".utf8))
        let error = try #require(throws: IntakeError.self) { try IntakeDecoder.decode(Array("a\nb\n".utf8) + [0x80], encoding: .latin1) }
        #expect(error.code == .badEncoding)
        #expect(error.line == 3)
        #expect(error.hint?.contains("--encoding windows-1252") == true)
    }

    @Test func windows1252ReadAsUTF8IsRefusedWithTheLineAndAHint() throws {
        let bytes = windows1252("Nr;Name\r\nE1;Ann\r\nE2;René\r\n")
        let error = try #require(throws: IntakeError.self) { try IntakeDecoder.decode(bytes, encoding: .utf8) }
        #expect(error.code == .badEncoding)
        #expect(error.line == 3)
        #expect(error.message.contains("0xE9"), "\(error)")
        #expect(error.message.contains("'é'"), "\(error)")
        #expect(error.hint?.contains("--encoding windows-1252") == true, "\(error)")
        // Whatever the chunks.
        for split in 0...bytes.count {
            let again = try #require(throws: IntakeError.self) { try decodeSplit(bytes, at: split, encoding: .utf8) }
            #expect(again.line == 3)
        }
        // A byte Windows-1252 does not have either: no such hint.
        let other = try #require(throws: IntakeError.self) { try IntakeDecoder.decode([0x61, 0x81], encoding: .utf8) }
        #expect(other.hint?.contains("windows-1252") == true)
        #expect(!other.message.contains("looks like"))
    }

    @Test(
        "invalid UTF-8 is refused",
        arguments: [
            [0xC0, 0x80], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80], [0xBF], [0xE2, 0x82],
            [0xE2, 0x82, 0x41],
        ] as [[UInt8]])
    func invalidUTF8(bytes: [UInt8]) throws {
        let error = try #require(throws: IntakeError.self) { try IntakeDecoder.decode(Array("x\n".utf8) + bytes, encoding: .utf8) }
        #expect(error.code == .badEncoding)
        #expect(error.line == 2)
    }

    @Test func lineNumbersCountLFCRLFAndLoneCR() throws {
        let error = try #require(throws: IntakeError.self) {
            try IntakeDecoder.decode(Array("a\r\nb\rc\nd\r\n\r\n".utf8) + [0xFF], encoding: .utf8)
        }
        #expect(error.line == 6)
    }

    @Test func utf16ByteOrderMarks() throws {
        let text = "a;b\r\n😀;é\r\n"
        for encoding in [IntakeEncoding.utf8, .utf16LE] {
            #expect(try IntakeDecoder.decode(utf16(text, bigEndian: false), encoding: encoding) == Array(text.utf8))
        }
        #expect(try IntakeDecoder.decode(utf16(text, bigEndian: false, mark: false), encoding: .utf16LE) == Array(text.utf8))
        #expect(try IntakeDecoder.decode(utf16(text, bigEndian: true, mark: false), encoding: .utf16BE) == Array(text.utf8))
        // A mark that contradicts the encoding asked for.
        let wrong = try #require(throws: IntakeError.self) { try IntakeDecoder.decode(utf16(text, bigEndian: true), encoding: .utf16LE) }
        #expect(wrong.code == .badEncoding)
        let eightBit = try #require(throws: IntakeError.self) { try IntakeDecoder.decode(utf16(text, bigEndian: false), encoding: .windows1252) }
        #expect(eightBit.hint?.contains("leave out --encoding") == true, "\(eightBit)")
        let bom = try #require(throws: IntakeError.self) { try IntakeDecoder.decode(Array("\u{FEFF}a".utf8), encoding: .windows1252) }
        #expect(bom.message.contains("UTF-8 byte order mark"), "\(bom)")
        // UTF-16 without a mark, read as UTF-8.
        let noMark = try #require(throws: IntakeError.self) { try IntakeDecoder.decode(utf16(text, bigEndian: false, mark: false), encoding: .utf8) }
        #expect(noMark.hint?.contains("--encoding utf-16le") == true, "\(noMark)")
    }

    @Test func brokenUTF16IsRefused() throws {
        // An unpaired high surrogate, a lone low one, an odd byte at the end.
        for bytes in [[0xFF, 0xFE, 0x3D, 0xD8, 0x41, 0x00], [0xFF, 0xFE, 0x00, 0xDC], [0xFF, 0xFE, 0x41, 0x00, 0x42], [0xFF, 0xFE, 0x3D, 0xD8]] as [[UInt8]] {
            let error = try #require(throws: IntakeError.self) { try IntakeDecoder.decode(bytes, encoding: .utf8) }
            #expect(error.code == .badEncoding, "\(bytes)")
        }
    }

    @Test func aCharacterCutByTheEndOfTheFileIsRefused() throws {
        let error = try #require(throws: IntakeError.self) { try IntakeDecoder.decode([0x61, 0x0A, 0xE2, 0x82], encoding: .utf8) }
        #expect(error.code == .badEncoding)
        #expect(error.line == 2)
        #expect(error.message.contains("ends in the middle"))
    }
}
