/// How a submitted file is written: its format (CSV with which delimiter, or
/// JSON Lines), its text encoding, how numbers and dates are written in it,
/// and what a key that appears twice means. One value, built from the
/// command line with ``parse(format:delimiter:encoding:decimalComma:dateFormat:duplicates:fileName:)``
/// and handed to ``IntakePipeline`` and ``SubmissionKey``.
///
/// The defaults read what syncledger always read: UTF-8, numbers with a
/// decimal point, ISO dates (`YYYY-MM-DD`), and — new — the CSV delimiter
/// detected from the header, a key that appears twice refused, and a file
/// with a bad value refused as a whole.
public struct IntakeOptions: Sendable, Equatable {
    /// CSV (with its delimiter, or `nil` to detect it) or JSON Lines.
    public var format: IntakeFormat
    /// The file's text encoding; it is decoded to UTF-8 before parsing.
    public var encoding: IntakeEncoding
    /// Numbers in numeric columns are written with a decimal comma (`4200,50`).
    public var decimalComma: Bool
    /// The order of day, month and year in dates that do not start with a 4-digit year.
    public var dateOrder: DateOrder
    /// What a record key that appears a second time in the file means.
    public var duplicates: DuplicateKeys
    /// How many bad values (and repeated keys) are kept to be shown; all are counted.
    public var badValueLimit: Int
    /// What a record with a bad value does to the submission.
    public var onBadRows: BadRows

    /// The number of bad values kept by default.
    public static let defaultBadValueLimit = 20

    public init(
        format: IntakeFormat = .csv(delimiter: nil), encoding: IntakeEncoding = .utf8, decimalComma: Bool = false,
        dateOrder: DateOrder = .ymd, duplicates: DuplicateKeys = .error, badValueLimit: Int = IntakeOptions.defaultBadValueLimit,
        onBadRows: BadRows = .refuse
    ) {
        self.format = format
        self.encoding = encoding
        self.decimalComma = decimalComma
        self.dateOrder = dateOrder
        self.duplicates = duplicates
        self.badValueLimit = max(badValueLimit, 0)
        self.onBadRows = onBadRows
    }

    /// How cells are read by column type (``ValueFormat``).
    public var valueFormat: ValueFormat { ValueFormat(decimalComma: decimalComma, dateOrder: dateOrder) }

    /// Builds the options from the command line's strings (`nil`: not given).
    ///
    /// - `format`: `csv`, `tsv` or `jsonl` (also `ndjson`, `json`); by default
    ///   from `fileName` (``IntakeFormat/guess(fromName:)``), CSV with a detected
    ///   delimiter when the name says nothing (standard input: `-`).
    /// - `delimiter`: ``IntakeFormat/delimiter(parsing:)``; CSV only.
    /// - `encoding`: ``IntakeEncoding/init(parsing:)``.
    /// - `dateFormat`: ``DateOrder/init(parsing:)``.
    /// - `duplicates`: ``DuplicateKeys/init(parsing:)``.
    /// - `onBadRows`: ``BadRows/init(parsing:)``.
    ///
    /// Errors (``IntakeError/Code/badOption``) name the option, what was
    /// given and the valid choices.
    public static func parse(
        format: String? = nil, delimiter: String? = nil, encoding: String? = nil, decimalComma: Bool = false,
        dateFormat: String? = nil, duplicates: String? = nil, onBadRows: String? = nil, fileName: String
    ) throws(IntakeError) -> IntakeOptions {
        var result: IntakeFormat
        switch format?.lowercased() {
        case nil: result = IntakeFormat.guess(fromName: fileName) ?? .csv(delimiter: nil)
        case "csv": result = .csv(delimiter: nil)
        case "tsv": result = .csv(delimiter: UInt8(ascii: "\t"))
        case "jsonl", "ndjson", "json": result = .jsonLines
        case let other?:
            throw IntakeError(.badOption, "--format must be csv, tsv or jsonl, got \(Quote.short(other))")
        }
        if let delimiter {
            guard case .csv = result else {
                throw IntakeError(.badOption, "--delimiter applies to CSV only (the format is \(result.name))")
            }
            result = .csv(delimiter: try IntakeFormat.delimiter(parsing: delimiter))
        }
        var options = IntakeOptions(format: result, decimalComma: decimalComma)
        if let encoding { options.encoding = try IntakeEncoding(parsing: encoding) }
        if let dateFormat { options.dateOrder = try DateOrder(parsing: dateFormat) }
        if let duplicates { options.duplicates = try DuplicateKeys(parsing: duplicates) }
        if let onBadRows { options.onBadRows = try BadRows(parsing: onBadRows) }
        try options.validate()
        return options
    }

