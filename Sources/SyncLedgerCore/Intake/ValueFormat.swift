/// What kind of value a column takes, as far as a file's conventions for
/// numbers and dates are concerned (``ValueFormat``).
public enum ValueKind: Sendable, Equatable {
    /// Anything else (`text`, `boolean`, `uuid`, `json`, arrays, domains…): passed through.
    case text
    /// `smallint`, `integer`, `bigint`: whole numbers.
    case integer
    /// `numeric`, `numeric(p,s)`, `decimal`.
    case decimal
    /// `real`, `double precision`.
    case float
    /// `date`.
    case date
    /// `timestamp`, `timestamp with time zone` (and with a precision).
    case timestamp

    /// The kind of a column of PostgreSQL type `sqlType`, as
    /// `format_type(atttypid, atttypmod)` writes it (``Column/sqlType``):
    /// `numeric(12,2)`, `timestamp(3) with time zone`, `integer[]`…
    /// Arrays, domains and other types are ``text`` (passed through; the
    /// database checks them). `money` is ``text`` too: its input depends on
    /// the server's `lc_monetary`.
    public init(sqlType: String) {
        let type = sqlType.lowercased()
        if type.hasSuffix("]") {
            self = .text
            return
        }
        let base = type.prefix { $0 != "(" }.trimmingSpaces
        switch base {
        case "smallint", "integer", "bigint", "int", "int2", "int4", "int8": self = .integer
        case "numeric", "decimal": self = .decimal
        case "real", "double precision", "float4", "float8": self = .float
        case "date": self = .date
        case "timestamp", "timestamp with time zone", "timestamp without time zone", "timestamptz": self = .timestamp
        default: self = base.hasPrefix("timestamp") ? .timestamp : .text
        }
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}

/// How a file writes numbers and dates, and what a cell becomes for the
/// database: applied per cell, given the kind of its target column
/// (``ValueKind``). Pure, and works on the cell's UTF-8 bytes (no
/// Foundation formatters, no regular expressions).
///
/// Only what the file's conventions make wrong is rewritten or refused.
/// Everything else goes to the database as it is, which checks every value
/// against its column when the job runs (a bad one fails its item, as
/// before): `1990-02-30` or `abc` in a date or numeric column is the
/// database's to refuse; `07/03/1985` or `4200,50` is this type's, because
/// the database would read them the wrong way or not at all.
///
/// **Numbers** (``ValueKind/integer``, ``ValueKind/decimal``,
/// ``ValueKind/float``): an optional sign, digits, an optional decimal part
/// and exponent. The decimal mark is `.`, or `,` with ``decimalComma``.
/// Thousands separators are the other one of `.` and `,`, a space, a
/// no-break space (U+00A0), a narrow no-break space (U+202F) or a thin space
/// (U+2009): groups of exactly three digits after a first group of one to
/// three (not starting with 0), the same separator throughout. The result
/// has no separators and a decimal point: `1.234,56` → `1234.56` with a
/// decimal comma, `1,234.56` and `1 234.56` → `1234.56` without.
/// - With ``decimalComma`` every number must be well-formed in that
///   convention (`NaN` and `Infinity` pass): `4,200.50` or `4200.50` is
///   refused (the hint says to leave out `--decimal-comma`).
/// - Without it, a value with no comma and no space passes untouched
///   (fast); one with a comma that is no thousands separator — `4200,50`,
///   `0,5` — is refused with a hint naming `--decimal-comma`.
/// - In both, a lone group that could as well be decimals is refused as
///   ambiguous: `1,234` without a decimal comma (1234, or a forgotten
///   `--decimal-comma`?), `1.234` with one. `1 234`, `1,234,567`, `1,234.0`
///   are unambiguous.
///
/// **Dates** (``ValueKind/date``, and the date part of ``ValueKind/timestamp``):
/// - A date starting with a 4-digit year has no order to get wrong: ISO
///   `YYYY-MM-DD` passes untouched, `1985/3/7` or `1985.03.07` becomes
///   `1985-03-07` when it is a real date, and anything else is left to the
///   database. So are words (`infinity`, `7 March 1985`), times and longer
///   runs of digits (`19850307`).
/// - A date starting with a day or a month (up to three digits, then `/`,
///   `.`, `-` or a space and a digit) must read
///   exactly in ``dateOrder``: ``DateOrder/ymd`` (the default) refuses it,
///   with a hint naming `--date-format DMY` and `MDY`; ``DateOrder/dmy`` and
///   ``DateOrder/mdy`` read one- or two-digit days and months and four-digit
///   years, separated by `/`, `.` or `-` (the same one twice). Refused with
///   the reason, never read in another order (the hint says what the other
///   order would read): no 31 February, no month 13, a 2-digit year
///   (ambiguous), two or four fields, mixed separators, text after the date
///   that is not a time.
/// - The result is ISO `YYYY-MM-DD`. A time after the date (a space or `T`,
///   then `H:MM`, `HH:MM:SS.fff`, optionally `AM`/`PM` and a zone `Z`,
///   `+01:00` or `UTC`) is kept as given: `07/03/1985 14:30` →
///   `1985-03-07 14:30` in DMY.
public struct ValueFormat: Sendable, Equatable {
    /// Numbers are written with a decimal comma (`4200,50`).
    public var decimalComma: Bool
    /// The order of dates that do not start with a 4-digit year.
    public var dateOrder: DateOrder

