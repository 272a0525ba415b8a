/// A query result as text, rendered as an aligned table for a terminal.
public struct TextTable: Sendable, Equatable {
    public var columns: [String]
    public var rows: [[String?]]

    public init(columns: [String], rows: [[String?]]) {
        self.columns = columns
        self.rows = rows
    }

    /// Aligned columns; NULL shown as `NULL`; long values cut to `maxWidth`
    /// characters with an ellipsis; newlines shown as `⏎`.
    public func render(maxWidth: Int = 40) -> String {
        func cell(_ value: String?) -> String {
            guard let value else { return "NULL" }
            let flat = value.replacingOccurrences(of: "\r\n", with: "⏎").replacingOccurrences(of: "\n", with: "⏎")
                .replacingOccurrences(of: "\t", with: " ")
            return flat.count > maxWidth ? String(flat.prefix(maxWidth - 1)) + "…" : flat
        }
        guard !columns.isEmpty else { return "(none)" }
        let body = rows.map { $0.map(cell) }
        var widths = columns.map(\.count)
        for row in body {
            for (index, value) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], value.count) }
        }
        func line(_ values: [String]) -> String {
            values.enumerated().map { index, value in
                index == values.count - 1 ? value : value.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        var lines = [line(columns), line(widths.map { String(repeating: "-", count: $0) })]
        lines += body.map(line)
        if rows.isEmpty { lines.append("(none)") }
        return lines.joined(separator: "\n")
    }
}
