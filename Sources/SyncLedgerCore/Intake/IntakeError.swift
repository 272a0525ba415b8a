/// Why a file cannot be submitted: found before anything is written (the
/// mapping against the catalogue, the header) or while it is read (a malformed
/// line, a missing key), always naming where — the line, the column — and what
/// to do. A refused file submits nothing.
///
/// Messages quote only the file's own text (column names, a cell's value, cut
/// short) and the names of the source and table the submitter named: never
/// what the database holds for other systems.
public struct IntakeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of problem; tests and callers match on it.
    public enum Code: String, Sendable, Equatable {
        /// The file is not valid CSV or JSON Lines at a line.
        case malformed
        /// Bytes that are not text in the file's encoding (``IntakeDecoder``).
        case badEncoding
        /// The CSV delimiter cannot be told from the header and the first lines.
        case ambiguousDelimiter
        /// A CSV row with more or fewer fields than the header.
        case raggedRow
        /// The header names a column twice, or a column without a name.
        case badHeader
        /// The key column is not in the header, or a record has no key.
        case missingKey
        /// A column that maps to no field of the table.
        case unknownColumn
        /// A cell that cannot be submitted (a NUL character, a bad timestamp, a key too long,
        /// a number or date the file's conventions do not read: ``badValues``).
        case invalidValue
        /// A record key that appears more than once in the file (``badValues``).
        case duplicateKey
        /// A command-line option with a value it does not take.
        case badOption
        /// The source system is unknown or inactive.
        case unknownSource
        /// The table is not registered, inactive, missing or protected.
        case unregisteredTable
        /// The mapping (flags or mapping file) is incomplete or contradicts the catalogue.
        case badMapping
        /// The file has nothing to submit (no records, or a snapshot that would delete everything).
        case empty
        /// The file cannot be opened or read.
        case unreadable
    }

    public var code: Code
    /// The 1-based line of the file, when the problem is at one.
    public var line: Int?
    /// The column (CSV header name, JSON key) the problem is in.
    public var column: String?
    /// What is wrong.
    public var message: String
    /// What to do about it.
    public var hint: String?
    /// The file's name as the user gave it, added by the caller for messages.
    public var file: String?
    /// Every bad value and repeated key found in the whole file (up to a
    /// limit, with their total), when the error is about them: ``line`` and
    /// ``column`` are then the first one's, and ``description`` lists them.
    public var badValues: BadValueReport?

    public init(_ code: Code, line: Int? = nil, column: String? = nil, _ message: String, hint: String? = nil) {
        self.code = code
        self.line = line
        self.column = column
        self.message = message
        self.hint = hint
    }

    /// The same error, naming `file`.
    public func `in`(file: String) -> IntakeError {
        var copy = self
        copy.file = file
        return copy
    }

    /// `people.csv, line 7, column 'email': message` and the hint on a line of its own.
    /// With ``badValues``: `people.csv: message`, then one line per value, then the hints.
    public var description: String {
        if let badValues {
            var text = (file.map { "\($0): " } ?? "") + message
            for value in badValues.values { text += "\n  \(value)" }
            if badValues.total > badValues.values.count {
                text += "\n  … and \(badValues.total - badValues.values.count) more"
            }
            for hint in badValues.hints { text += "\nhint: \(hint)" }
            return text
        }
        var place: [String] = []
        if let file { place.append(file) }
        if let line { place.append("line \(line)") }
        if let column { place.append("column \(Quote.short(column))") }
        var text = place.isEmpty ? message : place.joined(separator: ", ") + ": " + message
        if let hint { text += "\nhint: \(hint)" }
        return text
    }
}
