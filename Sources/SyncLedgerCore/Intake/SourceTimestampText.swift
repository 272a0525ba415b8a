/// The source timestamp column's cells: ISO 8601 text that PostgreSQL reads
/// as the same instant whatever the session's settings. Checked here so that
/// a bad cell is refused naming its line, before anything is written; the
/// text itself goes to PostgreSQL unchanged (in a session whose TimeZone is
/// UTC, so a time without an offset is UTC).
///
/// Accepted: `YYYY-MM-DD`, optionally followed by `T` or a space and
/// `HH:MM`, `HH:MM:SS` or `HH:MM:SS.fraction`, optionally followed by `Z` or
/// an offset `+HH`, `+HHMM`, `+HH:MM` (or `-`). Dates are checked against the
/// calendar (no 30 February).
public enum SourceTimestampText {
    /// Whether `text` is a timestamp of the accepted forms.
    public static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ digits: Int) -> Int? {
            guard bytes.count - index >= digits else { return nil }
            var value = 0
            for _ in 0..<digits {
                let b = bytes[index]
                guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(b - UInt8(ascii: "0"))
                index += 1
            }
            return value
        }
        func take(_ ascii: Unicode.Scalar) -> Bool {
            guard index < bytes.count, bytes[index] == UInt8(ascii: ascii) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), year >= 1, take("-"), let month = number(2), (1...12).contains(month), take("-"),
            let day = number(2), day >= 1, day <= daysIn(month: month, year: year)
        else { return false }
        guard index < bytes.count else { return true }
        guard take("T") || take(" ") || take("t") else { return false }
        guard let hour = number(2), hour <= 23, take(":"), let minute = number(2), minute <= 59 else { return false }
        if take(":") {
            guard let second = number(2), second <= 59 else { return false }
            if take(".") {
                let start = index
                while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
                guard index > start else { return false }
            }
        }
        guard index < bytes.count else { return true }
        if take("Z") || take("z") { return index == bytes.count }
        guard take("+") || take("-") else { return false }
        guard let offsetHours = number(2), offsetHours <= 15 else { return false }
        guard index < bytes.count else { return true }
        _ = take(":")
        guard let offsetMinutes = number(2), offsetMinutes <= 59 else { return false }
        return index == bytes.count
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