    public init(decimalComma: Bool = false, dateOrder: DateOrder = .ymd) {
        self.decimalComma = decimalComma
        self.dateOrder = dateOrder
    }

    /// What becomes of a cell.
    public enum Outcome: Sendable, Equatable {
        /// The cell goes to the database as it is.
        case unchanged
        /// The cell goes to the database as this text.
        case changed(String)
        /// The cell is wrong in the file's conventions.
        case refused(reason: String, hint: String?)
    }

    /// What `value`, a non-empty cell of a column of `kind`, becomes.
    public func normalise(_ value: String, as kind: ValueKind) -> Outcome {
        if kind == .text { return .unchanged }
        if let outcome = value.utf8.withContiguousStorageIfAvailable({ normalise($0, as: kind) }) { return outcome }
        return Array(value.utf8).withUnsafeBufferPointer { normalise($0, as: kind) }
    }

    /// The text `value` becomes, or the refusal (tests, small inputs).
    public func normalised(_ value: String, as kind: ValueKind) -> Result<String, Refusal> {
        switch normalise(value, as: kind) {
        case .unchanged: return .success(value)
        case .changed(let text): return .success(text)
        case .refused(let reason, let hint): return .failure(Refusal(reason: reason, hint: hint))
        }
    }

    /// Why a value is refused, and what to do.
    public struct Refusal: Error, Sendable, Equatable {
        public var reason: String
        public var hint: String?
    }

    private func normalise(_ bytes: UnsafeBufferPointer<UInt8>, as kind: ValueKind) -> Outcome {
        switch kind {
        case .text: return .unchanged
        case .integer, .decimal, .float: return number(bytes)
        case .date, .timestamp: return date(bytes)
        }
    }

    // MARK: - Numbers

    private enum Separator: Equatable {
        /// `,` or `.`: whichever is not the decimal mark.
        case punctuation
        case space, noBreakSpace, narrowNoBreakSpace, thinSpace
    }

    private enum NumberShape {
        /// A number: whether it must be rewritten (separators, a decimal comma),
        /// where its digits start and where its decimal mark is.
        case number(rewrite: Bool, firstDigit: Int, decimalMark: Int?)
        /// A special value (`NaN`, `Infinity`).
        case special
        /// One thousands group and nothing after it: `1,234`.
        case ambiguous
        /// Thousands separators of two kinds.
        case mixedSeparators
        case notANumber
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    /// The range of `bytes` without spaces and tabs around it.
    private static func trimmed(_ bytes: UnsafeBufferPointer<UInt8>) -> Range<Int> {
        var low = 0
        var high = bytes.count
        while low < high && (bytes[low] == 0x20 || bytes[low] == 0x09) { low += 1 }
        while high > low && (bytes[high - 1] == 0x20 || bytes[high - 1] == 0x09) { high -= 1 }
        return low..<high
    }

