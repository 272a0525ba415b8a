/// PostgreSQL's text form of a row (`ROW(...)::text`, the output of
/// `record_out`), which the ledger's digests hash: fields in parentheses,
/// separated by commas; NULL as nothing; a field quoted with `"` when it is
/// empty or holds `"`, `\`, `(`, `)`, `,` or white space, with `"` and `\`
/// doubled inside the quotes. Fields are given as PostgreSQL prints them
/// (integers in decimal, uuids in lower case, numerics as stored).
public enum RowLiteral {
    /// The row literal of `fields` (nil = NULL).
    public static func text(_ fields: [String?]) -> String {
        "(" + fields.map(field).joined(separator: ",") + ")"
    }

    static func field(_ value: String?) -> String {
        guard let value else { return "" }
        let needsQuotes =
            value.isEmpty
            || value.unicodeScalars.contains { scalar in
                switch scalar {
                case "\"", "\\", "(", ")", ",", " ", "\t", "\n", "\r", "\u{0B}", "\u{0C}": true
                default: false
                }
            }
        guard needsQuotes else { return value }
        var quoted = "\""
        for character in value.unicodeScalars {
            if character == "\"" || character == "\\" { quoted.unicodeScalars.append(character) }
            quoted.unicodeScalars.append(character)
        }
        return quoted + "\""
    }
}