    /// Refuses combinations that make no sense: a decimal comma in JSON Lines
    /// (JSON numbers always have a decimal point).
    public func validate() throws(IntakeError) {
        if decimalComma, format == .jsonLines {
            throw IntakeError(
                .badOption, "--decimal-comma applies to CSV files only: JSON numbers always use a decimal point",
                hint: "leave out --decimal-comma for JSON Lines")
        }
    }

    /// The options that change what a file's bytes mean, as lines for the
    /// content key (``SubmissionKey``); empty for the defaults, so the content
    /// key of a file read with the defaults is what it always was. The
    /// delimiter is in the format's name; a detected delimiter is a function
    /// of the bytes, so it needs no line. ``onBadRows`` is not one: a file
    /// without bad values submits the same items either way, and the lines a
    /// skip left out are added to the key by the caller
    /// (``SubmissionKey/skipped(lines:)``).
    public var canonicalText: String {
        var lines: [String] = []
        if encoding != .utf8 { lines.append("encoding=\(encoding.rawValue)") }
        if decimalComma { lines.append("decimal_comma=true") }
        if dateOrder != .ymd { lines.append("date_format=\(dateOrder.rawValue)") }
        if duplicates != .error { lines.append("duplicates=\(duplicates.rawValue)") }
        return lines.joined(separator: "\n")
    }
}

/// The text encoding of a submitted file (``IntakeDecoder``).
public enum IntakeEncoding: String, Sendable, Equatable, CaseIterable {
    /// UTF-8 (the default). A UTF-8 byte order mark is skipped; a UTF-16 byte
    /// order mark switches to UTF-16 (Excel's "Unicode text").
    case utf8 = "utf-8"
    /// Windows-1252, what Excel writes as "CSV" in Western European and
    /// American locales: Latin-1 plus `€`, curly quotes, `Œ`, `š`… in
    /// 0x80–0x9F. The five bytes it leaves undefined (0x81, 0x8D, 0x8F, 0x90,
    /// 0x9D) are refused.
    case windows1252 = "windows-1252"
    /// ISO-8859-1 (Latin-1). Its C1 control bytes 0x80–0x9F are refused: in a
    /// text file they mean the file is really Windows-1252.
    case latin1 = "iso-8859-1"
    /// UTF-16, little-endian (a byte order mark, if any, must say so).
    case utf16LE = "utf-16le"
    /// UTF-16, big-endian (a byte order mark, if any, must say so).
    case utf16BE = "utf-16be"

    /// The encoding named on the command line, case-insensitively: `utf-8`
    /// (`utf8`), `windows-1252` (`cp1252`, `win1252`), `iso-8859-1`
    /// (`latin1`, `latin-1`), `utf-16le`, `utf-16be`.
    public init(parsing text: String) throws(IntakeError) {
        switch String(text.lowercased().map { $0 == "_" ? "-" : $0 }) {
        case "utf-8", "utf8": self = .utf8
        case "windows-1252", "windows1252", "cp1252", "cp-1252", "win-1252", "win1252": self = .windows1252
        case "iso-8859-1", "iso8859-1", "iso-8859-1:1987", "latin1", "latin-1", "l1": self = .latin1
        case "utf-16le", "utf16le": self = .utf16LE
        case "utf-16be", "utf16be": self = .utf16BE
        default:
            throw IntakeError(
                .badOption,
                "--encoding must be one of utf-8, windows-1252 (cp1252), iso-8859-1 (latin1), utf-16le, utf-16be; got \(Quote.short(text))",
                hint: "Excel's plain \"CSV\" is windows-1252 in most Western locales; its \"CSV UTF-8\" is utf-8")
        }
    }

