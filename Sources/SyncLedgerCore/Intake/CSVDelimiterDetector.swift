/// Tells a CSV file's delimiter — `,`, `;` or a tab — from its start, as
/// spreadsheets export it (Excel writes `;` where the decimal mark is a
/// comma). Quotes are respected: a delimiter inside a quoted field does not
/// count.
///
/// 1. The header line decides when exactly one of the three occurs in it.
/// 2. Otherwise the first lines decide (up to ``sampleRecords`` records
///    after the header, or ``sampleBytes``, or the whole file if shorter):
///    - no candidate in the header (one column): a comma, unless a line has
///      one of them — then the file is ambiguous;
///    - several: those that split every sampled line into as many fields as
///      the header are consistent; one consistent candidate wins, and among
///      several the one giving the most fields, if only one does.
/// 3. Anything else is ambiguous: ``IntakeError/Code/ambiguousDelimiter``,
///    with what was counted and a hint to pass `--delimiter`.
public enum CSVDelimiterDetector {
    /// The delimiters considered.
    public static let candidates: [UInt8] = [UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "\t")]
    /// Records after the header looked at when the header does not decide.
    public static let sampleRecords = 20
    /// Bytes looked at, at most.
    public static let sampleBytes = 256 * 1024

    private struct Line {
        var line: Int
        var counts: [Int]
    }

    /// The delimiter of the text starting with `bytes` (decoded UTF-8), or
    /// `nil` when more of it is needed to tell (never when `atEnd`, the
    /// whole file, or when `bytes` has ``sampleBytes``).
    public static func detect(_ bytes: UnsafeRawBufferPointer, atEnd: Bool) throws -> UInt8? {
        let limit = min(bytes.count, sampleBytes)
        var lines: [Line] = []
        var counts = [0, 0, 0]
        var content = false
        var inQuotes = false
        var line = 1
        var recordLine = 1
        var index = 0
        scan: while index < limit {
            let byte = bytes[index]
            index += 1
            if inQuotes {
                if byte == UInt8(ascii: "\"") {
                    inQuotes = false
                } else if byte == 0x0A {
                    line += 1
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inQuotes = true
            case UInt8(ascii: ","): counts[0] += 1
            case UInt8(ascii: ";"): counts[1] += 1
            case UInt8(ascii: "\t"): counts[2] += 1
            case 0x0A, 0x0D:
                if content { lines.append(Line(line: recordLine, counts: counts)) }
                counts = [0, 0, 0]
                content = false
                if byte == 0x0D, index < limit, bytes[index] == 0x0A { index += 1 }
                line += 1
                recordLine = line
                if lines.count > sampleRecords { break scan }
                // A header alone that decides: no need to wait for more.
                if lines.count == 1, lines[0].counts.count(where: { $0 > 0 }) == 1 { break scan }
                continue
            default: break
            }
            content = true
        }
        let complete = atEnd || bytes.count >= sampleBytes
        if content && (atEnd || lines.isEmpty && complete) {
            // The last line, without a line break; or a header longer than the sample.
            lines.append(Line(line: recordLine, counts: counts))
        }
        guard let header = lines.first else {
            // Nothing yet, or an empty file (the parser says so).
            return complete ? candidates[0] : nil
        }
        let present = candidates.indices.filter { header.counts[$0] > 0 }
        if present.count == 1 { return candidates[present[0]] }
        guard complete || lines.count > sampleRecords else { return nil }
        let rows = lines.dropFirst()
        if present.isEmpty {
            guard let row = rows.first(where: { $0.counts.contains { $0 > 0 } }) else { return candidates[0] }
            throw IntakeError(
                .ambiguousDelimiter, line: row.line,
                "cannot tell the delimiter: the header (line \(header.line)) has no ',', ';' or tab outside quotes, but this line has \(describe(row.counts))",
                hint: hint)
        }
        let consistent = present.filter { candidate in rows.allSatisfy { $0.counts[candidate] == header.counts[candidate] } }
        if consistent.count == 1 { return candidates[consistent[0]] }
        if let most = consistent.map({ header.counts[$0] }).max(), consistent.count(where: { header.counts[$0] == most }) == 1,
            let best = consistent.first(where: { header.counts[$0] == most })
        {
            return candidates[best]
        }
        let why =
            consistent.isEmpty
            ? "and none of them splits the first \(rows.count) line\(rows.count == 1 ? "" : "s") after it into as many fields"
            : "and they split the first lines into equally many fields"
        throw IntakeError(
            .ambiguousDelimiter, line: header.line,
            "cannot tell the delimiter: the header has \(describe(header.counts)) outside quotes, \(why)", hint: hint)
    }

    /// Detects the delimiter of a whole text (tests).
    public static func detect(_ text: String) throws -> UInt8 {
        try Array(text.utf8).withUnsafeBytes { try detect($0, atEnd: true) } ?? candidates[0]
    }

    private static let hint = "pass the file's delimiter with --delimiter: --delimiter ',' or --delimiter ';' or --delimiter tab"

    /// `2 ',' and 1 ';'`.
    private static func describe(_ counts: [Int]) -> String {
        let names = ["','", "';'", "tab"]
        let parts = counts.indices.filter { counts[$0] > 0 }.map { index in
            names[index] == "tab" ? "\(counts[index]) tab\(counts[index] == 1 ? "" : "s")" : "\(counts[index]) \(names[index])"
        }
        switch parts.count {
        case 0: return "no delimiter"
        case 1: return parts[0]
        default: return parts.dropLast().joined(separator: ", ") + " and " + parts.last!
        }
    }
}
