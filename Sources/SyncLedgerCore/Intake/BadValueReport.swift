/// One cell a file's conventions do not read (``ValueFormat``), or one record
/// whose key an earlier record already had (``DuplicateKeyDetector``): where
/// it is, what it holds, why it is refused and what to do.
public struct BadValue: Sendable, Equatable, CustomStringConvertible {
    /// A value, or a repeated key.
    public enum Kind: Sendable, Equatable {
        /// A cell that does not read as its column's type in the file's conventions.
        case value
        /// A record key an earlier record of the file already had.
        case duplicateKey
    }

    public var kind: Kind
    /// The 1-based line of the file the record starts on.
    public var line: Int
    /// The column of the file (CSV header name, JSON key).
    public var column: String
    /// The cell as read (for a repeated key: the key).
    public var value: String
    /// Why it is refused, e.g. `there is no 31 February`.
    public var reason: String
    /// What to do about it, e.g. `pass --date-format MDY …`.
    public var hint: String?

    public init(_ kind: Kind = .value, line: Int, column: String, value: String, reason: String, hint: String? = nil) {
        self.kind = kind
        self.line = line
        self.column = column
        self.value = value
        self.reason = reason
        self.hint = hint
    }

    /// `line 7, column 'salary': '4200,50': a decimal comma …`.
    public var description: String {
        "line \(line), column \(Quote.short(column)): \(Quote.short(value)): \(reason)"
    }
}

/// Bad values and repeated keys of a whole file, collected rather than
/// stopping at the first: the first ``limit`` of them are kept (in file
/// order) to be shown, and all are counted. Memory is bounded by the limit.
///
/// ``IntakePipeline`` fills one while it reads and throws ``error`` at the
/// end when it is not empty; a caller can also look at it as it goes
/// (``IntakePipeline/problems``) to stop early.
public struct BadValueReport: Sendable, Equatable {
    /// How many are kept.
    public let limit: Int
    /// The first ``limit`` bad values and repeated keys, in file order.
    public private(set) var values: [BadValue] = []
    /// How many there are in all (bad values and repeated keys).
    public private(set) var total = 0
    /// How many of ``total`` are repeated keys.
    public private(set) var duplicateKeys = 0

    public init(limit: Int = IntakeOptions.defaultBadValueLimit) {
        self.limit = max(limit, 0)
    }

    /// Whether nothing bad was found.
    public var isEmpty: Bool { total == 0 }

    /// How many of ``total`` are bad values (not repeated keys).
    public var badValues: Int { total - duplicateKeys }

    /// Counts `value`, and keeps it while fewer than ``limit`` are kept.
    public mutating func add(_ value: BadValue) {
        total += 1
        if value.kind == .duplicateKey { duplicateKeys += 1 }
        if values.count < limit { values.append(value) }
    }

    /// This report and `other` (both in file order) as one, in file order:
    /// the first ``limit`` values of the two kept, all of both counted. For a
    /// caller that finds bad values in two places (the file's conventions
    /// here, the database's checks elsewhere).
    public func merged(with other: BadValueReport) -> BadValueReport {
        var result = BadValueReport(limit: limit)
        var (mine, theirs) = (0, 0)
        while result.values.count < limit && (mine < values.count || theirs < other.values.count) {
            if theirs == other.values.count || (mine < values.count && values[mine].line <= other.values[theirs].line) {
                result.values.append(values[mine])
                mine += 1
            } else {
                result.values.append(other.values[theirs])
                theirs += 1
            }
        }
        result.total = total + other.total
        result.duplicateKeys = duplicateKeys + other.duplicateKeys
        return result
    }

    /// The distinct hints of the values kept, in the order first met (at most five).
    public var hints: [String] {
        var seen = Set<String>()
        var result: [String] = []
        for value in values {
            guard let hint = value.hint, seen.insert(hint).inserted else { continue }
            result.append(hint)
            if result.count == 5 { break }
        }
        return result
    }

    /// The summary, e.g. `3 values do not fit their column, and 1 record
    /// repeats the key of an earlier record (all 4 below)`: the column's type
    /// in the file's conventions, its type in the database, or its code list.
    public var summary: String {
        func plural(_ count: Int, _ one: String, _ many: String) -> String { "\(count) \(count == 1 ? one : many)" }
        var parts: [String] = []
        if badValues > 0 { parts.append(badValues == 1 ? "1 value does not fit its column" : "\(badValues) values do not fit their column") }
        if duplicateKeys > 0 { parts.append(plural(duplicateKeys, "record repeats", "records repeat") + " the key of an earlier record") }
        let shown = values.count == total ? (total == 1 ? "" : " (all \(total) below)") : " (the first \(values.count) below)"
        return parts.joined(separator: ", and ") + shown
    }

    /// The error for the whole report (`nil` when it is empty):
    /// ``IntakeError/Code/duplicateKey`` when all are repeated keys,
    /// ``IntakeError/Code/invalidValue`` otherwise; its line and column are
    /// the first value's, and its ``IntakeError/badValues`` this report.
    public var error: IntakeError? {
        guard let first = values.first else {
            guard total > 0 else { return nil }
            var error = IntakeError(duplicateKeys == total ? .duplicateKey : .invalidValue, summary)
            error.badValues = self
            return error
        }
        var error = IntakeError(
            duplicateKeys == total ? .duplicateKey : .invalidValue, line: first.line, column: first.column, summary, hint: first.hint)
        error.badValues = self
        return error
    }
}