    private static func separator(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int, end: Int, punctuation: UInt8) -> (Separator, Int)? {
        let byte = bytes[index]
        if byte == punctuation { return (.punctuation, 1) }
        if byte == 0x20 { return (.space, 1) }
        if byte == 0xC2, index + 1 < end, bytes[index + 1] == 0xA0 { return (.noBreakSpace, 2) }
        if byte == 0xE2, index + 2 < end, bytes[index + 1] == 0x80 {
            if bytes[index + 2] == 0xAF { return (.narrowNoBreakSpace, 3) }
            if bytes[index + 2] == 0x89 { return (.thinSpace, 3) }
        }
        return nil
    }

    private static func shape(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, decimalComma: Bool) -> NumberShape {
        let (start, end) = (range.lowerBound, range.upperBound)
        let mark = decimalComma ? UInt8(ascii: ",") : UInt8(ascii: ".")
        let punctuation = decimalComma ? UInt8(ascii: ".") : UInt8(ascii: ",")
        var index = start
        if index < end && (bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+")) { index += 1 }
        let firstDigit = index
        // NaN, Infinity, Inf, in any case.
        if index < end, !isDigit(bytes[index]), bytes[index] != mark {
            var word: [UInt8] = []
            for byte in bytes[index..<end] { word.append(byte | 0x20) }
            let special = [Array("nan".utf8), Array("infinity".utf8), Array("inf".utf8)].contains(word)
            return special && (index == start || word != Array("nan".utf8)) ? .special : .notANumber
        }
        while index < end && isDigit(bytes[index]) { index += 1 }
        let leading = index - firstDigit
        var groups = 0
        var separator: Separator?
        while index < end, let (found, width) = Self.separator(bytes, at: index, end: end, punctuation: punctuation) {
            guard leading > 0 else { return .notANumber }
            if let separator, separator != found { return .mixedSeparators }
            let group = index + width
            guard group + 3 <= end, isDigit(bytes[group]), isDigit(bytes[group + 1]), isDigit(bytes[group + 2]),
                group + 3 == end || !isDigit(bytes[group + 3])
            else { return .notANumber }
            separator = found
            groups += 1
            index = group + 3
        }
        if groups > 0 && (leading > 3 || bytes[firstDigit] == UInt8(ascii: "0")) { return .notANumber }
        var decimalMark: Int?
        var fractionDigits = 0
        if index < end && bytes[index] == mark {
            decimalMark = index
            index += 1
            while index < end && isDigit(bytes[index]) {
                index += 1
                fractionDigits += 1
            }
        }
        guard leading > 0 || fractionDigits > 0 else { return .notANumber }
        if index < end && (bytes[index] | 0x20) == UInt8(ascii: "e") {
            guard groups == 0 else { return .notANumber }
            index += 1
            if index < end && (bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+")) { index += 1 }
            let digits = index
            while index < end && isDigit(bytes[index]) { index += 1 }
            guard index > digits else { return .notANumber }
        }
        guard index == end else { return .notANumber }
        if groups == 1 && separator == .punctuation && decimalMark == nil { return .ambiguous }
        return .number(rewrite: groups > 0 || (decimalComma && decimalMark != nil), firstDigit: firstDigit, decimalMark: decimalMark)
    }

    private func number(_ bytes: UnsafeBufferPointer<UInt8>) -> Outcome {
        let range = Self.trimmed(bytes)
        if !decimalComma {
            // Without a comma or a space, nothing a convention could have
            // written wrong: the database reads it (or refuses the item).
            var plain = true
            for index in range where bytes[index] == UInt8(ascii: ",") || bytes[index] == 0x20 || bytes[index] >= 0x80 {
                plain = false
                break
            }
            if plain { return .unchanged }
        }
        let shape = Self.shape(bytes, range, decimalComma: decimalComma)
        switch shape {
        case .number(let rewrite, let firstDigit, let decimalMark):
            guard rewrite else { return .unchanged }
            // Digits only before the decimal mark (no exponent follows thousands
            // separators); a point for the mark; the rest as it is.
            var text: [UInt8] = []
            text.reserveCapacity(range.count)
            if bytes[range.lowerBound] == UInt8(ascii: "-") { text.append(UInt8(ascii: "-")) }
            let integerEnd = decimalMark ?? range.upperBound
            for index in firstDigit..<range.upperBound {
                let byte = bytes[index]
                if index < integerEnd {
                    if Self.isDigit(byte) { text.append(byte) }
                } else if index == decimalMark {
                    text.append(UInt8(ascii: "."))
                } else {
                    text.append(byte)
                }
            }
            return .changed(String(decoding: text, as: UTF8.self))
        case .special:
            return .unchanged
        case .ambiguous:
            if decimalComma {
                return .refused(
                    reason: "ambiguous: 1234 with a thousands separator, or a decimal point where --decimal-comma expects a comma",
                    hint: "export numbers without thousands separators (1234), or with their decimals (1.234,00)")
            }
            return .refused(
                reason: "ambiguous: 1234 with a thousands separator, or a decimal comma",
                hint: "pass --decimal-comma if the file writes decimals with a comma (4200,50); otherwise export numbers without thousands separators")
        case .mixedSeparators, .notANumber:
            // Would the other convention read it? Then say so.
            if case .number = Self.shape(bytes, range, decimalComma: !decimalComma) {
                return decimalComma
                    ? .refused(
                        reason: "not a number with a decimal comma (--decimal-comma): e.g. 4200,50 or 4.200,50",
                        hint: "leave out --decimal-comma if the file writes decimals with a point (4200.50)")
                    : .refused(
                        reason: "not a number with a decimal point: it has a decimal comma",
                        hint: "pass --decimal-comma if the file writes decimals with a comma (4200,50)")
            }
            // Without --decimal-comma the rest is the database's to judge.
            guard decimalComma else { return .unchanged }
            if case .mixedSeparators = shape { return .refused(reason: "it mixes two kinds of thousands separators", hint: nil) }
            return .refused(reason: "not a number", hint: nil)
        }
    }

    // MARK: - Dates

    private static let monthNames = [
        "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December",
    ]

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Why day, month and year are no date, or nil when they are one.
    private static func calendarProblem(year: Int, month: Int, day: Int) -> String? {
        guard year >= 1 else { return "there is no year 0" }
        guard (1...12).contains(month) else { return "there is no month \(month)" }
        guard day >= 1 else { return "there is no day 0" }
        let days = daysIn(month: month, year: year)
        guard day <= days else {
            return month == 2 && day == 29
                ? "\(year) is not a leap year: February has 28 days"
                : "\(monthNames[month - 1]) has \(days) days"
        }
        return nil
    }

    private var expectedDate: String {
        switch dateOrder {
        case .ymd: return "YYYY-MM-DD"
        case .dmy: return "DD/MM/YYYY (or with . or -)"
        case .mdy: return "MM/DD/YYYY (or with . or -)"
        }
    }

    private func date(_ bytes: UnsafeBufferPointer<UInt8>) -> Outcome {
        let range = Self.trimmed(bytes)
        let end = range.upperBound
        var index = range.lowerBound
        func refused(_ reason: String, _ hint: String? = nil) -> Outcome { .refused(reason: reason, hint: hint) }
        func field() -> (value: Int, digits: Int) {
            var value = 0
            let start = index
            while index < end && Self.isDigit(bytes[index]) && index - start < 9 {
                value = value * 10 + Int(bytes[index] - UInt8(ascii: "0"))
                index += 1
            }
            return (value, index - start)
        }
        // Words (infinity, a month's name) and long runs of digits (19850307)
        // are no matter of order: the database reads them.
        guard index < end, Self.isDigit(bytes[index]) else { return .unchanged }
        let first = field()
        if first.digits >= 5 { return .unchanged }
        if first.digits < 4 {
            // A day or a month, if a separator (or a space and a digit) follows;
            // otherwise a time, a month's name…: the database's.
            let spaced = index + 1 < end && bytes[index] == 0x20 && Self.isDigit(bytes[index + 1])
            guard index < end, Self.isDateSeparator(bytes[index]) || spaced else { return .unchanged }
        }
        var separator: UInt8?
        var mixed: UInt8?
        var second = (value: 0, digits: 0)
        var third = (value: 0, digits: 0)
        if index < end, Self.isDateSeparator(bytes[index]) {
            separator = bytes[index]
            index += 1
            second = field()
            if second.digits > 0, index < end, Self.isDateSeparator(bytes[index]) {
                if bytes[index] == separator {
                    index += 1
                    third = field()
                } else {
                    mixed = bytes[index]
                }
            }
        }
        let dateEnd = index
        let timeFollows = dateEnd < end && Self.isTime(bytes, from: dateEnd, to: end)
        func rewritten(year: Int, month: Int, day: Int) -> Outcome {
            var text = Self.iso(year: year, month: month, day: day)
            if dateEnd < end { text += String(decoding: UnsafeBufferPointer(rebasing: bytes[dateEnd..<end]), as: UTF8.self) }
            return .changed(text)
        }

        if first.digits == 4 {
            // Year first: no order to get wrong. Rewritten to ISO when it reads
            // exactly; anything else (ISO itself included) left to the database.
            guard let separator, mixed == nil, (1...2).contains(second.digits), (1...2).contains(third.digits),
                dateEnd == end || timeFollows, Self.calendarProblem(year: first.value, month: second.value, day: third.value) == nil
            else { return .unchanged }
            if separator == UInt8(ascii: "-") && second.digits == 2 && third.digits == 2 { return .unchanged }
            return rewritten(year: first.value, month: second.value, day: third.value)
        }

        // Day and month first: the order matters, so the date must read exactly.
        let dayMonthYear = separator != nil && mixed == nil && first.digits <= 2 && (1...2).contains(second.digits)
        guard dateOrder != .ymd else {
            if dayMonthYear && third.digits == 4 {
                return refused(
                    "not a date in the order year-month-day (YYYY-MM-DD, --date-format YMD)",
                    "pass --date-format DMY if the day comes first (07/03/1985 = 7 March 1985), or MDY if the month does (3 July 1985)")
            }
            if dayMonthYear && third.digits == 2 {
                return refused("a 2-digit year is ambiguous", "export dates with 4-digit years (and pass --date-format DMY or MDY)")
            }
            return refused("not a date in the order year-month-day (YYYY-MM-DD)")
        }
        if let separator, let mixed {
            return refused("the date mixes the separators '\(Character(Unicode.Scalar(separator)))' and '\(Character(Unicode.Scalar(mixed)))'")
        }
        guard separator != nil, second.digits > 0 else { return refused("not a date (expected \(expectedDate))") }
        guard third.digits > 0 else { return refused("not a date: it needs a day, a month and a year (expected \(expectedDate))") }
        guard first.digits <= 2, second.digits <= 2 else { return refused("not a date (expected \(expectedDate))") }
        if third.digits == 2 { return refused("a 2-digit year is ambiguous", "export dates with 4-digit years") }
        guard third.digits == 4 else { return refused("not a date (expected \(expectedDate))") }
        let year = third.value
        let (day, month) = dateOrder == .dmy ? (first.value, second.value) : (second.value, first.value)
        if let problem = Self.calendarProblem(year: year, month: month, day: day) {
            var hint: String?
            if Self.calendarProblem(year: year, month: day, day: month) == nil {
                let other: DateOrder = dateOrder == .dmy ? .mdy : .dmy
                hint = "with --date-format \(other.rawValue) it would read as \(Self.iso(year: year, month: day, day: month)): check the order the file writes dates in"
            }
            return refused("\(problem) (read as \(dateOrder.rawValue))", hint)
        }
        guard dateEnd == end || timeFollows else {
            return refused("the text after the date is not a time (expected e.g. 14:30 or 14:30:00)")
        }
        return rewritten(year: year, month: month, day: day)
    }

    private static func isDateSeparator(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "-") || byte == UInt8(ascii: "/") || byte == UInt8(ascii: ".")
    }

    /// The length of `AM`, `PM`, `a.m.` or `p.m.` (any case) at `index`, ended
    /// by the end, a space or an offset's sign; nil when there is none.
    private static func meridiem(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int, end: Int) -> Int? {
        var index = start
        guard index < end, bytes[index] | 0x20 == UInt8(ascii: "a") || bytes[index] | 0x20 == UInt8(ascii: "p") else { return nil }
        index += 1
        if index < end && bytes[index] == UInt8(ascii: ".") { index += 1 }
        guard index < end, bytes[index] | 0x20 == UInt8(ascii: "m") else { return nil }
        index += 1
        if index < end && bytes[index] == UInt8(ascii: ".") { index += 1 }
        guard index == end || bytes[index] == 0x20 || bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") else {
            return nil
        }
        return index - start
    }

