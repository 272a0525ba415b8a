/// A cursor over the ASCII bytes of a date or time written as text: the one
/// reader behind ``RFC3339Time`` (proof documents) and
/// ``SourceTimestampText`` (the source timestamp cells of a file), which
/// accept different forms from the same pieces.
struct DateTextScanner {
    private let bytes: [UInt8]
    private var index = 0

    init(_ text: String) {
        bytes = Array(text.utf8)
    }

    /// Whether every byte has been read.
    var atEnd: Bool { index == bytes.count }

    /// Reads exactly `digits` decimal digits; `nil` (and nothing read) when
    /// fewer follow.
    mutating func number(_ digits: Int) -> Int64? {
        guard bytes.count - index >= digits else { return nil }
        var value: Int64 = 0
        for offset in 0..<digits {
            guard let digit = Self.digit(bytes[index + offset]) else { return nil }
            value = value * 10 + digit
        }
        index += digits
        return value
    }

    /// Reads `ascii` when it is the next byte.
    mutating func take(_ ascii: Unicode.Scalar) -> Bool {
        guard index < bytes.count, bytes[index] == UInt8(ascii: ascii) else { return false }
        index += 1
        return true
    }

    /// Reads the digits that follow, however many, as a fraction
    /// (`"25"` → 0.25); `nil` when no digit follows.
    mutating func fraction() -> Double? {
        var value = 0.0
        var scale = 0.1
        let start = index
        while index < bytes.count, let digit = Self.digit(bytes[index]) {
            value += Double(digit) * scale
            scale /= 10
            index += 1
        }
        return index > start ? value : nil
    }

    private static func digit(_ byte: UInt8) -> Int64? {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? Int64(byte - UInt8(ascii: "0")) : nil
    }
}

/// The proleptic Gregorian calendar's month lengths.
enum GregorianMonth {
    /// The days of `month` (1–12) in `year`.
    static func days(_ month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
