/// Decodes a file's bytes, in chunks of any size (a character may be split
/// anywhere), into UTF-8 for the parsers, checking that every byte is text
/// in the file's encoding (``IntakeEncoding``). Memory is one chunk.
///
/// - UTF-8: checked and passed through without copying. A UTF-8 byte order
///   mark is skipped. A UTF-16 byte order mark (`FF FE`, `FE FF`) switches to
///   UTF-16 — Excel's "Unicode text" is UTF-16LE with one — and
///   ``effectiveEncoding`` says so.
/// - Windows-1252 and ISO-8859-1: every byte is one character; ASCII passes
///   through, the rest becomes its UTF-8. Undefined bytes are refused
///   (Windows-1252: 0x81, 0x8D, 0x8F, 0x90, 0x9D; ISO-8859-1: the C1
///   controls 0x80–0x9F, which in a text file mean Windows-1252).
/// - UTF-16LE/BE: surrogate pairs are joined; an unpaired surrogate is refused.
///
/// A byte order mark that contradicts the encoding asked for is refused, and
/// so is a file whose first bytes hold a NUL (UTF-16 without a byte order
/// mark, read as an 8-bit encoding). Errors (``IntakeError/Code/badEncoding``)
/// name the line (line breaks counted as the decoder meets them: LF, CRLF or
/// a lone CR) and say which `--encoding` to try.
public struct IntakeDecoder: Sendable {
    /// The encoding asked for.
    public let encoding: IntakeEncoding
    /// The encoding being read: ``encoding``, or UTF-16 when a file read as
    /// UTF-8 starts with a UTF-16 byte order mark.
    public private(set) var effectiveEncoding: IntakeEncoding
    /// The line being decoded (1-based).
    public private(set) var line = 1
    private var lastWasCR = false
    /// The first bytes, held until it is known whether they start with a byte order mark.
    private var head: [UInt8] = []
    private var started = false
    /// UTF-8: the start of a character cut by the end of a chunk; UTF-16: an odd byte.
    private var pending: [UInt8] = []
    /// UTF-16: a high surrogate waiting for its low one (0: none).
    private var highSurrogate: UInt16 = 0
    private var output: [UInt8] = []

    public init(encoding: IntakeEncoding = .utf8) {
        self.encoding = encoding
        effectiveEncoding = encoding
    }

    /// Decodes the next chunk; `emit` gets UTF-8 text (zero or more times;
    /// the buffer is valid only during the call).
    public mutating func decode(_ chunk: UnsafeRawBufferPointer, _ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard started else {
            let take = min(4 - head.count, chunk.count)
            head.append(contentsOf: chunk[0..<take])
            guard head.count == 4 else { return }
            try begin(emit)
            try process(UnsafeRawBufferPointer(rebasing: chunk[take...]), emit)
            return
        }
        try process(chunk, emit)
    }

    /// The end of the input: refuses a character cut short by it.
    public mutating func finish(_ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        if !started { try begin(emit) }
        if !pending.isEmpty || highSurrogate != 0 {
            throw IntakeError(
                .badEncoding, line: line, "the file ends in the middle of a \(effectiveEncoding.displayName) character",
                hint: "the file may be cut short, or not be \(effectiveEncoding.displayName): check --encoding")
        }
    }

    /// Decodes a whole input (tests, small inputs).
    public static func decode<Bytes: Collection<UInt8>>(_ bytes: Bytes, encoding: IntakeEncoding) throws -> [UInt8] {
        var decoder = IntakeDecoder(encoding: encoding)
        var result: [UInt8] = []
        try Array(bytes).withUnsafeBytes { raw in try decoder.decode(raw) { result.append(contentsOf: $0) } }
        try decoder.finish { result.append(contentsOf: $0) }
        return result
    }

    // MARK: - The start: byte order marks

    private mutating func begin(_ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        started = true
        let start = head
        head = []
        let skip = try byteOrderMark(start)
        try start.withUnsafeBytes { try process(UnsafeRawBufferPointer(rebasing: $0[skip...]), emit) }
    }

    /// How many bytes of the start are a byte order mark (skipped); refuses a
    /// mark that contradicts the encoding asked for.
    private mutating func byteOrderMark(_ start: [UInt8]) throws -> Int {
        func contradicts(_ found: String, use: String) -> IntakeError {
            IntakeError(
                .badEncoding, line: 1, "the file starts with a \(found) byte order mark, but --encoding says \(encoding.rawValue)",
                hint: use)
        }
        let eightBit = encoding == .windows1252 || encoding == .latin1
        if start.starts(with: [0xEF, 0xBB, 0xBF]) {
            guard encoding == .utf8 else { throw contradicts("UTF-8", use: "the file is UTF-8: leave out --encoding") }
            return 3
        }
        for (mark, found) in [([UInt8]([0xFF, 0xFE]), IntakeEncoding.utf16LE), ([0xFE, 0xFF], .utf16BE)] where start.starts(with: mark) {
            if encoding == .utf8 || encoding == found {
                effectiveEncoding = found
                return 2
            }
            throw contradicts(found.displayName, use: eightBit ? "the file is \(found.displayName): leave out --encoding" : "pass --encoding \(found.rawValue)")
        }
        if encoding == .utf8 || eightBit, start.prefix(2).contains(0) {
            throw IntakeError(
                .badEncoding, line: 1, "the file starts with a NUL byte: it looks like UTF-16 without a byte order mark",
                hint: "pass --encoding utf-16le (or utf-16be), or save the file as UTF-8")
        }
        return 0
    }