    private static func iso(year: Int, month: Int, day: Int) -> String {
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(width - digits.count, 0)) + digits
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    /// Whether `bytes[start..<end]` is a time after a date: a space or `T`,
    /// `H:MM`, optional `:SS` and `.fraction`, optional AM/PM, optional zone.
    private static func isTime(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Bool {
        var index = start
        func skipSpaces() { while index < end && bytes[index] == 0x20 { index += 1 } }
        func digits(_ minimum: Int, _ maximum: Int) -> Int? {
            var value = 0
            let first = index
            while index < end && index - first < maximum && isDigit(bytes[index]) {
                value = value * 10 + Int(bytes[index] - UInt8(ascii: "0"))
                index += 1
            }
            return index - first >= minimum ? value : nil
        }
        func take(_ ascii: Unicode.Scalar) -> Bool {
            guard index < end, bytes[index] == UInt8(ascii: ascii) else { return false }
            index += 1
            return true
        }
        if bytes[index] | 0x20 == UInt8(ascii: "t") {
            index += 1
        } else {
            guard bytes[index] == 0x20 else { return false }
            skipSpaces()
        }
        guard let hour = digits(1, 2), take(":"), let minute = digits(2, 2), minute <= 59 else { return false }
        if take(":") {
            guard let second = digits(2, 2), second <= 60 else { return false }
            if take(".") { guard digits(1, 30) != nil else { return false } }
        }
        skipSpaces()
        if let length = meridiem(bytes, at: index, end: end) {
            guard (1...12).contains(hour) else { return false }
            index += length
            skipSpaces()
        } else {
            guard hour <= 24 else { return false }
        }
        guard index < end else { return true }
        // A zone: Z, an offset, or a name (UTC, CET, Europe/Paris).
        if bytes[index] | 0x20 == UInt8(ascii: "z") {
            index += 1
        } else if bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            index += 1
            guard let offset = digits(1, 4), offset <= 1500 else { return false }
            if take(":") { guard digits(2, 2) != nil else { return false } }
        } else {
            let name = index
            while index < end, bytes[index] | 0x20 >= UInt8(ascii: "a") && bytes[index] | 0x20 <= UInt8(ascii: "z")
                || bytes[index] == UInt8(ascii: "/") || bytes[index] == UInt8(ascii: "_")
            {
                index += 1
            }
            guard index > name else { return false }
        }
        return index == end
    }
}
