import Foundation

/// Times in proof documents: RFC 3339 date-times, written in UTC, by fixed
/// arithmetic (no calendar, locale or formatter involved).
///
/// Written as `YYYY-MM-DDTHH:MM:SSZ`, or `YYYY-MM-DDTHH:MM:SS.ffffffZ` (six
/// digits, microseconds, PostgreSQL's precision) when the time is not a whole
/// second; rounded to the microsecond. Read: any RFC 3339 `date-time` (§5.6):
/// `T` or `t`, any number of fraction digits, `Z`, `z` or an offset `±HH:MM`;
/// a leap second (`:60`) is refused.
public enum RFC3339Time {
    /// `date` in UTC, to the microsecond.
    public static func string(from date: Date) -> String {
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        let (seconds, fraction) = floorDivision(micros, 1_000_000)
        let (days, secondOfDay) = floorDivision(seconds, 86_400)
        let (year, month, day) = civil(fromDays: days)
        var text =
            pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + "T" + pad(secondOfDay / 3600, 2) + ":"
            + pad(secondOfDay / 60 % 60, 2) + ":" + pad(secondOfDay % 60, 2)
        if fraction != 0 { text += "." + pad(fraction, 6) }
        return text + "Z"
    }

    /// The time `text` names; `nil` if it is not an RFC 3339 date-time.
    public static func date(from text: String) -> Date? {
        var scan = DateTextScanner(text)
        guard let year = scan.number(4), scan.take("-"), let month = scan.number(2), (1...12).contains(month), scan.take("-"),
            let day = scan.number(2), day >= 1, day <= GregorianMonth.days(month, year: year), scan.take("T") || scan.take("t"),
            let hour = scan.number(2), hour <= 23, scan.take(":"), let minute = scan.number(2), minute <= 59, scan.take(":"),
            let second = scan.number(2), second <= 59
        else { return nil }
        var fraction = 0.0
        if scan.take(".") {
            guard let digits = scan.fraction() else { return nil }
            fraction = digits
        }
        var offset: Int64 = 0
        if !(scan.take("Z") || scan.take("z")) {
            let sign: Int64
            if scan.take("+") {
                sign = 1
            } else if scan.take("-") {
                sign = -1
            } else {
                return nil
            }
            guard let offsetHours = scan.number(2), offsetHours <= 23, scan.take(":"), let offsetMinutes = scan.number(2),
                offsetMinutes <= 59
            else { return nil }
            offset = sign * (offsetHours * 3600 + offsetMinutes * 60)
        }
        guard scan.atEnd else { return nil }
        let seconds = days(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    private static func pad(_ value: some BinaryInteger, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    private static func floorDivision(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        let remainder = value % divisor
        return remainder < 0 ? (value / divisor - 1, remainder + divisor) : (value / divisor, remainder)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
    /// `days_from_civil`).
    private static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date of a day counted from 1970-01-01 (`civil_from_days`).
    private static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
