/// A streaming JSON Lines parser: one JSON object per line, bytes in, in
/// chunks of any size, records out with their line numbers. Memory is one line.
///
/// Each line is an object whose members are the record's columns, in the
/// order written. Values become text the way a CSV cell would hold them:
/// strings as they are, numbers exactly as written (`1.50` stays `1.50`, no
/// rounding through a double), `true`/`false` as those words, `null` as no
/// value, and a nested object or array as its JSON text (for `json`/`jsonb`
/// columns). Blank lines are skipped; CRLF line ends are accepted; a UTF-8
/// byte order mark at the start is skipped.
///
/// Refused, naming the line and the character: anything that is not one JSON
/// object per line, a key given twice, and text that is not UTF-8.
public struct JSONLinesParser: Sendable {
    /// One object: its keys and values in the order written; `nil` is JSON `null`.
    public struct Record: Sendable, Equatable {
        public var line: Int
        public var keys: [String]
        public var values: [String?]

        public init(line: Int, keys: [String], values: [String?]) {
            self.line = line
            self.keys = keys
            self.values = values
        }
    }

    /// Nesting deeper than this is refused (it would only serve to exhaust the stack).
    public static let maxDepth = 64

    private var buffer: [UInt8] = []
    private var line = 0
    private var started = false

    public init() {}

    /// Parses the next chunk of the input; calls `emit` for every complete line's object.
    public mutating func parse(_ chunk: UnsafeRawBufferPointer, _ emit: (Record) throws -> Void) throws {
        var start = 0
        var index = 0
        while index < chunk.count {
            if chunk[index] == UInt8(ascii: "\n") {
                buffer.append(contentsOf: chunk[start..<index])
                try endLine(emit)
                start = index + 1
            }
            index += 1
        }
        if start < chunk.count { buffer.append(contentsOf: chunk[start...]) }
    }

    /// Parses a chunk given as bytes (tests, small inputs).
    public mutating func parse<Bytes: Collection<UInt8>>(_ bytes: Bytes, _ emit: (Record) throws -> Void) throws {
        try Array(bytes).withUnsafeBytes { try parse($0, emit) }
    }

    /// The end of the input: the last line need not end with a line break.
    public mutating func finish(_ emit: (Record) throws -> Void) throws {
        if !buffer.isEmpty { try endLine(emit) }
    }

    /// Parses every line of `text` (tests, small inputs).
    public static func records(_ text: String) throws -> [Record] {
        var parser = JSONLinesParser()
        var records: [Record] = []
        try parser.parse(Array(text.utf8)) { records.append($0) }
        try parser.finish { records.append($0) }
        return records
    }

    private mutating func endLine(_ emit: (Record) throws -> Void) throws {
        line += 1
        defer { buffer.removeAll(keepingCapacity: true) }
        var from = 0
        if !started {
            started = true
            if buffer.starts(with: [0xEF, 0xBB, 0xBF]) { from = 3 }
        }
        var to = buffer.count
        if to > from && buffer[to - 1] == UInt8(ascii: "\r") { to -= 1 }
        let line = self.line
        try buffer.withUnsafeBytes { raw in
            let text = UnsafeRawBufferPointer(rebasing: raw[from..<to])
            var reader = ObjectReader(bytes: text, line: line)
            if let record = try reader.object() { try emit(record) }
        }
    }
}

/// Reads one line as a JSON object (RFC 8259 grammar).
private struct ObjectReader {
    let bytes: UnsafeRawBufferPointer
    let line: Int
    var index = 0

    init(bytes: UnsafeRawBufferPointer, line: Int) {
        self.bytes = bytes
        self.line = line
    }

    /// The line's object, or nil for a blank line.
    mutating func object() throws -> JSONLinesParser.Record? {
        skipSpace()
        guard index < bytes.count else { return nil }
        guard bytes[index] == UInt8(ascii: "{") else {
            throw error("expected a JSON object ({...}) on every line", hint: "JSON Lines holds one object per line, e.g. {\"employee_id\": \"E100\", \"email\": \"a@example.org\"}")
        }
        index += 1
        var keys: [String] = []
        var values: [String?] = []
        var seen = Set<String>()
        skipSpace()
        if peek() == UInt8(ascii: "}") {
            index += 1
        } else {
            while true {
                skipSpace()
                guard peek() == UInt8(ascii: "\"") else { throw error("expected a key in double quotes") }
                let keyStart = index
                let key = try string()
                guard seen.insert(key).inserted else {
                    index = keyStart
                    throw IntakeError(.malformed, line: line, column: key, "the key appears twice in this object")
                }
                skipSpace()
                guard peek() == UInt8(ascii: ":") else { throw error("expected ':' after the key") }
                index += 1
                skipSpace()
                keys.append(key)
                values.append(try value(depth: 1))
                skipSpace()
                guard let next = peek() else { throw error("the object is not closed before the end of the line", hint: "one object per line: a line break inside an object ends it; write line breaks in strings as \\n") }
                index += 1
                if next == UInt8(ascii: "}") { break }
                guard next == UInt8(ascii: ",") else {
                    index -= 1
                    throw error("expected ',' or '}' after a value")
                }
            }
        }
        skipSpace()
        guard index == bytes.count else { throw error("text after the end of the object (one object per line)") }
        return JSONLinesParser.Record(line: line, keys: keys, values: values)
    }