    // MARK: - Decoding

    private mutating func process(_ bytes: UnsafeRawBufferPointer, _ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard !bytes.isEmpty else { return }
        switch effectiveEncoding {
        case .utf8: try utf8(bytes, emit)
        case .windows1252, .latin1: try singleByte(bytes, emit)
        case .utf16LE: try utf16(bytes, bigEndian: false, emit)
        case .utf16BE: try utf16(bytes, bigEndian: true, emit)
        }
    }

    private mutating func utf8(_ bytes: UnsafeRawBufferPointer, _ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        let count = bytes.count
        var index = 0
        if !pending.isEmpty {
            // The rest of a character the previous chunk cut.
            let lead = pending[0]
            let length = Self.utf8Length(lead)
            while pending.count < length && index < count {
                guard Self.isContinuation(bytes[index], lead: lead, position: pending.count) else { throw notUTF8(lead) }
                pending.append(bytes[index])
                index += 1
            }
            guard pending.count == length else { return }
            try pending.withUnsafeBytes { try emit($0) }
            pending.removeAll(keepingCapacity: true)
            lastWasCR = false
        }
        let start = index
        var line = self.line
        var cr = lastWasCR
        defer {
            self.line = line
            lastWasCR = cr
        }
        while index < count {
            let byte = bytes[index]
            if byte < 0x80 {
                if byte == 0x0A {
                    if !cr { line += 1 }
                    cr = false
                } else if byte == 0x0D {
                    line += 1
                    cr = true
                } else {
                    cr = false
                }
                index += 1
                continue
            }
            cr = false
            let length = Self.utf8Length(byte)
            guard length > 0 else {
                self.line = line
                throw notUTF8(byte)
            }
            let available = min(length, count - index)
            for position in 1..<max(available, 1) where !Self.isContinuation(bytes[index + position], lead: byte, position: position) {
                self.line = line
                throw notUTF8(byte)
            }
            if available < length {
                if index > start { try emit(UnsafeRawBufferPointer(rebasing: bytes[start..<index])) }
                pending.append(contentsOf: bytes[index..<count])
                return
            }
            index += length
        }
        if count > start { try emit(UnsafeRawBufferPointer(rebasing: bytes[start..<count])) }
    }

    /// The length of the UTF-8 character `lead` starts; 0 when it cannot start one.
    private static func utf8Length(_ lead: UInt8) -> Int {
        switch lead {
        case 0xC2...0xDF: return 2
        case 0xE0...0xEF: return 3
        case 0xF0...0xF4: return 4
        default: return 0
        }
    }

    /// Whether `byte` can be the `position`th byte (1-based after the lead) of
    /// a character starting with `lead` (no overlong forms, surrogates or
    /// code points past U+10FFFF).
    private static func isContinuation(_ byte: UInt8, lead: UInt8, position: Int) -> Bool {
        if position == 1 {
            switch lead {
            case 0xE0: return (0xA0...0xBF).contains(byte)
            case 0xED: return (0x80...0x9F).contains(byte)
            case 0xF0: return (0x90...0xBF).contains(byte)
            case 0xF4: return (0x80...0x8F).contains(byte)
            default: break
            }
        }
        return byte & 0xC0 == 0x80
    }

    private func notUTF8(_ byte: UInt8) -> IntakeError {
        let hex = Self.hex(byte)
        if let scalar = Self.windows1252(byte) {
            return IntakeError(
                .badEncoding, line: line,
                "byte \(hex) is not UTF-8 (in Windows-1252 it is '\(Character(scalar))'): the file looks like Windows-1252",
                hint: "pass --encoding windows-1252 (Excel's plain \"CSV\"), or save the file as \"CSV UTF-8\"")
        }
        return IntakeError(
            .badEncoding, line: line, "byte \(hex) is not UTF-8",
            hint: "save the file as UTF-8, or pass --encoding with the encoding it has (utf-8, windows-1252, iso-8859-1, utf-16le, utf-16be)")
    }

