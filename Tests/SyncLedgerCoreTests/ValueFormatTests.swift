import Testing

@testable import SyncLedgerCore

@Suite("ValueFormat: numbers and dates as the file writes them")
struct ValueFormatTests {
    static let point = ValueFormat()
    static let comma = ValueFormat(decimalComma: true)

    @Test(
        "column kinds from PostgreSQL types",
        arguments: [
            ("numeric(12,2)", ValueKind.decimal), ("numeric", .decimal), ("integer", .integer), ("bigint", .integer), ("smallint", .integer),
            ("real", .float), ("double precision", .float), ("date", .date), ("timestamp with time zone", .timestamp),
            ("timestamp(3) without time zone", .timestamp), ("timestamp without time zone", .timestamp), ("text", .text),
            ("boolean", .text), ("integer[]", .text), ("money", .text), ("character varying(20)", .text), ("uuid", .text),
        ])
    func kinds(sqlType: String, kind: ValueKind) {
        #expect(ValueKind(sqlType: sqlType) == kind)
    }

    @Test(
        "numbers with a decimal point (the default)",
        arguments: [
            ("4200.50", "4200.50"), ("-12", "-12"), ("+3.5", "+3.5"), (".5", ".5"), ("5.", "5."), ("1e5", "1e5"), ("-1.5E-3", "-1.5E-3"),
            (" 42 ", " 42 "), ("1,234.56", "1234.56"), ("1,234,567", "1234567"), ("-1,234,567.5", "-1234567.5"), ("1 234.5", "1234.5"),
            ("1\u{A0}234.5", "1234.5"), ("1\u{202F}234", "1234"), ("NaN", "NaN"), ("-Infinity", "-Infinity"),
        ])
    func pointNumbers(text: String, expected: String) {
        #expect(Self.point.normalised(text, as: .decimal) == .success(expected))
    }

    @Test(
        "numbers with a decimal comma",
        arguments: [
            ("4200,50", "4200.50"), ("1.234,56", "1234.56"), ("-1.234.567,891", "-1234567.891"), ("1 234,56", "1234.56"),
            ("1\u{A0}234,56", "1234.56"), ("1\u{202F}234\u{202F}567", "1234567"), ("12", "12"), (",5", ".5"), ("-0,5", "-0.5"),
            ("1,5e3", "1.5e3"), ("1.234.567", "1234567"), (" 4200,50 ", "4200.50"),
        ])
    func commaNumbers(text: String, expected: String) {
        #expect(Self.comma.normalised(text, as: .decimal) == .success(expected))
    }

