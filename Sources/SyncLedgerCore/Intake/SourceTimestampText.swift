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
        var scan = DateTextScanner(text)
        guard let year = scan.number(4), year >= 1, scan.take("-"), let month = scan.number(2), (1...12).contains(month),
            scan.take("-"), let day = scan.number(2), day >= 1, day <= GregorianMonth.days(month, year: year)
        else { return false }
        guard !scan.atEnd else { return true }
        guard scan.take("T") || scan.take(" ") || scan.take("t") else { return false }
        guard let hour = scan.number(2), hour <= 23, scan.take(":"), let minute = scan.number(2), minute <= 59 else { return false }
        if scan.take(":") {
            guard let second = scan.number(2), second <= 59 else { return false }
            if scan.take("."), scan.fraction() == nil { return false }
        }
        guard !scan.atEnd else { return true }
        if scan.take("Z") || scan.take("z") { return scan.atEnd }
        guard scan.take("+") || scan.take("-") else { return false }
        guard let offsetHours = scan.number(2), offsetHours <= 15 else { return false }
        guard !scan.atEnd else { return true }
        _ = scan.take(":")
        guard let offsetMinutes = scan.number(2), offsetMinutes <= 59 else { return false }
        return scan.atEnd
    }
}