    private func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipSpace() {
        while index < bytes.count {
            let b = bytes[index]
            guard b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A else { return }
            index += 1
        }
    }

    private func error(_ message: String, hint: String? = nil) -> IntakeError {
        IntakeError(.malformed, line: line, "\(message) (at byte \(index + 1) of the line)", hint: hint)
    }

    /// A member's value as text; nil for null.
    private mutating func value(depth: Int) throws -> String? {
        guard let first = peek() else { throw error("expected a value") }
        switch first {
        case UInt8(ascii: "\""):
            return try string()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let start = index
            try skipNested(depth: depth)
            return String(decoding: bytes[start..<index], as: UTF8.self)
        case UInt8(ascii: "t"):
            try literal("true")
            return "true"
        case UInt8(ascii: "f"):
            try literal("false")
            return "false"
        case UInt8(ascii: "n"):
            try literal("null")
            return nil
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try number()
        default:
            throw error("expected a value (a string, number, true, false, null, object or array)")
        }
    }

    private mutating func literal(_ word: StaticString) throws {
        let text = UnsafeRawBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        guard bytes.count - index >= text.count, bytes[index..<(index + text.count)].elementsEqual(text) else {
            throw error("expected a value (a string, number, true, false, null, object or array)")
        }
        index += text.count
    }

    /// A number, exactly as written, after checking its grammar.
    private mutating func number() throws -> String {
        let start = index
        func digits() -> Int {
            let from = index
            while let b = peek(), b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") { index += 1 }
            return index - from
        }
        if peek() == UInt8(ascii: "-") { index += 1 }
        if peek() == UInt8(ascii: "0") {
            index += 1
        } else if digits() == 0 {
            throw error("not a number")
        }
        if peek() == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { throw error("not a number: digits expected after the decimal point") }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            index += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw error("not a number: digits expected in the exponent") }
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    /// A string (the opening quote at `index`), escapes decoded.
    private mutating func string() throws -> String {
        index += 1
        var out: [UInt8] = []
        while true {
            guard let b = peek() else { throw error("a string is not closed before the end of the line") }
            switch b {
            case UInt8(ascii: "\""):
                index += 1
                guard let text = String(validating: out, as: UTF8.self) else {
                    throw error("the text is not valid UTF-8", hint: "save the file as UTF-8")
                }
                return text
            case UInt8(ascii: "\\"):
                index += 1
                guard let escape = peek() else { throw error("a string is not closed before the end of the line") }
                index += 1
                switch escape {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard peek() == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u") else {
                            throw error("a \\u escape of a high surrogate must be followed by its low surrogate")
                        }
                        index += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else {
                            throw error("a \\u escape of a high surrogate must be followed by its low surrogate")
                        }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw error("a \\u escape that is not a character") }
                    out.append(contentsOf: String(Character(unicode)).utf8)
                default:
                    throw error("unknown escape \\\(Character(Unicode.Scalar(escape))) in a string")
                }
            case 0x00..<0x20:
                throw error("a control character inside a string (write a line break as \\n, a tab as \\t)")
            default:
                // The run of ordinary bytes at once.
                var end = index
                while end < bytes.count {
                    let c = bytes[end]
                    if c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") || c < 0x20 { break }
                    end += 1
                }
                out.append(contentsOf: bytes[index..<end])
                index = end
            }
        }
    }

    private mutating func hex4() throws -> UInt32 {
        guard bytes.count - index >= 4 else { throw error("a \\u escape needs four hexadecimal digits") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[index]
            let digit: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(b - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(b - UInt8(ascii: "A") + 10)
            default: throw error("a \\u escape needs four hexadecimal digits")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    /// Checks a nested object or array and moves past it.
    private mutating func skipNested(depth: Int) throws {
        guard depth <= JSONLinesParser.maxDepth else { throw error("values nested more than \(JSONLinesParser.maxDepth) deep") }
        let open = bytes[index]
        let close = open == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
        index += 1
        skipSpace()
        if peek() == close {
            index += 1
            return
        }
        while true {
            skipSpace()
            if open == UInt8(ascii: "{") {
                guard peek() == UInt8(ascii: "\"") else { throw error("expected a key in double quotes") }
                _ = try string()
                skipSpace()
                guard peek() == UInt8(ascii: ":") else { throw error("expected ':' after the key") }
                index += 1
                skipSpace()
            }
            if let b = peek(), b == UInt8(ascii: "{") || b == UInt8(ascii: "[") {
                try skipNested(depth: depth + 1)
            } else {
                _ = try value(depth: depth + 1)
            }
            skipSpace()
            guard let next = peek() else { throw error("a nested value is not closed before the end of the line") }
            index += 1
            if next == close { return }
            guard next == UInt8(ascii: ",") else {
                index -= 1
                throw error("expected ',' or '\(Character(Unicode.Scalar(close)))' in a nested value")
            }
        }
    }
}