    /// The name used in messages, e.g. `Windows-1252`.
    public var displayName: String {
        switch self {
        case .utf8: return "UTF-8"
        case .windows1252: return "Windows-1252"
        case .latin1: return "ISO-8859-1"
        case .utf16LE: return "UTF-16LE"
        case .utf16BE: return "UTF-16BE"
        }
    }
}

/// The order of day, month and year in a date (``ValueFormat``).
public enum DateOrder: String, Sendable, Equatable, CaseIterable {
    /// Year, month, day: ISO 8601 `YYYY-MM-DD` (the default).
    case ymd = "YMD"
    /// Day, month, year: `07/03/1985` is 7 March 1985 (most of Europe).
    case dmy = "DMY"
    /// Month, day, year: `07/03/1985` is 3 July 1985 (the United States).
    case mdy = "MDY"

    /// `YMD`, `DMY` or `MDY`, case-insensitively.
    public init(parsing text: String) throws(IntakeError) {
        guard let order = DateOrder(rawValue: text.uppercased()) else {
            throw IntakeError(
                .badOption, "--date-format must be YMD, DMY or MDY, got \(Quote.short(text))",
                hint: "DMY reads 07/03/1985 as 7 March 1985, MDY as 3 July 1985; YMD (the default) reads ISO dates, 1985-03-07")
        }
        self = order
    }
}

/// What a record key that appears more than once in one file means.
public enum DuplicateKeys: String, Sendable, Equatable, CaseIterable {
    /// Refused, naming both lines (the default).
    case error
    /// The last record with the key wins: the items of the earlier ones are
    /// dropped (``Supersession``).
    case lastWins = "last-wins"

    /// `error` or `last-wins`, case-insensitively.
    public init(parsing text: String) throws(IntakeError) {
        switch text.lowercased() {
        case "error": self = .error
        case "last-wins", "lastwins", "last_wins", "last": self = .lastWins
        default:
            throw IntakeError(.badOption, "--duplicates must be error or last-wins, got \(Quote.short(text))")
        }
    }
}

/// What a record with a bad value (one its column's type or code list does
/// not take) does to a submission. Repeated keys are not bad values: they are
/// ``DuplicateKeys``' to decide.
public enum BadRows: String, Sendable, Equatable, CaseIterable {
    /// Nothing is submitted; every bad value is listed (the default).
    case refuse
    /// The records with a bad value are left out and listed; the rest is submitted.
    case skip

    /// `refuse` or `skip`, case-insensitively.
    public init(parsing text: String) throws(IntakeError) {
        guard let value = BadRows(rawValue: text.lowercased()) else {
            throw IntakeError(
                .badOption, "--on-bad-rows must be refuse or skip, got \(Quote.short(text))",
                hint: "refuse (the default) submits nothing while a value is bad; skip submits the other records and lists the lines left out")
        }
        self = value
    }
}

extension IntakeFormat {
    /// The delimiter named on the command line: one character, or a name —
    /// `,` `comma`, `;` `semicolon`, `tab` `\t`, `|` `pipe`; `auto` (`nil`)
    /// detects it from the header. Quotes and line breaks cannot delimit.
    public static func delimiter(parsing text: String) throws(IntakeError) -> UInt8? {
        switch text.lowercased() {
        case "auto", "detect": return nil
        case "comma": return UInt8(ascii: ",")
        case "semicolon": return UInt8(ascii: ";")
        case "tab", "\\t": return UInt8(ascii: "\t")
        case "pipe": return UInt8(ascii: "|")
        default: break
        }
        guard text.utf8.count == 1, let byte = text.utf8.first, byte < 0x80, byte != UInt8(ascii: "\""), byte != 10, byte != 13 else {
            throw IntakeError(
                .badOption,
                "--delimiter must be one ASCII character other than a quote or a line break, or comma, semicolon, tab, pipe or auto; got \(Quote.short(text))"
            )
        }
        return byte
    }
}