    private mutating func singleByte(_ bytes: UnsafeRawBufferPointer, _ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        let latin1 = effectiveEncoding == .latin1
        let count = bytes.count
        output.removeAll(keepingCapacity: true)
        var start = 0
        var index = 0
        var line = self.line
        var cr = lastWasCR
        defer {
            self.line = line
            lastWasCR = cr
        }
        while index < count {
            let byte = bytes[index]
            if byte < 0x80 {
                if byte == 0x0A {
                    if !cr { line += 1 }
                    cr = false
                } else if byte == 0x0D {
                    line += 1
                    cr = true
                } else {
                    cr = false
                }
                index += 1
                continue
            }
            cr = false
            if index > start { output.append(contentsOf: bytes[start..<index]) }
            if byte >= 0xA0 {
                output.append(0xC0 | (byte >> 6))
                output.append(0x80 | (byte & 0x3F))
            } else if !latin1, let scalar = Self.windows1252(byte) {
                Self.appendUTF8(scalar.value, to: &output)
            } else {
                self.line = line
                throw latin1
                    ? IntakeError(
                        .badEncoding, line: line, "byte \(Self.hex(byte)) is a control character in ISO-8859-1: the file looks like Windows-1252",
                        hint: "pass --encoding windows-1252")
                    : IntakeError(
                        .badEncoding, line: line, "byte \(Self.hex(byte)) is not a character in Windows-1252",
                        hint: "check the file's encoding: save it as UTF-8, or pass --encoding with the encoding it has (utf-8, iso-8859-1, utf-16le)")
            }
            index += 1
            start = index
        }
        if output.isEmpty {
            try emit(bytes)
        } else {
            if count > start { output.append(contentsOf: bytes[start..<count]) }
            try output.withUnsafeBytes { try emit($0) }
        }
    }

    private mutating func utf16(_ bytes: UnsafeRawBufferPointer, bigEndian: Bool, _ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        output.removeAll(keepingCapacity: true)
        let count = bytes.count
        var index = 0
        func unit(_ a: UInt8, _ b: UInt8) -> UInt16 {
            bigEndian ? UInt16(a) << 8 | UInt16(b) : UInt16(b) << 8 | UInt16(a)
        }
        if let odd = pending.first {
            pending.removeAll(keepingCapacity: true)
            try utf16Unit(unit(odd, bytes[0]))
            index = 1
        }
        while index + 1 < count {
            try utf16Unit(unit(bytes[index], bytes[index + 1]))
            index += 2
        }
        if index < count { pending.append(bytes[index]) }
        if !output.isEmpty { try output.withUnsafeBytes { try emit($0) } }
    }

    private mutating func utf16Unit(_ unit: UInt16) throws {
        func unpaired() -> IntakeError {
            IntakeError(
                .badEncoding, line: line, "an unpaired UTF-16 surrogate (\(String(unit, radix: 16, uppercase: true)))",
                hint: "the file is not valid \(effectiveEncoding.displayName): check --encoding")
        }
        if highSurrogate != 0 {
            guard (0xDC00...0xDFFF).contains(unit) else { throw unpaired() }
            let scalar = 0x10000 + (UInt32(highSurrogate - 0xD800) << 10) + UInt32(unit - 0xDC00)
            highSurrogate = 0
            Self.appendUTF8(scalar, to: &output)
            lastWasCR = false
            return
        }
        switch unit {
        case 0xD800...0xDBFF:
            highSurrogate = unit
        case 0xDC00...0xDFFF:
            throw unpaired()
        default:
            if unit == 0x0A {
                if !lastWasCR { line += 1 }
                lastWasCR = false
            } else if unit == 0x0D {
                line += 1
                lastWasCR = true
            } else {
                lastWasCR = false
            }
            Self.appendUTF8(UInt32(unit), to: &output)
        }
    }

    // MARK: - Tables

    /// Windows-1252's characters for 0x80–0x9F; 0 where it has none.
    private static let windows1252High: [UInt16] = [
        0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
        0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
    ]

    /// The character `byte` is in Windows-1252 (`nil` for its five undefined bytes).
    static func windows1252(_ byte: UInt8) -> Unicode.Scalar? {
        if byte < 0x80 || byte >= 0xA0 { return Unicode.Scalar(byte) }
        let value = windows1252High[Int(byte - 0x80)]
        return value == 0 ? nil : Unicode.Scalar(value)
    }

    static func appendUTF8(_ scalar: UInt32, to buffer: inout [UInt8]) {
        switch scalar {
        case ..<0x80:
            buffer.append(UInt8(scalar))
        case ..<0x800:
            buffer.append(UInt8(0xC0 | (scalar >> 6)))
            buffer.append(UInt8(0x80 | (scalar & 0x3F)))
        case ..<0x10000:
            buffer.append(UInt8(0xE0 | (scalar >> 12)))
            buffer.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            buffer.append(UInt8(0x80 | (scalar & 0x3F)))
        default:
            buffer.append(UInt8(0xF0 | (scalar >> 18)))
            buffer.append(UInt8(0x80 | ((scalar >> 12) & 0x3F)))
            buffer.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            buffer.append(UInt8(0x80 | (scalar & 0x3F)))
        }
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        return "0x" + String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]], as: UTF8.self)
    }
}