    @Test(
        "numbers refused, with why and what to do",
        arguments: [
            (false, "4200,50", "decimal comma", "--decimal-comma"), (false, "1,5", "decimal comma", "--decimal-comma"),
            (false, "1,234", "ambiguous", "--decimal-comma"), (false, "4 200,50", "decimal comma", "--decimal-comma"),
            (false, "0,123", "decimal comma", "--decimal-comma"), (false, "-0,5", "decimal comma", "--decimal-comma"),
            (true, "4,200.50", "decimal comma", "leave out --decimal-comma"), (true, "4200.50", "decimal comma", "leave out --decimal-comma"),
            (true, "1.5", "decimal comma", "leave out"), (true, "1.234", "ambiguous", "1.234,00"), (true, "0.125", "decimal comma", nil),
            (true, "1,2,3", "not a number", nil), (true, "12 %", "not a number", nil), (true, "", "not a number", nil),
            (true, "abc", "not a number", nil), (true, "1 234.567,5", "mixes", nil),
        ] as [(Bool, String, String, String?)])
    func refusedNumbers(decimalComma: Bool, text: String, reason: String, hint: String?) throws {
        let format = decimalComma ? Self.comma : Self.point
        guard case .refused(let why, let what) = format.normalise(text, as: .decimal) else {
            Issue.record("\(text) was not refused")
            return
        }
        #expect(why.contains(reason), "\(text): \(why)")
        if let hint { #expect(what?.contains(hint) == true, "\(text): \(what ?? "no hint")") }
    }

    @Test(
        "without a decimal comma, what no convention made wrong is the database's",
        arguments: ["abc", "12-", "1.2.3", "€12", "0x1F", "1_000", "12,34,567", "1,234 567", "12 %", "4200.00"])
    func pointPassesTheRest(text: String) {
        #expect(Self.point.normalise(text, as: .decimal) == .unchanged)
        #expect(Self.point.normalise(text, as: .integer) == .unchanged)
    }

    @Test func integersAndFloatsAreReadLikeDecimals() {
        #expect(Self.comma.normalised("1.234", as: .integer) != .success("1234"))  // ambiguous, still
        #expect(Self.comma.normalised("1.234.567", as: .integer) == .success("1234567"))
        #expect(Self.comma.normalised("4200,50", as: .integer) == .success("4200.50"))  // the database refuses the item
        #expect(Self.comma.normalised("2,5", as: .float) == .success("2.5"))
        #expect(Self.point.normalised("42", as: .integer) == .success("42"))
    }

    @Test(
        "dates in every order",
        arguments: [
            (DateOrder.ymd, "1985-03-07", "1985-03-07"), (.ymd, "1985-3-7", "1985-03-07"), (.ymd, "1985/03/07", "1985-03-07"),
            (.dmy, "07/03/1985", "1985-03-07"), (.dmy, "7.3.1985", "1985-03-07"), (.dmy, "07-03-1985", "1985-03-07"),
            (.dmy, "29/02/2024", "2024-02-29"), (.dmy, "1985-03-07", "1985-03-07"), (.mdy, "07/03/1985", "1985-07-03"),
            (.mdy, "12/31/1999", "1999-12-31"), (.mdy, "1985.03.07", "1985-03-07"), (.dmy, " 07/03/1985 ", "1985-03-07"),
            (.ymd, "infinity", "infinity"), (.dmy, "-infinity", "-infinity"),
            // Year first, but no real date, or words: the database's to judge.
            (.ymd, "1985-02-30", "1985-02-30"), (.dmy, "1985/13/01", "1985/13/01"), (.ymd, "1985-03-07 lunch", "1985-03-07 lunch"),
            (.ymd, "today", "today"), (.ymd, "7 March 1985", "7 March 1985"), (.dmy, "19850307", "19850307"), (.mdy, "March 7, 1985", "March 7, 1985"),
            (.dmy, "7 March 1985", "7 March 1985"), (.dmy, "14:30", "14:30"),
        ])
    func dates(order: DateOrder, text: String, expected: String) {
        #expect(ValueFormat(dateOrder: order).normalised(text, as: .date) == .success(expected))
    }

    @Test(
        "timestamps keep their time",
        arguments: [
            (DateOrder.dmy, "07/03/1985 14:30", "1985-03-07 14:30"), (.dmy, "07/03/1985 14:30:15.250", "1985-03-07 14:30:15.250"),
            (.mdy, "3/7/1985 2:30 PM", "1985-03-07 2:30 PM"), (.dmy, "07.03.1985 08:00 +01:00", "1985-03-07 08:00 +01:00"),
            (.dmy, "07/03/1985T08:00Z", "1985-03-07T08:00Z"), (.ymd, "2026-11-25T08:00:00Z", "2026-11-25T08:00:00Z"),
            (.ymd, "2026-11-25 08:00:00+0530", "2026-11-25 08:00:00+0530"), (.dmy, "07/03/1985 14:30 UTC", "1985-03-07 14:30 UTC"),
            (.dmy, "07/03/1985 8:05:00 a.m. Europe/Paris", "1985-03-07 8:05:00 a.m. Europe/Paris"),
        ])
    func timestamps(order: DateOrder, text: String, expected: String) {
        #expect(ValueFormat(dateOrder: order).normalised(text, as: .timestamp) == .success(expected))
    }

    @Test(
        "dates refused, never read in another order",
        arguments: [
            (DateOrder.ymd, "07/03/1985", "year-month-day", "--date-format DMY"), (.dmy, "31/02/2020", "February has 29 days", nil),
            (.dmy, "29/02/2023", "not a leap year", nil), (.dmy, "07/13/1985", "no month 13", "--date-format MDY"),
            (.mdy, "13/07/1985", "no month 13", "--date-format DMY"), (.dmy, "07/03/85", "2-digit year", "4-digit"),
            (.dmy, "07/03", "a day, a month and a year", nil), (.dmy, "07/03/1985/1", "not a time", nil),
            (.dmy, "07/03/1985 lunch", "not a time", nil), (.dmy, "07/03-1985", "mixes the separators", nil),
            (.dmy, "07 03 1985", "not a date", nil), (.ymd, "07 03 1985", "year-month-day", nil), (.ymd, "85-03-07", "2-digit year", "4-digit"), (.ymd, "7.3", "year-month-day", nil),
            (.dmy, "00/03/1985", "no day 0", nil), (.dmy, "07/03/1985 25:00", "not a time", nil), (.dmy, "07/03/1985 13:00 PM", "not a time", nil),
            (.dmy, "07/03/19850", "not a date", nil), (.ymd, "07/03/1985 14:30", "year-month-day", "--date-format DMY"),
        ] as [(DateOrder, String, String, String?)])
    func refusedDates(order: DateOrder, text: String, reason: String, hint: String?) {
        guard case .refused(let why, let what) = ValueFormat(dateOrder: order).normalise(text, as: .timestamp) else {
            Issue.record("\(text) was not refused")
            return
        }
        #expect(why.contains(reason), "\(text): \(why)")
        if let hint { #expect(what?.contains(hint) == true, "\(text): \(what ?? "no hint")") }
    }

    @Test func textAndBooleansPassThrough() {
        for format in [Self.point, Self.comma, ValueFormat(dateOrder: .dmy)] {
            #expect(format.normalise("4200,50", as: .text) == .unchanged)
            #expect(format.normalise("07/03/1985", as: .text) == .unchanged)
        }
        #expect(Self.point.normalise("4200.50", as: .decimal) == .unchanged)
        #expect(Self.point.normalise("1985-03-07", as: .date) == .unchanged)
    }
}
